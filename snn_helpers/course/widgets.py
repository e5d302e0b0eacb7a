"""Slider demos: plain functions that the notebooks wrap with ``ipywidgets``.

Each demo draws ONE matplotlib figure, prints ONE line of numbers and returns
the same numbers in a dict. The numbers depend only on the arguments (random
draws come from a ``torch.Generator`` seeded with ``seed``), so a test can call
the function and compare with what the notebook shows. The printed lines:

    encoding_demo   ->  "spikes: 1234 | rate error: 0.081"
    lif_demo        ->  "spikes: 5 | first spike at step: 3"    ("none" if it never fires)
    inference_demo  ->  "accuracy: 91.2% | predicted: 7 | output spikes: 23"
                        (on a tie: "predicted: 3 (tie of 3, 9: argmax takes the lowest)")
    steps_demo      ->  "steps: 10 | accuracy: 97.1% | predicted: 7 (label 7) | spikes: input 1200, ..."

("rate error" is the mean |firing rate - intensity| over the lit pixels of the
digit, those with intensity > 0, three decimals; "accuracy" has one decimal;
steps count from 0.) Invalid arguments
raise ``ValueError``/``TypeError`` naming the argument. ``RANGES`` holds the
slider bounds the notebooks use; the tests call every demo at those bounds.
The two demos that run a network, ``inference_demo`` and ``steps_demo``, run through
:func:`snn_helpers.core.inference.over_batches`, so inside :func:`snn_helpers.engine.cpu.computing` (subnormals flushed, the process's
share of threads), as training and evaluation do; the other two compute a few
hundred numbers on the calling thread and leave the CPU's settings alone, so
that notebooks 01 and 02 do not build the compiled kernels.
"""
from __future__ import annotations

import base64
import contextlib
import io
import math

import ipywidgets
import matplotlib.pyplot as plt
import torch
from IPython.core.pylabtools import print_figure
from IPython.display import display

from ..analysis.plots import code_rows, figure_description, lif_trace, spike_count_bars
from ..core.encoding import CODE_NAMES, encode
from ..core.inference import device_of, over_batches
from ..core.neurons import LIF, RESETS
from ..core.readout import tie_note, top_classes
from ..system._checks import check_choice, check_float, check_int, check_module, check_tensor
from .prerender import SLIDER_MIME, prerender_requested

RANGES = {
    "num_steps": (1, 100),        # notebook 01: time steps of the spike encoding
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
                  code: str = "rate", seed: int = 0) -> dict:
    """Encode the first image of class ``digit`` with ``code``; draw its raster and what each pixel's spikes say.

    images: ``[N, 1, 28, 28]`` in [0, 1]; labels: ``[N]``; code: one of
    ``CODE_NAMES`` ("rate", "latency", "delta"; only "rate" uses ``seed``).
    Returns ``{"spikes": total spike count (ON and OFF spikes both count),
    "rate_error": mean |rate - intensity| over the lit pixels (intensity > 0)}``,
    where a pixel's rate is its number of spikes divided by ``num_steps``
    (0.0 if the image has no lit pixel). Only the rate code makes this error
    shrink as ``num_steps`` grows: a latency code fires once per lit pixel,
    whatever its intensity.

    num_steps: ``T >= 1``; digit: in ``[0, 9]``, must occur in ``labels``; seed: in
    ``[0, 2**32 - 1]``. Draws one figure (the raster) and prints one line.

    >>> _ = torch.manual_seed(0)
    >>> images, labels = torch.rand(3, 1, 28, 28), torch.tensor([3, 7, 3])
    >>> result = encoding_demo(10, 7, images, labels)
    spikes: 3482 | rate error: 0.104
    >>> plt.close("all")
    """
    num_steps = check_int("num_steps", num_steps, 1)
    digit = check_int("digit", digit, 0, 9)
    check_choice("code", code, CODE_NAMES)
    _check_dataset(images, labels)
    matches = (labels == digit).nonzero()
    if len(matches) == 0:
        raise ValueError(f"digit {digit} does not occur in labels")
    image = images[int(matches[0])]
    spikes = encode(image, num_steps, code, _generator(seed))  # [T, 1, 28, 28]
    lit = image > 0
    rates = spikes.abs().mean(0)
    error = float((rates - image)[lit].abs().mean()) if lit.any() else 0.0
    result = {"spikes": int(spikes.abs().sum()), "rate_error": error}
    code_rows({code: spikes}, f"digit {digit}: {num_steps} time steps")
    print(f"spikes: {result['spikes']} | rate error: {result['rate_error']:.3f}")
    return result


