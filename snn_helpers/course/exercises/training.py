"""Checks for notebook 03's exercises: the loss on spike counts, one training epoch by hand, and the
backward pass of one LIF step.

:func:`train_epoch` is the reference loop the second check compares against; notebook 03
runs it after the exercise, so the rest of the notebook does not depend on the student's code.
"""
from __future__ import annotations

import functools
import numbers

import torch
from torch.nn import functional as F

from ...core.data import BatchLoader
from ...core.encoding import poisson_encode
from ...core.model import SNN
from ...core.neurons import LIF, SURROGATES, FusedLIF, SurrogateSpike, after_reset, spike
from ...core.training import fit, run_epochs
from . import attempt, exercise, expect, fail, passed, reword

__all__ = ["check_lif_backward", "check_spike_count_loss", "check_train_one_epoch", "train_epoch"]

# The loss and the plausible wrong ones, as functions of output spikes [T, B, C] and labels [B].
_LOSSES = {
    "right": lambda out, labels: F.cross_entropy(out.sum(0), labels),
    "last step": lambda out, labels: F.cross_entropy(out[-1], labels),
    "mean over time": lambda out, labels: F.cross_entropy(out.mean(0), labels),
}


def _epoch(model, loader, optimizer, num_steps, encode, *, loss="right", zero_grad=True):
    """One pass over ``loader``: encode, forward, loss, backward, update; the batch losses.
    The keywords make the mistakes the check recognises."""
    losses = []
    for images, labels in loader:
        batch_loss = _LOSSES[loss](model(encode(images, num_steps)), labels)
        if zero_grad:
            optimizer.zero_grad()
        batch_loss.backward()
        optimizer.step()
        losses.append(batch_loss.item())
    return losses


def train_epoch(model, loader, optimizer, num_steps: int, encode) -> list[float]:
    """One epoch of the training loop written out (the solution of exercise 3.2).

    For each mini-batch ``(images, labels)`` of ``loader``: ``spikes = encode(images,
    num_steps)``, output spikes ``model(spikes)`` ``[T, B, 10]``, cross-entropy on their
    counts, ``zero_grad``, ``backward``, ``optimizer.step()``. Returns the loss of
    every mini-batch, in order.

    model: an :class:`~snn_helpers.core.model.SNN`. loader: yields ``(images, labels)``.
    optimizer: a ``torch.optim`` optimizer of ``model``'s parameters.
    num_steps: time steps, at least 1. encode: ``encode(images, num_steps)`` gives spikes ``[T, B, ...]``.

    >>> _ = torch.manual_seed(0)
    >>> model = SNN([784, 10])
    >>> loader = BatchLoader(torch.rand(8, 1, 28, 28), torch.arange(8), batch_size=4)
    >>> losses = train_epoch(model, loader, torch.optim.SGD(model.parameters(), lr=0.1), 5, poisson_encode)
    >>> len(losses)  # one per mini-batch
    2
    """
    return _epoch(model, loader, optimizer, num_steps, encode)


# ----------------------------------------------------------------------------- exercise 3.1


