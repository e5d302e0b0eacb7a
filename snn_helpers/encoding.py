"""Poisson rate coding: pixel intensity becomes a spike probability per time step."""
from __future__ import annotations

import torch

from ._checks import check_generator, check_int, check_tensor, check_unit_interval


def poisson_encode(images: torch.Tensor, num_steps: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Turn intensities into spike trains.

    At every step each pixel fires independently with probability equal to its
    intensity, so its firing rate over many steps tends to the intensity.

    images: ``[B, 1, 28, 28]`` (any shape works) with values in [0, 1].
    Returns float spikes (0.0 or 1.0) of shape ``[num_steps, *images.shape]``,
    e.g. ``[T, B, 1, 28, 28]``.
    """
    num_steps = _check(images, num_steps, generator)
    return _draw(images.reshape(-1), num_steps, generator).view(num_steps, *images.shape)


def encode_lit(images: torch.Tensor, num_steps: int,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Poisson spikes of only the pixels that are lit (> 0) in some image of the batch.

    images: ``[B, ...]`` with values in [0, 1], e.g. ``[B, 1, 28, 28]``.
    Returns ``(spikes [T, B, P], pixels [P])``: ``pixels`` holds the flattened
    indices of the ``P`` lit pixels, ``spikes[..., j]`` is the train of pixel
    ``pixels[j]``. The other pixels are black in every image, so they never fire
    and a network can leave them out (:meth:`SNN.forward` takes ``features=pixels``):
    on MNIST that is about a third of the input. It draws the same random numbers
    as :func:`poisson_encode`, so ``spikes`` equals ``poisson_encode(images, T,
    generator).flatten(2)[..., pixels]`` for the same generator state.
    """
    num_steps = _check(images, num_steps, generator)
    flat = images.reshape(len(images), -1)
    pixels = flat.amax(0).nonzero().squeeze(1)
    lit = flat.index_select(1, pixels)
    return _draw(lit.reshape(-1), num_steps, generator).view(num_steps, *lit.shape), pixels


def _check(images, num_steps, generator) -> int:
    num_steps = check_int("num_steps", num_steps, 1)
    check_tensor("images", images)
    check_unit_interval("images", images)
    check_generator("generator", generator)
    return num_steps


def _draw(probs: torch.Tensor, num_steps: int, generator) -> torch.Tensor:
    """Spikes ``[T, N]`` for the intensities ``probs [N]``.

    Intensity 1 always fires and 0 never does, so only the pixels strictly in
    between take random numbers (about a fifth of MNIST's pixels), in order.
    """
    drawn = ((probs > 0) & (probs < 1)).nonzero().squeeze(1)
    noise = torch.rand((num_steps, drawn.numel()), generator=generator, device=probs.device, dtype=probs.dtype)
    spikes = torch.zeros((num_steps, probs.numel()), device=probs.device, dtype=probs.dtype)
    spikes.index_fill_(1, (probs >= 1).nonzero().squeeze(1), 1.0)
    return spikes.index_copy_(1, drawn, (noise < probs[drawn]).to(probs.dtype))
