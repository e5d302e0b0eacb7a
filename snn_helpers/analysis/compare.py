"""Measuring an SNN against a conventional network (ANN) of the same shape.

Operation counts per image, for one forward pass:

* ANN: one multiply-accumulate (MAC) per weight, ``sum(n_in * n_out)``.
* SNN: one accumulate (AC) per synapse that an input spike travels along:
  a spike into a layer of ``n_out`` neurons costs ``n_out`` accumulates. The
  input layer's Poisson spikes count too. On top of that every neuron
  updates its membrane once per time step (``U = beta * U + I``), one MAC each.

Biases are left out of both counts (the ANN's one add per neuron, the SNN's
one per neuron and time step), and so are the SNN's resets. Energy is estimated
with the per-operation figures of Horowitz (2014), 45 nm, 32-bit floating point:
arithmetic only, not the cost of any real chip.
"""
from __future__ import annotations

import torch
from torch import nn

from ..system._checks import (check_device, check_float, check_int, check_loader, check_module,
                      check_sizes, check_tensor)
from ..core.inference import over_batches
from ..system.runtime import get_device
from ..core.settings import TrainSettings
from ..core.training import run_epochs

ENERGY_SOURCE = ('M. Horowitz, "Computing\'s energy problem (and what we can do about it)", '
                 "ISSCC 2014, 45 nm process, 32-bit floating point")
PJ_PER_MAC = 4.6  # 3.7 pJ multiply + 0.9 pJ add
PJ_PER_AC = 0.9


