"""Checks for notebook 02: a LIF neuron by hand, reset by subtraction, the arctan surrogate spike.

The neuron checks run the student's function on a few small inputs and compare
it, step by step, with :class:`snn_helpers.LIF`; the first step that differs is
explained in words (a missing reset, the leak applied after the input, ``>``
instead of ``>=``, ...). The surrogate check compares the forward pass with the
step and the backward pass with :data:`snn_helpers.SURROGATES` ``["arctan"]`` and,
in double precision, with ``torch.autograd.gradcheck``.
"""
from __future__ import annotations

import math

import torch

from ...core.neurons import LIF, SURROGATES, SurrogateSpike, after_reset, spike
from .. import widgets
from . import attempt, exercise, expect, fail, passed, reword

# Potentials may differ from the library's in the last bits (another order of the same additions).
TOLERANCE = 1e-5


def _inputs(reset: str) -> list[tuple[str, torch.Tensor, float, float]]:
    """(description, currents [T], beta, threshold) for each test of a neuron with ``reset``."""
    gen = torch.Generator().manual_seed(2)
    arrivals = (torch.rand(40, generator=gen) < 0.5).float()
    mixed = torch.rand(40, generator=gen) * 1.2 - 0.3
    cases = [
        ("a constant current I = 0.3", torch.full((20,), 0.3), 0.9, 1.0),
        ("a constant current I = 0.5 that makes U reach θ exactly", torch.full((6,), 0.5), 1.0, 1.0),
        ("random input spikes of size 0.6", 0.6 * arrivals, 0.9, 1.0),
        ("random currents between -0.3 and 0.9", mixed, 0.8, 1.2),
    ]
    if reset == "subtract":  # the surplus above θ is what subtraction keeps
        cases.insert(1, ("a strong constant current I = 2.5", torch.full((8,), 2.5), 0.5, 1.0))
    return cases


def _describe(value) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a value of type {type(value).__name__}"


def _neuron_outputs(function, name: str, currents: torch.Tensor, beta: float, threshold: float):
    """Call ``function(currents, beta, threshold)``; check it returns (spikes [T], potentials [T])."""
    result = attempt(function, currents.clone(), beta, threshold)
    expect(isinstance(result, (tuple, list)) and len(result) == 2, "returns",
           f"`{name}` should return two tensors, (spikes, potentials), got {_describe(result)}",
           "look at the `return` line: a function gives back two things as `return a, b`")
    steps = len(currents)
    for what, value in zip(("spikes", "potentials"), result):
        expect(isinstance(value, torch.Tensor), "not a tensor",
               f"the {what} that `{name}` returns should be a tensor of shape [{steps}], got {_describe(value)}",
               "a Python list of 0-dimensional tensors is not yet a tensor; torch has a function that joins them")
        expect(tuple(value.shape) == (steps,), "shape",
               f"for {steps} input currents the {what} should have shape [{steps}] (one value per time step), "
               f"got {list(value.shape)}", "one value per step: print len() of what you collect in the loop")
        expect(value.is_floating_point(), "dtype", f"the {what} should be a float tensor, got {value.dtype}",
               "a comparison gives True/False; tensors have a method that turns them into 0.0/1.0")
    spikes, potentials = (value.detach().double() for value in result)
    wrong = spikes[(spikes != 0) & (spikes != 1)]
    if len(wrong):
        fail("not 0 or 1", f"spikes must be 0.0 or 1.0, but yours include {wrong[0].item():g}",
             "a spike is the result of the comparison with θ, nothing else")
    return spikes, potentials


def _close(a, b) -> bool:
    return abs(float(a) - float(b)) <= TOLERANCE * max(1.0, abs(float(b)))


