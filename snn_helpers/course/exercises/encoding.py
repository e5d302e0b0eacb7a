"""Checks for the exercises of notebook 01 (spike encoding).

``check_rate_encoder(my_rate_encode)`` judges a rate encoder by statistics;
``check_latency_encoder(my_latency_encode)`` compares a latency encoder with
:func:`snn_helpers.latency_encode`, which it must match exactly.
"""
from __future__ import annotations

import math

import torch

from ...core import encoding
from ...core.encoding import latency_encode
from . import attempt, exercise, expect, fail, passed

__all__ = ["check_rate_encoder", "check_latency_encoder"]

LEVELS = torch.linspace(0, 1, 21)  # the intensities the rate check feeds in
COPIES = 40                        # pixels per intensity
RATE_STEPS = 200                   # time steps of the rate check
SDS = 5                            # tolerance in binomial standard deviations
STEPS_HINT = ("each call of torch.rand gives fresh numbers, but only as many as its shape asks for; count how "
              "many random numbers your code draws per pixel")
PIXELS_HINT = ("a random number shared by several pixels makes them fire together; count how many random "
               "numbers your code draws per step")


@exercise(encoding.poisson_encode, encoding.encode, encoding.encode_batch)
def check_rate_encoder(encode) -> None:
    """Check ``encode(images, num_steps)`` as a rate encoder.

    It must return float spikes ``[num_steps, *images.shape]`` of 0s and 1s;
    black pixels never fire, white ones always; every pixel fires with
    probability equal to its intensity (within 5 binomial standard deviations),
    with a fresh draw for every step and every pixel. Prints one ✓ line or raises
    :class:`~snn_helpers.course.exercises.ExerciseError` saying what is wrong.

    >>> def always_on(images, num_steps):  # a wrong answer
    ...     return torch.ones(num_steps, *images.shape)
    >>> check_rate_encoder(always_on)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: black pixels (intensity 0) fired 8000 times in 200 steps; they must never fire
    """
    images = LEVELS.repeat(COPIES, 1)  # [COPIES, levels]: every intensity COPIES times
    with torch.random.fork_rng():      # reproducible verdicts, the notebook's random state untouched
        torch.manual_seed(0)
        spikes = attempt(encode, images.clone(), RATE_STEPS)
    name = getattr(encode, "__name__", "your encoder")
    _check_spike_tensor(spikes, images, RATE_STEPS, name)

    black, white = spikes[:, :, 0], spikes[:, :, -1]
    expect(black.sum() == 0, "black fires", f"black pixels (intensity 0) fired {int(black.sum())} times in "
                                            f"{RATE_STEPS} steps; they must never fire",
           "at intensity 0 the probability of a spike is 0: which comparison with a uniform random number "
           "is never true for x = 0?")
    expect(white.sum() == white.numel(), "white silent",
           f"white pixels (intensity 1) fired only {white.mean().item():.2f} of the time; they must fire at "
           f"every step", "at intensity 1 the probability of a spike is 1: which comparison with a uniform "
                          "random number in [0, 1) is always true for x = 1?")

    inner = (LEVELS > 0.2) & (LEVELS < 0.8)
    middle = spikes[:, :, inner]                                    # [T, COPIES, k]: intensities 0.25 ... 0.75
    frozen = (middle == middle[:1]).all(0).float().mean().item()    # trains that never change
    expect(frozen < 0.5, "frozen steps",
           f"the steps are not independent: {frozen:.0%} of the pixels of intensity between 0.2 and 0.8 do the "
           f"same thing (fire, or stay silent) in all {RATE_STEPS} steps; with a fresh random draw at every "
           f"step that practically never happens", STEPS_HINT)
    lockstep = (middle == middle[:, :1]).all(1).float().mean().item()  # steps where equal pixels all agree
    expect(lockstep < 0.5, "pixels together",
           f"the pixels are not independent: at {lockstep:.0%} of the steps all {COPIES} pixels of the same "
           f"intensity (between 0.2 and 0.8) fire together or stay silent together; independent pixels would "
           f"almost never all agree", PIXELS_HINT)
    q = middle.mean(dim=(0, 1))                                     # the rate it fires at, per intensity
    expected = (q ** 2 + (1 - q) ** 2).mean().item()                # P(two independent draws agree)
    spread = max(SDS * math.sqrt(0.25 / middle[1:].numel()), 0.02)
    together = (middle[:, 1:] == middle[:, :1]).float().mean().item()
    expect(abs(together - expected) <= spread, "pixels together",
           f"the pixels are not independent: at a given step, pixels of the same intensity between 0.2 and 0.8 "
           f"agree {together:.0%} of the time, but with one draw per pixel they would agree about {expected:.0%} of "
           f"the time", PIXELS_HINT)
    repeats = (middle[1:] == middle[:-1]).float().mean().item()
    expect(abs(repeats - expected) <= spread, "frozen steps",
           f"the steps are not independent: a pixel of intensity between 0.2 and 0.8 repeats its previous step "
           f"{repeats:.0%} of the time, but with a fresh random draw at every step it would repeat about "
           f"{expected:.0%} of the time", STEPS_HINT)
    trials = RATE_STEPS * COPIES
    rate = spikes.mean(dim=(0, 1))                                  # [levels]
    tolerance = SDS * torch.sqrt(LEVELS * (1 - LEVELS) / trials) + 1e-6
    off = (rate - LEVELS).abs() - tolerance
    worst = int(off.argmax())
    expect(off[worst] <= 0, "wrong rate",
           f"your encoder fires {rate[worst].item():.3f} of the time for a pixel of intensity "
           f"{LEVELS[worst].item():.2f}; it should be within ±{tolerance[worst].item():.3f} of "
           f"{LEVELS[worst].item():.2f}", "a uniform random number in [0, 1) is below x with probability x; "
                                          "is that the comparison your code makes?")

    passed(f"{name} fires at the rate of each pixel's intensity (worst of {len(LEVELS)} levels off by "
           f"{(rate - LEVELS).abs().max().item():.3f}), never for black, always for white, with fresh draws "
           f"for every step and pixel")


