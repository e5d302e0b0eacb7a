"""Seeding, training and evaluation: :func:`fit`, :func:`predict`, :func:`evaluate`.

:func:`fit` (the SNN) and :func:`~snn_helpers.analysis.ann.fit_ann` (the ANN) share
one epoch loop, :func:`run_epochs`. Device choice lives in :mod:`snn_helpers.system.runtime`.
:func:`run_epochs` and :func:`predict` (so :func:`fit` and :func:`evaluate` too) run inside
:func:`snn_helpers.engine.cpu.computing`: subnormals flushed, the process's share of threads, both
restored afterwards.
"""
from __future__ import annotations

import math
import random

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..engine.cpu import computing
from ..system._checks import (
    check_bool,
    check_choice,
    check_device,
    check_generator,
    check_int,
    check_loader,
    check_module,
    check_path,
)
from ..system.runtime import get_device
from .checkpoint import (
    RESUME_KEYS,
    check_checkpoint_path,
    check_match,
    load_checkpoint,
    read_settings,
    rng_state,
    save_checkpoint,
    set_rng_state,
    settings_payload,
)
from .encoding import encode_batch
from .inference import over_batches
from .settings import SCHEDULES, ModelSettings, TrainSettings


def set_seed(seed: int) -> torch.Generator:
    """Seed torch, numpy and random; return a fresh ``torch.Generator`` seeded the same.

    seed: an integer in ``[0, 2**32 - 1]``. The returned generator is what
    :func:`fit` and the loaders take, so one seed fixes a whole run.

    >>> g = set_seed(3)
    >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=torch.Generator().manual_seed(3)).item()
    True
    """
    seed = check_int("seed", seed, 0, 2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def lr_factor(schedule: str, step: int, total: int) -> float:
    """Multiplier of the peak learning rate at batch ``step`` of ``total``.

    ``constant``: 1 throughout (the seed). ``cosine``: a linear warm-up over the
    first ``w = max(1, round(0.05 * total))`` batches, ``(step + 1) / w``, then a half
    cosine, ``(1 + cos(pi * (step - w) / (total - w))) / 2``, down to 0 after the last batch.

    schedule: one of ``SCHEDULES``. step: the batch, counted from 0 over all
    epochs. total: the number of batches of the whole run.

    >>> [round(lr_factor("cosine", step, 40), 3) for step in (0, 1, 2, 21, 39)]
    [0.5, 1.0, 1.0, 0.5, 0.002]
    """
    check_choice("schedule", schedule, SCHEDULES)
    if schedule == "constant":
        return 1.0
    warmup = max(1, round(0.05 * total))
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def fit(model: nn.Module, train_loader, epochs: int = 5, num_steps: int = 10, lr: float = 1e-3, *,
        schedule: str = "constant", generator: torch.Generator | None = None,
        device: torch.device | None = None, checkpoint_path=None, resume_from=None,
        progress: bool = True) -> list[float]:
    """Train with Adam and cross-entropy on ``model.scores``; return the per-epoch mean loss.

    Each batch is encoded by :func:`~snn_helpers.core.encoding.encode_batch` (Poisson
    spikes of the lit pixels, ``num_steps`` steps) and scored by ``model.scores``
    (output spike counts ``[B, 10]``); the loss is the cross-entropy of the
    counts taken as logits, ``-mean_i log softmax(scores)[i, labels[i]]``, and
    the loop is :func:`run_epochs`.

    model: an :class:`~snn_helpers.core.model.SNN`. ``train_loader`` yields ``(images [B, 1, 28, 28]
    in [0, 1], labels [B])`` and has a length. epochs: ``>= 0``; num_steps: ``>= 1``;
    lr: ``> 0``. ``generator`` draws the Poisson spikes. device: where to train
    (default: :func:`~snn_helpers.system.runtime.get_device`). With ``checkpoint_path`` a checkpoint is written
    after every epoch (atomically); with ``resume_from`` training continues
    from a checkpoint up to ``epochs`` epochs in total, so 2 epochs + resume to 3
    equals 3 epochs in one go. ``lr`` is the peak learning rate; ``schedule``
    (see :func:`lr_factor`) sets it batch by batch. A schedule other than
    ``constant`` is planned for ``epochs`` epochs, so it resumes only with the same ``epochs``.

    The training settings are checked once, as a :class:`~snn_helpers.core.settings.TrainSettings`;
    a checkpoint records it and the model's :class:`~snn_helpers.core.settings.ModelSettings`.

    >>> from snn_helpers import SNN, BatchLoader
    >>> g = set_seed(0)
    >>> loader = BatchLoader(torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,)), 4)
    >>> losses = fit(SNN((784, 16, 10)), loader, epochs=2, num_steps=4, generator=g, device="cpu", progress=False)
    >>> len(losses)
    2
    >>> fit(SNN((784, 16, 10)), loader, num_steps=0)
    Traceback (most recent call last):
    ...
    ValueError: num_steps must be in [1, inf), got 0
    """
    check_module("model", model)
    if not isinstance(getattr(model, "settings", None), ModelSettings):
        raise TypeError(f"model must be an SNN (its settings a ModelSettings), got {type(model).__name__}")
    settings = TrainSettings(epochs, num_steps, lr, schedule)
    check_loader("train_loader", train_loader, sized=True)
    check_generator("generator", generator)
    device = check_device("device", device) or get_device()
    if checkpoint_path is not None:
        checkpoint_path = check_checkpoint_path("checkpoint_path", checkpoint_path)
    check_bool("progress", progress)
    generators = {"encode": generator, "loader": getattr(train_loader, "generator", None)}
    history, start, state = [], 0, None
    if resume_from is not None:
        resume_from = check_path("resume_from", resume_from)
        state = load_checkpoint(resume_from, keys=RESUME_KEYS)
        saved_model, saved_train = read_settings(state, resume_from)
        check_match(resume_from, {**saved_model.as_dict(), **(saved_train.plan() if saved_train else {})},
                    {**model.settings.as_dict(), **settings.plan()})
        start = int(state["epoch"])
        if epochs < start:
            raise ValueError(f"epochs must be at least {start} (the epochs in {resume_from}) "
                             f"to resume, got {epochs}")
        set_rng_state(state["rng"], generators)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, fused=True)  # one kernel per step
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = list(state["loss_history"])

    def scores(images):
        return model.scores(*encode_batch(images, settings.num_steps, generator, device))

    def save(epoch, history):
        save_checkpoint(checkpoint_path, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "epoch": epoch + 1, "loss_history": history, **settings_payload(model.settings, settings),
            "rng": rng_state(generators)})

    return run_epochs(model, train_loader, scores, optimizer, settings, device=device, start=start,
                      history=history, progress=progress, after_epoch=None if checkpoint_path is None else save)


