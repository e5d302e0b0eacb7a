"""Measuring an SNN against a conventional network (ANN) of the same shape.

Operation counts per image, for one forward pass:

* ANN: one multiply-accumulate (MAC) per weight, ``sum(n_in * n_out)``.
* SNN: one accumulate (AC) per synapse that an input spike travels along:
  a spike into a layer of ``n_out`` neurons costs ``n_out`` accumulates. The
  input layer's Poisson spikes count too. On top of that every neuron
  updates its membrane once per time step (``U = beta * U + I``), one MAC each.

Biases are left out of both counts. Energy is estimated with the per-operation
figures of Horowitz (2014), 45 nm, 32-bit floating point.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_tensor
from .training import SCHEDULES, _encode, get_device, lr_factor

ENERGY_SOURCE = ('M. Horowitz, "Computing\'s energy problem (and what we can do about it)", '
                 "ISSCC 2014, 45 nm process, 32-bit floating point")
PJ_PER_MAC = 4.6  # 3.7 pJ multiply + 0.9 pJ add
PJ_PER_AC = 0.9


class ANN(nn.Sequential):
    """A ReLU multilayer perceptron, 784-512-256-10 by default.

    Input: images ``[B, 1, 28, 28]`` (or ``[B, 784]``); output: logits ``[B, 10]``.
    """

    def __init__(self, sizes=(784, 512, 256, 10)):
        sizes = tuple(check_int(f"sizes[{i}]", n, 1) for i, n in enumerate(sizes))
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)
        self.sizes = sizes


def fit_ann(model: nn.Module, train_loader, epochs: int = 5, lr: float = 1e-3, *,
            schedule: str = "constant", device: torch.device | None = None) -> list[float]:
    """Train with Adam and cross-entropy on the logits, as :func:`~snn_helpers.training.fit`
    does for the SNN (same optimiser, learning-rate schedule and batches); return the per-epoch mean loss."""
    epochs = check_int("epochs", epochs, 0)
    lr = check_float("lr", lr, 0.0, low_open=True)
    check_choice("schedule", schedule, SCHEDULES)
    device = device or get_device()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(epochs):
        model.train()
        total, batches = 0.0, 0
        for i, (images, labels) in enumerate(train_loader):
            for group in optimizer.param_groups:
                group["lr"] = lr * lr_factor(schedule, epoch * len(train_loader) + i, epochs * len(train_loader))
            loss = loss_fn(model(images.to(device)), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        history.append(total / max(batches, 1))
    return history


@torch.no_grad()
def evaluate_ann(model: nn.Module, loader, *, device: torch.device | None = None) -> float:
    """Accuracy in [0, 1] of an ANN over a loader."""
    device = device or get_device()
    model.to(device).eval()
    correct = total = 0
    for images, labels in loader:
        correct += (model(images.to(device)).argmax(1).cpu() == labels).sum().item()
        total += len(labels)
    return correct / max(total, 1)


@torch.no_grad()
def ann_activity(model: ANN, loader, *, device: torch.device | None = None) -> dict:
    """How sparse the inputs of each of the ANN's weight layers are, over a loader.

    Returns a dict with ``active`` (fraction of non-zero values entering each
    weight layer: the pixels, then each hidden ReLU output) and
    ``macs_skipping_zeros`` (multiply-accumulates per image if a zero input
    cost nothing: non-zero inputs times the layer's outputs, the rule
    :func:`synaptic_ops` applies to spikes).
    """
    device = device or get_device()
    model.to(device).eval()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    nonzero = torch.zeros(len(linears), dtype=torch.float64)
    n_images = 0
    for images, _ in loader:
        x = images.to(device)
        seen = 0
        for module in model:
            if isinstance(module, nn.Linear):
                nonzero[seen] += (x != 0).sum().item()
                seen += 1
            x = module(x)
        n_images += len(images)
    if n_images == 0:
        raise ValueError("loader must yield at least one batch")
    per_image = nonzero / n_images
    return {"active": [(n / m.in_features).item() for n, m in zip(per_image, linears)],
            "macs_skipping_zeros": [(n * m.out_features).item() for n, m in zip(per_image, linears)]}


def ann_macs(sizes) -> int:
    """Multiply-accumulates per image of a fully connected network: ``sum(n_in * n_out)``."""
    sizes = [check_int(f"sizes[{i}]", n, 1) for i, n in enumerate(sizes)]
    return sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def synaptic_ops(layer_inputs: list[torch.Tensor], fan_outs: list[int]) -> list[float]:
    """Accumulates per image in each layer, counted from actual spikes.

    ``layer_inputs[l]``: the spikes entering layer ``l``, ``[T, B, N_in]``;
    ``fan_outs[l]``: the number of neurons of layer ``l``. Returns, per layer,
    ``(number of input spikes) * fan_out / B``.
    """
    if len(layer_inputs) != len(fan_outs):
        raise ValueError(f"layer_inputs and fan_outs must have the same length, "
                         f"got {len(layer_inputs)} and {len(fan_outs)}")
    ops = []
    for i, (spikes, fan_out) in enumerate(zip(layer_inputs, fan_outs)):
        check_tensor(f"layer_inputs[{i}]", spikes, ndim=3)
        ops.append(spikes.sum().item() * check_int(f"fan_outs[{i}]", fan_out, 1) / spikes.shape[1])
    return ops


@torch.no_grad()
def snn_activity(model, loader, num_steps: int = 10, *, generator: torch.Generator | None = None,
                 device: torch.device | None = None) -> dict:
    """Spike statistics of an SNN over a loader, per image.

    Returns a dict with ``layers`` (names: input, then each spiking layer),
    ``rates`` (fraction of neuron-steps with a spike, per layer),
    ``synops`` (accumulates per image into each weight layer, see :func:`synaptic_ops`),
    ``neuron_updates`` (membrane updates per image: neurons of every layer times
    steps) and ``images`` (how many were counted).
    """
    num_steps = check_int("num_steps", num_steps, 1)
    device = device or get_device()
    model.to(device).eval()
    fan_outs = [fc.out_features for fc in model.fcs]
    spike_sums, synop_sums, n_images = None, None, 0
    for images, _ in loader:
        x, pixels = _encode(images, num_steps, generator, device)  # only lit pixels: the rest never fire
        _, rec = model(x, pixels, record=True)
        layer_spikes = [x, *rec["spikes"]]  # layer l's input spikes are layer_spikes[l]
        batch = x.shape[1]
        sums = torch.tensor([s.sum().item() for s in layer_spikes], dtype=torch.float64)
        ops = torch.tensor(synaptic_ops(layer_spikes[:len(fan_outs)], fan_outs), dtype=torch.float64)
        spike_sums = sums if spike_sums is None else spike_sums + sums
        synop_sums = ops * batch if synop_sums is None else synop_sums + ops * batch
        n_images += batch
    if n_images == 0:
        raise ValueError("loader must yield at least one batch")
    widths = [model.sizes[0], *fan_outs][:len(spike_sums)]
    return {
        "layers": ["input"] + [f"layer {i}" for i in range(1, len(spike_sums))],
        "rates": [(n / (n_images * w * num_steps)).item() for n, w in zip(spike_sums, widths)],
        "synops": (synop_sums / n_images).tolist(),
        "neuron_updates": sum(fan_outs) * num_steps,
        "images": n_images,
    }


def energy_pj(macs: float = 0.0, acs: float = 0.0) -> float:
    """Energy estimate in picojoules: ``4.6 pJ`` per MAC plus ``0.9 pJ`` per AC (:data:`ENERGY_SOURCE`)."""
    if macs < 0 or acs < 0:
        raise ValueError(f"macs and acs must be >= 0, got macs={macs}, acs={acs}")
    return PJ_PER_MAC * macs + PJ_PER_AC * acs
