"""Checks for the exercises of notebook 06 (to neuromorphic hardware through NIR).

``check_nir_lif_parameters(nir_lif_parameters)`` judges the map from this
series' leak ``beta`` per step to NIR's continuous-time ``tau`` and ``r``;
``check_nir_lif_step(nir_lif_step)`` judges one forward-Euler step of NIR's
LIF equation, with NIR's spike rule (strictly above the threshold) and reset.
"""
from __future__ import annotations

import math
import numbers

import torch

from . import attempt, expect, passed

__all__ = ["check_nir_lif_parameters", "check_nir_lif_step"]

BETAS = (0.9, 0.5, 0.95, 0.99, 0.0)  # beta = 0 (no memory) last: a wrong formula may divide by it
DTS = (1e-4, 1e-3, 1.0)
TOLERANCE = 1e-9  # relative: the checks compare float64 arithmetic


def _number(value) -> float | None:
    """``value`` as a float when it is a real number (Python, NumPy or a one-element tensor), else None."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


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
    snn_helpers.exercises.ExerciseError: for beta = 0.9 and dt = 0.0001, your tau = 1 makes one Euler step keep 1 - dt/tau = 0.9999 ...
    """
    name = getattr(function, "__name__", "your function")
    for dt in DTS:
        for beta in BETAS:
            result = attempt(function, beta, dt)
            expect(isinstance(result, (tuple, list)) and len(result) == 2,
                   f"{name}({beta}, {dt}) must return two numbers (tau, r), got {type(result).__name__} {result!r}")
            tau, r = (_number(value) for value in result)
            expect(tau is not None and r is not None,
                   f"{name}({beta}, {dt}) must return two numbers (tau, r), got {result!r}")
            expect(math.isfinite(tau) and tau > 0 and math.isfinite(r) and r > 0,
                   f"for beta = {beta} and dt = {dt}, tau = {tau:g} and r = {r:g}: both must be positive numbers")
            kept = 1 - dt / tau
            expect(math.isclose(kept, beta, rel_tol=TOLERANCE, abs_tol=TOLERANCE),
                   f"for beta = {beta} and dt = {dt}, your tau = {tau:.6g} makes one Euler step keep 1 - dt/tau = "
                   f"{kept:.6g} of the membrane, but it should keep beta = {beta}; solve beta = 1 - dt/tau for tau")
            gain = r * dt / tau
            expect(math.isclose(gain, 1.0, rel_tol=TOLERANCE),
                   f"for beta = {beta} and dt = {dt}, your r = {r:.6g} scales the input current by r*dt/tau = "
                   f"{gain:.6g} per step, but this series adds the current unscaled: r*dt/tau must be 1")
    passed(f"{name} gives NIR's tau and r: one Euler step keeps beta of the membrane and adds the input unscaled, "
           f"for {len(BETAS)} values of beta and {len(DTS)} of dt")


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
    snn_helpers.exercises.ExerciseError: `nir_lif_step` is not written yet: ...
    """
    name = getattr(function, "__name__", "your function")
    beta, dt, threshold = 0.9, 1e-4, 1.0
    tau = dt / (1 - beta)
    r = tau / dt
    generator = torch.Generator().manual_seed(0)
    v = torch.rand(200, generator=generator, dtype=torch.float64)
    current = 0.6 * torch.rand(200, generator=generator, dtype=torch.float64)
    result = attempt(function, v.clone(), current.clone(), tau, r, threshold, dt)
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{name} must return two tensors (spikes, v_next), got {type(result).__name__}")
    spikes, v_next = result
    for label, value in (("spikes", spikes), ("v_next", v_next)):
        expect(isinstance(value, torch.Tensor), f"{label} must be a torch.Tensor, got {type(value).__name__}")
        expect(tuple(value.shape) == (200,), f"{label} must have the shape of v, (200,), got {tuple(value.shape)}")
        expect(value.is_floating_point(), f"{label} must be a floating-point tensor, got {value.dtype} "
                                          f"(turn a comparison into numbers with .to(v.dtype) or .double())")
    potential = v + dt / tau * (-v + r * current)  # = beta * v + current
    expect(bool(((spikes == 0) | (spikes == 1)).all()), "spikes must hold only 0.0 and 1.0")
    wanted = (potential > threshold).to(v.dtype)
    wrong = int((spikes != wanted).sum())
    expect(wrong == 0, f"{wrong} of 200 neurons spike when they should not or stay silent when they should "
                       f"spike: with tau = {tau:g}, r = {r:g} and dt = {dt:g} the new potential is "
                       f"v + dt/tau * (-v + r*current) (= {beta} v + current), and a neuron spikes where it is "
                       f"above v_threshold = {threshold}")
    silent = wanted == 0
    off = (v_next[silent] - potential[silent]).abs().max().item() if silent.any() else 0.0
    expect(off <= 1e-12, f"neurons that did not spike must keep the new potential v + dt/tau * (-v + r*current); "
                         f"yours is off by up to {off:.3g}")
    fired = wanted == 1
    expect(bool((v_next[fired] == 0).all()),
           f"after a spike v_next must be v_reset = 0 (NIR 1.0's LIF jumps to v_reset), got values up to "
           f"{v_next[fired].abs().max().item():.3g}; subtracting the threshold is not what NIR describes")

    # dt = 1, tau = 2, r = 2: v = 0 and current = 1 give exactly 0 + 1/2 * (0 + 2) = 1.0, the threshold.
    tie = attempt(function, torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), 2.0, 2.0,
                  1.0, 1.0)
    expect(float(tie[0][0]) == 0.0,
           "a neuron whose new potential is exactly v_threshold = 1.0 spiked; NIR (and snnTorch) fire only "
           "strictly above the threshold, v > v_threshold, unlike this series' U >= threshold")
    passed(f"{name} takes one Euler step of NIR's LIF equation: leak and input as {beta} v + current, spikes "
           f"strictly above the threshold ({int(wanted.sum())} of 200 here), reset to 0, and no spike at a tie")
