"""Leaky integrate-and-fire neurons and the surrogate-gradient spike.

The LIF update for one step, with input current ``I[t]`` and ``M[-1] = 0``:

    U[t] = beta * M[t-1] + I[t]          (leak, then integrate: the *potential*, before reset)
    S[t] = H(U[t] - threshold)           (spike when the threshold is reached)
    M[t] = U[t] * (1 - S[t])             (the *membrane*, after reset: to zero, as in the seed), or
    M[t] = U[t] - threshold * S[t]       (... by subtraction)

:data:`RESETS` names the two rules (the compiled kernels take the index as their flag).

``H`` is the Heaviside step. Its derivative is zero almost everywhere, so the
backward pass uses a smooth *surrogate* derivative instead (:mod:`~snn_helpers.engine.surrogates`).
"""
from __future__ import annotations

import torch
from torch import nn

from ..engine import kernels
from ..engine.backend import resolve
from ..engine.kernels import RESETS  # noqa: F401 (the reset rules; notebook 02 imports them from here)
from ..engine.surrogates import SURROGATES
from ..system._checks import check_choice, check_float, check_tensor
from .settings import NeuronSettings


def after_reset(potentials: torch.Tensor, spikes: torch.Tensor, threshold: float, reset: str) -> torch.Tensor:
    """The membrane after the reset, ``M = U * (1 - S)`` (``reset="zero"``) or ``M = U - threshold * S``
    (``"subtract"``), from potentials ``U`` and spikes ``S`` of the same shape (any shape, tensors or
    numpy arrays).

    >>> after_reset(torch.tensor([0.5, 1.2]), torch.tensor([0.0, 1.0]), 1.0, "subtract")
    tensor([0.5000, 0.2000])
    """
    if reset == "zero":
        return potentials * (1.0 - spikes)
    return potentials - threshold * spikes


class SurrogateSpike(torch.autograd.Function):
    """Heaviside step forward, surrogate derivative backward.

    ``SurrogateSpike.apply(mem, threshold, slope, surrogate)`` returns 1.0
    where ``mem >= threshold`` and 0.0 elsewhere; the gradient with respect to
    ``mem`` is ``SURROGATES[surrogate](mem - threshold, slope)`` times the
    incoming gradient (none reaches the other arguments). mem: float tensor, any
    shape; threshold, slope: floats > 0; surrogate: a name of ``SURROGATES``.
    :func:`spike` checks these arguments and calls it; this class does not check.

    >>> mem = torch.tensor([0.5, 1.0, 1.5], requires_grad=True)
    >>> spikes = SurrogateSpike.apply(mem, 1.0, 10.0, "sigmoid")
    >>> spikes.detach()
    tensor([0., 1., 1.])
    >>> spikes.sum().backward()
    >>> mem.grad  # s * (1 - s) with s = sigmoid(10 * (mem - 1)): 1/4 at the threshold
    tensor([0.0066, 0.2500, 0.0066])
    """

    @staticmethod
    def forward(ctx, mem, threshold, slope, surrogate):
        ctx.save_for_backward(mem)
        ctx.threshold, ctx.slope, ctx.surrogate = threshold, slope, surrogate
        return (mem >= threshold).to(mem.dtype)

    @staticmethod
    def backward(ctx, grad_spike):
        (mem,) = ctx.saved_tensors
        grad = SURROGATES[ctx.surrogate](mem - ctx.threshold, ctx.slope, inplace=True)
        return grad.mul_(grad_spike), None, None, None


def spike(potential: torch.Tensor, threshold: float = 1.0, slope: float = 10.0,
          surrogate: str = "sigmoid") -> torch.Tensor:
    """Spikes ``H(potential - threshold)`` (0.0/1.0, same shape as ``potential``) with a surrogate gradient.

    potential: the potential ``U`` (before the reset, see :class:`LIF`), a float tensor of any
    shape; threshold, slope: > 0; surrogate: a name of ``SURROGATES``. The gradient reaching
    ``potential`` is ``SURROGATES[surrogate](potential - threshold, slope)``.

    >>> spike(torch.tensor([0.5, 1.0, 1.5]))
    tensor([0., 1., 1.])
    """
    check_tensor("potential", potential)
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    slope = check_float("slope", slope, 0.0, low_open=True)
    check_choice("surrogate", surrogate, SURROGATES)
    return SurrogateSpike.apply(potential, threshold, slope, surrogate)


