"""The surrogate spike and the LIF neuron against hand-computed values."""
import math

import pytest
import torch

from snn_helpers import LIF, SURROGATES, spike
from snn_helpers.core.neurons import after_reset

# The smooth functions whose derivatives the surrogates claim to be (slope k, x = mem - threshold).
PRIMITIVES = {
    "sigmoid": lambda x, k: torch.sigmoid(k * x) / k,
    "fast_sigmoid": lambda x, k: x / (1 + k * x.abs()),
    "arctan": lambda x, k: torch.atan(math.pi / 2 * k * x) / math.pi,
}


@pytest.mark.parametrize("name", sorted(SURROGATES))
@pytest.mark.parametrize("threshold, slope", [(1.0, 10.0), (0.5, 3.0), (2.0, 25.0)])
def test_backward_is_the_derivative_of_the_named_primitive(name, threshold, slope):
    mem = torch.linspace(threshold - 1, threshold + 1, 201, dtype=torch.float64, requires_grad=True)
    spike(mem, threshold, slope, name).sum().backward()
    x = (mem - threshold).detach()
    h = 1e-6
    numeric = (PRIMITIVES[name](x + h, slope) - PRIMITIVES[name](x - h, slope)) / (2 * h)
    torch.testing.assert_close(mem.grad, numeric, rtol=1e-4, atol=1e-7)  # |x| kink at 0 costs ~slope*h


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_forward_is_heaviside_at_the_threshold_and_gradient_peaks_there(name):
    mem = torch.tensor([0.49, 0.5, 0.51, 0.9, 1.0], requires_grad=True)
    out = spike(mem, threshold=0.5, surrogate=name)
    assert out.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    out.sum().backward()
    assert mem.grad.argmax().item() == 1  # steepest exactly at mem == threshold


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_surrogate_leaves_its_input_alone_unless_told_to_work_in_place(name):
    x = torch.linspace(-1, 1, 101)
    kept = x.clone()
    expected = SURROGATES[name](x, 4.0)
    assert torch.equal(x, kept)
    result = SURROGATES[name](x, 4.0, inplace=True)
    assert result.data_ptr() == x.data_ptr()
    torch.testing.assert_close(result, expected)


def test_seed_surrogate_matches_seed_formula():
    mem = torch.linspace(0, 2, 41, requires_grad=True)
    spike(mem).sum().backward()  # defaults: threshold 1, slope 10, sigmoid
    s = torch.sigmoid(10 * (mem.detach() - 1))
    torch.testing.assert_close(mem.grad, s * (1 - s))


def _trace(lif, currents):
    spikes, potentials = lif(torch.tensor(currents).reshape(-1, 1, 1), backend="step")
    return spikes.flatten().tolist(), potentials.flatten().tolist()


def test_reset_to_zero_on_a_hand_computed_trace():
    spikes, potentials = _trace(LIF(beta=0.5, threshold=1.0), [0.6, 0.6, 0.6, 0.0, 2.0])
    assert spikes == [0, 0, 1, 0, 1]
    assert potentials == pytest.approx([0.6, 0.9, 1.05, 0.0, 2.0])


def test_reset_by_subtraction_on_a_hand_computed_trace():
    spikes, potentials = _trace(LIF(beta=0.5, threshold=1.0, reset="subtract"), [0.6, 0.6, 0.6, 0.0, 2.0])
    assert spikes == [0, 0, 1, 0, 1]
    assert potentials == pytest.approx([0.6, 0.9, 1.05, 0.025, 2.0125], abs=1e-6)


@pytest.mark.parametrize("beta, current, threshold", [(0.95, 0.1, 1.0), (0.8, 0.25, 1.0), (0.9, 0.05, 0.3)])
def test_first_spike_where_the_geometric_series_says(beta, current, threshold):
    # U[t] = current * (1 - beta**(t+1)) / (1 - beta) first reaches the threshold at t*
    t_star = math.ceil(math.log(1 - threshold * (1 - beta) / current) / math.log(beta)) - 1
    spikes, _ = _trace(LIF(beta=beta, threshold=threshold), [current] * (3 * t_star + 3))
    fired = [t for t, s in enumerate(spikes) if s]
    # reset to zero restarts the same climb: spikes every t* + 1 steps
    assert fired[:3] == [t_star, 2 * t_star + 1, 3 * t_star + 2]


def test_beta_extremes_forget_everything_or_nothing():
    no_memory, _ = _trace(LIF(beta=0.0), [0.9] * 10)
    assert sum(no_memory) == 0
    integrator, potentials = _trace(LIF(beta=1.0, threshold=1.0), [0.25] * 8)
    assert integrator == [0, 0, 0, 1, 0, 0, 0, 1]
    assert potentials[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_step_and_sequence_agree_and_membrane_is_potential_after_reset(reset):
    lif = LIF(beta=0.9, threshold=0.7, reset=reset)
    currents = torch.rand(12, 3, 5)
    spikes, potentials = lif(currents, backend="step")
    membrane = torch.zeros(3, 5)
    for t in range(12):
        spk, potential, membrane = lif.step(currents[t], membrane)
        assert torch.equal(spk, spikes[t]) and torch.equal(potential, potentials[t])
        assert torch.equal(membrane, after_reset(potential, spk, 0.7, reset))
    assert spikes.sum() > 0  # the reset took part


@pytest.mark.parametrize("kwargs, error, name", [
    ({"beta": -0.1}, ValueError, "beta"),
    ({"beta": 1.01}, ValueError, "beta"),
    ({"beta": float("nan")}, ValueError, "beta"),
    ({"threshold": 0.0}, ValueError, "threshold"),
    ({"threshold": "1"}, TypeError, "threshold"),
    ({"reset": "none"}, ValueError, "reset"),
    ({"surrogate": "relu"}, ValueError, "surrogate"),
    ({"slope": -1.0}, ValueError, "slope"),
])
def test_lif_rejects_bad_settings(kwargs, error, name):
    with pytest.raises(error, match=name):
        LIF(**kwargs)