@exercise(latency_encode, encoding.encode)
def check_latency_encoder(encode) -> None:
    """Check ``encode(images, num_steps)`` against :func:`snn_helpers.latency_encode`.

    Every lit pixel (intensity ``x > 0``) must fire exactly once, at step
    ``round((1 - x) * (num_steps - 1))``; black pixels never fire. Tried with 10,
    25 and 1 steps on every intensity ``k / 255``.

    >>> def silent(images, num_steps):  # a wrong answer
    ...     return torch.zeros(num_steps, *images.shape)
    >>> check_latency_encoder(silent)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: with 10 steps 255 lit pixels never fired, e.g. intensity 0.004; ...
    """
    images = torch.arange(256.0).div(255).reshape(16, 16)  # every MNIST intensity k / 255
    name = getattr(encode, "__name__", "your encoder")
    for num_steps in (10, 25, 1):
        spikes = attempt(encode, images.clone(), num_steps)
        _check_spike_tensor(spikes, images, num_steps, name)
        counts = spikes.sum(0)
        black = images == 0
        expect(counts[black].sum() == 0, "black fires",
               f"with {num_steps} steps the black pixel (intensity 0) fired {int(counts[black].sum())} time(s); "
               f"black pixels must never fire", "the formula gives a step for x = 0 too (the last one); "
                                                 "which pixels must be left out?")
        several = counts > 1
        if several.any():
            fail("several spikes", f"with {num_steps} steps a pixel of intensity {images[several][0].item():.3f} "
                                   f"fired {int(counts[several][0])} times; in a latency code every pixel fires "
                                   f"at most once", "a pixel fires at the one step equal to its firing step; "
                                                    "which comparison is true at one step only?")
        silent = (counts == 0) & ~black
        if silent.any():
            fail("never fires", f"with {num_steps} steps {int(silent.sum())} lit pixels never fired, e.g. "
                                f"intensity {images[silent][0].item():.3f}; every pixel with intensity > 0 must "
                                f"fire once", f"the steps run from 0 to num_steps - 1 = {num_steps - 1}; print "
                                              f"the firing step your code computes for that pixel")
        fired = spikes.argmax(0)                    # the step of each pixel's spike
        wanted = latency_encode(images, num_steps).argmax(0)
        wrong = (fired != wanted) & ~black
        if wrong.any():
            lit = ~black
            trend = torch.corrcoef(torch.stack([images[lit], fired[lit].float()]))[0, 1].item()
            pixel = tuple(wrong.nonzero()[0].tolist())
            x = images[pixel].item()
            seen = (f"with {num_steps} steps {int(wrong.sum())} of {int(lit.sum())} lit pixels fire at the "
                    f"wrong step: ")
            where = (f"a pixel of intensity {x:.3f} should fire at step {int(wanted[pixel])} (round((1 - {x:.3f}) "
                     f"× {num_steps - 1}) = round({(1 - x) * (num_steps - 1):.2f})) but yours fires at step "
                     f"{int(fired[pixel])}")
            if trend > 0.5:
                fail("bright late", f"{seen}bright pixels fire late, but they must fire early; {where}",
                     "the brightest pixel, x = 1, fires first, at step 0: work your formula out at x = 1")
            fail("wrong step", seen + where,
                 "look at the fractional part of the number in round(...) above and at the step you got: "
                 "Python's int() and torch.floor() cut the fraction off")
    passed(f"{name} matches snn_helpers.latency_encode: every lit pixel fires once, brighter ones earlier, "
           f"black ones never")


def _check_spike_tensor(spikes, images: torch.Tensor, num_steps: int, name: str) -> None:
    """Type, shape, dtype and 0/1 values, each with a message saying what came back."""
    expect(isinstance(spikes, torch.Tensor), "not a tensor",
           f"{name} should return a torch.Tensor, got {type(spikes).__name__}",
           "torch operations on a tensor give a tensor; what does your last line return?")
    shape = (num_steps, *images.shape)
    expect(tuple(spikes.shape) == shape, "shape",
           f"{name} returned shape {list(spikes.shape)} for images of shape {list(images.shape)} and "
           f"num_steps={num_steps}; expected {list(shape)} = [num_steps, *images.shape]",
           "the time dimension comes first, then the image's own dimensions: print the shape of each tensor "
           "on the way")
    expect(spikes.is_floating_point(), "dtype", f"{name} returned dtype {spikes.dtype}; spikes are floats, "
                                                f"0.0 and 1.0",
           "a comparison such as a < b gives True/False; tensors have a method that turns them into numbers")
    odd = spikes[(spikes != 0) & (spikes != 1)]
    if odd.numel():
        fail("not 0 or 1", f"{name} returned {odd.numel()} values that are neither 0 nor 1, e.g. "
                           f"{odd[0].item():.3f}; spikes are 0 or 1",
             "a spike is the result of a comparison (fire or not), not the probability itself")