class ANN(nn.Sequential):
    """A ReLU multilayer perceptron, 784-512-256-10 by default.

    Input: images ``[B, 1, 28, 28]`` (or ``[B, 784]``); output: logits ``[B, 10]``.
    sizes: the widths of the layers, input first, each ``>= 1``, at least two of them.

    >>> ANN((784, 32, 10))(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, sizes=(784, 512, 256, 10)):
        sizes = check_sizes("sizes", sizes)
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)
        self.sizes = sizes


def fit_ann(model: nn.Module, train_loader, epochs: int = 5, lr: float = 1e-3, *,
            schedule: str = "constant", device: torch.device | None = None) -> list[float]:
    """Train with Adam and cross-entropy on the logits, as :func:`~snn_helpers.core.training.fit`
    does for the SNN (the same epoch loop, :func:`~snn_helpers.core.training.run_epochs`: same
    learning-rate schedule and batches); return the per-epoch mean loss.

    model: maps images ``[B, 1, 28, 28]`` to logits ``[B, 10]``, e.g. :class:`ANN`.
    train_loader: yields ``(images, labels [B])`` and has a length. epochs: ``>= 0``.
    lr: peak learning rate ``> 0``; schedule: one of ``SCHEDULES`` (see
    :func:`~snn_helpers.core.training.lr_factor`). device: where to train (default: the GPU if there is one).

    >>> _ = torch.manual_seed(0)
    >>> batches = [(torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))) for _ in range(2)]
    >>> losses = fit_ann(ANN((784, 16, 10)), batches, epochs=3, device="cpu")
    >>> len(losses), losses[-1] < losses[0]
    (3, True)
    """
    check_module("model", model)
    check_loader("train_loader", train_loader, sized=True)
    settings = TrainSettings(epochs=epochs, lr=lr, schedule=schedule)  # num_steps: unused by an ANN
    device = check_device("device", device) or get_device()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)

    def logits(images):
        return model(images.to(device))

    return run_epochs(model, train_loader, logits, optimizer, settings, device=device)


def evaluate_ann(model: nn.Module, loader, *, device: torch.device | None = None) -> float:
    """Accuracy in [0, 1] of an ANN over a loader: the fraction of images whose largest logit names the label.

    model: maps images ``[B, ...]`` to logits ``[B, C]``. loader: yields ``(images, labels [B])``.
    device: where to run (default: the GPU if there is one).

    >>> _ = torch.manual_seed(0)
    >>> evaluate_ann(ANN((784, 10)), [(torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))], device="cpu")
    0.0
    """
    correct = []

    def step(images, labels):
        correct.append((model(images).argmax(1).cpu() == labels).sum().item())
    n_images = over_batches(model, loader, None, step, device=device)
    return sum(correct) / n_images


def ann_activity(model: ANN, loader, *, device: torch.device | None = None) -> dict:
    """How sparse the inputs of each of the ANN's weight layers are, over a loader.

    Returns a dict with ``active`` (fraction of non-zero values entering each
    weight layer: the pixels, then each hidden ReLU output) and
    ``macs_skipping_zeros`` (multiply-accumulates per image if a zero input
    cost nothing: non-zero inputs times the layer's outputs, the rule
    :func:`synaptic_ops` applies to spikes). model: an :class:`ANN`; loader: yields
    ``(images [B, 1, 28, 28], anything)``; device: where to run (default: the GPU if there is one).

    >>> stats = ann_activity(ANN((784, 4, 10)), [(torch.ones(2, 1, 28, 28), None)], device="cpu")
    >>> stats["active"][0], stats["macs_skipping_zeros"][0]
    (1.0, 3136.0)
    """
    check_module("model", model)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    nonzero = torch.zeros(len(linears), dtype=torch.float64)

    def step(x, _labels):
        seen = 0
        for module in model:
            if isinstance(module, nn.Linear):
                nonzero[seen] += (x != 0).sum().item()
                seen += 1
            x = module(x)
    n_images = over_batches(model, loader, None, step, device=device)
    per_image = nonzero / n_images
    return {"active": [(n / m.in_features).item() for n, m in zip(per_image, linears)],
            "macs_skipping_zeros": [(n * m.out_features).item() for n, m in zip(per_image, linears)]}


def ann_macs(sizes) -> int:
    """Multiply-accumulates per image of a fully connected network: ``sum(n_in * n_out)``.

    sizes: the widths of the layers, input first, each ``>= 1``.

    >>> ann_macs((784, 512, 256, 10))
    535040
    """
    sizes = check_sizes("sizes", sizes)
    return sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def synaptic_ops(layer_inputs: list[torch.Tensor], fan_outs: list[int]) -> list[float]:
    """Accumulates per image in each layer, counted from actual spikes.

    ``layer_inputs[l]``: the spikes entering layer ``l``, ``[T, B, N_in]``;
    ``fan_outs[l]``: the number of neurons of layer ``l``. Returns, per layer,
    ``(number of input spikes) * fan_out / B``.

    >>> synaptic_ops([torch.ones(2, 4, 3)], [5])  # 2 steps x 4 images x 3 inputs all firing, into 5 neurons
    [30.0]
    """
    if len(layer_inputs) != len(fan_outs):
        raise ValueError(f"layer_inputs and fan_outs must have the same length, "
                         f"got {len(layer_inputs)} and {len(fan_outs)}")
    ops = []
    for i, (spikes, fan_out) in enumerate(zip(layer_inputs, fan_outs)):
        check_tensor(f"layer_inputs[{i}]", spikes, ndim=3)
        ops.append(spikes.sum().item() * check_int(f"fan_outs[{i}]", fan_out, 1) / spikes.shape[1])
    return ops


def snn_activity(model, loader, num_steps: int = 10, *, generator: torch.Generator | None = None,
                 device: torch.device | None = None) -> dict:
    """Spike statistics of an SNN over a loader, per image.

    Returns a dict with ``layers`` (names: input, then each spiking layer),
    ``rates`` (fraction of neuron-steps with a spike, per layer),
    ``synops`` (accumulates per image into each weight layer, see :func:`synaptic_ops`),
    ``neuron_updates`` (membrane updates per image: neurons of every layer times
    steps) and ``images`` (how many were counted). model: an :class:`~snn_helpers.core.model.SNN`;
    loader: yields ``(images [B, 1, 28, 28] in [0, 1], anything)``; num_steps: ``>= 1``;
    generator draws the Poisson input; device: where to run (default: the GPU if there is one).

    >>> from snn_helpers import SNN
    >>> _ = torch.manual_seed(0)
    >>> stats = snn_activity(SNN((784, 8, 10)), [(torch.rand(2, 1, 28, 28), None)], 4, device="cpu")
    >>> stats["layers"], stats["neuron_updates"], stats["images"]
    (['input', 'layer 1', 'layer 2'], 72, 2)
    """
    check_module("model", model)
    fan_outs = [fc.out_features for fc in model.fcs]
    totals = {}

    def step(x, pixels, _labels):  # only lit pixels are encoded: the rest never fire
        _, rec = model(x, pixels, record=True)
        layer_spikes = [x, *rec["spikes"]]  # layer l's input spikes are layer_spikes[l]
        sums = torch.tensor([s.sum().item() for s in layer_spikes], dtype=torch.float64)
        ops = torch.tensor(synaptic_ops(layer_spikes[:len(fan_outs)], fan_outs), dtype=torch.float64)
        totals["spikes"] = sums + totals.get("spikes", 0)
        totals["synops"] = ops * x.shape[1] + totals.get("synops", 0)
    n_images = over_batches(model, loader, num_steps, step, generator=generator, device=device)
    spike_sums, synop_sums = totals["spikes"], totals["synops"]
    widths = [model.sizes[0], *fan_outs][:len(spike_sums)]
    return {
        "layers": ["input"] + [f"layer {i}" for i in range(1, len(spike_sums))],
        "rates": [(n / (n_images * w * num_steps)).item() for n, w in zip(spike_sums, widths)],
        "synops": (synop_sums / n_images).tolist(),
        "neuron_updates": sum(fan_outs) * num_steps,
        "images": n_images,
    }


def energy_pj(macs: float = 0.0, acs: float = 0.0) -> float:
    """Energy estimate in picojoules: ``4.6 pJ`` per MAC plus ``0.9 pJ`` per AC (:data:`ENERGY_SOURCE`).

    ``E = PJ_PER_MAC * macs + PJ_PER_AC * acs``; macs, acs: counts ``>= 0``.

    >>> round(energy_pj(macs=1000, acs=2000), 6)
    6400.0
    """
    if macs < 0 or acs < 0:
        raise ValueError(f"macs and acs must be >= 0, got macs={macs}, acs={acs}")
    return PJ_PER_MAC * macs + PJ_PER_AC * acs


CONCLUSION_KEYS = ("ann_accuracy", "snn_accuracy", "ann_train_seconds", "snn_train_seconds",
                   "ann_test_seconds", "snn_test_seconds", "test_images", "ann_macs", "ann_sparse_macs",
                   "snn_acs", "snn_macs", "input_spikes", "energy", "snn_hidden_rates", "ann_hidden_active",
                   "num_steps", "accuracy_by_steps")


def _span(values, fmt: str = ".0%") -> str:
    low, high = min(values), max(values)
    return f"{low:{fmt}}" if f"{low:{fmt}}" == f"{high:{fmt}}" else f"{low:{fmt}}–{high:{fmt}}"


def _times(ratio: float) -> str:
    """``"3.1 times as long as"`` or ``"0.8 times as long as"``: the ratio, never turned round."""
    return f"{ratio:.1f} times as long as"


def conclusion_markdown(results: dict, noise_points: float, noise_source: str, *, quick: bool = False) -> str:
    """The comparison's conclusion in Markdown, every number and every verdict taken from ``results``.

    ``results`` holds (keys of :data:`CONCLUSION_KEYS`): accuracies in [0, 1]; wall
    times in seconds; ``test_images``; operation counts per image (``ann_macs``,
    ``ann_sparse_macs`` with zero inputs skipped, ``snn_acs``, ``snn_macs`` membrane
    updates, ``input_spikes`` Poisson spikes); ``energy`` in pJ keyed ``"ANN"``,
    ``"ANN, zeros skipped"``, ``"SNN"``; hidden-layer activity fractions
    (``snn_hidden_rates`` of neuron-steps, ``ann_hidden_active`` of ReLU outputs);
    ``num_steps`` (the SNN's time steps) and ``accuracy_by_steps`` (the SNN's test
    accuracy with 1, 2, ... steps). An accuracy difference below ``noise_points``
    percentage points is called noise: one training run against one. ``noise_source``
    says in a few words where that figure comes from; it is quoted. With ``quick`` (a
    quick-mode run, trained on a little data) no accuracy verdict is given, and the
    wall times are called noise.

    The SNN "can win" on time steps only when ``enough``, the fewest steps within one
    point of its ``num_steps`` accuracy, is at most half of ``num_steps``; otherwise
    needing ``enough`` steps counts as a loss.

    Raises ``ValueError`` when a key is missing, ``noise_points < 0``, ``noise_source``
    is empty or ``num_steps`` is not in ``[1, len(accuracy_by_steps)]``.

    >>> results = {  # made-up numbers, not a measurement
    ...     "ann_accuracy": 0.97, "snn_accuracy": 0.972, "ann_train_seconds": 10.0, "snn_train_seconds": 40.0,
    ...     "ann_test_seconds": 0.5, "snn_test_seconds": 2.0, "test_images": 10_000, "ann_macs": 500_000,
    ...     "ann_sparse_macs": 100_000, "snn_acs": 600_000, "snn_macs": 8_000, "input_spikes": 900.0,
    ...     "energy": {"ANN": energy_pj(macs=500_000), "ANN, zeros skipped": energy_pj(macs=100_000),
    ...                "SNN": energy_pj(macs=8_000, acs=600_000)},
    ...     "snn_hidden_rates": [0.1, 0.2], "ann_hidden_active": [0.3, 0.5], "num_steps": 4,
    ...     "accuracy_by_steps": [0.2, 0.965, 0.97, 0.972]}
    >>> text = conclusion_markdown(results, noise_points=0.5, noise_source="a made-up figure")
    >>> for line in text.splitlines()[:6]:  # the headline of each point
    ...     print(line.split(".**")[0] + ".**")
    * **Accuracy: a draw.**
    * **Speed on this computer (indicative): the ANN wins.**
    * **Operations: the SNN does more.**
    * **Energy (arithmetic only): lower for the SNN, with conditions.**
    * **Sparsity.**
    * **Time steps.**
    >>> print(text.splitlines()[-1][:62], "...")  # the verdict, after a blank line
    **Where the SNN loses here:** wall time for training and infer ...
    """
    missing = [key for key in CONCLUSION_KEYS if key not in results]
    if missing:
        raise ValueError(f"results is missing {missing}; it needs every key of CONCLUSION_KEYS")
    r = results
    noise_points = check_float("noise_points", noise_points, 0.0)
    if not isinstance(noise_source, str) or not noise_source.strip():
        raise ValueError(f"noise_source must say where noise_points comes from, got {noise_source!r}")
    curve = list(r["accuracy_by_steps"])
    steps = check_int("num_steps", r["num_steps"], 1, len(curve))
    energy = r["energy"]
    gap = 100 * (r["snn_accuracy"] - r["ann_accuracy"])
    if quick:
        accuracy = (f"**Accuracy: no verdict in quick mode.** The SNN reached {100 * r['snn_accuracy']:.2f}%, the "
                    f"ANN {100 * r['ann_accuracy']:.2f}%, but quick mode trains each on a little data for one "
                    f"epoch, too little to compare them; `make run` trains both on all of MNIST.")
    elif abs(gap) < noise_points:
        accuracy = (f"**Accuracy: a draw.** The SNN reached {100 * r['snn_accuracy']:.2f}%, the ANN "
                    f"{100 * r['ann_accuracy']:.2f}%. That is one training run of each; a difference of "
                    f"{abs(gap):.2f} points is less than the {noise_points:.2f} points taken as noise "
                    f"({noise_source}), so it does not say which network is better.")
    else:
        better, worse = ("SNN", "ANN") if gap > 0 else ("ANN", "SNN")
        accuracy = (f"**Accuracy: the {better} is ahead.** The SNN reached {100 * r['snn_accuracy']:.2f}%, the "
                    f"ANN {100 * r['ann_accuracy']:.2f}%: {abs(gap):.2f} points, more than the "
                    f"{noise_points:.2f} points taken as noise ({noise_source}), though still one run of each.")
    train_ratio = r["snn_train_seconds"] / r["ann_train_seconds"]
    test_ratio = r["snn_test_seconds"] / r["ann_test_seconds"]
    slower = train_ratio > 1 and test_ratio > 1
    speed = (f"**Speed on this computer (indicative): {'the ANN wins' if slower else 'mixed'}.** The SNN took "
             f"{_times(train_ratio)} the ANN to train ({r['snn_train_seconds']:.1f} s against "
             f"{r['ann_train_seconds']:.1f} s) and {_times(test_ratio)} the ANN to classify the "
             f"{r['test_images']:,} test images ({r['snn_test_seconds']:.2f} s against "
             f"{r['ann_test_seconds']:.2f} s). Every image passes through the SNN {steps} times, once per "
             f"time step, and training backpropagates through all of them. Wall times depend on the machine and on "
             f"whatever else it is doing, so these ratios are indicative"
             + (": in quick mode each run lasts moments and the ratios are mostly noise." if quick else "."))
    snn_ops = r["snn_acs"] + r["snn_macs"]
    more = snn_ops > r["ann_macs"]
    operations = (f"**Operations: the SNN does {'more' if more else 'fewer'}.** {r['snn_acs']:,.0f} accumulates "
                  f"plus {r['snn_macs']:,} membrane updates per image, against the ANN's {r['ann_macs']:,} "
                  f"multiply-accumulates. The input alone brings {r['input_spikes']:,.0f} Poisson spikes per "
                  f"image over the {steps} time steps, each feeding every neuron of the first layer.")
    saving = energy["SNN"] < energy["ANN"]
    sparse_ann_wins = energy["ANN, zeros skipped"] <= energy["SNN"]
    power = (f"**Energy (arithmetic only): {'lower' if saving else 'higher'} for the SNN, with conditions.** "
             f"An accumulate costs {PJ_PER_AC:g} pJ against {PJ_PER_MAC:g} pJ for a multiply-accumulate, so the "
             f"estimate is {energy['SNN'] / 1e6:.2f} µJ per image for the SNN against "
             f"{energy['ANN'] / 1e6:.2f} µJ for the ANN ({energy['SNN'] / energy['ANN']:.0%} of it). That "
             f"assumes hardware that spends nothing on a silent synapse and leaves out memory traffic, which "
             f"usually costs more than the arithmetic. An ANN that skips its zero inputs needs "
             f"{r['ann_sparse_macs']:,.0f} multiply-accumulates, {energy['ANN, zeros skipped'] / 1e6:.2f} µJ: "
             + ("no more than the SNN, so in this estimate the saving comes from skipping zeros, not from "
                "spiking." if sparse_ann_wins else
                "more than the SNN, so here spiking saves energy beyond skipping zeros."))
    sparsity = (f"**Sparsity.** The SNN's hidden neurons fire on {_span(r['snn_hidden_rates'])} of their time "
                f"steps; {_span(r['ann_hidden_active'])} of the ANN's hidden ReLU outputs are non-zero. The "
                f"SNN's rate is per time step, and each image takes {steps} of them, so even a sparse rate adds "
                f"up over the image.")
    reference = curve[steps - 1]
    enough = next(t for t, acc in enumerate(curve, 1) if acc >= reference - 0.01)
    fast_answer = enough <= steps // 2  # a saving worth the name: at least half of the steps
    latency = (f"**Time steps.** This SNN, trained with {steps} steps, reaches {100 * reference:.2f}% with "
               f"{steps}; {enough} step{'s' if enough > 1 else ''} already come within one point of that, "
               f"and a single step gives {100 * curve[0]:.2f}%.")
    loses = ["wall time for training and inference on an ordinary CPU" if slower else None,
             "the number of operations" if more else None,
             f"latency: it needs {enough} of its {steps} time steps to come within one point of its accuracy"
             if not fast_answer else None,
             "energy compared with an ANN that skips zeros" if sparse_ann_wins else None]
    wins = ["hardware that spends nothing on a silent synapse (the estimate's assumption; event-driven "
            "neuromorphic chips come closest, with their own costs per operation)" if saving else None,
            f"answering with {enough} of its {steps} time steps, within one point of its accuracy: "
            f"{1 - enough / steps:.0%} fewer steps, so about that many fewer input spikes" if fast_answer else None]
    verdict = ("**Where the SNN loses here:** " + ("; ".join(x for x in loses if x) or "nowhere in these numbers")
               + ". **Where it can win:** " + ("; ".join(x for x in wins if x) or "not in these numbers") + ".")
    return "\n".join(f"* {part}" for part in (accuracy, speed, operations, power, sparsity, latency)) + "\n\n" + verdict