def lif_input(kind: str, num_steps: int, current: float, seed: int = 0) -> torch.Tensor:
    """Input current ``[T]`` for one neuron.

    ``constant``: ``current`` at every step. ``poisson``: ``2 * current`` at
    steps where an input spike arrives (probability 1/2), else 0; the same mean.

    kind: one of ``INPUT_KINDS``; num_steps: ``T >= 1``; current: ``>= 0``;
    seed: in ``[0, 2**32 - 1]``, draws the arrivals (``poisson`` only).

    >>> lif_input("constant", 4, 0.5)
    tensor([0.5000, 0.5000, 0.5000, 0.5000])
    >>> lif_input("poisson", 6, 0.5, seed=0)
    tensor([1., 0., 1., 1., 1., 0.])
    """
    check_choice("kind", kind, INPUT_KINDS)
    num_steps = check_int("num_steps", num_steps, 1)
    current = check_float("current", current, 0.0)
    if kind == "constant":
        return torch.full((num_steps,), current)
    arrivals = torch.rand(num_steps, generator=_generator(seed)) < 0.5
    return arrivals.float() * (2 * current)


def lif_response(currents: torch.Tensor, beta: float, threshold: float,
                 reset: str = "zero") -> tuple[torch.Tensor, torch.Tensor]:
    """Run one ``snn_helpers.LIF`` neuron over ``currents [T]``; ``reset``: ``"zero"`` or ``"subtract"``.

    currents: ``[T]`` float tensor; beta: leak in ``[0, 1]``; threshold: ``> 0``.
    The update is the one of :mod:`~snn_helpers.core.neurons`:
    ``U[t] = beta * M[t-1] + I[t]``, ``S[t] = H(U[t] - threshold)``, then the reset.
    Returns (spikes ``[T]``, membrane potential before reset ``[T]``).

    >>> spikes, potentials = lif_response(torch.full((5,), 0.6), beta=0.5, threshold=1.0)
    >>> spikes
    tensor([0., 0., 1., 0., 0.])
    >>> potentials  # 0.6, 0.5 * 0.6 + 0.6, 0.5 * 0.9 + 0.6 (fires, reset to 0), 0.6, ...
    tensor([0.6000, 0.9000, 1.0500, 0.6000, 0.9000])
    """
    check_tensor("currents", currents, ndim=1)
    neuron = LIF(beta=beta, threshold=threshold, reset=reset)
    spikes, potentials = neuron(currents.reshape(-1, 1, 1), backend="step")
    return spikes.flatten().detach(), potentials.flatten().detach()


def lif_demo(beta: float, threshold: float, input_kind: str = "constant", current: float = 0.3,
             num_steps: int = 60, seed: int = 0, reset: str = "zero") -> dict:
    """Draw one LIF neuron's membrane trace and spikes for the given leak, threshold and reset.

    beta: leak in ``[0, 1]``; threshold: ``> 0``; input_kind: one of ``INPUT_KINDS``
    (see :func:`lif_input`, with ``current >= 0`` and ``seed``); num_steps: ``T >= 1``;
    reset: one of ``RESETS``. Draws one figure and prints one line.
    Returns ``{"spikes": number of spikes, "first_spike": step of the first spike or None}``.

    >>> result = lif_demo(beta=0.9, threshold=1.0)
    spikes: 15 | first spike at step: 3
    >>> result
    {'spikes': 15, 'first_spike': 3}
    >>> plt.close("all")
    """
    beta = check_float("beta", beta, 0.0, 1.0)
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    check_choice("input_kind", input_kind, INPUT_KINDS)
    check_choice("reset", reset, RESETS)
    currents = lif_input(input_kind, num_steps, current, seed)
    spikes, potentials = lif_response(currents, beta, threshold, reset)
    fired = spikes.nonzero().flatten()
    result = {"spikes": len(fired), "first_spike": int(fired[0]) if len(fired) else None}
    lif_trace(currents, potentials, spikes, LIF(beta=beta, threshold=threshold, reset=reset),
              f"{input_kind} input, β = {beta:.2f}, θ = {threshold:.2f}, reset {reset}")
    first = "none" if result["first_spike"] is None else result["first_spike"]
    print(f"spikes: {result['spikes']} | first spike at step: {first}")
    return result