def _potential_error(t: int, got: float, current: torch.Tensor, reference, beta: float, threshold: float,
                     reset: str) -> tuple[str, str, str]:
    """(kind, symptom, hint): why the potential at step ``t`` is ``got`` and not the reference's, as far
    as we can tell."""
    ref_spikes, ref_potentials, ref_after = reference
    expected = float(ref_potentials[t])
    before = float(ref_after[t - 1]) if t > 0 else 0.0  # M[t-1], the membrane after the last reset
    i = float(current[t])
    where = f"at step {t} your potential before the reset is {got:.4f}, but it should be"
    if _close(got, beta * (before + i)) and not _close(expected, beta * (before + i)):
        return ("leak order", f"{where} β·M[t−1] + I[t] = {beta:g}·{before:.4f} + {i:.4f} = {expected:.4f}; yours "
                              f"equals β·(M[t−1] + I[t]) = {got:.4f}",
                "which terms does β multiply in U[t] = β·M[t−1] + I[t], and which in your code?")
    if ref_spikes[t] == 1 and _close(got, float(ref_after[t])):
        return ("returns after reset",
                f"at step {t} the neuron fires (U = {expected:.4f} ≥ θ = {threshold:g}), and your potential "
                f"shows {got:.4f}, the membrane after the reset; the potentials should be U[t], before the reset",
                "the value compared with θ and the value carried to the next step differ after a spike; "
                "which one do you append?")
    if t > 0 and ref_spikes[t - 1] == 1:
        fired = f"The neuron fired at step {t - 1} (U = {float(ref_potentials[t - 1]):.4f})"
        previous = float(ref_potentials[t - 1])
        if _close(got, beta * previous + i):
            return ("no reset", f"your neuron never drops back after a spike. {fired}, yet at step {t} your "
                                f"potential is β·U[t−1] + I[t] = {got:.4f} as if nothing happened; it should be "
                                f"{expected:.4f}", "what does the third equation do to the membrane after a spike?")
        if reset == "zero" and _close(got, beta * (previous - threshold) + i):
            return ("wrong reset", f"{fired}, and your neuron kept U − θ of its membrane ({where} {expected:.4f})",
                    "this neuron resets to zero: what is left of the membrane after a spike?")
        if reset == "subtract" and _close(got, i):
            return ("wrong reset", f"{fired}, and your neuron kept nothing of its membrane: {where} {expected:.4f}",
                    "reset by subtraction keeps the surplus above θ")
        if reset == "subtract" and _close(got, beta * previous + i - threshold):
            return ("subtract after leak", f"{fired}. {where[0].upper()}{where[1:]} {expected:.4f}; yours "
                                           f"equals β·U[t−1] + I[t] − θ = {got:.4f}",
                    "β leaks the membrane after the reset, M[t−1]; is θ inside or outside the leak in your code?")
        return ("after a spike", f"{fired}, so M[t−1] = {before:.4f}; {where} β·M[t−1] + I[t] = {expected:.4f}",
                "print the membrane your code carries from the spike to the next step")
    start = " (the membrane starts at M[−1] = 0)" if t == 0 else ""
    return ("potential", f"{where} β·M[t−1] + I[t] = {beta:g}·{before:.4f} + {i:.4f} = {expected:.4f}{start}",
            "print your potential, membrane and spike at every step and compare them with the equations")


def _spike_error(t: int, potential: float, got: float, threshold: float) -> tuple[str, str, str]:
    if potential == threshold and got == 0:
        return ("at threshold", f"at step {t} your potential is exactly θ = {threshold:g} and your neuron does "
                                f"not fire; U[t] = θ counts as reaching the threshold",
                "look at the comparison in your spike condition")
    if got == 1:
        return ("fires below", f"at step {t} your neuron fires although U = {potential:.4f} is below "
                               f"θ = {threshold:g}", "look at the comparison in your spike condition")
    return ("silent", f"at step {t} U = {potential:.4f} reaches θ = {threshold:g}, yet your neuron does not fire",
            "look at the comparison in your spike condition")