class LIF(nn.Module):
    """A layer of leaky integrate-and-fire neurons (the update in :mod:`~snn_helpers.core.neurons`).

    Two words, used the same way everywhere: the *potential* ``U[t] = beta * M[t-1] + I[t]`` is the
    value before the reset, the one compared with ``threshold``; the *membrane* ``M[t]`` is the value
    after the reset, carried to the next step (``M[-1] = 0``).

    - ``step(current [B, N], membrane [B, N]) -> (spikes, potential, membrane)``, all ``[B, N]``:
      one time step, recorded by autograd.
    - ``forward(currents [T, B, N], backend="auto") -> (spikes [T, B, N], potentials [T, B, N])``:
      the whole sequence from ``M[-1] = 0``, on one of :data:`~snn_helpers.engine.backend.BACKENDS`
      (``"step"``: :meth:`step` in a loop; ``"torch"``/``"compiled"``: :class:`FusedLIF`, whose
      potentials carry no gradient). All give the same spikes and gradients.

    beta: leak in [0, 1]; threshold: > 0; reset: ``"zero"`` or ``"subtract"``;
    surrogate: a name of ``SURROGATES``; slope: > 0, the surrogate's sharpness. They are checked
    once, as the layer's :class:`~snn_helpers.core.settings.NeuronSettings` (``lif.settings``), which
    ``lif.beta``, ``lif.threshold``, ... read.

    >>> lif = LIF(beta=0.5, threshold=1.0)
    >>> lif.settings.reset, lif.threshold
    ('zero', 1.0)
    >>> spikes, potentials = lif(torch.full((3, 1, 1), 0.6), backend="step")
    >>> potentials.flatten().tolist(), spikes.flatten().tolist()
    ([0.6000000238418579, 0.9000000357627869, 1.0500000715255737], [0.0, 0.0, 1.0])
    """

    def __init__(self, beta: float = 0.95, threshold: float = 1.0, reset: str = "zero",
                 surrogate: str = "sigmoid", slope: float = 10.0):
        super().__init__()
        self.settings = NeuronSettings(beta, threshold, reset, surrogate, slope)

    # The settings, read-only: a layer's neurons keep the settings they were built with.
    beta = property(lambda self: self.settings.beta)
    threshold = property(lambda self: self.settings.threshold)
    reset = property(lambda self: self.settings.reset)
    surrogate = property(lambda self: self.settings.surrogate)
    slope = property(lambda self: self.settings.slope)

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.settings.as_dict().items())

    def step(self, current: torch.Tensor, membrane: torch.Tensor):
        """One step: (spikes ``S[t]``, potential ``U[t]``, membrane ``M[t]``), each shaped like ``current``.

        current: ``I[t]``, float tensor ``[B, N]`` (any shape); membrane: ``M[t-1]``, same shape
        (zeros at t = 0).

        >>> LIF(beta=0.5, reset="subtract").step(torch.tensor([[0.7]]), torch.tensor([[0.8]]))[2]
        tensor([[0.1000]])
        """
        check_tensor("current", current)
        if check_tensor("membrane", membrane).shape != current.shape:
            raise ValueError(f"membrane must have the shape of current {tuple(current.shape)}, "
                             f"got {tuple(membrane.shape)}")
        potential = self.beta * membrane + current
        spk = SurrogateSpike.apply(potential, self.threshold, self.slope, self.surrogate)
        return spk, potential, after_reset(potential, spk, self.threshold, self.reset)

    def forward(self, currents: torch.Tensor, backend: str = "auto"):
        """The whole sequence: (spikes ``[T, B, N]``, potentials before reset ``[T, B, N]``).

        currents: float tensor ``[T, B, N]``; backend: one of :data:`~snn_helpers.engine.backend.BACKENDS`
        (``"compiled"`` raises a ValueError where the kernels cannot run).

        >>> spikes, _ = LIF()(torch.ones(4, 2, 3))
        >>> spikes.shape
        torch.Size([4, 2, 3])
        """
        check_tensor("currents", currents, ndim=3)
        engine = resolve(backend, tensor=currents).name
        if engine != "step":
            return FusedLIF.apply(currents, self.beta, self.threshold, self.slope,
                                  self.surrogate, self.reset, engine == "compiled")
        membrane = torch.zeros_like(currents[0])
        spikes, potentials = [], []
        for current in currents:
            spk, potential, membrane = self.step(current, membrane)
            spikes.append(spk)
            potentials.append(potential)
        return torch.stack(spikes), torch.stack(potentials)