def inference_demo(num_steps: int, model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                   index: int = 0, seed: int = 0) -> dict:
    """Classify ``images [N, 1, 28, 28]`` with ``num_steps`` steps; draw the spike counts of image ``index``.

    Returns ``{"accuracy": percent correct over the N images, "predicted": class
    of image ``index`` (``argmax``: the lowest of tied classes), "tied": the
    classes sharing its largest count when there is a tie, else ``[]``,
    "output_spikes": its total output spike count}``. The model runs where its
    weights are, in eval mode, and is left as it was (device and train/eval mode,
    :func:`~snn_helpers.core.inference.over_batches`).

    num_steps: ``T >= 1``; model: a network mapping spikes ``[T, N, 1, 28, 28]`` to
    output spikes ``[T, N, 10]`` (an :class:`~snn_helpers.core.model.SNN`); labels: ``[N]``;
    index: in ``[0, N - 1]``; seed: in ``[0, 2**32 - 1]``, draws the Poisson spikes.
    Draws one figure and prints one line.

    >>> from snn_helpers import SNN
    >>> _ = torch.manual_seed(0)
    >>> images, labels = torch.rand(3, 1, 28, 28), torch.tensor([3, 7, 3])
    >>> result = inference_demo(5, SNN((784, 16, 10)), images, labels)  # doctest: +ELLIPSIS
    accuracy: ...% | predicted: ... | output spikes: ...
    >>> sorted(result)
    ['accuracy', 'output_spikes', 'predicted', 'tied']
    >>> plt.close("all")
    """
    num_steps = check_int("num_steps", num_steps, 1)
    check_module("model", model)
    _check_dataset(images, labels)
    index = check_int("index", index, 0, len(images) - 1)
    counts = []  # [N, 10], the one batch's
    over_batches(model, [(images, labels)], num_steps, lambda x, _pixels, _labels: counts.append(model(x).sum(0).cpu()),
                 generator=_generator(seed), device=device_of(model), dense=True)
    counts = counts[0]
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


def steps_demo(num_steps: int, model, image: torch.Tensor, label: int, accuracies, seed: int = 0) -> dict:
    """One slider position: the test accuracy at ``num_steps`` and one digit seen for ``num_steps`` steps.

    num_steps: in ``[1, len(accuracies)]``; model: an :class:`~snn_helpers.core.model.SNN`;
    image: ``[1, 28, 28]`` in [0, 1]; label: its class in ``[0, 9]``; ``accuracies``:
    accuracy in [0, 1] with 1, 2, ... steps, from :func:`~snn_helpers.analysis.timesteps.accuracy_by_steps`;
    seed: in ``[0, 2**32 - 1]``, draws the digit's Poisson spikes.
    Draws the digit's output spike counts, prints one line and returns
    ``{"num_steps", "accuracy" (percent), "predicted", "tied" (the classes sharing
    the top count when there is a tie, else ``[]``), "spikes" (per layer, input first)}``.
    The model runs where its weights are, in eval mode, and is left as it was
    (device and train/eval mode, :func:`~snn_helpers.core.inference.over_batches`).

    >>> from snn_helpers import SNN
    >>> _ = torch.manual_seed(0)
    >>> result = steps_demo(3, SNN((784, 16, 10)), torch.rand(1, 28, 28), 7, [0.1, 0.2, 0.3])  # doctest: +ELLIPSIS
    steps: 3 | accuracy: 30.0% | predicted: ... (label 7) | spikes: input ..., layer 1 ..., layer 2 ...
    >>> plt.close("all")
    """
    num_steps = check_int("num_steps", num_steps, 1, len(accuracies))
    check_tensor("image", image, last_dims=(1, 28, 28))
    label = check_int("label", label, 0, 9)
    check_module("model", model)
    ran = {}

    def step(x, _pixels, _labels):
        out, rec = model(x, record=True)
        ran.update(scores=out.sum(0)[0].cpu(), counts=[int(x.sum()), *(int(s.sum()) for s in rec["spikes"])])
    over_batches(model, [(image.reshape(1, 1, 28, 28), None)], num_steps, step, generator=_generator(seed),
                 device=device_of(model), dense=True)
    scores, counts = ran["scores"], ran["counts"]
    leaders = top_classes(scores)
    result = {"num_steps": num_steps, "accuracy": 100 * accuracies[num_steps - 1],
              "predicted": int(scores.argmax()), "tied": leaders if len(leaders) > 1 else [],
              "spikes": counts}
    note = tie_note(scores)
    predicted = f"{result['predicted']}" + (f" ({note})" if note else "")
    spike_count_bars(scores, label, f"{num_steps} steps: digit {label} -> predicted {result['predicted']}"
                     + (f"\n{note}" if note else ""))
    names = ["input", *(f"layer {i}" for i in range(1, len(counts)))]
    print(f"steps: {num_steps} | accuracy: {result['accuracy']:.1f}% | predicted: {predicted} "
          f"(label {label}) | spikes: " + ", ".join(f"{n} {c}" for n, c in zip(names, counts)))
    return result