def _loss_case(steps=8, batch=16, classes=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    spikes = (torch.rand(steps, batch, classes, generator=generator) < 0.3).float()
    labels = torch.randint(classes, (batch,), generator=generator)
    return spikes, labels


@exercise()
def check_spike_count_loss(spike_count_loss) -> None:
    """Exercise 3.1: ``spike_count_loss(spikes [T, B, C], labels [B])`` is the batch mean of the
    cross-entropy of the spike counts, a differentiable 0-dimensional tensor.

    >>> def spike_count_loss(spikes, labels):  # a wrong answer: a number, not a tensor
    ...     return 0.0
    >>> check_spike_count_loss(spike_count_loss)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `spike_count_loss` returned a float, not a torch tensor, so `loss.backward()` could not follow
    """
    spikes, labels = _loss_case()
    given = spikes.clone().requires_grad_(True)
    steps, batch, classes = spikes.shape
    with reword(r"Expected input batch_size \((\d+)\) to match target batch_size \((\d+)\)", "wrong axis",
                lambda m: f"the cross-entropy got scores for {m[1]} images but there are {m[2]} labels: the "
                          f"spikes have shape [T, B, C] = [{steps}, {batch}, {classes}], so the scores must "
                          f"be [B, C] = [{batch}, {classes}]",
                "print the shape of your counts: which of the three axes did your sum remove?"):
        loss = attempt(spike_count_loss, given, labels)
    expect(isinstance(loss, torch.Tensor), "not a tensor",
           f"`spike_count_loss` returned a {type(loss).__name__}, not a torch tensor, so `loss.backward()` "
           f"could not follow", "a tensor's number can be taken out of it; which call on the way did that?")
    expect(loss.dim() == 0, "not one number",
           f"`spike_count_loss` returned shape {tuple(loss.shape)}; it should be one number (shape ()), "
           f"the mean over the batch", "the loss function can give one loss per image or their mean; "
                                       "look at its arguments")
    expect(loss.requires_grad, "no gradient",
           "your loss carries no gradient, so `loss.backward()` could not reach the spikes",
           "some operations cut a tensor off from autograd; look for one between the spikes and the loss")
    counts = spikes.sum(0)
    want = F.cross_entropy(counts, labels).item()
    got = loss.item()
    if abs(got - want) <= 1e-5 * max(1.0, abs(want)):
        torch.autograd.grad(loss, given)  # the gradient must reach the spikes
        passed(f"your loss is the cross-entropy of the spike counts ({got:.4f} on a batch of {len(labels)})")
        return
    seen = f"your loss is {got:.4f}, it should be {want:.4f} for spikes of shape {list(spikes.shape)}"
    if abs(got - _LOSSES["last step"](spikes, labels).item()) <= 1e-5:
        fail("last step", f"{seen}; yours is the loss of the last time step's spikes alone",
             f"the score of a class counts its spikes over all {steps} steps")
    if abs(got - _LOSSES["mean over time"](spikes, labels).item()) <= 1e-5:
        fail("mean over time", f"{seen}; yours is the loss of the spike rates (counts divided by T = {steps})",
             "the scores are counts: how many spikes, not how often")
    if abs(got - F.cross_entropy(counts, labels, reduction="sum").item()) <= 1e-4:
        fail("batch sum", f"{seen}; yours is {got / want:.1f} times too large, as large as the batch "
                          f"({batch} images) makes it", "the loss of a mini-batch is the mean over its images")
    if abs(got - F.nll_loss(counts, labels).item()) <= 1e-5:
        fail("no log-softmax", f"{seen}; yours is minus the mean count of the right class, as if the counts "
                               f"were log-probabilities", "the counts are raw scores; which loss function "
                                                          "applies the log-softmax itself?")
    fail("wrong loss", seen, "the loss is the cross-entropy of the counts [B, C] and the labels [B]; print both "
                             "shapes and what your function computes in between")


# ----------------------------------------------------------------------------- exercise 3.2

_SIZES, _STEPS, _BATCH, _BATCHES, _LR = (784, 64, 10), 6, 16, 4, 1e-2
_MISTAKES = [  # (keyword arguments of _epoch, kind, what the check saw, hint)
    ({"zero_grad": False}, "gradients add up",
     "they match a loop in which every mini-batch's gradient is added to those of all the earlier ones",
     "PyTorch adds each new gradient to the one already in `.grad`; what clears it, and when?"),
    ({"loss": "last step"}, "last step", "they match a loop whose loss sees only the last time step's spikes",
     "the score of a class counts its spikes over all T steps"),
    ({"loss": "mean over time"}, "mean over time",
     "they match a loop whose loss sees the spike rates (counts divided by T)",
     "the scores are counts: how many spikes, not how often"),
]


def _epoch_case():
    """A small network (backend="step") and a loader of made-up digits, all fixed by seeds.

    Image ``i`` lights two rows chosen by its label over faint noise, so one epoch lowers the
    loss; the weights are scaled up so that the output neurons spike from the start (a silent
    output layer would give every loss the same value, ln 10, and hide the mistakes).
    """
    with torch.random.fork_rng(devices=[]):  # leave the notebook's random state alone
        torch.manual_seed(0)
        model = SNN(_SIZES, backend="step")
    with torch.no_grad():
        for fc in model.fcs:
            fc.weight.mul_(3.0)
    generator = torch.Generator().manual_seed(1)
    labels = torch.randint(10, (_BATCHES * _BATCH,), generator=generator)
    images = 0.3 * torch.rand(len(labels), 1, 28, 28, generator=generator)
    images[images < 0.2] = 0  # black pixels, as in MNIST
    for image, label in zip(images, labels.tolist()):
        image[0, 4 + 2 * label:6 + 2 * label, 4:24] = 0.9
    return model, BatchLoader(images, labels, _BATCH)


def _fresh():
    """The case with its own Adam optimizer and an encoder drawing from a seeded generator."""
    model, loader = _epoch_case()
    generator = torch.Generator().manual_seed(2)

    def encode(images, num_steps):
        return poisson_encode(images, num_steps, generator)

    return model, loader, torch.optim.Adam(model.parameters(), lr=_LR), encode


def _run(function, **mistake):
    """Run ``function`` (the student's, or _epoch with a mistake) on a fresh copy of the case;
    return (losses, the weights after the epoch)."""
    if function is _epoch:
        return _reference(tuple(sorted(mistake.items())))
    model, loader, optimizer, encode = _fresh()
    return attempt(function, model, loader, optimizer, _STEPS, encode), _weights(model)


@functools.lru_cache(maxsize=None)
def _reference(mistake: tuple) -> tuple[list[float], list[torch.Tensor]]:
    """:func:`_epoch` with ``mistake`` (sorted keyword items) on the case; the same seeds give the
    same result every time, so it is computed once per process."""
    model, loader, optimizer, encode = _fresh()
    return _epoch(model, loader, optimizer, _STEPS, encode, **dict(mistake)), _weights(model)


def _weights(model) -> list[torch.Tensor]:
    return [parameter.detach().clone() for parameter in model.parameters()]


def _distance(weights, other) -> float:
    return max((a - b).abs().max().item() for a, b in zip(weights, other))


@exercise(train_epoch, fit, run_epochs)
def check_train_one_epoch(train_one_epoch) -> None:
    """Exercise 3.2: ``train_one_epoch(model, loader, optimizer, num_steps, encode)`` runs one epoch
    and returns the batch losses. Compared with :func:`train_epoch` from the same seeds: the weights
    after the epoch to 1e-5 and every returned loss. A wrong result is compared with the usual
    mistakes (no ``zero_grad``, the loss on the last step or on the mean over time) to say which.

    >>> def train_one_epoch(model, loader, optimizer, num_steps, encode):  # the stub students start from
    ...     raise NotImplementedError()
    >>> check_train_one_epoch(train_one_epoch)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `train_one_epoch` is not written yet: ...
    """
    start = _weights(_epoch_case()[0])
    losses, model = _run(train_one_epoch)
    want, reference = _run(_epoch)
    expect(isinstance(losses, (list, tuple)), "not a list",
           f"`train_one_epoch` returned {type(losses).__name__}; it should return a list with the loss of "
           f"every mini-batch", "look at the function's last line: what does it give back?")
    expect(len(losses) == len(want), "loss count",
           f"`train_one_epoch` returned {len(losses)} losses, but the loader has {len(want)} mini-batches",
           "one loss per mini-batch: where in the loop do you record it?")
    kept = next((loss for loss in losses if isinstance(loss, torch.Tensor)), None)
    expect(kept is None, "tensor losses",
           f"the losses you return are tensors, not floats (the first: {kept!r}); "
           + ("each one still holds its mini-batch's computation graph, so the list keeps all "
              f"{len(losses)} graphs in memory" if kept is not None and kept.requires_grad else
              "the task asks for Python floats"),
           "a one-element tensor has a method that gives its value as a plain Python number")
    expect(all(isinstance(loss, numbers.Real) and not isinstance(loss, bool) for loss in losses), "not numbers",
           f"every loss you return should be one float, but the first is {losses[0]!r}" if losses else "",
           "record the value of each mini-batch's loss")
    if _distance(model, start) == 0:
        fail("no update", "the weights did not change during the epoch",
             "backward only computes gradients; what applies them, and what happens if the gradients are "
             "cleared just before?")
    off = _distance(model, reference)
    seen = f"after the epoch your weights differ from the reference by up to {off:.2g} (tolerance 1e-5)"
    if off > 1e-5:
        for mistake, kind, why, hint in _MISTAKES:
            if _distance(model, _run(_epoch, **mistake)[1]) <= 1e-5:
                fail(kind, f"{seen}; {why}", hint)
        first = float(losses[0])
        if abs(first - want[0]) > 1e-5:
            fail("first loss", f"{seen}, and your first loss is {first:.4f} where the reference's is "
                               f"{want[0]:.4f}", "the loss is the cross-entropy of the output spike counts "
                                                 "[B, 10] and the labels, averaged over the mini-batch")
        fail("update", f"{seen}; the first loss is right, so the difference is in the updates",
             "once per mini-batch, in this order: zero_grad, backward, step, with the optimizer you were "
             "given, and `encode` called once")
    for i, (got, right) in enumerate(zip(losses, want)):
        expect(abs(float(got) - right) <= 1e-5, "recorded loss",
               f"the weights are right, but the loss of mini-batch {i + 1} you returned is {float(got):.4f}, "
               f"it should be {right:.4f}", "record each mini-batch's loss itself, in order, unchanged")
    passed(f"your epoch gives the reference's weights and its {len(want)} losses "
           f"({want[0]:.4f} down to {want[-1]:.4f})")


# ----------------------------------------------------------------------------- exercise 3.3

_BETA, _THRESHOLD, _SLOPE = 0.8, 1.0, 5.0  # not the defaults, so that a hard-coded beta shows


def _backward_case():
    """One LIF step (reset to zero) on [4, 6] neurons whose potentials run from 0.5 to 1.5, and the
    gradients autograd sends back through :meth:`LIF.step` for random dL/dS and dL/dM_out.

    Returns the student's inputs (grad_spike, grad_membrane, potential, spike, surrogate) and the
    reference (dL/dI, dL/dM_in).
    """
    generator = torch.Generator().manual_seed(3)
    potential = torch.linspace(0.5, 1.5, 24)[torch.randperm(24, generator=generator)].reshape(4, 6)
    membrane = torch.rand(4, 6, generator=generator).requires_grad_(True)
    current = (potential - _BETA * membrane.detach()).requires_grad_(True)
    grad_spike = torch.rand(4, 6, generator=generator) * 2 - 1
    grad_membrane = torch.rand(4, 6, generator=generator) * 2 - 1
    spikes, potential, after = LIF(beta=_BETA, threshold=_THRESHOLD, slope=_SLOPE).step(current, membrane)
    grad_current, grad_membrane_in = torch.autograd.grad((grad_spike * spikes + grad_membrane * after).sum(),
                                                         (current, membrane))
    surrogate = SURROGATES["sigmoid"](potential.detach() - _THRESHOLD, _SLOPE)
    inputs = (grad_spike, grad_membrane, potential.detach(), spikes.detach(), surrogate)
    return inputs, (grad_current, grad_membrane_in)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, rtol=1e-5, atol=1e-6))


