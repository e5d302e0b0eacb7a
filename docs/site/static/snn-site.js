// The course website's own script: pre-rendered sliders and animations that can be stopped.
//
// Sliders (snn_helpers.course.site.slider_html): the range input picks which of the figures drawn in
// advance is shown, with the line the notebook printed for that value. The input is an ordinary
// <input type=range>, so the arrow keys, Home and End move it; aria-valuetext gives a screen reader
// the value it stands for, and a polite live region reads out the printed line.
//
// Animations (every GIF on a page): a button beside each one stops it (showing its last frame,
// <name>-still.png, which snn_helpers.course.site.write_stills writes) and plays it again. A reader who
// asks the system for reduced motion (prefers-reduced-motion) gets the still frame first.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".snn-slider").forEach((panel) => {
    const input = panel.querySelector("input[type=range]");
    const value = panel.querySelector(".snn-slider-value");
    const live = panel.querySelector(".snn-slider-live");
    const frames = panel.querySelectorAll(".snn-slider-frame");
    const labels = JSON.parse(input.dataset.labels);
    const show = (announce) => {
      const index = Number(input.value);
      frames.forEach((frame, i) => { frame.hidden = i !== index; });
      value.textContent = labels[index];
      input.setAttribute("aria-valuetext", labels[index]);
      if (announce) live.textContent = frames[index].querySelector(".snn-slider-text").textContent;
    };
    input.addEventListener("input", () => show(true));
    show(false);
  });

  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
  let plays = 0;
  document.querySelectorAll("main img[src$='.gif']").forEach((img) => {
    const gif = img.getAttribute("src");
    const still = gif.replace(/\.gif$/, "-still.png");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "snn-animation-toggle";
    const wrapper = document.createElement("span");
    wrapper.className = "snn-animation";
    img.replaceWith(wrapper);
    wrapper.append(img, button);
    const set = (playing) => {
      // A fresh address restarts a GIF that has finished its loops.
      img.src = playing ? `${gif}?play=${++plays}` : still;
      img.dataset.playing = playing;
      button.textContent = playing ? "Stop animation" : "Play animation";
    };
    button.addEventListener("click", () => set(img.dataset.playing !== "true"));
    set(!reduced.matches);
  });
});