def slider_panel(demo, controls: dict, **fixed) -> ipywidgets.VBox:
    """Sliders above an output area that reruns ``demo(**slider values, **fixed)`` on every change.

    ``controls`` maps argument names to widgets. The output area is cleared
    before each redraw, so a new figure replaces the old one. When
    ``SNN_PRERENDER=1`` (``make run`` sets it), the cell also displays
    :func:`prerender`'s bundle, which the website shows as a kernel-free slider.

    demo: one of this module's demos (or any function that draws one figure);
    controls: ``{argument name: ipywidgets control}``; fixed: the other arguments.
    Returns the panel: a row of the controls above the output area.

    >>> import os
    >>> from unittest import mock
    >>> from snn_helpers.course.prerender import PRERENDER_ENV
    >>> controls = {"beta": ipywidgets.FloatSlider(value=0.9, min=0.0, max=1.0)}
    >>> with mock.patch.dict(os.environ, {PRERENDER_ENV: "0"}), \\
    ...         contextlib.redirect_stdout(io.StringIO()) as printed:  # outside Jupyter, the output area prints here
    ...     panel = slider_panel(lif_demo, controls, threshold=1.0)
    >>> [type(child).__name__ for child in panel.children], printed.getvalue().endswith("first spike at step: 3\\n")
    (['HBox', 'Output'], True)
    >>> plt.close("all")
    """
    def draw(**values):
        demo(**fixed, **values)
        # interactive_output shows figures only for a backend it recognises by name, and
        # recent IPython names the inline backend "inline"; show (and close) it here so
        # every slider move redraws inside the panel instead of piling up open figures.
        plt.show()

    out = ipywidgets.interactive_output(draw, controls)
    if prerender_requested():
        # For the website (``make run``): the same demo, drawn ahead for a few values of the
        # first numeric slider, shown as one output that the site turns into an HTML slider.
        display(prerender(demo, controls, **fixed), raw=True)
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), out])


