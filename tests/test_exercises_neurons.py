"""Notebook 02's exercise checks: the notebook's solutions pass, plausible wrong answers fail in words."""
import math

import pytest
import torch
from notebook_solutions import solution as notebook_solution

from snn_helpers.exercises import ExerciseError
from snn_helpers.exercises.neurons import (
    check_arctan_spike,
    check_lif_by_hand,
    check_lif_subtract,
)


def solution(grade_id: str):
    """The reference answer of the notebook's solution cell ``grade_id``."""
    return notebook_solution("02_lif_neuron_and_surrogate.ipynb", grade_id)


def neuron(reset="zero", order="leak first", fire_at_threshold=True, returns="before reset"):
    """A hand-built LIF neuron with one of the mistakes students make (the defaults are right).

    reset: "zero", "subtract", "subtract after leak" (snnTorch's Leaky: U[t] = βU[t-1] + I[t] - θS[t-1])
    or "none"; order: "leak first" or "leak last" (U[t] = β(M[t-1] + I[t])); returns: the potential
    "before reset" or "after reset".
    """
    def lif(currents, beta, threshold):
        mem, fired = torch.tensor(0.0), torch.tensor(0.0)
        spikes, potentials = [], []
        for current in currents:
            potential = beta * mem + current if order == "leak first" else beta * (mem + current)
            if reset == "subtract after leak":
                potential = potential - threshold * fired
            fired = (potential >= threshold if fire_at_threshold else potential > threshold).float()
            mem = {"zero": potential * (1 - fired), "subtract": potential - threshold * fired}.get(reset, potential)
            spikes.append(fired)
            potentials.append(potential if returns == "before reset" else mem)
        return torch.stack(spikes), torch.stack(potentials)

    lif.__name__ = "lif_by_hand"
    return lif


def test_the_notebook_solutions_pass(capsys):
    check_lif_by_hand(solution("ex02_1_lif_by_hand"))
    check_lif_subtract(solution("ex02_2_lif_subtract"))
    check_arctan_spike(solution("ex02_3_arctan_spike"))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("✓ ") for line in lines)
    assert "first spike at step 3 on a constant current" in lines[0]


def test_the_hand_written_correct_neurons_pass_too():
    """The wrong answers below differ from these in one place only, so each failure is that mistake."""
    check_lif_by_hand(neuron())
    check_lif_subtract(neuron(reset="subtract"))


@pytest.mark.parametrize("wrong, match", [
    (neuron(reset="none"), r"never drops back after a spike.*forget the reset"),
    (neuron(order="leak last"), r"at step 0 .*0\.2700.*leak the old membrane first"),
    (neuron(fire_at_threshold=False), r"exactly θ = 1 .*U\[t\] ≥ θ, not U\[t\] > θ"),
    (neuron(returns="after reset"), r"step 3 .*membrane after the reset.*Return U\[t\]"),
    (neuron(reset="subtract"), r"subtracted θ.*resets to zero"),
])
def test_lif_by_hand_wrong_answers_are_explained(wrong, match):
    with pytest.raises(ExerciseError, match=match):
        check_lif_by_hand(wrong)


@pytest.mark.parametrize("wrong, match", [
    (neuron(reset="zero"), r"reset its membrane to zero.*surplus above θ is kept"),
    (neuron(reset="subtract after leak"), r"0\.2285.*0\.3285: you subtracted θ after the leak"),
    (neuron(reset="none"), r"forget the reset"),
    (neuron(reset="subtract", fire_at_threshold=False), r"U\[t\] ≥ θ, not U\[t\] > θ"),
])
def test_lif_subtract_wrong_answers_are_explained(wrong, match):
    with pytest.raises(ExerciseError, match=match):
        check_lif_subtract(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda currents, beta, threshold: neuron()(currents, beta, threshold)[0], r"two tensors"),
    (lambda currents, beta, threshold: tuple(t.bool() if i == 0 else t for i, t in
                                             enumerate(neuron()(currents, beta, threshold))), r"float.*torch\.bool"),
    (lambda currents, beta, threshold: [t.tolist() for t in neuron()(currents, beta, threshold)],
     r"should be a tensor.*torch\.stack"),
    (lambda currents, beta, threshold: tuple(t[:-1] for t in neuron()(currents, beta, threshold)),
     r"shape \[20\].*got \[19\]"),
    (lambda currents, beta, threshold: (2 * neuron()(currents, beta, threshold)[0],
                                        neuron()(currents, beta, threshold)[1]), r"0\.0 or 1\.0.*2"),
])
def test_lif_by_hand_wrong_types_and_shapes_say_what_came_back(wrong, match):
    with pytest.raises(ExerciseError, match=match):
        check_lif_by_hand(wrong)


