"""Argument checks shared by every public function.

Each check raises before any work is done, with a message that names the
argument and the values it accepts.
"""
from __future__ import annotations

import math
import numbers

import torch


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]`` or raise TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in {_range_text(low, high)}, got {value}")
    return value


def check_float(name: str, value, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> float:
    """Return ``value`` as a finite float in the range or raise TypeError/ValueError.

    ``low_open=True`` excludes ``low`` itself (for "must be > 0").
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        raise ValueError(f"{name} must be in {_range_text(low, high, low_open)}, got {value}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices`` or raise ValueError."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def check_tensor(name: str, value, ndim: int | tuple[int, ...] | None = None,
                 last_dims: tuple[int, ...] | None = None) -> torch.Tensor:
    """Check that ``value`` is a floating tensor with the expected rank and trailing sizes."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if value.dim() not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, "
                             f"got shape {tuple(value.shape)}")
    if last_dims is not None and tuple(value.shape[-len(last_dims):]) != tuple(last_dims):
        raise ValueError(f"{name} must end in shape {tuple(last_dims)}, got shape {tuple(value.shape)}")
    return value


def check_unit_interval(name: str, value: torch.Tensor) -> torch.Tensor:
    """Check that every entry of a tensor is a number in [0, 1] (no NaN)."""
    if torch.isnan(value).any():
        raise ValueError(f"{name} must be in [0, 1], but it contains NaN")
    if value.numel() and (value.min() < 0 or value.max() > 1):
        raise ValueError(f"{name} must be in [0, 1], got values in "
                         f"[{value.min().item():.3g}, {value.max().item():.3g}]")
    return value


def _range_text(low, high, low_open: bool = False) -> str:
    left = "(" if low_open else "["
    lo = "-inf" if low is None else low
    hi = "inf" if high is None else high
    return f"{left}{lo}, {hi}]" if high is not None else f"{left}{lo}, inf)"
