"""The spiking network: fully connected layers, each followed by LIF neurons."""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_int, check_tensor
from .neurons import LIF


class SNN(nn.Module):
    """A feed-forward SNN, 784-512-256-10 by default.

    Input: spike trains ``[T, B, 1, 28, 28]`` (or ``[T, B, 784]``).
    Output of ``forward``: output-layer spikes ``[T, B, 10]``. The class
    scores used for the loss and for prediction are the spike counts,
    ``scores(x) = forward(x).sum(0)`` of shape ``[B, 10]``.

    ``fast=True`` (the default) computes each layer's linear map once for all
    time steps and runs the LIF recurrence as one fused node; ``fast=False``
    runs the step-by-step loop. Both give the same outputs and gradients.
    The LIF settings (``beta``, ``threshold``, ``reset``, ``surrogate``,
    ``slope``) are shared by all layers.
    """

    def __init__(self, sizes=(784, 512, 256, 10), beta: float = 0.95, threshold: float = 1.0,
                 reset: str = "zero", surrogate: str = "sigmoid", slope: float = 10.0,
                 fast: bool = True):
        super().__init__()
        sizes = tuple(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
        self.sizes = tuple(check_int(f"sizes[{i}]", n, 1) for i, n in enumerate(sizes))
        self.fast = bool(fast)
        self.fcs = nn.ModuleList(nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
        self.lifs = nn.ModuleList(LIF(beta, threshold, reset, surrogate, slope) for _ in sizes[1:])

    def settings(self) -> dict:
        """The constructor arguments, enough to build the same network again."""
        lif = self.lifs[0]
        return {"sizes": list(self.sizes), "beta": lif.beta, "threshold": lif.threshold,
                "reset": lif.reset, "surrogate": lif.surrogate, "slope": lif.slope}

    def _flatten_input(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x)
        if x.dim() < 3 or math.prod(x.shape[2:]) != self.sizes[0]:
            raise ValueError(f"x must have shape [T, B, ...] with {self.sizes[0]} values per "
                             f"sample, got shape {tuple(x.shape)}")
        return x.flatten(2)

    def forward(self, x: torch.Tensor, record: bool = False):
        """Output spikes ``[T, B, C]``; with ``record=True`` also a dict of per-layer
        ``spikes`` and ``potentials`` (lists of ``[T, B, N_l]``, potentials before reset)."""
        x = self._flatten_input(x)
        spikes, potentials = [], []
        if self.fast:
            for fc, lif in zip(self.fcs, self.lifs):
                x, potential = lif.run_fused(fc(x))  # one matrix product over all T*B rows
                spikes.append(x)
                potentials.append(potential)
        else:
            mems = [torch.zeros(x.shape[1], fc.out_features, device=x.device, dtype=x.dtype)
                    for fc in self.fcs]
            steps = []
            for x_t in x:
                step_spikes, step_potentials = [], []
                for i, (fc, lif) in enumerate(zip(self.fcs, self.lifs)):
                    x_t, potential, mems[i] = lif.step(fc(x_t), mems[i])
                    step_spikes.append(x_t)
                    step_potentials.append(potential)
                steps.append((step_spikes, step_potentials))
            spikes = [torch.stack([s[0][i] for s in steps]) for i in range(len(self.fcs))]
            potentials = [torch.stack([s[1][i] for s in steps]) for i in range(len(self.fcs))]
        if record:
            return spikes[-1], {"spikes": spikes, "potentials": potentials}
        return spikes[-1]

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``[B, C]``: output spike counts over the ``T`` steps."""
        return self.forward(x).sum(0)
