"""The surrogate derivatives of the spike, each described once: name, torch function, C id.

The spike ``S = H(U - threshold)`` has derivative zero almost everywhere, so the
backward pass uses a smooth bump ``g(x)`` at ``x = U - threshold`` instead. Each
entry of :data:`REGISTRY` names a bump, gives its torch function and the integer
the compiled kernels' ``surrogate`` switch in ``_kernels.c`` uses for it.
:data:`SURROGATES` (also ``snn_helpers.SURROGATES`` and
``snn_helpers.core.neurons.SURROGATES``) maps each name to its function: the one
table a model's ``surrogate=`` name is looked up in.

>>> {name: round(float(SURROGATES[name](torch.zeros(1), 2.0)), 3) for name in sorted(SURROGATES)}  # the peaks
{'arctan': 1.0, 'fast_sigmoid': 1.0, 'sigmoid': 0.25}
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch


def sigmoid_derivative(x: torch.Tensor, slope: float, *, inplace: bool = False) -> torch.Tensor:
    """The seed's surrogate: ``s * (1 - s)`` with ``s = sigmoid(slope * x)``; peak 1/4 at x = 0.

    This is the derivative of ``sigmoid(slope * x) / slope``.

    x: float tensor of any shape, ``U - threshold``; slope: > 0, the bump's sharpness.
    With ``inplace=True`` the result overwrites ``x`` (the backward passes use it on
    their own ``[T, B, N]`` temporaries: one buffer fewer).

    >>> sigmoid_derivative(torch.tensor([0.0, 0.1]), 10.0)
    tensor([0.2500, 0.1966])
    """
    s = (x.mul_(slope) if inplace else x * slope).sigmoid_()
    return s.mul_(1 - s)


def fast_sigmoid_derivative(x: torch.Tensor, slope: float, *, inplace: bool = False) -> torch.Tensor:
    """Fast-sigmoid surrogate (SuperSpike): ``1 / (1 + slope * |x|)**2``; peak 1 at x = 0.

    x: float tensor of any shape, ``U - threshold``; slope: > 0. ``inplace`` as in
    :func:`sigmoid_derivative`.

    >>> fast_sigmoid_derivative(torch.tensor([0.0, -1.0]), 1.0)
    tensor([1.0000, 0.2500])
    """
    d = (x.abs_() if inplace else x.abs()).mul_(slope).add_(1.0)
    return d.mul_(d).reciprocal_()


def arctan_derivative(x: torch.Tensor, slope: float, *, inplace: bool = False) -> torch.Tensor:
    """Arctan surrogate: derivative of ``arctan(pi/2 * slope * x) / pi``; peak slope/2 at x = 0.

    ``g(x) = (slope / 2) / (1 + (pi/2 * slope * x)**2)``. x: float tensor of any
    shape, ``U - threshold``; slope: > 0. ``inplace`` as in :func:`sigmoid_derivative`.

    >>> arctan_derivative(torch.tensor([0.0]), 2.0)
    tensor([1.])
    """
    d = x.mul_(math.pi / 2 * slope) if inplace else x * (math.pi / 2 * slope)
    return d.mul_(d).add_(1.0).reciprocal_().mul_(slope / 2)


@dataclass(frozen=True)
class Surrogate:
    """One surrogate: its ``name``, its torch ``derivative(x, slope, *, inplace=False)``
    and ``kernel_id``, the row of the compiled kernels' table that computes it.

    >>> REGISTRY["arctan"].kernel_id
    2
    """

    name: str
    derivative: Callable[..., torch.Tensor]
    kernel_id: int


REGISTRY = {entry.name: entry for entry in (
    Surrogate("sigmoid", sigmoid_derivative, 0),
    Surrogate("fast_sigmoid", fast_sigmoid_derivative, 1),
    Surrogate("arctan", arctan_derivative, 2),
)}

SURROGATES = {name: entry.derivative for name, entry in REGISTRY.items()}