@exercise(LIF, after_reset, SurrogateSpike, spike, FusedLIF)
def check_lif_backward(lif_backward) -> None:
    """Exercise 3.3: ``lif_backward(grad_spike, grad_membrane, potential, spike, surrogate, beta)``
    returns ``(dL/dI, dL/dM_in)`` for one LIF step with reset to zero, ``U = beta * M_in + I``,
    ``S = H(U - threshold)``, ``M_out = U * (1 - S)``: the path through the reset included.

    The inputs are tensors ``[4, 6]`` (dL/dS, dL/dM_out, U, S and the surrogate derivative g) and the
    float ``beta``; the result is compared with autograd run through :meth:`snn_helpers.LIF.step`,
    and a wrong one with the usual mistakes (the reset path, beta, a whole path left out).

    >>> def lif_backward(grad_spike, grad_membrane, potential, spike, surrogate, beta):  # a wrong answer
    ...     grad = grad_spike * surrogate + grad_membrane * (1 - spike)
    ...     return grad, beta * grad
    >>> check_lif_backward(lif_backward)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: at U = ... your dL/dI is ..., autograd through LIF.step gives ...
    """
    (grad_spike, grad_membrane, potential, spikes, g), (want_current, want_membrane) = _backward_case()
    name = getattr(lif_backward, "__name__", "your function")
    result = attempt(lif_backward, grad_spike.clone(), grad_membrane.clone(), potential.clone(), spikes.clone(),
                     g.clone(), _BETA)
    expect(isinstance(result, (tuple, list)) and len(result) == 2, "returns",
           f"`{name}` should return two tensors, (dL/dI, dL/dM_in), got {type(result).__name__}",
           "a function gives back two things as `return a, b`")
    for what, value in zip(("dL/dI", "dL/dM_in"), result):
        expect(isinstance(value, torch.Tensor) and tuple(value.shape) == (4, 6), "shape",
               f"{what} should be a tensor of shape [4, 6], like the inputs, got "
               + (f"shape {list(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__),
               "every operation here is element-wise: no sums, no matrix products")
    got_current, got_membrane = (value.detach().float() for value in result)
    through_spike, through_membrane = grad_spike * g, grad_membrane * (1 - spikes - potential * g)
    near = (potential - _THRESHOLD).abs() < 0.2
    k = tuple((near & (spikes == 1)).nonzero()[0].tolist())  # a neuron that fired, close to θ
    at = (f"at U = {potential[k]:.3f} (S = {spikes[k]:.0f}, g = {g[k]:.4f}, dL/dS = {grad_spike[k]:.3f}, "
          f"dL/dM_out = {grad_membrane[k]:.3f})")
    if _same(got_current, want_membrane) and _same(got_membrane, want_current):
        fail("swapped", f"your dL/dI is autograd's dL/dM_in and the other way round (β = {_BETA:g})",
             "look at the order of the two values your function returns")
    if not _same(got_current, want_current):
        seen = f"{at} your dL/dI is {got_current[k]:.4f}, autograd through LIF.step gives {want_current[k]:.4f}"
        if _same(got_current, grad_spike * g + grad_membrane * (1 - spikes)):
            gap = (got_current - want_current).abs()
            fail("no reset path", f"{seen}; yours is off most near θ = {_THRESHOLD:g} (by up to "
                                  f"{gap[near].max():.4f} within 0.2 of it) and least far from it (by up to "
                                  f"{gap[~near].max():.4f})",
                 "M_out = U·(1 − S) depends on U twice, directly and through S, and S has a gradient too")
        if _same(got_current, through_spike):
            fail("no membrane path", f"{seen}; your dL/dI does not depend on dL/dM_out at all",
                 "U reaches the loss along two paths: through the spike S and through the membrane M_out")
        if _same(got_current, through_membrane):
            fail("no spike path", f"{seen}; your dL/dI does not depend on dL/dS at all",
                 "U reaches the loss along two paths: through the spike S and through the membrane M_out")
        if _same(got_current, grad_spike * g + grad_membrane * (1 - spikes + potential * g)):
            fail("reset sign", f"{seen}; the reset path points the wrong way in yours",
                 "work out the product rule on U·(1 − S) by hand, with dS/dU = g")
        if _same(got_current, _BETA * want_current):
            fail("beta on the current", f"{seen}, {got_current[k] / want_current[k]:.3g} times autograd's",
                 "the current enters the step as U = β·M_in + I: what is dU/dI?")
        fail("dL/dI", seen, "dL/dI = dL/dU: write dL/dU as the sum of the two paths, through S and through M_out")
    if not _same(got_membrane, want_membrane):
        seen = f"{at} your dL/dM_in is {got_membrane[k]:.4f}, autograd through LIF.step gives {want_membrane[k]:.4f}"
        if _same(got_membrane, want_current):
            fail("no beta", f"{seen}, {got_membrane[k] / want_membrane[k]:.3g} times autograd's; your dL/dI "
                            f"is right", "M_in enters the step as U = β·M_in + I: what is dU/dM_in?")
        if _same(got_membrane, grad_membrane) or _same(got_membrane, _BETA * grad_membrane):
            fail("membrane skips the step", f"{seen}; yours passes dL/dM_out back without the step in between",
                 "M_in reaches the loss only through this step's potential U")
        fail("dL/dM_in", seen, "M_in reaches the loss only through U = β·M_in + I")
    passed(f"your backward matches autograd through LIF.step on {potential.numel()} neurons (U from 0.5 to 1.5, "
           f"β = {_BETA:g}), the path through the reset included")
