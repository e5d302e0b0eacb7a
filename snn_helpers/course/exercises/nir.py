"""Checks for the exercises of notebook 06 (to neuromorphic hardware through NIR).

``check_nir_lif_parameters(nir_lif_parameters)`` judges the map from this
series' leak ``beta`` per step to NIR's continuous-time ``tau`` and ``r``;
``check_nir_lif_step(nir_lif_step)`` judges one forward-Euler step of NIR's
LIF equation, with NIR's spike rule (strictly above the threshold) and reset.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ...interop.nir_graph import lif_parameters
from . import attempt, exercise, expect, passed

__all__ = ["check_nir_lif_parameters", "check_nir_lif_step"]

BETAS = (0.9, 0.5, 0.95, 0.99, 0.0)  # beta = 0 (no memory) last: a wrong formula may divide by it
DTS = (1e-4, 1e-3, 1.0)
TOLERANCE = 1e-9  # relative, for float64 arithmetic; answers in a lower precision get 16 of its steps


def _number(value) -> tuple[float, float] | None:
    """``(value as a float, its relative tolerance)`` when it is a real number (Python, NumPy or a
    one-element tensor), else None; a float32 or float16 value gets 16 steps of its precision."""
    tolerance = TOLERANCE
    dtype = getattr(value, "dtype", None)
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        tolerance = max(TOLERANCE, 16 * torch.finfo(value.dtype).eps)
    elif dtype is not None and getattr(dtype, "kind", "") == "f":  # NumPy
        tolerance = max(TOLERANCE, 16 * float(np.finfo(dtype).eps))
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value), tolerance


@exercise(lif_parameters)
def check_nir_lif_parameters(function) -> None:
    """Check ``function(beta, dt) -> (tau, r)``.

    One Euler step of ``tau * dv/dt = -v + r * I`` is ``v <- (1 - dt/tau) * v +
    (r * dt/tau) * I``; it must keep ``beta`` of the membrane and add the current
    unscaled, for every ``beta`` in :data:`BETAS` and ``dt`` in :data:`DTS`: so
    ``1 - dt/tau = beta`` and ``r * dt / tau = 1``.

    >>> def same_tau(beta, dt):  # a wrong answer
    ...     return 1.0, 1.0
    >>> check_nir_lif_parameters(same_tau)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: for beta = 0.9 and dt = 0.0001, your tau = 1 makes one Euler step keep 1 - dt/tau = 0.9999 ...
    """
    name = getattr(function, "__name__", "your function")
    two = "a function gives back two numbers as `return a, b`"
    for dt in DTS:
        for beta in BETAS:
            result = attempt(function, beta, dt)
            expect(isinstance(result, (tuple, list)) and len(result) == 2, "returns",
                   f"{name}({beta}, {dt}) must return two numbers (tau, r), got {type(result).__name__} "
                   f"{result!r}", two)
            pair = [_number(value) for value in result]
            expect(None not in pair, "returns", f"{name}({beta}, {dt}) must return two numbers (tau, r), got "
                                                f"{result!r}", two)
            (tau, tau_tol), (r, r_tol) = pair
            tolerance = max(tau_tol, r_tol)
            expect(math.isfinite(tau) and tau > 0 and math.isfinite(r) and r > 0, "not positive",
                   f"for beta = {beta} and dt = {dt}, tau = {tau:g} and r = {r:g}: both must be positive numbers",
                   "a time constant and a resistance are positive and finite; check each formula at beta = 0")
            kept = 1 - dt / tau
            expect(math.isclose(kept, beta, rel_tol=tolerance, abs_tol=tolerance), "tau",
                   f"for beta = {beta} and dt = {dt}, your tau = {tau:.6g} makes one Euler step keep 1 - dt/tau = "
                   f"{kept:.6g} of the membrane, but it should keep beta = {beta}",
                   "the factor that multiplies v in one Euler step must equal beta; solve that for tau")
            gain = r * dt / tau
            expect(math.isclose(gain, 1.0, rel_tol=tolerance), "r",
                   f"for beta = {beta} and dt = {dt}, your r = {r:.6g} scales the input current by r*dt/tau = "
                   f"{gain:.6g} per step, but this series adds the current unscaled, a factor of 1",
                   "the factor that multiplies I in one Euler step must be 1; solve that for r")
    passed(f"{name} gives NIR's tau and r: one Euler step keeps beta of the membrane and adds the input unscaled, "
           f"for {len(BETAS)} values of beta and {len(DTS)} of dt")


@exercise()
def check_nir_lif_step(function) -> None:
    """Check ``function(v, current, tau, r, v_threshold, dt) -> (spikes, v_next)``.

    ``v`` and ``current`` are float64 tensors ``[N]``. The new potential is
    ``v + dt/tau * (-v + r * current)``; a neuron spikes when it is strictly above
    ``v_threshold``, and then its ``v_next`` is ``v_reset = 0``. ``spikes`` and
    ``v_next`` must be float tensors ``[N]``.

    >>> def nir_lif_step(v, current, tau, r, v_threshold, dt):  # the stub students start from
    ...     raise NotImplementedError()
    >>> check_nir_lif_step(nir_lif_step)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `nir_lif_step` is not written yet: ...
    """
    name = getattr(function, "__name__", "your function")
    beta, dt, threshold = 0.9, 1e-4, 1.0
    tau = dt / (1 - beta)
    r = tau / dt
    generator = torch.Generator().manual_seed(0)
    v = torch.rand(200, generator=generator, dtype=torch.float64)
    current = 0.6 * torch.rand(200, generator=generator, dtype=torch.float64)
    result = attempt(function, v.clone(), current.clone(), tau, r, threshold, dt)
    expect(isinstance(result, (tuple, list)) and len(result) == 2, "returns",
           f"{name} must return two tensors (spikes, v_next), got {type(result).__name__}",
           "a function gives back two things as `return a, b`")
    spikes, v_next = result
    for label, value in (("spikes", spikes), ("v_next", v_next)):
        expect(isinstance(value, torch.Tensor), "not a tensor",
               f"{label} must be a torch.Tensor, got {type(value).__name__}", "torch operations on v give tensors")
        expect(tuple(value.shape) == (200,), "shape",
               f"{label} must have the shape of v, (200,), got {tuple(value.shape)}",
               "every operation here is element-wise; print the shapes on the way")
        expect(value.is_floating_point(), "dtype", f"{label} must be a floating-point tensor, got {value.dtype}",
               "a comparison gives booleans; tensors have a method that converts to another tensor's dtype")
    potential = v + dt / tau * (-v + r * current)  # = beta * v + current
    expect(bool(((spikes == 0) | (spikes == 1)).all()), "not 0 or 1", "spikes must hold only 0.0 and 1.0",
           "a spike is the result of the comparison with v_threshold")
    wanted = (potential > threshold).to(v.dtype)
    wrong = int((spikes != wanted).sum())
    expect(wrong == 0, "wrong spikes",
           f"{wrong} of 200 neurons spike when they should not or stay silent when they should spike: with "
           f"tau = {tau:g}, r = {r:g} and dt = {dt:g} one Euler step gives the new potential {beta} v + current, "
           f"and a neuron spikes where that is above v_threshold = {threshold}",
           "Euler's method adds dt times the derivative dv/dt that NIR's equation gives; does your step use "
           "every term of it, the leak included?")
    silent = wanted == 0
    off = (v_next[silent] - potential[silent]).abs().max().item() if silent.any() else 0.0
    expect(off <= 1e-12, "silent potential",
           f"neurons that did not spike must keep the new potential v + dt/tau * (-v + r*current); yours is off "
           f"by up to {off:.3g}", "is the v you return for a silent neuron the one before or after the step?")
    fired = wanted == 1
    expect(bool((v_next[fired] == 0).all()), "reset",
           f"after a spike v_next must be v_reset = 0 (NIR 1.0's LIF jumps to v_reset), got values up to "
           f"{v_next[fired].abs().max().item():.3g}", "what is left of v after NIR's reset?")

    # dt = 1, tau = 2, r = 2: v = 0 and current = 1 give exactly 0 + 1/2 * (0 + 2) = 1.0, the threshold.
    tie = attempt(function, torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), 2.0, 2.0,
                  1.0, 1.0)
    expect(float(tie[0][0]) == 0.0, "fires at threshold",
           "a neuron whose new potential is exactly v_threshold = 1.0 spiked; NIR (and snnTorch) fire only "
           "strictly above the threshold, unlike this series' U >= threshold", "look at your comparison")
    passed(f"{name} takes one Euler step of NIR's LIF equation: leak and input as {beta} v + current, spikes "
           f"strictly above the threshold ({int(wanted.sum())} of 200 here), reset to 0, and no spike at a tie")
