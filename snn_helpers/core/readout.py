"""Reading an answer out of the output spike counts: the confusion counts, and who leads or ties.

The network's answer for one image is the class with the most output spikes (``argmax``).
When several classes share the top count, ``argmax`` names the lowest of them; these
functions say so in words instead of hiding it. Nothing here draws: the figures that show
these counts are in :mod:`snn_helpers.analysis.plots`.
"""
from __future__ import annotations

import numpy as np
import torch

from ..system._checks import check_int, float_array


def confusion_counts(preds, truth, num_classes: int = 10) -> torch.Tensor:
    """``[C, C]`` counts: entry ``[i, j]`` is how many images of class ``i`` were predicted ``j``.

    ``counts[i, j] = #{n : truth[n] = i and preds[n] = j}``; row ``i`` sums to the
    number of images of class ``i``, the diagonal holds the correct predictions.

    preds, truth: integer tensors ``[N]`` with values in ``[0, num_classes)``.
    num_classes: ``C``, at least 1. Returns an int64 tensor ``[C, C]``.

    >>> confusion_counts(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), num_classes=3)
    tensor([[1, 0, 0],
            [0, 1, 0],
            [0, 1, 1]])
    """
    num_classes = check_int("num_classes", num_classes, 1)
    for name, value in (("preds", preds), ("truth", truth)):
        if not isinstance(value, torch.Tensor) or value.dim() != 1 or value.is_floating_point():
            raise TypeError(f"{name} must be a 1-D integer tensor")
        if value.numel() and (value.min() < 0 or value.max() >= num_classes):
            raise ValueError(f"{name} must hold classes in [0, {num_classes - 1}]")
    if len(preds) != len(truth):
        raise ValueError(f"preds and truth must have the same length, got {len(preds)} and {len(truth)}")
    flat = truth.long() * num_classes + preds.long()
    return torch.bincount(flat, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def top_classes(counts) -> list[int]:
    """The classes that share the largest count in ``counts [C]``, lowest first.

    One class: a clear winner. Several: a tie, which ``argmax`` settles by
    naming the lowest of them.

    >>> top_classes(torch.tensor([0, 4, 1, 4]))
    [1, 3]
    """
    array = float_array("counts", counts, 1)
    if array.size == 0:
        raise ValueError("counts must hold at least one class, got an empty array")
    return [int(c) for c in np.flatnonzero(array == array.max())]


def describe_leader(counts) -> str:
    """Who leads in ``counts [C]``, in words: "leading class 3", "tied: 3, 9" or "no spikes yet".

    >>> describe_leader(torch.tensor([0, 4, 1]))
    'leading class 1'
    >>> describe_leader(torch.tensor([2, 0, 2]))
    'tied: 0, 2'
    >>> describe_leader(torch.zeros(3))
    'no spikes yet'
    """
    leaders = top_classes(counts)
    if not float_array("counts", counts, 1).any():
        return "no spikes yet"
    if len(leaders) == 1:
        return f"leading class {leaders[0]}"
    return "tied: " + ", ".join(str(c) for c in leaders)


def tie_note(counts) -> str:
    """What ``argmax`` hides when classes share the top count of ``counts [C]``; ``""`` for a clear winner.

    >>> tie_note(torch.tensor([0, 2, 0, 2]))
    'tie of 1, 3: argmax takes the lowest'
    >>> tie_note(torch.zeros(3))
    'no output spike: all 3 classes tied at 0, argmax takes 0'
    """
    leaders = top_classes(counts)
    if len(leaders) == 1:
        return ""
    if not float_array("counts", counts, 1).any():
        return f"no output spike: all {len(leaders)} classes tied at 0, argmax takes 0"
    return f"tie of {', '.join(map(str, leaders))}: argmax takes the lowest"
