"""What one image costs each network: operations counted from its activity, and their energy.

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

from ..core.inference import over_batches
from ..system._checks import check_int, check_module, check_sizes, check_tensor

ENERGY_SOURCE = ('M. Horowitz, "Computing\'s energy problem (and what we can do about it)", '
                 "ISSCC 2014, 45 nm process, 32-bit floating point")
PJ_PER_MAC = 4.6  # 3.7 pJ multiply + 0.9 pJ add
PJ_PER_AC = 0.9


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
