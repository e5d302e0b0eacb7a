"""Figures and animations: what they draw, what they write, what they refuse, and how they are described
(a text alternative from the numbers drawn) and coloured (told apart without colour vision)."""
import base64
import re
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from PIL import Image  # noqa: E402

from snn_helpers import LIF, SURROGATES  # noqa: E402
from snn_helpers.analysis import plots  # noqa: E402
from snn_helpers.core import readout  # noqa: E402
from snn_helpers.core.encoding import delta_encode, latency_encode  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def spikes(shape, p=0.3, seed=0):
    return (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < p).float()


def test_pixel_grid_writes_every_value_in_its_cell():
    image = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0))
    image[0, 0, 0] = 0.0
    texts = plots.pixel_grid(image).axes[0].texts
    assert len(texts) == 784
    by_cell = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in texts}
    assert by_cell[(0, 0)] == "0"
    assert by_cell[(5, 7)] == f"{image[0, 5, 7].item():.2f}"


def test_pixel_grid_rejects_wrong_size():
    with pytest.raises(ValueError, match="image"):
        plots.pixel_grid(torch.rand(27, 28))


def test_raster_rows_are_time_steps_and_columns_flattened_pixels():
    train = spikes((6, 1, 28, 28))
    shown = plots.raster(train).axes[0].images[0].get_array()
    assert shown.shape == (6, 784)
    assert np.array_equal(shown, train.reshape(6, 784).numpy())
    with pytest.raises(ValueError, match="spikes"):
        plots.raster(torch.zeros(6, 100))


def test_rate_vs_intensity_puts_exact_rates_on_the_diagonal():
    intensity = torch.linspace(0, 1, 500)
    fig = plots.rate_vs_intensity(intensity, intensity.clone(), num_steps=100, bins=10)
    x, y = fig.axes[0].lines[-1].get_data()
    assert len(x) == 10
    assert np.allclose(x, y)


def membrane_line(fig):
    """The (x, y) of lif_trace's membrane line: U[t] then M[t] at each step."""
    return next(line for line in fig.axes[0].lines if line.get_label().startswith("membrane")).get_data()


def test_lif_trace_drops_to_zero_at_each_spike_for_a_reset_to_zero():
    currents = torch.full((5,), 0.6)
    potentials = torch.tensor([0.6, 1.2, 0.6, 1.2, 0.6])
    fired = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0])
    fig = plots.lif_trace(currents, potentials, fired, LIF(beta=0.5, threshold=1.0, reset="zero"))
    x, y = membrane_line(fig)
    assert list(x) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert np.allclose(y, [0.6, 0.6, 1.2, 0.0, 0.6, 0.6, 1.2, 0.0, 0.6, 0.6])
    dots = next(line for line in fig.axes[0].lines if line.get_label().startswith("U[t]"))
    assert np.allclose(dots.get_ydata(), potentials.numpy())
    with pytest.raises(ValueError, match="same shape"):
        plots.lif_trace(currents, potentials[:4], fired, LIF())
    with pytest.raises(TypeError, match="neuron must be a snn_helpers.LIF"):
        plots.lif_trace(currents, potentials, fired, 1.0)


def test_lif_trace_of_a_subtracting_neuron_keeps_the_surplus():
    """A subtracting neuron drops by θ, never to a false zero; the trace draws what LIF computed."""
    from snn_helpers.course.widgets import lif_response

    currents = torch.full((6,), 0.7)
    fired, potentials = lif_response(currents, beta=1.0, threshold=1.0, reset="subtract")
    assert fired.tolist() == [0, 1, 1, 0, 1, 1]  # U: 0.7, 1.4 -> 0.4, 1.1 -> 0.1, 0.8, 1.5 -> 0.5, 1.2
    x, y = membrane_line(plots.lif_trace(currents, potentials, fired, LIF(beta=1.0, threshold=1.0, reset="subtract")))
    after = y[1::2]
    assert np.allclose(after, (potentials - fired).numpy())
    assert (after[fired.numpy() > 0] > 0).all()
    assert np.allclose(y[0::2], potentials.numpy())


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
def test_surrogate_plot_draws_the_library_surrogate(surrogate):
    fig = plots.surrogate_plot(threshold=0.5, slopes=(4.0,), surrogate=surrogate)
    u, grad = next(line for line in fig.axes[1].lines if line.get_label().startswith(surrogate)).get_data()
    assert np.allclose(grad, SURROGATES[surrogate](torch.as_tensor(u) - 0.5, 4.0).numpy())
    step_u, step = fig.axes[0].lines[0].get_data()
    assert np.array_equal(step, (np.asarray(step_u) >= 0.5).astype(float))


