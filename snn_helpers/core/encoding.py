"""Three ways to turn pixel intensities in [0, 1] into spikes.

* :func:`poisson_encode` (rate code): a pixel fires at each step with
  probability equal to its intensity.
* :func:`latency_encode` (time-to-first-spike code): a lit pixel fires once,
  brighter pixels earlier.
* :func:`delta_encode` (delta code): the image moves along a small triangle,
  one pixel per step, and a pixel fires where its intensity changes.
"""
from __future__ import annotations

import torch
from torch.nn import functional

from ..engine import kernels
from ..system._checks import check_choice, check_float, check_generator, check_int, check_tensor, check_unit_interval

# Offsets (down, right) of the image at steps 0, 1, 2, 3, ... (period 3): the digit moves right,
# then down and left, then up, back where it started, like the three saccades of N-MNIST.
SACCADE = ((0, 0), (0, 1), (1, 0))
CODE_NAMES = ("rate", "latency", "delta")


def encode(images: torch.Tensor, num_steps: int, code: str = "rate",
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Spikes ``[num_steps, *images.shape]`` of ``images`` under one of the codes in ``CODE_NAMES``.

    ``rate``: :func:`poisson_encode` (the only random one, drawing from
    ``generator``); ``latency``: :func:`latency_encode`; ``delta``:
    :func:`delta_encode` with its default threshold.

    images: any shape (at least ``[H, W]`` for ``delta``), values in [0, 1];
    num_steps: ``T >= 1``; generator: a CPU ``torch.Generator`` or None (the global one).
    Returns float spikes of shape ``[num_steps, *images.shape]``: 0.0/1.0, and
    also -1.0 (OFF spikes) for ``delta``.

    >>> images = torch.tensor([[0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    >>> for code in CODE_NAMES:
    ...     spikes = encode(images, 4, code, torch.Generator().manual_seed(0))
    ...     print(code, tuple(spikes.shape), spikes.abs().sum().item())
    rate (4, 2, 3) 11.0
    latency (4, 2, 3) 3.0
    delta (4, 2, 3) 13.0
    """
    check_choice("code", code, CODE_NAMES)
    if code == "rate":
        return poisson_encode(images, num_steps, generator)
    check_generator("generator", generator)
    return latency_encode(images, num_steps) if code == "latency" else delta_encode(images, num_steps)


def poisson_encode(images: torch.Tensor, num_steps: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Turn intensities into spike trains by rate coding.

    At every step each pixel fires independently with probability equal to its
    intensity, ``S[t] ~ Bernoulli(x)``, so its firing rate over many steps tends
    to the intensity. This is one Bernoulli draw per pixel and step; it behaves
    like a Poisson process only for small ``x`` (a pixel at 1 fires at every
    step, with no variability at all). The field calls it "Poisson encoding"
    because, in the limit of short steps, Bernoulli draws become a Poisson
    process with rate proportional to ``x``.

    images: ``[B, 1, 28, 28]`` (any shape works) with values in [0, 1].
    Returns float spikes (0.0 or 1.0) of shape ``[num_steps, *images.shape]``,
    e.g. ``[T, B, 1, 28, 28]``.

    >>> spikes = poisson_encode(torch.tensor([0.0, 0.5, 1.0]), 4, torch.Generator().manual_seed(0))
    >>> spikes.shape, spikes[:, 0].sum().item(), spikes[:, 2].sum().item()
    (torch.Size([4, 3]), 0.0, 4.0)
    """
    num_steps = _check(images, num_steps, generator)
    return _draw(images.reshape(-1), num_steps, generator).view(num_steps, *images.shape)


def latency_encode(images: torch.Tensor, num_steps: int) -> torch.Tensor:
    """Turn intensities into single spikes whose time encodes the intensity.

    A pixel of intensity ``x > 0`` fires exactly once, at step

        ``t(x) = round((1 - x) * (num_steps - 1))``,

    so a white pixel (``x = 1``) fires at step 0 and the faintest pixels near the
    last step ``num_steps - 1``; a black pixel (``x = 0``) never fires. (``round``
    is ``torch.round``, halves to even; for MNIST intensities ``k / 255`` no half
    occurs.) The map is linear, like snnTorch's ``spikegen.latency(...,
    linear=True, normalize=True)``, except that black pixels stay silent
    (snnTorch fires them at the last step unless ``clip=True``). With one step every
    lit pixel fires at step 0.

    images: any shape, e.g. ``[B, 1, 28, 28]``, values in [0, 1].
    Returns float spikes (0.0 or 1.0) of shape ``[num_steps, *images.shape]``,
    at most one spike per pixel.

    >>> latency_encode(torch.tensor([1.0, 0.5, 0.2, 0.0]), 5).T
    tensor([[1., 0., 0., 0., 0.],
            [0., 0., 1., 0., 0.],
            [0., 0., 0., 1., 0.],
            [0., 0., 0., 0., 0.]])
    """
    num_steps = _check(images, num_steps)
    first = torch.round((1 - images) * (num_steps - 1))  # the step each pixel fires at
    steps = torch.arange(num_steps, device=images.device, dtype=images.dtype).view(-1, *[1] * images.dim())
    return ((steps == first) & (images > 0)).to(images.dtype)


def delta_encode(images: torch.Tensor, num_steps: int, threshold: float = 0.1) -> torch.Tensor:
    """Turn a static image into ON/OFF spikes by moving it and reporting changes.

    A delta code fires only where its input changes, so a still image says
    nothing. Like the saccades used to record N-MNIST (Orchard et al. 2015),
    the image moves one pixel per step around a small triangle, ``SACCADE``:
    at step ``t`` it moves from offset ``p(t)`` to ``p(t + 1)``, where
    ``p(t) = SACCADE[t % 3]`` = (down, right) offsets (0, 0), (0, 1), (1, 0)
    (right; down and left; up). The frame seen at offset ``(a, b)`` is
    ``F[r, c] = x[r - a, c - b]`` (0 outside the image). Pixel ``(r, c)`` fires

        ``S[t] = +1`` (ON)  if ``F_{p(t+1)}[r, c] - F_{p(t)}[r, c] >  threshold``,
        ``S[t] = -1`` (OFF) if ``F_{p(t+1)}[r, c] - F_{p(t)}[r, c] < -threshold``,

    else 0, as snnTorch's ``spikegen.delta(..., off_spike=True)`` writes them.
    The spikes repeat with period 3; ``spikes.clamp(min=0)`` and
    ``(-spikes).clamp(min=0)`` split them into an ON and an OFF channel.

    images: ``[..., H, W]`` (at least 2 dimensions, e.g. ``[B, 1, 28, 28]``),
    values in [0, 1]. threshold: in [0, 1]; a change must exceed it.
    Returns spikes in {-1.0, 0.0, 1.0} of shape ``[num_steps, *images.shape]``.

    >>> bar = torch.zeros(3, 4); bar[:, 1] = 1.0       # a vertical bar in column 1
    >>> delta_encode(bar, 1)[0]                          # it moves right: ON at column 2, OFF at 1
    tensor([[ 0., -1.,  1.,  0.],
            [ 0., -1.,  1.,  0.],
            [ 0., -1.,  1.,  0.]])
    """
    num_steps = _check(images, num_steps)
    threshold = check_float("threshold", threshold, 0.0, 1.0)
    if images.dim() < 2:
        raise ValueError(f"images must have at least 2 dimensions (..., height, width), "
                         f"got shape {tuple(images.shape)}")
    frames = [_shifted(images, *offset) for offset in SACCADE]
    changes = torch.stack([frames[(t + 1) % 3] - frames[t] for t in range(3)])  # [3, *images.shape]
    moves = changes[torch.arange(num_steps, device=images.device) % 3]
    return (moves > threshold).to(images.dtype) - (moves < -threshold).to(images.dtype)


def _shifted(images: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``images`` moved ``down`` rows and ``right`` columns (each 0 or 1), zeros moving in."""
    height, width = images.shape[-2:]
    padded = functional.pad(images, (1, 1, 1, 1))
    return padded[..., 1 - down:1 - down + height, 1 - right:1 - right + width]


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
    num_steps: ``T >= 1``; generator: a CPU ``torch.Generator`` or None (the global one).

    >>> images = torch.tensor([[0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])  # pixel 0 is black in both
    >>> spikes, pixels = encode_lit(images, 4, torch.Generator().manual_seed(0))
    >>> spikes.shape, pixels.tolist()
    (torch.Size([4, 2, 2]), [1, 2])
    >>> torch.equal(spikes, poisson_encode(images, 4, torch.Generator().manual_seed(0))[..., pixels])
    True
    """
    num_steps = _check(images, num_steps, generator)
    flat = images.reshape(len(images), -1)
    pixels = flat.amax(0).nonzero().squeeze(1)
    lit = flat.index_select(1, pixels)
    return _draw(lit.reshape(-1), num_steps, generator, compiled=True).view(num_steps, *lit.shape), pixels


def encode_batch(images: torch.Tensor, num_steps: int, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """A batch's input to :meth:`SNN.scores`: :func:`encode_lit`'s spikes and pixel indices, moved to ``device``.

    The spikes are drawn where ``images`` are (the CPU for a loader's batches,
    from the CPU ``generator``), so the same generator gives the same spikes on
    every device; ``model.scores(*encode_batch(images, T, g, device))`` equals
    ``model.scores(poisson_encode(images, T, g).to(device))`` for the same state of ``g``.

    images: ``[B, ...]`` with values in [0, 1], e.g. ``[B, 1, 28, 28]``.
    num_steps: ``T >= 1``. device: where the network runs.
    Returns ``(spikes [T, B, P], pixels [P])`` on ``device``.

    >>> images = torch.tensor([[0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    >>> spikes, pixels = encode_batch(images, 4, torch.Generator().manual_seed(0))
    >>> spikes.shape, pixels.tolist()
    (torch.Size([4, 2, 2]), [1, 2])
    """
    spikes, pixels = encode_lit(images, num_steps, generator)
    return spikes.to(device, non_blocking=True), pixels.to(device)


def _check(images, num_steps, generator=None) -> int:
    num_steps = check_int("num_steps", num_steps, 1)
    check_tensor("images", images)
    check_unit_interval("images", images)
    check_generator("generator", generator)
    return num_steps


def _draw(probs: torch.Tensor, num_steps: int, generator, compiled: bool = False) -> torch.Tensor:
    """Spikes ``[T, N]`` for the intensities ``probs [N]``.

    Intensity 1 always fires and 0 never does, so only the pixels strictly in
    between take random numbers (about a fifth of MNIST's pixels), in order.
    With ``compiled`` (training's encoder, :func:`encode_lit`), where the compiled
    kernels take ``probs`` (fp32 on the CPU), they turn the draws into spikes
    (:func:`~snn_helpers.engine.kernels.poisson_spikes`, each written once) and draw them
    (:func:`~snn_helpers.engine.kernels.rand`, torch.rand's numbers); elsewhere torch draws and
    scatters them. Same draws, same comparisons: the same spikes. :func:`poisson_encode`
    stays in torch, so that notebook 01 neither builds nor needs the kernels.
    """
    between = (probs > 0) & (probs < 1)
    if compiled and probs.device.type == "cpu" and probs.dtype == torch.float32 and kernels.library() is not None:
        drawn = int(torch.count_nonzero(between))
        return kernels.poisson_spikes(probs, kernels.rand((num_steps, drawn), generator))
    drawn = between.nonzero().squeeze(1)
    noise = torch.rand((num_steps, drawn.numel()), generator=generator, device=probs.device, dtype=probs.dtype)
    spikes = torch.zeros((num_steps, probs.numel()), device=probs.device, dtype=probs.dtype)
    spikes.index_fill_(1, (probs >= 1).nonzero().squeeze(1), 1.0)
    return spikes.index_copy_(1, drawn, (noise < probs[drawn]).to(probs.dtype))
