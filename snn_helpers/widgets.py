"""Slider demos: plain functions that the notebooks wrap with ``ipywidgets``.

Each demo draws ONE matplotlib figure, prints ONE line of numbers and returns
the same numbers in a dict. The numbers depend only on the arguments (random
draws come from a ``torch.Generator`` seeded with ``seed``), so a test can call
the function and compare with what the notebook shows. The printed lines:

    encoding_demo   ->  "spikes: 1234 | rate error: 0.081"
    lif_demo        ->  "spikes: 5 | first spike at step: 3"    ("none" if it never fires)
    inference_demo  ->  "accuracy: 91.2% | predicted: 7 | output spikes: 23"
                        (on a tie: "predicted: 3 (tie of 3, 9: argmax takes the lowest)")

("rate error" is the mean |firing rate - intensity| over the 784 pixels, three
decimals; "accuracy" has one decimal; steps count from 0.) Invalid arguments
raise ``ValueError``/``TypeError`` naming the argument. ``RANGES`` holds the
slider bounds the notebooks use; the tests call every demo at those bounds.
"""
from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import torch

from ._checks import check_choice, check_float, check_int, check_module, check_tensor
from .encoding import poisson_encode
from .neurons import LIF
from .plots import lif_trace, raster, rate_image, spike_count_bars, tie_note, top_classes

RANGES = {
    "num_steps": (1, 100),        # notebook 01: time steps of the Poisson encoding
    "beta": (0.0, 1.0),           # notebook 02: leak factor
    "threshold": (0.1, 2.0),      # notebook 02: firing threshold
    "inference_steps": (1, 50),   # notebook 04: time steps at inference
}
INPUT_KINDS = ("constant", "poisson")


def _generator(seed) -> torch.Generator:
    return torch.Generator().manual_seed(check_int("seed", seed, 0, 2**32 - 1))


def _check_dataset(images, labels) -> None:
    check_tensor("images", images, ndim=4, last_dims=(1, 28, 28))
    if not isinstance(labels, torch.Tensor) or labels.shape != images.shape[:1]:
        raise ValueError(f"labels must be a tensor of shape [{len(images)}] matching images")


def encoding_demo(num_steps: int, digit: int, images: torch.Tensor, labels: torch.Tensor,
                  seed: int = 0) -> dict:
    """Poisson-encode the first image of class ``digit``; draw its raster and its firing-rate image.

    images: ``[N, 1, 28, 28]`` in [0, 1]; labels: ``[N]``.
    Returns ``{"spikes": total spike count, "rate_error": mean |rate - intensity|}``.
    """
    num_steps = check_int("num_steps", num_steps, 1)
    digit = check_int("digit", digit, 0, 9)
    _check_dataset(images, labels)
    matches = (labels == digit).nonzero()
    if len(matches) == 0:
        raise ValueError(f"digit {digit} does not occur in labels")
    image = images[int(matches[0])]
    spikes = poisson_encode(image, num_steps, _generator(seed))  # [T, 1, 28, 28]
    rates = spikes.mean(0)
    result = {"spikes": int(spikes.sum()), "rate_error": float((rates - image).abs().mean())}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.4), width_ratios=(3.2, 1))
    raster(spikes, f"digit {digit}: {num_steps} time steps", ax=left)
    rate_image(rates, "firing rate", ax=right)
    print(f"spikes: {result['spikes']} | rate error: {result['rate_error']:.3f}")
    return result


def lif_input(kind: str, num_steps: int, current: float, seed: int = 0) -> torch.Tensor:
    """Input current ``[T]`` for one neuron.

    ``constant``: ``current`` at every step. ``poisson``: ``2 * current`` at
    steps where an input spike arrives (probability 1/2), else 0; the same mean.
    """
    check_choice("kind", kind, INPUT_KINDS)
    num_steps = check_int("num_steps", num_steps, 1)
    current = check_float("current", current, 0.0)
    if kind == "constant":
        return torch.full((num_steps,), current)
    arrivals = torch.rand(num_steps, generator=_generator(seed)) < 0.5
    return arrivals.float() * (2 * current)