def test_surrogate_plot_rejects_unknown_surrogate():
    with pytest.raises(ValueError, match="surrogate"):
        plots.surrogate_plot(surrogate="tanh")


def test_loss_curve_plots_one_point_per_epoch():
    x, y = plots.loss_curve([2.0, 1.0, 0.5]).axes[0].lines[0].get_data()
    assert list(x) == [1, 2, 3] and list(y) == [2.0, 1.0, 0.5]
    with pytest.raises(ValueError, match="history"):
        plots.loss_curve([])


def test_confusion_counts_match_a_plain_count():
    gen = torch.Generator().manual_seed(0)
    truth = torch.randint(0, 10, (300,), generator=gen)
    preds = torch.randint(0, 10, (300,), generator=gen)
    table = readout.confusion_counts(preds, truth)
    for i in range(10):
        for j in range(10):
            assert table[i, j] == int(((truth == i) & (preds == j)).sum())
    assert len(plots.confusion_matrix(table).axes[0].texts) == 100


@pytest.mark.parametrize("preds, truth, error", [
    (torch.tensor([0, 10]), torch.tensor([0, 1]), ValueError),
    (torch.tensor([0, 1]), torch.tensor([0]), ValueError),
    (torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), TypeError),
])
def test_confusion_counts_rejects_bad_labels(preds, truth, error):
    with pytest.raises(error):
        readout.confusion_counts(preds, truth)


def test_output_traces_one_panel_per_neuron_with_its_spike_count():
    out = spikes((12, 10), p=0.2)
    fig = plots.output_traces(torch.randn(12, 10), out, threshold=1.0, label=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [f"neuron {c}{' (label)' if c == 3 else ''}: {int(out[:, c].sum())} spikes" for c in range(10)]


def test_save_figure_writes_png_atomically(tmp_path):
    path = plots.save_figure(plots.loss_curve([1.0, 0.5]), tmp_path / "sub" / "loss.png")
    assert Image.open(path).format == "PNG"
    assert [p.name for p in path.parent.iterdir()] == ["loss.png"]  # no temporary file left


def test_encoding_animation_has_one_frame_per_step_and_closes_its_figure(tmp_path):
    train = spikes((7, 1, 28, 28))
    before = plt.get_fignums()
    written = plots.encoding_animation(train, tmp_path / "enc.gif")
    assert written == [tmp_path / "enc.gif"]
    assert Image.open(written[0]).n_frames == 7
    assert plt.get_fignums() == before
    assert [p.name for p in tmp_path.iterdir()] == ["enc.gif"]


def test_spike_count_animation_gif_only_without_ffmpeg(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.shutil, "which", lambda name: None)
    written = plots.spike_count_animation(spikes((9, 10)), 4, tmp_path / "c.gif", tmp_path / "c.mp4")
    assert written == [tmp_path / "c.gif"]
    assert Image.open(written[0]).n_frames == 9
    assert not (tmp_path / "c.mp4").exists()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary on PATH")
def test_spike_count_animation_writes_mp4_when_ffmpeg_exists(tmp_path):
    written = plots.spike_count_animation(spikes((6, 10)), None, tmp_path / "c.gif", tmp_path / "c.mp4")
    assert written == [tmp_path / "c.gif", tmp_path / "c.mp4"]
    assert (tmp_path / "c.mp4").read_bytes()[4:8] == b"ftyp"  # an MP4 container


def test_spike_count_animation_final_frame_shows_total_counts(tmp_path):
    out = spikes((5, 10), p=0.5, seed=3)
    path = plots.spike_count_animation(out, 2, tmp_path / "c.gif")[0]
    gif = Image.open(path)
    gif.seek(gif.n_frames - 1)
    last = np.asarray(gif.convert("RGB"))
    gif.seek(0)
    first = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)  # the bars grew


def test_animation_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        plots.encoding_animation(spikes((3, 28, 28)), tmp_path / "enc.avi")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("counts, leaders, words, note", [
    ([0, 4, 1, 2], [1], "leading class 1", ""),
    ([0, 4, 1, 4], [1, 3], "tied: 1, 3", "tie of 1, 3: argmax takes the lowest"),
    ([0, 0, 0], [0, 1, 2], "no spikes yet", "no output spike: all 3 classes tied at 0, argmax takes 0"),
])
def test_ties_are_named_as_ties(counts, leaders, words, note):
    counts = torch.tensor(counts, dtype=torch.float32)
    assert readout.top_classes(counts) == leaders
    assert leaders[0] == int(counts.argmax())  # the class argmax names is the first of them
    assert readout.describe_leader(counts) == words
    assert readout.tie_note(counts) == note


