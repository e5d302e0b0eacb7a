"""Accuracy against the number of time steps (its slider demo is :func:`snn_helpers.course.widgets.steps_demo`).

The network is causal: what it outputs after ``t`` steps does not depend on
later input. So one run over ``max_steps`` Poisson steps gives the scores of
every shorter run as well (:meth:`SNN.running_scores`), and each prefix of the
input is itself a valid Poisson spike train of that length.
"""
from __future__ import annotations

import torch

from ..core.inference import over_batches
from ..system._checks import check_int
from .plots import BLUE, VERMILION, subplots


def decisions_by_steps(model, loader, max_steps: int = 50, *, generator: torch.Generator | None = None,
                       device: torch.device | None = None) -> dict:
    """How the read-out decides with ``num_steps`` = 1, 2, ..., ``max_steps`` (entry ``t - 1`` for ``t`` steps).

    Returns a dict of lists, each a fraction of the images in [0, 1]:
    ``accuracy`` (the most output spikes, ``argmax``, names the true label),
    ``tied`` (two or more classes share the largest count, so ``argmax`` takes
    the lowest of them), ``silent`` (no output spike at all: a tie of all
    classes at zero, read as class 0), and ``firing``, the mean number of
    output neurons that spiked at least once.

    model: has ``running_scores(spikes [T, B, P], pixels [P]) -> [T, B, C]``, e.g. an
    :class:`~snn_helpers.core.model.SNN`. loader: yields ``(images [B, 1, 28, 28] in [0, 1], labels [B])``.
    max_steps: ``>= 1``. generator draws the Poisson input; device: where to run
    (default: the GPU if there is one).

    >>> from snn_helpers import SNN
    >>> _ = torch.manual_seed(0)
    >>> batch = (torch.rand(3, 1, 28, 28), torch.tensor([1, 2, 3]))
    >>> result = decisions_by_steps(SNN((784, 8, 10)), [batch], 4, device="cpu")
    >>> sorted(result), len(result["accuracy"])
    (['accuracy', 'firing', 'silent', 'tied'], 4)
    """
    max_steps = check_int("max_steps", max_steps, 1)
    sums = {key: torch.zeros(max_steps, dtype=torch.float64) for key in ("accuracy", "tied", "silent", "firing")}

    def step(x, pixels, labels):
        running = model.running_scores(x, pixels).cpu()  # [T, B, C]
        top = running.max(2, keepdim=True).values
        sums["accuracy"] += (running.argmax(2) == labels).sum(1)
        sums["tied"] += ((running == top).sum(2) > 1).sum(1)
        sums["silent"] += (top.squeeze(2) == 0).sum(1)
        sums["firing"] += (running > 0).sum((1, 2))
    total = over_batches(model, loader, max_steps, step, generator=generator, device=device, steps_name="max_steps")
    return {key: (value / total).tolist() for key, value in sums.items()}


def accuracy_by_steps(model, loader, max_steps: int = 50, *, generator: torch.Generator | None = None,
                      device: torch.device | None = None) -> list[float]:
    """Accuracy in [0, 1] with ``num_steps`` = 1, 2, ..., ``max_steps`` (entry ``t - 1`` for ``t`` steps).

    The ``accuracy`` entry of :func:`decisions_by_steps`, which takes the same arguments.

    >>> from snn_helpers import SNN
    >>> _ = torch.manual_seed(0)
    >>> batch = (torch.rand(3, 1, 28, 28), torch.tensor([1, 2, 3]))
    >>> len(accuracy_by_steps(SNN((784, 8, 10)), [batch], 5, device="cpu"))
    5
    """
    return decisions_by_steps(model, loader, max_steps, generator=generator, device=device)["accuracy"]


def plot_accuracy_by_steps(accuracies, train_steps: int, title: str = "Test accuracy against time steps"):
    """Accuracy (percent) against ``num_steps`` = 1..len(accuracies), the training value marked.

    accuracies: in [0, 1], entry ``t - 1`` for ``t`` steps (from :func:`accuracy_by_steps`);
    train_steps: the steps the network was trained with, in ``[1, len(accuracies)]``.
    Returns the figure, a :class:`~snn_helpers.analysis.plots.DescribedFigure` that says what the curve shows.

    >>> fig = plot_accuracy_by_steps([0.5, 0.8, 0.9], train_steps=2)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'trained with 2 steps: 80.00%'
    >>> print(fig.description)  # doctest: +NORMALIZE_WHITESPACE
    Test accuracy against time steps. A line of the test accuracy against the number of time steps at
    evaluation, 1 to 3: 50.0% with 1 step, 90.0% with 3, the highest 90.0% with 3 steps. The point
    marked is the 2 steps the network was trained with: 80.00%.
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    accuracies = list(accuracies)
    train_steps = check_int("train_steps", train_steps, 1, len(accuracies))
    steps = range(1, len(accuracies) + 1)
    fig, ax = subplots(figsize=(7, 4))
    ax.plot(steps, [100 * a for a in accuracies], "-", marker=".", color=BLUE)
    ax.plot([train_steps], [100 * accuracies[train_steps - 1]], "D", color=VERMILION, markersize=9,
            label=f"trained with {train_steps} steps: {100 * accuracies[train_steps - 1]:.2f}%")
    ax.set_xlabel("time steps at evaluation (num_steps)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    best = max(steps, key=lambda t: (accuracies[t - 1], -t))
    fig.describe(f"{title}. A line of the test accuracy against the number of time steps at evaluation, 1 to "
                 f"{len(accuracies)}: {100 * accuracies[0]:.1f}% with 1 step, {100 * accuracies[-1]:.1f}% with "
                 f"{len(accuracies)}, the highest {100 * accuracies[best - 1]:.1f}% with {best} step{'s' * (best > 1)}. "
                 f"The point marked is the {train_steps} step{'s' * (train_steps > 1)} the network was trained with: "
                 f"{100 * accuracies[train_steps - 1]:.2f}%.")
    return fig

