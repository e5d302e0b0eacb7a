"""The one inference loop over a loader: checked arguments, eval mode, no gradients, and the
caller's model given back as it came.

:func:`over_batches` runs a function on every batch (of Poisson-encoded images for an SNN, of
images for an ANN) and gives the model back in the mode (train or eval) and on the device it had,
also when the function raises. Every evaluation, demo and comparison is built on it:
:func:`~snn_helpers.core.training.predict`, :func:`~snn_helpers.analysis.costs.snn_activity`,
:func:`~snn_helpers.analysis.timesteps.decisions_by_steps`, :func:`~snn_helpers.analysis.ann.evaluate_ann`,
:func:`~snn_helpers.analysis.ann.ann_activity`, :func:`~snn_helpers.interop.snntorch_harness.compare_with_snntorch`,
:func:`~snn_helpers.course.widgets.inference_demo` and :func:`~snn_helpers.course.widgets.steps_demo`.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..engine.cpu import computing
from ..system._checks import check_device, check_generator, check_int, check_loader, check_module
from ..system.runtime import get_device
from .encoding import encode_batch, poisson_encode


def device_of(model: nn.Module) -> torch.device:
    """Where ``model``'s weights are (the CPU for a model without any).

    >>> from snn_helpers import SNN
    >>> device_of(SNN((4, 2))), device_of(nn.ReLU())
    (device(type='cpu'), device(type='cpu'))
    """
    return next(model.parameters(), torch.empty(0)).device


def over_batches(model: nn.Module, loader, num_steps: int | None, step: Callable, *,
                 generator: torch.Generator | None = None, device: torch.device | None = None,
                 steps_name: str = "num_steps", dense: bool = False) -> int:
    """Call ``step(x, pixels, labels)`` for every batch of ``loader``; return how many images there were.

    Each batch's images are Poisson-encoded for ``num_steps`` steps on ``device``
    (:func:`~snn_helpers.core.encoding.encode_batch`: ``x [T, B, P]`` and ``pixels``, the
    lit pixels' indices). With ``dense``, every pixel is encoded, from the same draws
    (:func:`~snn_helpers.core.encoding.poisson_encode`: ``x [T, B, 1, 28, 28]``, and
    ``pixels=None``): for a network that takes all its inputs, such as snnTorch's. With
    ``num_steps=None`` (an ANN) nothing is encoded: ``step(images, labels)`` gets the images on
    ``device``. ``step`` runs under ``torch.no_grad()``, with the model in eval mode on
    ``device``, and with subnormals flushed and this process's share of the threads
    (:func:`~snn_helpers.engine.cpu.computing`). Afterwards, also when ``step`` raises, the model
    is back in the mode and on the device it had.

    model: an ``nn.Module`` (an :class:`~snn_helpers.core.model.SNN`); loader: yields
    ``(images [B, 1, 28, 28] in [0, 1], labels)``, at least one batch; num_steps: ``>= 1`` or
    ``None`` (``steps_name`` names it in the error); generator draws the Poisson input; device: where to
    run (default: the GPU if there is one; :func:`device_of` the model: where it is).

    >>> from snn_helpers import SNN
    >>> model = SNN((784, 8, 10)).train()
    >>> shapes = []
    >>> over_batches(model, [(torch.rand(3, 1, 28, 28), None)], 4, lambda x, pixels, labels: shapes.append(x.shape),
    ...              device="cpu")
    3
    >>> shapes[0][:2], model.training  # 4 steps of 3 images; the model is in train mode again
    (torch.Size([4, 3]), True)
    >>> _ = over_batches(model, [(torch.rand(3, 1, 28, 28), None)], 4,
    ...                  lambda x, pixels, labels: shapes.append((x.shape, pixels)), device="cpu", dense=True)
    >>> shapes[1]  # every pixel
    (torch.Size([4, 3, 1, 28, 28]), None)
    """
    check_module("model", model)
    check_loader("loader", loader)
    num_steps = None if num_steps is None else check_int(steps_name, num_steps, 1)
    check_generator("generator", generator)
    device = check_device("device", device) or get_device()
    was_training = model.training
    where = device_of(model)
    images_seen = 0
    try:
        if device != where:  # a model already there is not touched
            model.to(device)
        model.eval()
        with computing(), torch.no_grad():
            for images, labels in loader:
                if num_steps is None:
                    step(images.to(device), labels)
                elif dense:
                    step(poisson_encode(images, num_steps, generator).to(device), None, labels)
                else:
                    step(*encode_batch(images, num_steps, generator, device), labels)
                images_seen += len(images)
    finally:
        if device_of(model) != where:
            model.to(where)
        model.train(was_training)
    if images_seen == 0:
        raise ValueError("loader must yield at least one batch")
    return images_seen
