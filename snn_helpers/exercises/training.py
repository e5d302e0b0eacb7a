"""Checks for notebook 03's exercises: the loss on spike counts and one training epoch by hand.

:func:`train_epoch` is the reference loop the second check compares against; notebook 03
runs it after the exercise, so the rest of the notebook does not depend on the student's code.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ..data import BatchLoader
from ..encoding import poisson_encode
from ..model import SNN
from . import ExerciseError, attempt, expect, passed

__all__ = ["check_spike_count_loss", "check_train_one_epoch", "train_epoch"]

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

    model: an :class:`~snn_helpers.model.SNN`. loader: yields ``(images, labels)``.
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


def check_spike_count_loss(spike_count_loss) -> None:
    """Exercise 3.1: ``spike_count_loss(spikes [T, B, C], labels [B])`` is the batch mean of the
    cross-entropy of the spike counts, a differentiable 0-dimensional tensor.

    >>> def spike_count_loss(spikes, labels):  # a wrong answer: a number, not a tensor
    ...     return 0.0
    >>> check_spike_count_loss(spike_count_loss)
    Traceback (most recent call last):
    ...
    snn_helpers.exercises.ExerciseError: `spike_count_loss` returned a float; return the tensor itself (not `loss.item()`), ...
    """
    spikes, labels = _loss_case()
    given = spikes.clone().requires_grad_(True)
    loss = attempt(spike_count_loss, given, labels)
    expect(isinstance(loss, torch.Tensor),
           f"`spike_count_loss` returned a {type(loss).__name__}; return the tensor itself (not "
           f"`loss.item()`), so that `loss.backward()` can follow")
    expect(loss.dim() == 0,
           f"`spike_count_loss` returned shape {tuple(loss.shape)}; it should be one number (shape ()), "
           f"the mean over the batch, as `F.cross_entropy` gives by default")
    expect(loss.requires_grad,
           "your loss carries no gradient: compute it with torch operations on `spikes` "
           "(no `.item()`, `.detach()`, `.numpy()` or `torch.no_grad()` on the way)")
    counts = spikes.sum(0)
    want = F.cross_entropy(counts, labels).item()
    got = loss.item()
    if abs(got - want) <= 1e-5 * max(1.0, abs(want)):
        torch.autograd.grad(loss, given)  # the gradient must reach the spikes
        passed(f"your loss is the cross-entropy of the spike counts ({got:.4f} on a batch of {len(labels)})")
        return
    mistakes = {
        "last step": ("you used the last time step only; sum the spikes over all T steps first "
                      "(`spikes.sum(0)`)"),
        "mean over time": ("you averaged the spikes over time; the scores are the counts, "
                           "`spikes.sum(0)`, not the rates"),
    }
    for name, why in mistakes.items():
        if abs(got - _LOSSES[name](spikes, labels).item()) <= 1e-5:
            raise ExerciseError(f"your loss is {got:.4f}, it should be {want:.4f}: {why}")
    if abs(got - F.cross_entropy(counts, labels, reduction="sum").item()) <= 1e-4:
        raise ExerciseError(f"your loss is {got:.4f}, it should be {want:.4f}: you summed over the batch; "
                            f"take the mean (the default of `F.cross_entropy`)")
    if abs(got - F.nll_loss(counts, labels).item()) <= 1e-5:
        raise ExerciseError(f"your loss is {got:.4f}, it should be {want:.4f}: the counts are not "
                            f"log-probabilities; `F.cross_entropy` applies the log-softmax for you")
    raise ExerciseError(f"your loss is {got:.4f}, it should be {want:.4f} for {tuple(spikes.shape)} "
                        f"spikes: `F.cross_entropy(counts, labels)` with counts = spikes summed over time")


# ----------------------------------------------------------------------------- exercise 3.2

_SIZES, _STEPS, _BATCH, _BATCHES, _LR = (784, 64, 10), 6, 16, 4, 1e-2
_MISTAKES = [  # (keyword arguments of _epoch, what to tell the student)
    ({"zero_grad": False}, "you never reset the gradients: call `optimizer.zero_grad()` before "
                           "`loss.backward()`, or every batch adds its gradient to all earlier ones"),
    ({"loss": "last step"}, "your loss uses the last time step only: sum the output spikes over all T "
                            "steps, `model(spikes).sum(0)`, before the cross-entropy"),
    ({"loss": "mean over time"}, "your loss averages the output spikes over time: the scores are the "
                                 "counts, `model(spikes).sum(0)`"),
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


def _run(function, **mistake):
    """Run ``function`` (the student's, or _epoch with a mistake) on a fresh copy of the case;
    return (losses, model)."""
    model, loader = _epoch_case()
    optimizer = torch.optim.Adam(model.parameters(), lr=_LR)
    generator = torch.Generator().manual_seed(2)

    def encode(images, num_steps):
        return poisson_encode(images, num_steps, generator)

    if function is _epoch:
        return _epoch(model, loader, optimizer, _STEPS, encode, **mistake), model
    return attempt(function, model, loader, optimizer, _STEPS, encode), model


def _distance(model, other) -> float:
    return max((a - b).abs().max().item() for a, b in zip(model.parameters(), other.parameters()))


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
    snn_helpers.exercises.ExerciseError: `train_one_epoch` is not written yet: ...
    """
    start, _ = _epoch_case()
    losses, model = _run(train_one_epoch)
    want, reference = _run(_epoch)
    expect(isinstance(losses, (list, tuple)),
           f"`train_one_epoch` returned {type(losses).__name__}; return a list with the loss of every "
           f"mini-batch (`losses.append(loss.item())`)")
    expect(len(losses) == len(want),
           f"`train_one_epoch` returned {len(losses)} losses, but the loader has {len(want)} mini-batches: "
           f"append one loss per mini-batch")
    expect(all(isinstance(loss, (float, int)) or (isinstance(loss, torch.Tensor) and loss.numel() == 1)
               for loss in losses),
           "every loss you return should be one number: append `loss.item()`")
    if _distance(model, start) == 0:
        raise ExerciseError("the weights did not change: call `optimizer.step()` after `loss.backward()` "
                            "(and `optimizer.zero_grad()` before `loss.backward()`, not between it and the step)")
    off = _distance(model, reference)
    if off > 1e-5:
        for mistake, why in _MISTAKES:
            if _distance(model, _run(_epoch, **mistake)[1]) <= 1e-5:
                raise ExerciseError(f"after the epoch your weights differ from the reference by up to "
                                    f"{off:.2g}: {why}")
        first = float(losses[0])
        raise ExerciseError(
            f"after the epoch your weights differ from the reference by up to {off:.2g} (tolerance 1e-5); "
            + (f"your first loss is {first:.4f}, it should be {want[0]:.4f}: check the loss, "
               f"cross-entropy of `model(encode(images, num_steps)).sum(0)` and the labels"
               if abs(first - want[0]) > 1e-5 else
               "the first loss is right, so look at the update: `zero_grad`, `backward` and `step` once "
               "per mini-batch, with the optimizer you were given, and `encode` called once per mini-batch"))
    for i, (got, right) in enumerate(zip(losses, want)):
        expect(abs(float(got) - right) <= 1e-5,
               f"the weights are right, but the loss of mini-batch {i + 1} you returned is {float(got):.4f}, "
               f"it should be {right:.4f}: append each mini-batch's `loss.item()`, in order")
    passed(f"your epoch gives the reference's weights and its {len(want)} losses "
           f"({want[0]:.4f} down to {want[-1]:.4f})")
