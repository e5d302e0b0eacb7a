"""The slider demos as plain functions: extremes of every slider, the printed line, one figure per call."""
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from snn_helpers import SNN, delta_encode, poisson_encode  # noqa: E402
from snn_helpers.analysis.plots import figure_description  # noqa: E402
from snn_helpers.course.widgets import (  # noqa: E402
    RANGES,
    SLIDER_MIME,
    encoding_demo,
    inference_demo,
    lif_demo,
    lif_input,
    lif_response,
    prerender,
    slider_panel,
    steps_demo,
)


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")


def run(demo, capsys, **kwargs):
    """Call a demo; return its result, the line it printed and how many figures it opened."""
    before = len(plt.get_fignums())
    result = demo(**kwargs)
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1, f"expected one printed line, got {printed!r}"
    return result, printed.strip(), len(plt.get_fignums()) - before


def binary_digits():
    """Ten images whose pixels are 0 or 1 (so their spikes are certain), labels 0..9."""
    images = (torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    return images, torch.arange(10)


@pytest.mark.parametrize("num_steps", RANGES["num_steps"])
def test_encoding_demo_at_slider_bounds_counts_certain_spikes(capsys, num_steps):
    images, labels = binary_digits()
    result, line, figures = run(encoding_demo, capsys, num_steps=num_steps, digit=4, images=images, labels=labels)
    assert figures == 1
    assert result["spikes"] == num_steps * int(images[4].sum())  # intensity 1 always fires, 0 never
    assert result["rate_error"] == 0.0
    assert line == f"spikes: {result['spikes']} | rate error: 0.000"


def test_encoding_demo_is_deterministic_per_seed_and_shows_rate_error(capsys):
    images = torch.full((3, 1, 28, 28), 0.5)
    labels = torch.tensor([2, 1, 2])
    first, line, _ = run(encoding_demo, capsys, num_steps=1, digit=2, images=images, labels=labels, seed=3)
    again, _, _ = run(encoding_demo, capsys, num_steps=1, digit=2, images=images, labels=labels, seed=3)
    other, _, _ = run(encoding_demo, capsys, num_steps=1, digit=2, images=images, labels=labels, seed=4)
    assert first == again
    assert first != other
    assert first["rate_error"] == pytest.approx(0.5)  # one step: every rate is 0 or 1, intensity is 0.5
    assert re.fullmatch(r"spikes: \d+ \| rate error: 0\.500", line)


def test_encoding_demo_rate_error_averages_over_the_lit_pixels_only(capsys):
    images = torch.zeros(1, 1, 28, 28)
    images[0, 0, 10, 5:15] = 0.5                                    # 10 lit pixels, 774 black ones
    result, line, _ = run(encoding_demo, capsys, num_steps=1, digit=0, images=images, labels=torch.tensor([0]))
    assert result["rate_error"] == pytest.approx(0.5)               # over all 784 it would be 5 / 784
    assert line.endswith("rate error: 0.500")


@pytest.mark.parametrize("num_steps", RANGES["num_steps"])
def test_encoding_demo_latency_fires_each_lit_pixel_once(capsys, num_steps):
    images, labels = binary_digits()
    result, line, figures = run(encoding_demo, capsys, num_steps=num_steps, digit=4, images=images,
                                labels=labels, code="latency")
    assert figures == 1
    assert result["spikes"] == int(images[4].sum())                 # once, whatever num_steps
    assert result["rate_error"] == pytest.approx(1 - 1 / num_steps)  # white pixels fire 1/T, not 1
    assert line == f"spikes: {result['spikes']} | rate error: {result['rate_error']:.3f}"


def test_encoding_demo_delta_counts_on_and_off_spikes(capsys):
    images, labels = binary_digits()
    result, _, figures = run(encoding_demo, capsys, num_steps=6, digit=7, images=images, labels=labels,
                             code="delta", seed=5)
    spikes = delta_encode(images[7], 6)
    assert figures == 1
    assert (spikes < 0).any() and result["spikes"] == int(spikes.abs().sum())


def test_encoding_demo_rejects_missing_digit_bad_steps_and_unknown_code():
    images, labels = binary_digits()
    with pytest.raises(ValueError, match="digit"):
        encoding_demo(5, 3, images[:3], labels[:3])
    with pytest.raises(ValueError, match="num_steps"):
        encoding_demo(0, 1, images, labels)
    with pytest.raises(ValueError, match="code"):
        encoding_demo(5, 1, images, labels, code="poisson")


@pytest.mark.parametrize("threshold", RANGES["threshold"])
def test_lif_demo_without_leak_memory_fires_only_when_one_step_reaches_threshold(capsys, threshold):
    current = 0.3
    result, line, figures = run(lif_demo, capsys, beta=0.0, threshold=threshold, current=current, num_steps=20)
    assert figures == 1
    if current >= threshold:
        assert result == {"spikes": 20, "first_spike": 0}
        assert line == "spikes: 20 | first spike at step: 0"
    else:
        assert result == {"spikes": 0, "first_spike": None}
        assert line == "spikes: 0 | first spike at step: none"


@pytest.mark.parametrize("threshold", RANGES["threshold"])
def test_lif_demo_perfect_integrator_fires_every_ceil_threshold_over_current_steps(capsys, threshold):
    current, steps = 0.3, 60
    period = math.ceil(threshold / current)
    result, line, _ = run(lif_demo, capsys, beta=1.0, threshold=threshold, current=current, num_steps=steps)
    assert result == {"spikes": steps // period, "first_spike": period - 1}
    assert line == f"spikes: {steps // period} | first spike at step: {period - 1}"


def test_lif_demo_leak_needs_enough_current():
    # with constant input the potential tends to current / (1 - beta): below threshold, no spike
    assert lif_demo(beta=0.5, threshold=1.0, current=0.3)["spikes"] == 0
    assert lif_demo(beta=0.8, threshold=1.0, current=0.3)["spikes"] > 0


def test_lif_demo_poisson_input_depends_on_seed_only():
    results = [lif_demo(0.9, 1.0, input_kind="poisson", seed=seed) for seed in (0, 0, 1, 2, 3)]
    assert results[0] == results[1]
    assert len({(r["spikes"], r["first_spike"]) for r in results[1:]}) > 1


def test_lif_input_poisson_has_the_constant_mean_on_average():
    drive = lif_input("poisson", 20000, 0.3, seed=5)
    assert drive.unique().tolist() == pytest.approx([0.0, 0.6])
    assert drive.mean().item() == pytest.approx(0.3, abs=0.01)


def test_lif_response_resets_to_zero_after_each_spike():
    spikes, potentials = lif_response(torch.tensor([0.6, 0.6, 0.6, 0.6]), beta=1.0, threshold=1.0)
    assert spikes.tolist() == [0, 1, 0, 1]
    assert potentials.tolist() == pytest.approx([0.6, 1.2, 0.6, 1.2])


def test_lif_response_subtracts_the_threshold_after_each_spike():
    spikes, potentials = lif_response(torch.tensor([0.75, 0.75, 0.75, 0.75]), beta=0.5, threshold=1.0,
                                      reset="subtract")
    assert spikes.tolist() == [0, 1, 0, 1]
    assert potentials.tolist() == [0.75, 1.125, 0.8125, 1.15625]  # 0.5 * (1.125 - 1) + 0.75, ...


def test_lif_demo_reset_by_subtraction_keeps_the_surplus(capsys):
    # perfect integrator, I = 3/8 (exact in binary): subtracting fires floor(T * I / θ) times,
    # resetting to zero throws the surplus away and fires every ceil(θ / I) = 3 steps
    steps, current = 60, 0.375
    zero, _, _ = run(lif_demo, capsys, beta=1.0, threshold=1.0, current=current, num_steps=steps)
    kept, line, figures = run(lif_demo, capsys, beta=1.0, threshold=1.0, current=current, num_steps=steps,
                              reset="subtract")
    assert figures == 1
    assert zero == {"spikes": steps // 3, "first_spike": 2}
    assert kept == {"spikes": math.floor(steps * current), "first_spike": 2}
    assert line == f"spikes: {math.floor(steps * current)} | first spike at step: 2"


@pytest.mark.parametrize("kwargs, name", [({"beta": 1.5}, "beta"), ({"beta": -0.1}, "beta"),
                                          ({"threshold": 0.0}, "threshold"),
                                          ({"input_kind": "square"}, "input_kind"),
                                          ({"reset": "hard"}, "reset")])
def test_lif_demo_rejects_bad_values_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        lif_demo(**{"beta": 0.9, "threshold": 1.0, **kwargs})


class PixelReadout(nn.Module):
    """A stand-in network whose output neuron k spikes whenever input pixel k spikes."""

    def forward(self, x):
        return x.flatten(2)[..., :10]


def labelled_images(labels):
    """Images that light exactly pixel ``label`` (intensity 1), so PixelReadout predicts the label."""
    images = torch.zeros(len(labels), 1, 28, 28)
    images.view(len(labels), -1)[torch.arange(len(labels)), labels] = 1.0
    return images


@pytest.mark.parametrize("num_steps", RANGES["inference_steps"])
def test_inference_demo_at_slider_bounds(capsys, num_steps):
    labels = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    images = labelled_images(labels)
    wrong = (labels + 1) % 10
    result, line, figures = run(inference_demo, capsys, num_steps=num_steps, model=PixelReadout(),
                                images=images, labels=labels, index=5)
    assert figures == 1
    assert result == {"accuracy": 100.0, "predicted": 9, "tied": [], "output_spikes": num_steps}
    assert line == f"accuracy: 100.0% | predicted: 9 | output spikes: {num_steps}"
    assert run(inference_demo, capsys, num_steps=num_steps, model=PixelReadout(), images=images,
               labels=wrong)[0]["accuracy"] == 0.0


def test_inference_demo_with_a_real_snn_is_deterministic():
    torch.manual_seed(0)
    model = SNN((784, 16, 10), threshold=0.2)  # low enough that every image's outputs fire
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(6)
    first = inference_demo(7, model, images, labels, index=2, seed=11)
    assert first == inference_demo(7, model, images, labels, index=2, seed=11)
    counts = model(poisson_encode(images, 7, torch.Generator().manual_seed(11))).sum(0)  # the same draws, by hand
    preds = counts.argmax(1)
    assert first["accuracy"] == 100 * (preds == labels).float().mean().item()
    assert (first["predicted"], first["output_spikes"]) == (int(preds[2]), int(counts[2].sum()))
    with pytest.raises(ValueError, match="index"):
        inference_demo(7, model, images, labels, index=6)


def test_inference_demo_says_when_the_prediction_is_a_tie(capsys):
    images = labelled_images(torch.tensor([3, 5]))
    images.view(2, -1)[0, 9] = 1.0          # image 0 lights pixels 3 and 9: output neurons 3 and 9 tie
    labels = torch.tensor([9, 5])
    result, line, _ = run(inference_demo, capsys, num_steps=4, model=PixelReadout(), images=images,
                          labels=labels, index=0)
    assert result["predicted"] == 3 and result["tied"] == [3, 9] and result["accuracy"] == 50.0
    assert line == "accuracy: 50.0% | predicted: 3 (tie of 3, 9: argmax takes the lowest) | output spikes: 8"
    assert plt.gcf().axes[0].get_title().endswith("tie of 3, 9: argmax takes the lowest")
    silent = run(inference_demo, capsys, num_steps=2, model=PixelReadout(), images=torch.zeros(2, 1, 28, 28),
                 labels=labels, index=1)
    assert silent[0]["tied"] == list(range(10))
    assert "predicted: 0 (no output spike: all 10 classes tied at 0, argmax takes 0)" in silent[1]


def test_inference_demo_leaves_the_model_as_it_was():
    model = SNN((784, 16, 10)).train()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    inference_demo(3, model, images, torch.arange(3))
    assert model.training
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_slider_panel_calls_the_demo_at_once_and_again_on_each_change():
    import ipywidgets

    calls = []
    slider = ipywidgets.IntSlider(value=3, min=1, max=9)
    panel = slider_panel(lambda steps, scale: calls.append((steps, scale)), {"steps": slider}, scale=2)
    assert calls == [(3, 2)]
    slider.value = 7
    assert calls == [(3, 2), (7, 2)]
    assert slider in panel.children[0].children
    assert isinstance(panel.children[1], ipywidgets.Output)


def test_steps_demo_prints_and_returns_the_same_numbers(capsys):
    torch.manual_seed(0)
    model = SNN(sizes=(784, 16, 10), threshold=0.2)
    image = torch.rand(1, 28, 28)
    result = steps_demo(3, model, image, 7, [0.1, 0.2, 0.3, 0.4], seed=1)
    again = steps_demo(3, model, image, 7, [0.1, 0.2, 0.3, 0.4], seed=1)
    assert result == again and result["accuracy"] == pytest.approx(30.0)
    x = poisson_encode(image.unsqueeze(0), 3, torch.Generator().manual_seed(1))
    assert result["spikes"][0] == int(x.sum())
    _, rec = model(x, record=True)
    assert result["spikes"][1:] == [int(s.sum()) for s in rec["spikes"]]
    assert result["predicted"] == int(rec["spikes"][-1].sum(0)[0].argmax())
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("steps: 3 | accuracy: 30.0% | predicted: ")
    assert f"input {result['spikes'][0]}" in line
    with pytest.raises(ValueError, match="num_steps"):
        steps_demo(5, model, image, 7, [0.1, 0.2, 0.3, 0.4])


def test_steps_demo_leaves_the_model_where_and_as_it_was(capsys, monkeypatch):
    torch.manual_seed(0)
    model = SNN(sizes=(784, 16, 10), threshold=0.2).train()
    before = {key: value.clone() for key, value in model.state_dict().items()}

    def refuse(*args, **kwargs):
        raise AssertionError("steps_demo moved the caller's model")

    for name in ("cpu", "cuda", "to"):
        monkeypatch.setattr(model, name, refuse)
    steps_demo(2, model, torch.rand(1, 28, 28), 3, [0.5, 0.6])
    assert model.training, "steps_demo left the model in eval mode"
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    if torch.cuda.is_available():  # on a GPU machine: a model on the GPU stays there and still works
        model = SNN(sizes=(784, 16, 10), threshold=0.2).cuda()
        image = (torch.rand(1, 28, 28) < 0.3).float()  # pixels 0 or 1: the input spikes are certain
        result = steps_demo(2, model, image, 3, [0.5, 0.6])
        assert next(model.parameters()).is_cuda and result["spikes"][0] == 2 * int(image.sum())


def test_steps_demo_names_a_tie(capsys):
    model = SNN(sizes=(784, 16, 10), threshold=1e6)  # nothing can fire: all ten classes tie at 0
    result = steps_demo(1, model, torch.rand(1, 28, 28), 4, [0.1])
    assert result["predicted"] == 0 and result["tied"] == list(range(10))
    assert "predicted: 0 (no output spike: all 10 classes tied at 0, argmax takes 0) (label 4)" in \
        capsys.readouterr().out


def test_each_prerendered_frame_is_described_by_its_own_numbers():
    """The website's slider frames carry the figure's text alternative, and it follows the value."""
    import ipywidgets

    controls = {"num_steps": ipywidgets.IntSlider(value=5, min=1, max=10)}
    frames = prerender(lif_demo, controls, beta=1.0, threshold=1.0, current=0.5)[SLIDER_MIME]["frames"]
    assert [frame["value"] for frame in frames] == [1, 2, 5, 10]
    words = {0: "never fires", 1: "fires once", 2: "fires twice"}
    for frame in frames:
        spikes = int(re.match(r"spikes: (\d+)", frame["text"]).group(1))  # every 2nd step: 0.5 + 0.5 reaches 1
        assert spikes == frame["value"] // 2
        assert f"over {frame['value']} time steps" in frame["alt"]
        assert words.get(spikes, f"fires {spikes} times") in frame["alt"]


def test_demo_figures_describe_what_the_line_prints(capsys):
    images, labels = binary_digits()
    result, _, _ = run(encoding_demo, capsys, num_steps=4, digit=int(labels[0]), images=images, labels=labels)
    text = figure_description(plt.gcf())
    assert f"rate code: {result['spikes']} spikes in 4 steps" in text and "A raster of 4 time steps" in text
