"""Checks for notebook 04's exercises: the confusion matrix by hand, and predictions that admit ties.

Each check builds its own small inputs from a fixed generator, compares the
student's answer with the library's (:func:`snn_helpers.core.readout.confusion_counts`,
``argmax`` and :func:`snn_helpers.core.readout.top_classes`) and says in words what
differs.
"""
from __future__ import annotations

import torch

from ...analysis.plots import confusion_matrix
from ...core.readout import confusion_counts, describe_leader, tie_note, top_classes
from . import attempt, exercise, expect, fail, passed, reword

__all__ = ["check_confusion", "check_predict_with_ties"]


def _random_labels(n: int, num_classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` predictions and true labels in ``[0, num_classes)``, right about half the time."""
    g = torch.Generator().manual_seed(seed)
    truth = torch.randint(0, num_classes, (n,), generator=g)
    guess = torch.randint(0, num_classes, (n,), generator=g)
    preds = torch.where(torch.rand(n, generator=g) < 0.5, truth, guess)
    return preds, truth


def _check_table(table, preds, truth, num_classes: int) -> None:
    expect(isinstance(table, torch.Tensor), "not a tensor",
           f"confusion_by_hand should return a torch tensor, but it returned a {type(table).__name__}",
           "look at what your last line returns, and at what you built the table from")
    expect(tuple(table.shape) == (num_classes, num_classes), "shape",
           f"with num_classes={num_classes} the table should have shape [{num_classes}, {num_classes}] "
           f"(one row per true class, one column per predicted class, even for classes that never "
           f"occur), but yours has shape {list(table.shape)}",
           "where does the size of your table come from: the argument, or the data?")
    expect(not table.is_floating_point() and table.dtype != torch.bool, "dtype",
           f"the table counts images, so it should hold whole numbers (an integer dtype), but yours has "
           f"dtype {table.dtype}", "torch.zeros makes floats unless it is told otherwise")
    expected = confusion_counts(preds, truth, num_classes)
    table = table.long()
    expect(int(table.sum()) == len(truth), "total",
           f"your table adds up to {int(table.sum())}, but there are {len(truth)} images: every image "
           f"belongs in exactly one cell", "count how many times your loop adds 1, and for which images")
    for row in range(num_classes):
        want, got = int((truth == row).sum()), int(table[row].sum())
        if want != got and int((preds == row).sum()) == got:
            fail("rows are predictions",
                 f"row {row} should count the images whose TRUE label is {row} ({want} of them, spread over the "
                 f"columns by prediction); yours counts the {got} images PREDICTED as {row}",
                 "in table[i, j] the first index picks the row: which of truth and preds gives it in your code?")
        expect(want == got, "row total", f"row {row} adds up to {got}, but {want} images have the true label {row}",
               "each image adds 1 to the row of its true label")
    wrong = (table != expected).nonzero()
    if len(wrong):
        i, j = (int(v) for v in wrong[0])
        fail("entry", f"entry [{i}, {j}] should be {int(expected[i, j])} (images of digit {i} predicted as {j}), "
                      f"but yours is {int(table[i, j])}", "every pair (true label, prediction) adds 1 to one cell")


@exercise(confusion_counts, confusion_matrix)
def check_confusion(confusion_by_hand) -> None:
    """Check ``confusion_by_hand(preds, truth, num_classes)`` against :func:`confusion_counts`.

    Random predictions over 10 classes, then 12 classes of which only 10 occur:
    the table must be ``[num_classes, num_classes]`` integers with
    ``table[i, j]`` = images of true class ``i`` predicted as ``j``.

    >>> def empty(preds, truth, num_classes):  # a wrong answer
    ...     return torch.zeros(num_classes, num_classes, dtype=torch.long)
    >>> check_confusion(empty)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: your table adds up to 0, but there are 500 images: ...
    """
    cases = [(500, 10, 10, 0), (200, 10, 12, 1)]  # images, classes used, num_classes, seed
    for n, used, num_classes, seed in cases:
        preds, truth = _random_labels(n, used, seed)
        table = attempt(confusion_by_hand, preds.clone(), truth.clone(), num_classes)
        _check_table(table, preds, truth, num_classes)
    passed(f"your confusion matrix matches readout.confusion_counts on {cases[0][0]} random predictions, "
           f"and keeps empty rows when num_classes is larger than the classes seen")


def _counts_with_ties(n: int = 300, num_classes: int = 10, seed: int = 0) -> torch.Tensor:
    """Float spike counts ``[n, num_classes]`` as the network's scores are: small numbers, so many
    ties, a few silent rows (all zero) and some clear winners."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, 4, (n, num_classes), generator=g).float()
    counts[::10] = 0.0                                                        # silent: all tied at 0
    winners = torch.randint(0, num_classes, (n // 3,), generator=g)
    counts[1:1 + len(winners) * 3:3][torch.arange(len(winners)), winners] += 5  # clear winners
    return counts


def _row(counts: torch.Tensor, k: int) -> str:
    return str([int(c) for c in counts[k]])


@exercise(top_classes, describe_leader, tie_note)
def check_predict_with_ties(predict_with_ties) -> None:
    """Check ``predict_with_ties(counts) -> (preds, tied)`` on spike counts with many ties.

    counts: ``[N, 10]`` float spike counts. ``preds`` must be ``argmax`` (the lowest
    of the tied classes), integers ``[N]``; ``tied`` is ``True`` where several classes
    share the top count (all-zero rows included), booleans ``[N]``.

    >>> def argmax_only(counts):  # a wrong answer: no ``tied``
    ...     return counts.argmax(1)
    >>> check_predict_with_ties(argmax_only)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: predict_with_ties should return two things, (preds, tied), but it returned Tensor
    """
    counts = _counts_with_ties()
    n, classes = counts.shape
    with reword(r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)", "broadcast",
                lambda m: f"`predict_with_ties` combined two tensors whose sizes do not line up (one has {m[1]} "
                          f"entries where the other has {m[2]}); the counts are [{n}, {classes}]: {n} images, "
                          f"{classes} classes",
                f"print the shapes on the way: a maximum over the classes of [{n}, {classes}] counts has "
                f"{n} values, one per image; to compare it with every class of its image it needs a second "
                f"dimension"):
        answer = attempt(predict_with_ties, counts.clone())
    expect(isinstance(answer, tuple) and len(answer) == 2, "returns",
           f"predict_with_ties should return two things, (preds, tied), but it returned "
           f"{type(answer).__name__}" + (f" of length {len(answer)}" if isinstance(answer, (tuple, list)) else ""),
           "a function gives back two things as `return a, b`")
    preds, tied = answer
    for name, value in (("preds", preds), ("tied", tied)):
        expect(isinstance(value, torch.Tensor), "not a tensor",
               f"{name} should be a torch tensor, but it is a {type(value).__name__}",
               "torch operations on the counts give tensors")
        expect(tuple(value.shape) == (n,), "shape",
               f"{name} should have one entry per image, shape [{n}] for counts of shape [{n}, {classes}], "
               f"but it has shape {list(value.shape)}", "one value per image: which dimension is left over?")
    expect(not preds.is_floating_point() and preds.dtype != torch.bool, "dtype",
           f"preds should hold class numbers (an integer dtype), but its dtype is {preds.dtype}",
           "the index of the largest count is already an integer")
    expect(tied.dtype == torch.bool, "dtype", f"tied should be True/False per image (dtype torch.bool), "
                                              f"but its dtype is {tied.dtype}",
           "a comparison gives booleans")
    for k in range(n):
        leaders = top_classes(counts[k])
        got = int(preds[k])
        expect(got in leaders, "not the top",
               f"image {k} has counts {_row(counts, k)}: class {leaders[0]} has the most spikes "
               f"({int(counts[k].max())}), but you predicted {got}"
               + (f" ({int(counts[k, got])} spikes)" if 0 <= got < classes else ""),
               "the prediction is the class with the MOST spikes")
        expect(got == leaders[0], "tie order",
               f"image {k} has counts {_row(counts, k)}: classes {leaders} tie; you predicted {got}, but "
               f"the network's read-out names the lowest tied class, {leaders[0]}",
               "the task says how a tie is broken, and which torch function breaks it that way")
        if len(leaders) > 1 and not bool(tied[k]):
            silent = " (no output spike at all: every class ties at 0)" if counts[k].max() == 0 else ""
            fail("missed tie", f"image {k} has counts {_row(counts, k)}: classes {leaders} share the top "
                               f"count{silent}, so it is a tie, but your tied[{k}] is False",
                 "count the classes that reach the top count, zero counts included")
        expect(len(leaders) > 1 or not bool(tied[k]), "false tie",
               f"image {k} has counts {_row(counts, k)}: class {leaders[0]} alone has the most spikes, "
               f"so it is no tie, but your tied[{k}] is True", "a tie needs two classes or more at the top")
    passed(f"your predictions agree with argmax on all {n} images and flag the {int(tied.sum())} ties")