def test_a_stub_is_not_written_yet():
    def lif_by_hand(currents, beta, threshold):
        raise NotImplementedError()

    with pytest.raises(ExerciseError, match="`lif_by_hand` is not written yet"):
        check_lif_by_hand(lif_by_hand)


def arctan_spike(forward=None, backward=None):
    """An ArctanSpike whose forward or backward is replaced by a wrong one."""
    reference = solution("ex02_3_arctan_spike")

    class ArctanSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, mem, threshold, slope):
            ctx.save_for_backward(mem)
            ctx.threshold, ctx.slope = threshold, slope
            return (forward or _step)(mem, threshold)

        @staticmethod
        def backward(ctx, grad_output):
            (mem,) = ctx.saved_tensors
            if backward is None:
                return reference.backward(ctx, grad_output)
            return backward(mem - ctx.threshold, ctx.slope, grad_output)

    return ArctanSpike


def _step(mem, threshold):
    return (mem >= threshold).to(mem.dtype)


def _arctan(x, k):
    return (k / 2) / (1 + (math.pi / 2 * k * x) ** 2)


@pytest.mark.parametrize("wrong, match", [
    (arctan_spike(backward=lambda x, k, g: (torch.zeros_like(x), None, None)), r"zero gradient everywhere"),
    (arctan_spike(backward=lambda x, k, g: (_arctan(x, k), None, None)), r"ignores grad_output.*chain rule"),
    (arctan_spike(backward=lambda x, k, g: (g * 2 * _arctan(x, k), None, None)), r"peaks at k/2 = 1\.5"),
    (arctan_spike(backward=lambda x, k, g: (g * _arctan(x, 2.0), None, None)), r"1\.0000 per unit.*k/2 = 1\.5"),
    (arctan_spike(backward=lambda x, k, g: (g * torch.sigmoid(k * x) * (1 - torch.sigmoid(k * x)), None, None)),
     r"peaks at k/2"),
    (arctan_spike(backward=lambda x, k, g: (g * (k / 2) / (1 + (k * x) ** 2), None, None)),
     r"at U = .*arctan surrogate \(k/2\)/\(1 \+ \(π/2·k·\(U − θ\)\)²\) gives"),
    (arctan_spike(backward=lambda x, k, g: g * _arctan(x, k)), r"one gradient per input of forward"),
    (arctan_spike(forward=lambda mem, threshold: (mem > threshold).to(mem.dtype)), r"U ≥ θ, not U > θ"),
    (arctan_spike(forward=lambda mem, threshold: torch.atan(mem - threshold) / math.pi + 0.5),
     r"spikes of 0\.0 or 1\.0.*backward only"),
    (arctan_spike(forward=lambda mem, threshold: (mem >= 1.0).to(mem.dtype)), r"U = 0\.55 and θ = 0\.5 .*gives 0"),
    (arctan_spike(forward=lambda mem, threshold: (mem >= threshold).double()), r"mem's dtype"),
])
def test_arctan_spike_wrong_answers_are_explained(wrong, match):
    with pytest.raises(ExerciseError, match=match):
        check_arctan_spike(wrong)


def test_arctan_spike_stub_and_non_class_are_refused():
    class ArctanSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, mem, threshold, slope):
            raise NotImplementedError()

        @staticmethod
        def backward(ctx, grad_output):
            raise NotImplementedError()

    with pytest.raises(ExerciseError, match="`ArctanSpike.apply` is not written yet"):
        check_arctan_spike(ArctanSpike)
    def unwritten(x, k, grad_output):
        raise NotImplementedError()

    with pytest.raises(ExerciseError, match="`ArctanSpike.backward` is not written yet"):
        check_arctan_spike(arctan_spike(backward=unwritten))
    with pytest.raises(ExerciseError, match="subclass of torch.autograd.Function"):
        check_arctan_spike(lambda mem, threshold, slope: (mem >= threshold).float())