@computing()
def run_epochs(model: nn.Module, train_loader, forward, optimizer: torch.optim.Optimizer, settings: TrainSettings,
               *, device: torch.device, start: int = 0, history: list[float] | None = None, progress: bool = False,
               after_epoch=None) -> list[float]:
    """The epoch loop that :func:`fit` and :func:`~snn_helpers.analysis.ann.fit_ann` share.

    Epochs ``start, ..., settings.epochs - 1`` of: for each batch ``(images [B, ...], labels [B])``
    of ``train_loader``, set the learning rate to ``settings.lr * lr_factor(settings.schedule, b, n)``
    (``b`` counts batches from the first epoch, ``n`` is all of them), compute the
    cross-entropy ``-mean_i log softmax(forward(images))[i, labels[i]]`` and take
    one ``optimizer`` step. ``model`` is put in training mode each epoch.

    Its callers check their arguments before they start; this loop takes them as checked and
    does not check them again. settings: a :class:`~snn_helpers.core.settings.TrainSettings` (checked
    when built; its ``num_steps`` is for ``forward``). forward: maps a batch of images to scores
    ``[B, C]`` on ``device``, e.g. ``model`` itself for an ANN. optimizer: over ``model``'s
    parameters (the loop sets its learning rate). train_loader: has a length. device: where the
    labels go. start: the epochs done, in ``[0, settings.epochs]``. history: the mean losses of
    earlier epochs, appended to. progress: show a progress bar. after_epoch: called as
    ``after_epoch(epoch, history)`` after each epoch (``fit`` writes its checkpoint there).
    Returns ``history``, one mean loss per epoch.

    >>> _ = torch.manual_seed(0)
    >>> model = nn.Linear(4, 3)
    >>> batches = [(torch.rand(8, 4), torch.randint(0, 3, (8,))) for _ in range(2)]
    >>> optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    >>> losses = run_epochs(model, batches, model, optimizer, TrainSettings(epochs=5, lr=0.1), device="cpu")
    >>> len(losses), losses[-1] < losses[0]
    (5, True)
    """
    if not isinstance(settings, TrainSettings):
        raise TypeError(f"settings must be a TrainSettings (checked when built), got {type(settings).__name__}")
    epochs, lr, schedule = settings.epochs, settings.lr, settings.schedule
    history = [] if history is None else history
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(start, epochs):
        model.train()
        total, batches = 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=True)
        for i, (images, labels) in enumerate(bar):
            for group in optimizer.param_groups:
                group["lr"] = lr * lr_factor(schedule, epoch * len(train_loader) + i, epochs * len(train_loader))
            loss = loss_fn(forward(images), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
        history.append(total / max(batches, 1))
        if after_epoch is not None:
            after_epoch(epoch, history)
    return history


def predict(model: nn.Module, loader, num_steps: int = 10, *, generator: torch.Generator | None = None,
            device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels ``([N], [N])`` over a loader; prediction = most output spikes.

    The prediction is ``argmax`` of the output spike counts, so a tie goes to the
    lowest class. model: an :class:`~snn_helpers.core.model.SNN`; loader: yields
    ``(images [B, 1, 28, 28] in [0, 1], labels [B])``; num_steps: ``>= 1``;
    generator draws the Poisson input; device: where to run (default: the GPU if there is one).

    >>> from snn_helpers import SNN
    >>> _ = torch.manual_seed(0)
    >>> preds, truth = predict(SNN((784, 8, 10)), [(torch.rand(3, 1, 28, 28), torch.tensor([4, 5, 6]))], 4,
    ...                        device="cpu")
    >>> preds.shape, truth.tolist()
    (torch.Size([3]), [4, 5, 6])
    """
    preds, truth = [], []

    def step(x, pixels, labels):
        preds.append(model.scores(x, pixels).argmax(1).cpu())
        truth.append(labels)
    over_batches(model, loader, num_steps, step, generator=generator, device=device)
    return torch.cat(preds), torch.cat(truth)


def evaluate(model: nn.Module, loader, num_steps: int = 10, *, generator: torch.Generator | None = None,
             device: torch.device | None = None) -> float:
    """Accuracy in [0, 1] over a loader with ``num_steps``-step Poisson input: the fraction of
    :func:`predict`'s predictions that equal the labels. Arguments as for :func:`predict`.

    >>> from snn_helpers import SNN
    >>> silent = SNN((784, 8, 10))
    >>> with torch.no_grad():  # no weights, no bias: no neuron ever fires, every score is 0
    ...     _ = [parameter.zero_() for parameter in silent.parameters()]
    >>> # a tie of all ten classes, so argmax takes the lowest, 0: right for two images of the four
    >>> evaluate(silent, [(torch.rand(4, 1, 28, 28), torch.tensor([0, 0, 3, 7]))], 4, device="cpu")
    0.5
    """
    preds, truth = predict(model, loader, num_steps, generator=generator, device=device)
    return (preds == truth).float().mean().item()