class FusedLIF(torch.autograd.Function):
    """The LIF recurrence over all time steps as one autograd node.

    Forward runs the recurrence without recording a graph; backward runs it in
    reverse. With ``U`` the potential before reset, ``S`` the spikes and
    ``g = surrogate'(U - threshold)``, the gradient reaching ``U[t]`` is

        dL/dU[t] = dL/dS[t] * g[t] + beta * A[t] * dL/dU[t+1]

    where ``A = (1 - S) - U * g`` for reset to zero and ``A = 1 - threshold * g``
    for reset by subtraction: exactly what autograd computes through the
    step-by-step loop, including the path through the reset. ``dL/dI[t] = dL/dU[t]``.

    ``FusedLIF.apply(currents [T, B, N], beta, threshold, slope, surrogate, reset, compiled)``
    returns (spikes, potentials before reset), both ``[T, B, N]``, the potentials without
    gradient. With ``compiled=True`` both passes run in the compiled kernels
    (:mod:`~snn_helpers.engine.kernels`, fp32 CPU tensors), one pass over memory each way;
    otherwise in torch. :meth:`LIF.forward` is the checked way in.

    >>> spikes, potentials = FusedLIF.apply(torch.full((2, 1, 1), 0.6), 0.5, 1.0, 10.0,
    ...                                     "sigmoid", "zero", False)
    >>> potentials.flatten().tolist()
    [0.6000000238418579, 0.9000000357627869]
    """

    @staticmethod
    def forward(ctx, currents, beta, threshold, slope, surrogate, reset, compiled=False):
        ctx.beta, ctx.threshold, ctx.slope, ctx.surrogate, ctx.reset = beta, threshold, slope, surrogate, reset
        ctx.compiled = compiled
        ctx.set_materialize_grads(False)  # backward gets None, not a tensor of zeros, for the potentials
        if compiled:
            potentials, spikes = kernels.lif_forward(currents, beta, threshold, reset)
            ctx.save_for_backward(potentials, spikes)
            ctx.mark_non_differentiable(potentials)
            return spikes, potentials
        # Every step writes into preallocated [T, B, N] tensors: three small kernels, no allocation.
        potentials, spikes = torch.empty_like(currents), torch.empty_like(currents)
        kept = torch.empty_like(currents[0])  # 1 - S[t-1]: the membranes a reset to zero keeps
        for t in range(currents.shape[0]):
            if t == 0:
                potentials[0] = currents[0]  # the membrane starts at zero
            elif reset == "zero":  # U[t] = I[t] + beta * U[t-1] * (1 - S[t-1])
                torch.addcmul(currents[t], potentials[t - 1], kept, value=beta, out=potentials[t])
            else:  # U[t] = I[t] + beta * (U[t-1] - threshold * S[t-1])
                torch.add(currents[t], potentials[t - 1], alpha=beta, out=potentials[t])
                potentials[t].sub_(spikes[t - 1], alpha=beta * threshold)
            torch.ge(potentials[t], threshold, out=spikes[t])
            if reset == "zero":
                torch.lt(potentials[t], threshold, out=kept)
        ctx.save_for_backward(potentials, spikes)
        ctx.mark_non_differentiable(potentials)
        return spikes, potentials

    @staticmethod
    def backward(ctx, grad_spikes, _grad_potentials):
        potentials, spikes = ctx.saved_tensors
        if grad_spikes is None:  # the spikes did not reach the loss
            return None, None, None, None, None, None, None
        if ctx.compiled:
            grad = kernels.lif_backward(grad_spikes, potentials, spikes, ctx.beta, ctx.threshold,
                                        ctx.slope, ctx.surrogate, ctx.reset)
            return grad, None, None, None, None, None, None
        # In-place chains: two fresh [T, B, N] buffers instead of four, measurably faster on a CPU.
        g = SURROGATES[ctx.surrogate](potentials - ctx.threshold, ctx.slope, inplace=True)
        if ctx.reset == "zero":
            carry = (1.0 - spikes).addcmul_(potentials, g, value=-1.0)
        else:
            carry = torch.mul(g, -ctx.threshold).add_(1.0)
        grad = g.mul_(grad_spikes)  # the direct term dL/dS[t] * g[t]; the recurrence adds the rest
        for t in range(grad.shape[0] - 2, -1, -1):
            grad[t].addcmul_(carry[t], grad[t + 1], value=ctx.beta)
        return grad, None, None, None, None, None, None