def prerender_values(slider) -> list:
    """The values the website offers for ``slider`` (an ``IntSlider`` or ``FloatSlider``).

    Integers: 1, 2, 5, 10, 20, 50, ... within the slider's range, its ends and
    its current value. Floats: its range in ten equal parts, each rounded to
    the slider's step, and its current value. Sorted, without repeats.
    Raises ``TypeError`` for any other widget.

    >>> prerender_values(ipywidgets.IntSlider(value=10, min=1, max=100))
    [1, 2, 5, 10, 20, 50, 100]
    >>> prerender_values(ipywidgets.FloatSlider(value=0.95, min=0.0, max=1.0, step=0.05))
    [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]
    """
    if not isinstance(slider, (ipywidgets.IntSlider, ipywidgets.FloatSlider)):
        raise TypeError(f"slider must be an IntSlider or FloatSlider, got {type(slider).__name__}")
    low, high, step, value = slider.min, slider.max, slider.step, slider.value
    if isinstance(slider, ipywidgets.IntSlider):
        decades = range(0, int(math.log10(max(high, 1))) + 1)
        values = {low, high, value} | {m * 10 ** k for k in decades for m in (1, 2, 5) if low <= m * 10 ** k <= high}
        return sorted(v for v in values if (v - low) % step == 0 or v in (high, value))
    grid = {round(low + round(k * (high - low) / 10 / step) * step, 10) for k in range(11)}
    return sorted(v for v in grid | {round(value, 10)} if low <= v <= high)


def _json_value(value):
    """``value`` when it is plain JSON (number, string, bool, None), else None."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else None


def draw_frame(demo, **arguments) -> dict:
    """Call ``demo(**arguments)``; return its figure as base64 PNG, its text alternative and its printed line.

    The figure is rendered as the inline backend renders it and then closed,
    so nothing else appears in the notebook. Returns ``{"image": base64 PNG,
    "alt": the figure's description (:func:`~snn_helpers.analysis.plots.figure_description`),
    "text": the printed line}``; raises ``RuntimeError`` when ``demo`` draws
    no figure or more than one.

    >>> frame = draw_frame(lif_demo, beta=0.9, threshold=1.0)
    >>> frame["text"], base64.b64decode(frame["image"])[1:4], plt.get_fignums()
    ('spikes: 15 | first spike at step: 3', b'PNG', [])
    >>> frame["alt"].split(". ")[1][:33]
    'The membrane potential of one LIF'
    """
    before = set(plt.get_fignums())
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            demo(**arguments)
        new = [number for number in plt.get_fignums() if number not in before]
        if len(new) != 1:
            raise RuntimeError(f"{demo.__name__} should draw one figure, it drew {len(new)}")
        figure = plt.figure(new[0])
        png, alt = print_figure(figure, "png"), figure_description(figure)
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    return {"image": base64.b64encode(png).decode("ascii"), "alt": alt, "text": printed.getvalue().strip()}


def prerender(demo, controls: dict, **fixed) -> dict:
    """The website's version of a slider panel: ``demo`` drawn for a few values of one slider.

    The slider is the first ``IntSlider`` or ``FloatSlider`` in ``controls``;
    the other controls keep their current values. Returns a display bundle
    ``{SLIDER_MIME: {"name", "value", "arguments", "frames": [{"value", "image",
    "alt", "text"}, ...]}, "text/plain": ...}`` for ``display(..., raw=True)``.
    Its values are :func:`prerender_values` of that slider.

    >>> controls = {"num_steps": ipywidgets.IntSlider(value=10, min=5, max=10)}
    >>> bundle = prerender(lif_demo, controls, beta=0.9, threshold=1.0)
    >>> bundle["text/plain"]
    'pre-rendered num_steps slider (2 values, website only)'
    >>> [frame["text"] for frame in bundle[SLIDER_MIME]["frames"]]
    ['spikes: 1 | first spike at step: 3', 'spikes: 2 | first spike at step: 3']
    """
    numeric = [name for name, widget in controls.items()
               if isinstance(widget, (ipywidgets.IntSlider, ipywidgets.FloatSlider))]
    if not numeric:
        raise ValueError("controls must hold an IntSlider or FloatSlider to pre-render")
    name, current = numeric[0], {key: widget.value for key, widget in controls.items()}
    frames = [{"value": value, **draw_frame(demo, **fixed, **{**current, name: value})}
              for value in prerender_values(controls[name])]
    arguments = {key: _json_value(value) for key, value in {**fixed, **current}.items() if key != name}
    payload = {"demo": demo.__name__, "name": name, "value": current[name], "frames": frames,
               "arguments": {key: value for key, value in arguments.items() if value is not None}}
    return {SLIDER_MIME: payload,
            "text/plain": f"pre-rendered {name} slider ({len(frames)} values, website only)"}
