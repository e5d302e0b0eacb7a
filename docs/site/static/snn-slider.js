// Pre-rendered sliders (snn_helpers.site.slider_html): the range input picks which of the
// figures drawn in advance is shown, with the line the notebook printed for that value.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".snn-slider").forEach((panel) => {
    const input = panel.querySelector("input[type=range]");
    const value = panel.querySelector(".snn-slider-value");
    const frames = panel.querySelectorAll(".snn-slider-frame");
    const labels = JSON.parse(input.dataset.labels);
    const show = () => {
      const index = Number(input.value);
      frames.forEach((frame, i) => { frame.hidden = i !== index; });
      value.textContent = labels[index];
    };
    input.addEventListener("input", show);
    show();
  });
});
