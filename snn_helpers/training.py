"""Seeding, device choice, training and evaluation."""
from __future__ import annotations

import random
import time

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_float, check_int
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .encoding import poisson_encode


def set_seed(seed: int) -> torch.Generator:
    """Seed torch, numpy and random; return a fresh ``torch.Generator`` seeded the same."""
    seed = check_int("seed", seed, 0, 2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def get_device() -> torch.device:
    """The GPU when one is available, otherwise the CPU. The one place this is chosen."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _encode(images, num_steps, generator, device):
    """Poisson spikes ``[T, B, 1, 28, 28]`` drawn on the CPU generator, moved to ``device``."""
    return poisson_encode(images, num_steps, generator).to(device, non_blocking=True)


def fit(model: nn.Module, train_loader, epochs: int = 5, num_steps: int = 10, lr: float = 1e-3, *,
        generator: torch.Generator | None = None, device: torch.device | None = None,
        checkpoint_path=None, resume_from=None, progress: bool = True) -> list[float]:
    """Train with Adam and cross-entropy on output spike counts; return the per-epoch mean loss.

    ``train_loader`` yields ``(images [B, 1, 28, 28], labels [B])``. ``generator``
    draws the Poisson spikes. With ``checkpoint_path`` a checkpoint is written
    after every epoch (atomically); with ``resume_from`` training continues
    from a checkpoint up to ``epochs`` epochs in total, so 2 epochs + resume to 3
    equals 3 epochs in one go.
    """
    epochs = check_int("epochs", epochs, 0)
    num_steps = check_int("num_steps", num_steps, 1)
    lr = check_float("lr", lr, 0.0, low_open=True)
    device = device or get_device()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generators = {"encode": generator, "loader": getattr(train_loader, "generator", None)}
    settings = {**model.settings(), "num_steps": num_steps, "lr": lr}
    history, start = [], 0
    if resume_from is not None:
        state = load_checkpoint(resume_from, expected_settings=settings)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, start = list(state["loss_history"]), int(state["epoch"])
        set_rng_state(state["rng"], generators)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(start, epochs):
        model.train()
        total, batches = 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=True)
        for images, labels in bar:
            loss = loss_fn(model.scores(_encode(images, num_steps, generator, device)), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
        history.append(total / max(batches, 1))
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1, "loss_history": history, "settings": settings,
                "rng": rng_state(generators)})
    return history


@torch.no_grad()
def predict(model: nn.Module, loader, num_steps: int = 10, *, generator: torch.Generator | None = None,
            device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels ``([N], [N])`` over a loader; prediction = most output spikes."""
    num_steps = check_int("num_steps", num_steps, 1)
    device = device or get_device()
    model.to(device).eval()
    preds, truth = [], []
    for images, labels in loader:
        preds.append(model.scores(_encode(images, num_steps, generator, device)).argmax(1).cpu())
        truth.append(labels)
    return torch.cat(preds), torch.cat(truth)


def evaluate(model: nn.Module, loader, num_steps: int = 10, *, generator: torch.Generator | None = None,
             device: torch.device | None = None) -> float:
    """Accuracy in [0, 1] over a loader with ``num_steps``-step Poisson input."""
    preds, truth = predict(model, loader, num_steps, generator=generator, device=device)
    return (preds == truth).float().mean().item()


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
