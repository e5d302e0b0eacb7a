"""Which engine computes the LIF layers: one ``backend`` argument, settled here.

:data:`BACKENDS` are the choices of ``SNN(backend=...)`` and ``LIF.forward(..., backend=...)``:

- ``"step"``: the step-by-step autograd loop that notebook 02 teaches;
- ``"torch"``: the fused path in plain torch (all time steps' products at once,
  the LIF recurrence as one autograd node, :class:`~snn_helpers.neurons.FusedLIF`);
- ``"compiled"``: the fused path with the compiled kernels of :mod:`~snn_helpers.kernels`
  (fp32 CPU tensors only); an error says what is missing when they cannot run;
- ``"auto"`` (the default): ``"compiled"`` where the kernels are built and can take
  the tensor, otherwise ``"torch"``. :func:`engine` says, in words, which one ran.

All engines give the same spikes and the same gradients up to the rounding of sums.
"""
from __future__ import annotations

import torch

from . import kernels
from ._checks import check_choice
from .runtime import get_device

BACKENDS = ("auto", "torch", "compiled", "step")


def check_backend(backend) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else a ValueError naming the choices; for
    ``"compiled"`` also a ValueError when the kernels are off (``SNN_KERNELS=0``) or cannot be built.

    >>> check_backend("auto")
    'auto'
    """
    if check_choice("backend", backend, BACKENDS) == "compiled" and kernels.why_unavailable() is not None:
        _refuse(kernels.why_unavailable())
    return backend


def _refuse(why: str):
    raise ValueError(f"backend='compiled', but the compiled kernels cannot run: {why}")


def usable(tensor: torch.Tensor) -> bool:
    """True when the compiled kernels are built and can take ``tensor``: fp32 on the CPU.

    >>> usable(torch.zeros(2, dtype=torch.float64))
    False
    """
    return tensor.device.type == "cpu" and tensor.dtype == torch.float32 and kernels.library() is not None


def settle(backend: str, tensor: torch.Tensor) -> str:
    """The engine that a checked ``backend`` runs on for work on ``tensor``: ``"step"``, ``"torch"``
    or ``"compiled"``. ``"auto"`` becomes ``"compiled"`` when :func:`usable`, else ``"torch"``;
    ``"compiled"`` raises a ValueError naming what is missing when the kernels cannot run.

    backend: one of :data:`BACKENDS` (checked before, by :func:`check_backend`);
    tensor: the input of the work, any shape.

    >>> settle("auto", torch.zeros(2, dtype=torch.float64))
    'torch'
    """
    if backend in ("step", "torch"):
        return backend
    if usable(tensor):
        return "compiled"
    if backend == "auto":
        return "torch"
    _refuse(kernels.why_unavailable() or f"they take fp32 CPU tensors, got {tensor.dtype} on {tensor.device.type}")


def engine(device: torch.device | str | None = None, backend: str = "auto") -> str:
    """What ``backend`` computes with on ``device`` (default: :func:`~snn_helpers.runtime.get_device`),
    in words, to print beside a timing, for fp32 work.

    ``"the step-by-step loop"``, ``"plain torch"``, ``"the compiled kernels"``,
    ``"plain torch (SNN_KERNELS=0)"``, ``"plain torch (the kernels could not be built)"``
    or ``"torch on cuda"``. ``backend="compiled"`` where the kernels cannot run raises
    the ValueError of :func:`settle`.

    >>> engine("cpu", "step")
    'the step-by-step loop'
    """
    device = get_device() if device is None else torch.device(device)
    backend = check_backend(backend)
    if backend == "step":
        return "the step-by-step loop"
    why = kernels.why_unavailable() if device.type == "cpu" else f"they take CPU tensors, got {device.type}"
    if backend == "compiled" and why is not None:
        _refuse(why)
    if backend == "torch":
        return "plain torch" if device.type == "cpu" else f"torch on {device.type}"
    if why is None:
        return "the compiled kernels"
    if device.type != "cpu":
        return f"torch on {device.type}"
    return f"plain torch ({kernels.ENABLE_ENV}=0)" if why.endswith("is set") else \
        "plain torch (the kernels could not be built)"
