"""Leaky integrate-and-fire neurons and the surrogate-gradient spike.

The LIF update for one step, with input current ``I[t]``:

    U[t] = beta * M[t-1] + I[t]          (leak, then integrate)
    S[t] = H(U[t] - threshold)           (spike when the threshold is reached)
    M[t] = U[t] * (1 - S[t])             (reset to zero, as in the seed), or
    M[t] = U[t] - threshold * S[t]       (reset by subtraction)

``H`` is the Heaviside step. Its derivative is zero almost everywhere, so the
backward pass uses a smooth *surrogate* derivative instead.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from . import kernels
from ._checks import check_choice, check_float, check_tensor

RESETS = ("zero", "subtract")


def sigmoid_derivative(x: torch.Tensor, slope: float, *, inplace: bool = False) -> torch.Tensor:
    """The seed's surrogate: ``s * (1 - s)`` with ``s = sigmoid(slope * x)``; peak 1/4 at x = 0.

    This is the derivative of ``sigmoid(slope * x) / slope``. With ``inplace=True``
    the result overwrites ``x`` (the backward passes use it on their own ``[T, B, N]``
    temporaries: one buffer fewer is measurably faster on a CPU).
    """
    s = (x.mul_(slope) if inplace else x * slope).sigmoid_()
    return s.mul_(1 - s)


def fast_sigmoid_derivative(x: torch.Tensor, slope: float, *, inplace: bool = False) -> torch.Tensor:
    """Fast-sigmoid surrogate (SuperSpike): ``1 / (1 + slope * |x|)**2``; peak 1 at x = 0."""
    d = (x.abs_() if inplace else x.abs()).mul_(slope).add_(1.0)
    return d.mul_(d).reciprocal_()


def arctan_derivative(x: torch.Tensor, slope: float, *, inplace: bool = False) -> torch.Tensor:
    """Arctan surrogate: derivative of ``arctan(pi/2 * slope * x) / pi``; peak slope/2 at x = 0."""
    d = x.mul_(math.pi / 2 * slope) if inplace else x * (math.pi / 2 * slope)
    return d.mul_(d).add_(1.0).reciprocal_().mul_(slope / 2)


SURROGATES = {
    "sigmoid": sigmoid_derivative,
    "fast_sigmoid": fast_sigmoid_derivative,
    "arctan": arctan_derivative,
}


class SurrogateSpike(torch.autograd.Function):
    """Heaviside step forward, surrogate derivative backward.

    ``SurrogateSpike.apply(mem, threshold, slope, surrogate)`` returns 1.0
    where ``mem >= threshold`` and 0.0 elsewhere; the gradient with respect to
    ``mem`` is ``SURROGATES[surrogate](mem - threshold, slope)``.
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


def spike(mem: torch.Tensor, threshold: float = 1.0, slope: float = 10.0,
          surrogate: str = "sigmoid") -> torch.Tensor:
    """Spikes (0.0/1.0, same shape as ``mem``) with a surrogate gradient."""
    check_tensor("mem", mem)
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    slope = check_float("slope", slope, 0.0, low_open=True)
    check_choice("surrogate", surrogate, SURROGATES)
    return SurrogateSpike.apply(mem, threshold, slope, surrogate)


class LIF(nn.Module):
    """A layer of leaky integrate-and-fire neurons, advanced one time step per call.

    ``forward(current [B, N], mem [B, N]) -> (spikes [B, N], new mem [B, N])``.
    ``mem`` is the membrane after the previous step's reset (zeros at t = 0).
    """

    def __init__(self, beta: float = 0.95, threshold: float = 1.0, reset: str = "zero",
                 surrogate: str = "sigmoid", slope: float = 10.0):
        super().__init__()
        self.beta = check_float("beta", beta, 0.0, 1.0)
        self.threshold = check_float("threshold", threshold, 0.0, low_open=True)
        self.reset = check_choice("reset", reset, RESETS)
        self.surrogate = check_choice("surrogate", surrogate, SURROGATES)
        self.slope = check_float("slope", slope, 0.0, low_open=True)

    def extra_repr(self) -> str:
        return (f"beta={self.beta}, threshold={self.threshold}, reset={self.reset!r}, "
                f"surrogate={self.surrogate!r}, slope={self.slope}")

    def step(self, current: torch.Tensor, mem: torch.Tensor):
        """One step: returns (spikes, potential before reset, membrane after reset)."""
        potential = self.beta * mem + current
        spk = SurrogateSpike.apply(potential, self.threshold, self.slope, self.surrogate)
        if self.reset == "zero":
            return spk, potential, potential * (1.0 - spk)
        return spk, potential, potential - self.threshold * spk

    def forward(self, current: torch.Tensor, mem: torch.Tensor):
        check_tensor("current", current)
        if check_tensor("mem", mem).shape != current.shape:
            raise ValueError(f"mem must have the shape of current {tuple(current.shape)}, got {tuple(mem.shape)}")
        spk, _, mem = self.step(current, mem)
        return spk, mem

    def run(self, currents: torch.Tensor):
        """Whole sequence, one autograd step at a time (the way the seed does it).

        currents: ``[T, B, N]`` -> (spikes ``[T, B, N]``, potential before reset ``[T, B, N]``).
        """
        check_tensor("currents", currents, ndim=3)
        mem = torch.zeros_like(currents[0])
        spikes, potentials = [], []
        for current in currents:
            spk, potential, mem = self.step(current, mem)
            spikes.append(spk)
            potentials.append(potential)
        return torch.stack(spikes), torch.stack(potentials)

    def run_fused(self, currents: torch.Tensor, compiled: bool | None = None):
        """Same result and gradients as :meth:`run`, computed by :class:`FusedLIF`.

        currents: ``[T, B, N]`` -> (spikes ``[T, B, N]``, potential before reset ``[T, B, N]``;
        the potential carries no gradient). ``compiled``: run the recurrence in the
        compiled kernels (:mod:`~snn_helpers.kernels`); ``None`` (default) when they are available.
        """
        check_tensor("currents", currents, ndim=3)
        return FusedLIF.apply(currents, self.beta, self.threshold, self.slope,
                              self.surrogate, self.reset, kernels.choose(compiled, currents))


class FusedLIF(torch.autograd.Function):
    """The LIF recurrence over all time steps as one autograd node.

    Forward runs the recurrence without recording a graph; backward runs it in
    reverse. With ``U`` the potential before reset, ``S`` the spikes and
    ``g = surrogate'(U - threshold)``, the gradient reaching ``U[t]`` is

        dL/dU[t] = dL/dS[t] * g[t] + beta * A[t] * dL/dU[t+1]

    where ``A = (1 - S) - U * g`` for reset to zero and ``A = 1 - threshold * g``
    for reset by subtraction: exactly what autograd computes through the
    step-by-step loop, including the path through the reset. ``dL/dI[t] = dL/dU[t]``.

    ``FusedLIF.apply(currents, beta, threshold, slope, surrogate, reset, compiled)``:
    with ``compiled=True`` both passes run in the compiled kernels
    (:mod:`~snn_helpers.kernels`), one pass over memory each way; otherwise in torch.
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