def test_spike_count_animation_titles_show_ties(tmp_path, monkeypatch):
    out = torch.zeros(4, 10)
    out[1, 3] = out[1, 9] = 1  # step 2: classes 3 and 9 tied at one spike each
    out[3, 9] = 1              # step 4: class 9 ahead
    titles = []

    def record_titles(fig, update, frames, targets, fps):
        for t in range(frames):
            update(t)
            titles.append(fig.axes[0].get_title())
        plt.close(fig)
        return []

    monkeypatch.setattr(plots, "_save_animation", record_titles)
    plots.spike_count_animation(out, 9, tmp_path / "c.gif")
    assert [title.split(" — ")[0] for title in titles] == [
        "step 1/4: no spikes yet", "step 2/4: tied: 3, 9", "step 3/4: tied: 3, 9", "step 4/4: leading class 9"]
    assert all(title.endswith("true label 9 (hatched)") for title in titles)


# ---------------------------------------------------------------- text alternatives


def digit():
    """A made-up digit: a vertical bar, rows 4-23, columns 12-15, intensities 0.5 and 1."""
    image = torch.zeros(1, 28, 28)
    image[0, 4:24, 12:14], image[0, 4:24, 14:16] = 0.5, 1.0
    return image


def every_figure():
    """(name, figure) for every figure function of plots, on small inputs."""
    image = digit()
    train = (torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0)) < image).float()
    lif = LIF(beta=0.9, threshold=1.0)
    fired, potentials = lif(torch.full((20, 1, 1), 0.3))
    yield "pixel_grid", plots.pixel_grid(image)
    yield "raster", plots.raster(train)
    yield "rate_image", plots.rate_image(train.mean(0))
    yield "rate_vs_intensity", plots.rate_vs_intensity(image.flatten(), train.mean(0).flatten(), 10)
    yield "lif_trace", plots.lif_trace(torch.full((20,), 0.3), potentials.flatten(), fired.flatten(), lif)
    yield "surrogate_plot", plots.surrogate_plot()
    yield "loss_curve", plots.loss_curve([2.0, 1.0])
    yield "spike_count_bars", plots.spike_count_bars(torch.tensor([0.0, 3.0, 1.0]), label=1)
    yield "output_traces", plots.output_traces(torch.rand(12, 10), spikes((12, 10), p=0.2), 1.0, label=3)
    yield "confusion_matrix", plots.confusion_matrix(torch.tensor([[5, 1], [2, 4]]))
    yield "code_raster", plots.code_raster(delta_encode(image, 6))
    yield "code_image", plots.code_image(latency_encode(image, 6), "latency")
    yield "code_rows", plots.code_rows({"rate": train, "latency": latency_encode(image, 10)}, "digit")


FILE_NAME = re.compile(r"^\S+\.(png|gif|jpe?g|svg)$|^_images/", re.I)


def test_every_figure_describes_itself_and_displays_with_that_alt_text():
    for name, fig in every_figure():
        text = plots.figure_description(fig)
        assert isinstance(fig, plots.DescribedFigure), name
        assert len(text) > 60 and text.endswith(".") and not FILE_NAME.match(text), f"{name}: {text!r}"
        data, metadata = fig._repr_mimebundle_()
        assert metadata == {"image/png": {"alt": text}}
        src, alt = re.fullmatch(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)">', data["text/html"]).groups()
        assert base64.b64decode(src).startswith(b"\x89PNG") and src == data["image/png"]
        assert alt.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&") == text
        plt.close(fig)


