"""Notebook 02's exercise checks: the notebook's solutions pass, plausible wrong answers fail in words
(the symptom first, a hint when repeated, never the fix), and the library's own neuron is refused."""
import math

import pytest
import torch
from notebook_solutions import assert_ladder, assert_refused
from notebook_solutions import solution as notebook_solution

from snn_helpers import LIF, SURROGATES, spike
from snn_helpers.course.exercises import ExerciseError
from snn_helpers.course.exercises.neurons import (
    check_arctan_spike,
    check_lif_by_hand,
    check_lif_subtract,
)
from snn_helpers.course.widgets import lif_response


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


BY_HAND_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (neuron(reset="none"), r"never drops back after a spike", ("1 - fired", "(1 − S[t])")),
    (neuron(order="leak last"), r"at step 0 .*0\.2700.*yours equals β·\(M\[t−1\] \+ I\[t\]\)",
     ("leak the old membrane first", "beta * mem + current")),
    (neuron(fire_at_threshold=False), r"exactly θ = 1 and your neuron does not fire", (">=", "≥ θ, not")),
    (neuron(returns="after reset"), r"step 3 .*membrane after the reset", ("append(potential)", "return U[t]")),
    (neuron(reset="subtract"), r"kept U − θ of its membrane", ("U[t]·(1 − S[t])", "* (1 - fired)")),
]


@pytest.mark.parametrize("wrong, symptom, fix", BY_HAND_MISTAKES)
def test_lif_by_hand_wrong_answers_show_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_lif_by_hand, wrong, symptom, fix)


SUBTRACT_MISTAKES = [
    (neuron(reset="zero"), r"kept nothing of its membrane", ("U[t] − θ·S[t]", "threshold * fired")),
    (neuron(reset="subtract after leak"), r"0\.2285.*0\.3285; yours equals β·U\[t−1\] \+ I\[t\] − θ",
     ("subtract it before", "M[t−1] = U[t−1] − θ")),
    (neuron(reset="none"), r"never drops back", "threshold * fired"),
    (neuron(reset="subtract", fire_at_threshold=False), r"exactly θ = 1 and your neuron does not fire", ">="),
]


@pytest.mark.parametrize("wrong, symptom, fix", SUBTRACT_MISTAKES)
def test_lif_subtract_wrong_answers_show_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_lif_subtract, wrong, symptom, fix)


def neuron_by_the_library(currents, beta, threshold):
    return lif_response(currents, beta, threshold)


def neuron_by_the_class(currents, beta, threshold):
    spikes, potentials = LIF(beta=beta, threshold=threshold)(currents.reshape(-1, 1, 1), backend="step")
    return spikes.flatten(), potentials.flatten()


def subtracting_neuron_by_the_library(currents, beta, threshold):
    return lif_response(currents, beta, threshold, reset="subtract")


@pytest.mark.parametrize("check, wrapper, library", [
    (check_lif_by_hand, neuron_by_the_library, lif_response),
    (check_lif_by_hand, neuron_by_the_class, LIF),
    (check_lif_subtract, subtracting_neuron_by_the_library, lif_response),
])
def test_the_neuron_checks_refuse_the_library(check, wrapper, library):
    assert_refused(check, wrapper, library)
    assert lif_response(torch.ones(2), 0.5, 1.0)[0].tolist() == [1.0, 1.0]  # still works outside the check


SHAPE_MISTAKES = [
    (lambda currents, beta, threshold: neuron()(currents, beta, threshold)[0], r"two tensors", "return spikes,"),
    (lambda currents, beta, threshold: tuple(t.bool() if i == 0 else t for i, t in
                                             enumerate(neuron()(currents, beta, threshold))), r"float.*torch\.bool",
     ".float()"),
    (lambda currents, beta, threshold: [t.tolist() for t in neuron()(currents, beta, threshold)],
     r"should be a tensor", "torch.stack"),
    (lambda currents, beta, threshold: tuple(t[:-1] for t in neuron()(currents, beta, threshold)),
     r"shape \[20\].*got \[19\]", "range(len"),
    (lambda currents, beta, threshold: (2 * neuron()(currents, beta, threshold)[0],
                                        neuron()(currents, beta, threshold)[1]), r"0\.0 or 1\.0.*2", ".float()"),
]


