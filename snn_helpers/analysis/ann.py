"""The conventional network (ANN) that notebook 05 measures the SNN against: the same shape, ReLU
instead of spikes, trained by the same epoch loop and evaluated by the same inference loop.
"""
from __future__ import annotations

import torch
from torch import nn

from ..core.inference import over_batches
from ..core.settings import TrainSettings
from ..core.training import run_epochs
from ..system._checks import check_device, check_loader, check_module, check_sizes
from ..system.runtime import get_device


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
    :func:`~snn_helpers.analysis.costs.synaptic_ops` applies to spikes). model: an :class:`ANN`; loader: yields
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