def test_descriptions_give_the_numbers_drawn():
    train = torch.zeros(6, 784)
    train[:, 28 * 10 + 5] = 1.0  # one pixel in row 10, at every step
    text = plots.figure_description(plots.raster(train, "one pixel"))
    assert text.startswith("one pixel. A raster of 6 time steps") and "6 spikes (1.0 per step) from 1 pixels" in text
    assert "image rows 10 (indices 285)" in text
    text = plots.figure_description(plots.spike_count_bars(torch.tensor([0.0, 4.0, 1.0, 4.0]), label=3))
    assert "Classes 1, 3 tie with 4 each" in text and "The true label, 3" in text and "0, 4, 1, 4 (9 in all)" in text
    text = plots.figure_description(plots.confusion_matrix(torch.tensor([[5, 1], [2, 4]])))
    assert "9 of the 12 images (75.0%)" in text and "1 read as 0 (twice)" in text and "Class 1 is recognised" in text
    text = plots.figure_description(plots.loss_curve([2.0, 0.5, 0.7]))
    assert "from 2.000 after epoch 1 to 0.700 after epoch 3, lowest after epoch 2 (0.500)" in text
    lif = LIF(beta=1.0, threshold=1.0)
    fired, potentials = lif(torch.full((8, 1, 1), 0.5))  # fires at steps 1, 3, 5, 7
    text = plots.figure_description(plots.lif_trace(torch.full((8,), 0.5), potentials.flatten(), fired.flatten(), lif))
    assert "a constant input current of 0.50; it fires 4 times, first at step 1 and last at step 7" in text
    text = plots.figure_description(plots.pixel_grid(digit()))
    assert "80 of the 784 pixels are lit (above 0), 40 of them at full intensity" in text
    assert "rows 4–23 and columns 12–15" in text


def test_axes_of_a_plain_figure_get_no_description_and_describe_checks_its_axes():
    fig, ax = plt.subplots()  # not a DescribedFigure: drawing into it still works
    plots.spike_count_bars(torch.tensor([1.0, 2.0]), ax=ax)
    assert plots.figure_description(fig) == "" and len(ax.patches) == 2
    described, own = plots.subplots()
    with pytest.raises(ValueError, match="ax must be one of this figure's axes"):
        described.describe("text", ax=ax)
    with pytest.raises(TypeError, match="text must be a string"):
        described.describe(3)
    assert described._repr_mimebundle_() is None  # no description: IPython's usual display


def test_animations_stop_after_a_few_loops_and_describe_their_end(tmp_path):
    out = torch.zeros(4, 10)
    out[1:, 7] = 1.0
    written = plots.spike_count_animation(out, 7, tmp_path / "c.gif")
    gif = Image.open(written[0])
    assert gif.info["loop"] == plots.GIF_LOOPS - 1 > 0  # plays GIF_LOOPS times, not forever
    assert "The first output spike comes at step 2" in written.description
    assert "Class 7 leads with 3. The true label, 7" in written.description
    data, metadata = written._repr_mimebundle_()
    assert base64.b64decode(data["image/gif"]) == written[0].read_bytes()
    assert metadata == {"image/gif": {"alt": written.description}}
    assert data["text/html"].startswith('<img src="data:image/gif;base64,')
    encoded = plots.encoding_animation(spikes((5, 1, 28, 28)), tmp_path / "e.gif")
    assert Image.open(encoded[0]).info["loop"] == plots.GIF_LOOPS - 1
    assert encoded.description.startswith("An animation of 5 frames")


# ---------------------------------------------------------------- colours


def grey(colour) -> float:
    """Lightness in greyscale (ITU-R BT.601 weights), 0 black to 1 white."""
    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_the_true_label_stands_out_without_colour():
    bars = plots.spike_count_bars(torch.tensor([1.0, 2.0, 3.0]), label=1).axes[0].patches
    assert [bar.get_hatch() for bar in bars] == [None, "//", None]
    assert grey(bars[1].get_hatchcolor()) < 0.2 < grey(bars[1].get_facecolor())  # a dark hatch that shows
    assert abs(grey(bars[1].get_facecolor()) - grey(bars[0].get_facecolor())) > 0.2
    traces = plots.output_traces(torch.rand(5, 3), torch.zeros(5, 3), 1.0, label=2)
    widths = [ax.lines[0].get_linewidth() for ax in traces.axes[:3]]
    assert widths[2] > widths[0] == widths[1] and "(label)" in traces.axes[2].get_title()


def test_curves_that_share_axes_differ_in_line_style_too():
    right = plots.surrogate_plot(slopes=(5.0, 10.0, 25.0)).axes[1]
    curves = [line for line in right.lines if "surrogate" in line.get_label()]
    assert len({line.get_linestyle() for line in curves}) == 3
    dots, line = (plots.rate_vs_intensity(torch.rand(50), torch.rand(50), 10).axes[0].lines[i] for i in (-1, 0))
    assert dots.get_marker() == "o" and line.get_linestyle() == "--"


def test_on_and_off_spikes_differ_in_greyscale():
    cmap = plots.code_raster(delta_encode(digit(), 6)).axes[0].images[0].get_cmap()
    off, blank, on = (grey(cmap(x)) for x in (0.0, 0.5, 1.0))
    assert min(abs(off - on), abs(off - blank), abs(on - blank)) > 0.25