def _check_neuron(function, reset: str) -> int:
    """Compare ``function`` with ``LIF(reset=reset)`` on every input; return the steps checked."""
    name = getattr(function, "__name__", "your function")
    checked = 0
    for description, currents, beta, threshold in _inputs(reset):
        spikes, potentials = _neuron_outputs(function, name, currents, beta, threshold)
        ref_spikes, ref_potentials = LIF(beta=beta, threshold=threshold, reset=reset)(
            currents.reshape(-1, 1, 1), backend="step")
        ref_spikes, ref_potentials = ref_spikes.flatten().double(), ref_potentials.flatten().detach().double()
        ref_after = after_reset(ref_potentials, ref_spikes, threshold, reset)
        for t in range(len(currents)):
            if not _close(potentials[t], ref_potentials[t]):
                reason = _potential_error(t, float(potentials[t]), currents.double(),
                                          (ref_spikes, ref_potentials, ref_after), beta, threshold, reset)
            elif spikes[t] != ref_spikes[t]:
                reason = _spike_error(t, float(potentials[t]), float(spikes[t]), threshold)
            else:
                continue
            kind, symptom, hint = reason
            fail(kind, f"With {description} (β = {beta:g}, θ = {threshold:g}): {symptom}.", hint)
        checked += len(currents)
    return checked


def _first_spike_by_formula(current: float, beta: float, threshold: float, steps: int) -> int | None:
    """The first t with I·(1 − β^(t+1))/(1 − β) ≥ θ (the geometric sum, β < 1), or None within ``steps``."""
    for t in range(steps):
        if current * (1 - beta ** (t + 1)) / (1 - beta) >= threshold:
            return t
    return None


def _constant_input_summary(function, name: str, reset: str) -> str:
    """Where the student's neuron first fires on a constant input, against the geometric sum."""
    _, currents, beta, threshold = _inputs(reset)[0]
    spikes, _ = _neuron_outputs(function, name, currents, beta, threshold)
    fired = spikes.nonzero().flatten().tolist()
    predicted = _first_spike_by_formula(float(currents[0]), beta, threshold, len(currents))
    expect(fired and fired[0] == predicted, "first spike",
           f"on a constant current your neuron first fires at step {fired[0] if fired else 'never'}; the "
           f"geometric sum I·(1 − β^(t+1))/(1 − β) first reaches θ at step {predicted}",
           "print your potentials on this constant current next to the geometric sum")
    return (f"first spike at step {predicted} on a constant current (I = {float(currents[0]):g}, β = {beta:g}, "
            f"θ = {threshold:g}), where I·(1 − β^(t+1))/(1 − β) first reaches θ")


_NEURON_LIBRARY = (widgets.lif_response, LIF, after_reset)


@exercise(*_NEURON_LIBRARY)
def check_lif_by_hand(lif_by_hand) -> None:
    """Exercise 2.1: ``lif_by_hand(currents [T], beta, threshold) -> (spikes [T], potentials [T])``.

    A LIF neuron that resets to zero, compared with ``snn_helpers.LIF`` on
    constant, exact-threshold, random-spike and random-current input: the spikes
    must match exactly and the potentials (before reset) to within 1e-5 (relative above 1).

    >>> def lif_by_hand(currents, beta, threshold):  # the stub students start from
    ...     raise NotImplementedError()
    >>> check_lif_by_hand(lif_by_hand)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `lif_by_hand` is not written yet: ...
    """
    steps = _check_neuron(lif_by_hand, "zero")
    summary = _constant_input_summary(lif_by_hand, getattr(lif_by_hand, "__name__", "lif_by_hand"), "zero")
    passed(f"your neuron matches snn_helpers.LIF spike for spike over {steps} steps of "
           f"{len(_inputs('zero'))} input sequences; {summary}")


