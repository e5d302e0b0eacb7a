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
    num_steps = check_int("num_steps", num_steps, 1)
    check_tensor("images", images)
    check_unit_interval("images", images)
    check_generator("generator", generator)
    # Intensity 1 always fires and 0 never does, so only the pixels strictly in between
    # need random numbers: about a fifth of MNIST's pixels.
    probs = images.reshape(-1)
    spikes = (probs >= 1).to(images.dtype).expand(num_steps, -1).contiguous()
    drawn = ((probs > 0) & (probs < 1)).nonzero().squeeze(1)
    noise = torch.rand((num_steps, drawn.numel()), generator=generator,
                       device=images.device, dtype=images.dtype)
    spikes.index_copy_(1, drawn, (noise < probs[drawn]).to(images.dtype))
    return spikes.view(num_steps, *images.shape)
