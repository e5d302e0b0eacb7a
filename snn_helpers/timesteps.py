"""Accuracy against the number of time steps, and a slider demo for one digit.

The network is causal: what it outputs after ``t`` steps does not depend on
later input. So one run over ``max_steps`` Poisson steps gives the scores of
every shorter run as well (:meth:`SNN.running_scores`), and each prefix of the
input is itself a valid Poisson spike train of that length.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ._checks import check_int, check_module, check_tensor
from .encoding import poisson_encode
from .plots import spike_count_bars
from .training import _encode, get_device


@torch.no_grad()
def accuracy_by_steps(model, loader, max_steps: int = 50, *, generator: torch.Generator | None = None,
                      device: torch.device | None = None) -> list[float]:
    """Accuracy in [0, 1] with ``num_steps`` = 1, 2, ..., ``max_steps`` (entry ``t - 1`` for ``t`` steps)."""
    max_steps = check_int("max_steps", max_steps, 1)
    device = device or get_device()
    model.to(device).eval()
    correct, total = torch.zeros(max_steps), 0
    for images, labels in loader:
        running = model.running_scores(*_encode(images, max_steps, generator, device))  # [T, B, C]
        correct += (running.argmax(2).cpu() == labels).sum(1).float()
        total += len(labels)
    if total == 0:
        raise ValueError("loader must yield at least one batch")
    return (correct / total).tolist()


def plot_accuracy_by_steps(accuracies, train_steps: int, title: str = "Test accuracy against time steps"):
    """Accuracy (percent) against ``num_steps`` = 1..len(accuracies), the training value marked."""
    accuracies = list(accuracies)
    train_steps = check_int("train_steps", train_steps, 1, len(accuracies))
    steps = range(1, len(accuracies) + 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [100 * a for a in accuracies], "-", marker=".")
    ax.plot([train_steps], [100 * accuracies[train_steps - 1]], "o", color="C3", markersize=9,
            label=f"trained with {train_steps} steps: {100 * accuracies[train_steps - 1]:.2f}%")
    ax.set_xlabel("time steps at evaluation (num_steps)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


@torch.no_grad()
def steps_demo(num_steps: int, model, image: torch.Tensor, label: int, accuracies, seed: int = 0) -> dict:
    """One slider position: the test accuracy at ``num_steps`` and one digit seen for ``num_steps`` steps.

    image: ``[1, 28, 28]``; ``accuracies`` from :func:`accuracy_by_steps`.
    Draws the digit's output spike counts, prints one line and returns
    ``{"num_steps", "accuracy" (percent), "predicted", "spikes" (per layer, input first)}``.
    """
    num_steps = check_int("num_steps", num_steps, 1, len(accuracies))
    check_tensor("image", image, last_dims=(1, 28, 28))
    label = check_int("label", label, 0, 9)
    check_module("model", model)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    model.cpu().eval()
    x = poisson_encode(image.reshape(1, 1, 28, 28), num_steps, torch.Generator().manual_seed(seed))
    out, rec = model(x, record=True)
    scores = out.sum(0)[0]
    counts = [int(x.sum()), *(int(s.sum()) for s in rec["spikes"])]
    result = {"num_steps": num_steps, "accuracy": 100 * accuracies[num_steps - 1],
              "predicted": int(scores.argmax()), "spikes": counts}
    spike_count_bars(scores, label, f"{num_steps} steps: digit {label} -> predicted {result['predicted']}")
    names = ["input", *(f"layer {i}" for i in range(1, len(counts)))]
    print(f"steps: {num_steps} | accuracy: {result['accuracy']:.1f}% | predicted: {result['predicted']} "
          f"(label {label}) | spikes: " + ", ".join(f"{n} {c}" for n, c in zip(names, counts)))
    return result