@pytest.mark.parametrize("wrong, symptom, fix", SHAPE_MISTAKES)
def test_lif_by_hand_wrong_types_and_shapes_say_what_came_back(wrong, symptom, fix):
    assert_ladder(check_lif_by_hand, wrong, symptom, fix)


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


class SavesTheThreshold(torch.autograd.Function):
    """A natural mistake: the numbers saved with the tensor (PyTorch refuses them with a TypeError)."""

    @staticmethod
    def forward(ctx, mem, threshold, slope):
        ctx.save_for_backward(mem, threshold, slope)
        return (mem >= threshold).to(mem.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        mem, threshold, slope = ctx.saved_tensors
        return grad_output * _arctan(mem - threshold, slope), None, None


class ByTheLibrary(torch.autograd.Function):
    """Only calls the library's arctan spike."""

    @staticmethod
    def forward(ctx, mem, threshold, slope):
        ctx.save_for_backward(mem)
        ctx.threshold, ctx.slope = threshold, slope
        return (mem >= threshold).to(mem.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (mem,) = ctx.saved_tensors
        return grad_output * SURROGATES["arctan"](mem - ctx.threshold, ctx.slope), None, None


class BySpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mem, threshold, slope):
        return spike(mem, threshold, slope, "arctan")

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


ARCTAN_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (arctan_spike(backward=lambda x, k, g: (torch.zeros_like(x), None, None)), r"zero gradient everywhere",
     "arctan surrogate"),
    (arctan_spike(backward=lambda x, k, g: (_arctan(x, k), None, None)), r"is the surrogate itself, whatever "
                                                                          r"grad_output is", "multiply"),
    (arctan_spike(backward=lambda x, k, g: (g * 2 * _arctan(x, k), None, None)), r"peaks at k/2 = 1\.5",
     "ctx.slope / 2"),
    (arctan_spike(backward=lambda x, k, g: (g * _arctan(x, 2.0), None, None)), r"1\.0000 per unit.*k/2 = 1\.5",
     "ctx.slope"),
    (arctan_spike(backward=lambda x, k, g: (g * torch.sigmoid(k * x) * (1 - torch.sigmoid(k * x)), None, None)),
     r"peaks at k/2", "1 + scaled ** 2"),
    (arctan_spike(backward=lambda x, k, g: (g * (k / 2) / (1 + (k * x) ** 2), None, None)),
     r"at U = .*arctan surrogate \(k/2\)/\(1 \+ \(π/2·k·\(U − θ\)\)²\) gives", "torch.pi / 2 *"),
    (arctan_spike(backward=lambda x, k, g: g * _arctan(x, k)), r"returned 1 value\(s\), but forward takes 3 inputs",
     "None, None"),
    (arctan_spike(forward=lambda mem, threshold: (mem > threshold).to(mem.dtype)), r"at U = θ = 0\.5 exactly your "
                                                                                   r"forward gives 0", ">="),
    (arctan_spike(forward=lambda mem, threshold: torch.atan(mem - threshold) / math.pi + 0.5),
     r"forward pass gives spikes of 0\.0 or 1\.0", "mem >= threshold"),
    (arctan_spike(forward=lambda mem, threshold: (mem >= 1.0).to(mem.dtype)), r"U = 0\.55 and θ = 0\.5 .*gives 0",
     "mem >= threshold"),
    (arctan_spike(forward=lambda mem, threshold: (mem >= threshold).double()), r"mem's dtype", ".to(mem.dtype)"),
    (SavesTheThreshold, r"handed ctx.save_for_backward a float as its argument 1", ("ctx.threshold =", "attribute")),
]


@pytest.mark.parametrize("wrong, symptom, fix", ARCTAN_MISTAKES)
def test_arctan_spike_wrong_answers_show_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_arctan_spike, wrong, symptom, fix)


@pytest.mark.parametrize("wrapper, library", [(ByTheLibrary, SURROGATES["arctan"]), (BySpike, spike)])
def test_the_arctan_check_refuses_the_library(wrapper, library):
    assert_refused(check_arctan_spike, wrapper, library)
    assert SURROGATES["arctan"].__name__ == "arctan_derivative"  # the dictionary's entry is back too
    assert spike(torch.tensor([0.5, 1.5]), 1.0, 2.0, "arctan").tolist() == [0.0, 1.0]


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