def lif_response(currents: torch.Tensor, beta: float, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one ``snn_helpers.LIF`` neuron (reset to zero) over ``currents [T]``.

    Returns (spikes ``[T]``, membrane potential before reset ``[T]``).
    """
    check_tensor("currents", currents, ndim=1)
    spikes, potentials = LIF(beta=beta, threshold=threshold).run(currents.reshape(-1, 1, 1))
    return spikes.flatten().detach(), potentials.flatten().detach()


def lif_demo(beta: float, threshold: float, input_kind: str = "constant", current: float = 0.3,
             num_steps: int = 60, seed: int = 0) -> dict:
    """Draw one LIF neuron's membrane trace and spikes for the given leak and threshold.

    Returns ``{"spikes": number of spikes, "first_spike": step of the first spike or None}``.
    """
    beta = check_float("beta", beta, 0.0, 1.0)
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    check_choice("input_kind", input_kind, INPUT_KINDS)
    currents = lif_input(input_kind, num_steps, current, seed)
    spikes, potentials = lif_response(currents, beta, threshold)
    fired = spikes.nonzero().flatten()
    result = {"spikes": len(fired), "first_spike": int(fired[0]) if len(fired) else None}
    lif_trace(currents, potentials, spikes, threshold,
              f"{input_kind} input, β = {beta:.2f}, θ = {threshold:.2f}")
    first = "none" if result["first_spike"] is None else result["first_spike"]
    print(f"spikes: {result['spikes']} | first spike at step: {first}")
    return result


@torch.no_grad()
def inference_demo(num_steps: int, model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                   index: int = 0, seed: int = 0) -> dict:
    """Classify ``images [N, 1, 28, 28]`` with ``num_steps`` steps; draw the spike counts of image ``index``.

    Returns ``{"accuracy": percent correct over the N images, "predicted": class
    of image ``index`` (``argmax``: the lowest of tied classes), "tied": the
    classes sharing its largest count when there is a tie, else ``[]``,
    "output_spikes": its total output spike count}``. The model is left as it
    was (device and train/eval mode).
    """
    num_steps = check_int("num_steps", num_steps, 1)
    check_module("model", model)
    _check_dataset(images, labels)
    index = check_int("index", index, 0, len(images) - 1)
    device = next(model.parameters(), torch.empty(0)).device
    training = model.training
    model.eval()
    try:
        counts = model(poisson_encode(images, num_steps, _generator(seed)).to(device)).sum(0).cpu()  # [N, 10]
    finally:
        model.train(training)
    preds = counts.argmax(1)
    leaders = top_classes(counts[index])
    result = {"accuracy": 100 * (preds == labels).float().mean().item(),
              "predicted": int(preds[index]), "tied": leaders if len(leaders) > 1 else [],
              "output_spikes": int(counts[index].sum())}
    note = tie_note(counts[index])
    predicted = f"{result['predicted']}" + (f" ({note})" if note else "")
    spike_count_bars(counts[index], int(labels[index]),
                     f"{num_steps} steps: image {index} (label {int(labels[index])}) → "
                     f"predicted {result['predicted']}" + (f"\n{note}" if note else ""))
    print(f"accuracy: {result['accuracy']:.1f}% | predicted: {predicted} | "
          f"output spikes: {result['output_spikes']}")
    return result


def slider_panel(demo, controls: dict, **fixed) -> ipywidgets.VBox:
    """Sliders above an output area that reruns ``demo(**slider values, **fixed)`` on every change.

    ``controls`` maps argument names to widgets. The output area is cleared
    before each redraw, so a new figure replaces the old one.
    """
    def draw(**values):
        demo(**fixed, **values)
        # interactive_output shows figures only for a backend it recognises by name, and
        # recent IPython names the inline backend "inline"; show (and close) it here so
        # every slider move redraws inside the panel instead of piling up open figures.
        plt.show()

    out = ipywidgets.interactive_output(draw, controls)
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), out])
