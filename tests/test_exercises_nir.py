"""The checks of notebook 06's exercises: the notebook's solutions pass, plausible mistakes are named
by their symptom (and, repeated, with a hint), never by their fix; the library's own is refused."""
import math

import numpy as np
import pytest
import torch
from notebook_solutions import assert_ladder, assert_refused
from notebook_solutions import solution as notebook_solution

from snn_helpers.course.exercises.nir import check_nir_lif_parameters, check_nir_lif_step
from snn_helpers.interop.nir_graph import lif_parameters


def solution(grade_id: str):
    """The reference answer of the notebook's solution cell ``grade_id``."""
    return notebook_solution("06_to_neuromorphic_hardware.ipynb", grade_id)


def test_the_notebook_solutions_pass(capsys):
    check_nir_lif_parameters(solution("ex06_1_lif_parameters"))
    check_nir_lif_step(solution("ex06_2_lif_step"))
    out = capsys.readouterr().out
    assert out.count("✓") == 2


def tau_from_beta_not_one_minus_beta(beta, dt):
    tau = dt / beta
    return tau, tau / dt


def r_left_at_one(beta, dt):
    return dt / (1 - beta), 1.0


def dt_forgotten(beta, dt):
    tau = 1 / (1 - beta)
    return tau, tau


def only_tau(beta, dt):
    return dt / (1 - beta)


def tau_infinite_for_beta_one_minus(beta, dt):
    return math.inf, 1.0


def float32_tau_only(beta, dt):  # right for tau, r left at 1, in float32: still the r message
    return torch.tensor(dt / (1 - beta), dtype=torch.float32), torch.tensor(1.0)


PARAMETER_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (tau_from_beta_not_one_minus_beta, r"keep 1 - dt/tau = .* but it should keep beta", "dt / (1 - beta)"),
    (r_left_at_one, r"your r = 1 scales the input current by r\*dt/tau = .*a factor of 1", "tau / dt"),
    (dt_forgotten, r"for beta = 0.9 and dt = 0.0001, your tau = 10 makes one Euler step keep", "dt / (1 - beta)"),
    (only_tau, r"must return two numbers \(tau, r\), got float", "return tau, r"),
    (tau_infinite_for_beta_one_minus, r"both must be positive numbers", "dt / (1 - beta)"),
    (float32_tau_only, r"your r = 1 scales the input current", "tau / dt"),
]


@pytest.mark.parametrize("wrong, symptom, fix", PARAMETER_MISTAKES, ids=[w.__name__ for w, _, _ in PARAMETER_MISTAKES])
def test_wrong_parameters_show_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_nir_lif_parameters, wrong, symptom, fix)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, np.float32])
def test_the_right_algebra_passes_in_float32_too(dtype, capsys):
    def in_dtype(beta, dt):
        if isinstance(dtype, torch.dtype):
            beta, dt = torch.tensor(beta, dtype=dtype), torch.tensor(dt, dtype=dtype)
        else:
            beta, dt = dtype(beta), dtype(dt)
        tau = dt / (1 - beta)
        return tau, tau / dt
    check_nir_lif_parameters(in_dtype)
    assert capsys.readouterr().out.startswith("✓")


def parameters_by_the_library(beta, dt):
    parameters = lif_parameters(beta, 1.0, size=1, dt=dt)
    return float(parameters["tau"][0]), float(parameters["r"][0])


def test_the_parameter_check_refuses_the_library():
    assert_refused(check_nir_lif_parameters, parameters_by_the_library, lif_parameters)


def fires_at_the_threshold(v, current, tau, r, v_threshold, dt):
    v = v + dt / tau * (-v + r * current)
    spikes = (v >= v_threshold).to(v.dtype)
    return spikes, v * (1 - spikes)


def resets_by_subtraction(v, current, tau, r, v_threshold, dt):
    v = v + dt / tau * (-v + r * current)
    spikes = (v > v_threshold).to(v.dtype)
    return spikes, v - v_threshold * spikes


def forgets_the_leak(v, current, tau, r, v_threshold, dt):
    v = v + dt / tau * r * current
    spikes = (v > v_threshold).to(v.dtype)
    return spikes, v * (1 - spikes)


def bool_spikes(v, current, tau, r, v_threshold, dt):
    v = v + dt / tau * (-v + r * current)
    return v > v_threshold, v


def silent_neurons_keep_the_old_potential(v, current, tau, r, v_threshold, dt):
    new = v + dt / tau * (-v + r * current)
    spikes = (new > v_threshold).to(v.dtype)
    return spikes, v * (1 - spikes)


def stub(v, current, tau, r, v_threshold, dt):
    raise NotImplementedError()


STEP_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (fires_at_the_threshold, r"exactly v_threshold = 1.0 spiked; NIR \(and snnTorch\) fire only strictly above",
     "v > v_threshold"),
    (resets_by_subtraction, r"after a spike v_next must be v_reset = 0", "torch.where"),
    (forgets_the_leak, r"neurons spike when they should not or stay silent", "-v + r"),
    (bool_spikes, r"spikes must be a floating-point tensor, got torch.bool", ".to(v.dtype)"),
    (silent_neurons_keep_the_old_potential, r"neurons that did not spike must keep the new potential",
     "torch.where(spikes"),
    (stub, r"`stub` is not written yet", "dt / tau"),
]


@pytest.mark.parametrize("wrong, symptom, fix", STEP_MISTAKES, ids=[w.__name__ for w, _, _ in STEP_MISTAKES])
def test_wrong_steps_show_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_nir_lif_step, wrong, symptom, fix)


def test_the_step_check_does_not_touch_the_caller_random_state():
    state = torch.get_rng_state()
    check_nir_lif_step(solution("ex06_2_lif_step"))
    assert torch.equal(torch.get_rng_state(), state)
