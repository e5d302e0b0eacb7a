"""The checks of notebook 06's exercises: the notebook's solutions pass, plausible mistakes are named."""
import math

import pytest
import torch
from notebook_solutions import solution as notebook_solution

from snn_helpers.exercises import ExerciseError
from snn_helpers.exercises.nir import check_nir_lif_parameters, check_nir_lif_step


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


@pytest.mark.parametrize("wrong, message", [
    (tau_from_beta_not_one_minus_beta, r"keep 1 - dt/tau = .* but it should keep beta"),
    (r_left_at_one, r"your r = 1 scales the input current by r\*dt/tau = .*must be 1"),
    (dt_forgotten, r"for beta = 0.9 and dt = 0.0001, your tau = 10 makes one Euler step keep"),
    (only_tau, r"must return two numbers \(tau, r\), got float"),
    (tau_infinite_for_beta_one_minus, r"both must be positive numbers"),
])
def test_wrong_parameters_are_named(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_nir_lif_parameters(wrong)


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


@pytest.mark.parametrize("wrong, message", [
    (fires_at_the_threshold, r"exactly v_threshold = 1.0 spiked; NIR \(and snnTorch\) fire only strictly above"),
    (resets_by_subtraction, r"after a spike v_next must be v_reset = 0"),
    (forgets_the_leak, r"neurons spike when they should not or stay silent"),
    (bool_spikes, r"spikes must be a floating-point tensor, got torch.bool"),
    (silent_neurons_keep_the_old_potential, r"neurons that did not spike must keep the new potential"),
    (stub, r"`stub` is not written yet"),
])
def test_wrong_steps_are_named(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_nir_lif_step(wrong)


def test_the_step_check_does_not_touch_the_caller_random_state():
    state = torch.get_rng_state()
    check_nir_lif_step(solution("ex06_2_lif_step"))
    assert torch.equal(torch.get_rng_state(), state)