@exercise(*_NEURON_LIBRARY)
def check_lif_subtract(lif_subtract) -> None:
    """Exercise 2.2: the same neuron with reset by subtraction, ``M[t] = U[t] − θ·S[t]``.

    Compared with ``snn_helpers.LIF(reset="subtract")`` as in :func:`check_lif_by_hand`.

    >>> def lif_subtract(currents, beta, threshold):  # the stub students start from
    ...     raise NotImplementedError()
    >>> check_lif_subtract(lif_subtract)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `lif_subtract` is not written yet: ...
    """
    steps = _check_neuron(lif_subtract, "subtract")
    passed(f"your subtracting neuron matches snn_helpers.LIF(reset=\"subtract\") spike for spike over "
           f"{steps} steps of {len(_inputs('subtract'))} input sequences")


def _named(function, name: str):
    """``function`` under ``name``, so that :func:`attempt` names what the student wrote."""
    function.__name__ = name
    return function


@exercise(SURROGATES["arctan"], SurrogateSpike, spike)
def check_arctan_spike(spike_class) -> None:
    """Exercise 2.3: ``spike_class.apply(mem, threshold, slope)`` is the step forward and the
    arctan surrogate ``(k/2) / (1 + (π/2·k·(U − θ))²)`` times ``grad_output`` backward.

    spike_class: the ``torch.autograd.Function`` subclass itself (not an instance).

    >>> check_arctan_spike(torch.sigmoid)  # a function, not the class
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: pass the class itself, a subclass of torch.autograd.Function, got a value of type ...
    """
    name = getattr(spike_class, "__name__", type(spike_class).__name__)
    expect(isinstance(spike_class, type) and issubclass(spike_class, torch.autograd.Function), "not a class",
           f"pass the class itself, a subclass of torch.autograd.Function, got {_describe(spike_class)}",
           "the check takes the class's name alone, without `.apply` or parentheses")
    threshold, slope = 0.5, 3.0  # not 1 and 2, so that a hard-coded threshold or slope shows
    mem = torch.tensor([-1.0, -0.2, 0.2, 0.4, 0.45, 0.5, 0.55, 0.6, 0.8, 1.2, 2.0], requires_grad=True)
    at_threshold = int((mem == threshold).nonzero())

    with reword(r"save_for_backward can only save variables, but argument (\d+) is of type (\w+)", "saved a number",
                lambda m: f"`{name}.forward` handed ctx.save_for_backward a {m[2]} as its argument {m[1]} "
                          f"(counting from 0); save_for_backward keeps tensors only, so the call failed. "
                          f"Here threshold = {threshold:g} and slope = {slope:g} arrive as Python floats",
                "the task says where tensors go and where plain numbers go"):
        out = attempt(_named(lambda *args: spike_class.apply(*args), f"{name}.apply"), mem, threshold, slope)
    expect(isinstance(out, torch.Tensor) and out.shape == mem.shape, "shape",
           f"forward should return spikes of the shape of mem {list(mem.shape)}, got "
           f"{list(out.shape) if isinstance(out, torch.Tensor) else _describe(out)}",
           "one spike per potential: an element-wise comparison keeps the shape")
    expect(out.dtype == mem.dtype, "dtype",
           f"forward should return spikes in mem's dtype ({mem.dtype}), got {out.dtype}",
           "a comparison gives booleans; tensors have a method that converts to another tensor's dtype")
    values = out.detach()
    odd = ((values != 0) & (values != 1)).nonzero().flatten()
    if len(odd):
        fail("smooth forward", f"forward returned {values[odd[0]].item():.4f} for a membrane of "
                               f"{mem[odd[0]].item():g}; the forward pass gives spikes of 0.0 or 1.0",
             "the smooth arctan only stands in for the step's derivative; what is the step itself?")
    step = (mem.detach() >= threshold).to(mem.dtype)
    wrong = (values != step).nonzero().flatten().tolist()
    expect(wrong != [at_threshold], "at threshold",
           f"at U = θ = {threshold:g} exactly your forward gives 0; U = θ counts as reaching the threshold",
           "look at the comparison in your forward")
    if wrong:
        i = next(i for i in wrong if i != at_threshold)
        fail("wrong step", f"for U = {mem[i].item():g} and θ = {threshold:g} your forward gives "
                           f"{values[i].item():g}; the step gives {step[i].item():g}",
             "the threshold arrives as an argument of forward; is that the number your comparison uses?")

    grad_output = torch.linspace(0.5, 2.0, len(mem))  # not all ones, so the chain rule shows
    with reword(r"returned an incorrect number of gradients \(expected (\d+), got (\d+)\)", "gradient count",
                lambda m: f"`{name}.backward` returned {m[2]} value(s), but forward takes {m[1]} inputs "
                          f"(mem, threshold, slope), and autograd wants one value per input",
                "numbers such as threshold and slope get no gradient; autograd still wants a place-holder "
                "for each"):
        attempt(_named(lambda: out.backward(grad_output), f"{name}.backward"))
    grad = mem.grad
    expect(grad is not None, "no gradient", "no gradient reached mem",
           "backward's first return value is the one that reaches mem")
    surrogate = SURROGATES["arctan"](mem.detach() - threshold, slope)
    expected = grad_output * surrogate
    if not torch.allclose(grad, expected, rtol=1e-4, atol=1e-7):
        expect(bool(grad.any()), "zero gradient",
               "your backward returns zero gradient everywhere: that is the true derivative of the step, and "
               "nothing could learn through it", "the task's formula is what backward stands in for dS/dU")
        expect(not torch.allclose(grad, surrogate, rtol=1e-4, atol=1e-7), "no chain rule",
               f"your gradient for mem is the surrogate itself, whatever grad_output is (here grad_output runs "
               f"from {grad_output[0]:g} to {grad_output[-1]:g})",
               "grad_output is dL/dS, arriving from the loss; the chain rule turns it into dL/dU")
        peak = float(grad[at_threshold] / grad_output[at_threshold])
        expect(_close(peak, slope / 2), "wrong peak",
               f"at U = θ your gradient is {peak:.4f} per unit of grad_output; the arctan surrogate peaks at "
               f"k/2 = {slope / 2:g} for the slope k = {slope:g}",
               "work the task's formula out by hand at U = θ and compare it with your code's factors")
        t = int(((grad - expected).abs() / expected.abs().clamp_min(1e-7)).argmax())
        fail("wrong surrogate", f"at U = {mem[t].item():g} (θ = {threshold:g}, k = {slope:g}) your gradient is "
                                f"{(grad[t] / grad_output[t]).item():.4f} per unit of grad_output; the arctan "
                                f"surrogate (k/2)/(1 + (π/2·k·(U − θ))²) gives {surrogate[t].item():.4f}",
             "compare your formula with the task's term by term: the factor π/2 and what is squared")

    # The same in double precision and against an independent derivative: gradcheck compares the
    # backward with finite differences of forward + arctan(π/2·k·(U − θ))/π. The forward's step
    # is flat away from θ and the arctan term is detached, so the two agree only if backward is
    # the derivative of that arctan.
    away = torch.tensor([-0.5, 0.1, 0.3, 0.45, 0.56, 0.7, 1.5], dtype=torch.float64, requires_grad=True)

    def spike_plus_primitive(u):
        return spike_class.apply(u, threshold, slope) + (torch.atan(math.pi / 2 * slope * (u - threshold))
                                                         / math.pi).detach()

    ok = attempt(_named(lambda: torch.autograd.gradcheck(spike_plus_primitive, (away,), raise_exception=False),
                        f"{name} (in float64)"))
    expect(ok, "float64", "in double precision (float64) your backward does not match the numerical derivative of "
               "arctan(π/2·k·(U − θ))/π (torch.autograd.gradcheck)",
           "a constant or tensor made in float32 inside backward rounds a float64 gradient")
    passed(f"your {name} spikes where U ≥ θ and passes back grad_output × the arctan surrogate "
           f"(peak k/2 = {slope / 2:g} at θ for k = {slope:g}), in float32 and, by gradcheck, in float64")
