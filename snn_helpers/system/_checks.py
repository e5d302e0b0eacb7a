"""Argument checks shared by every public function.

Each check raises before any work is done, with a message that names the
argument and the values it accepts; on success it returns the value.

>>> check_int("num_steps", 25, 1)
25
>>> check_float("beta", 1.5, 0.0, 1.0)
Traceback (most recent call last):
...
ValueError: beta must be in [0.0, 1.0], got 1.5
"""
from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]`` or raise TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer in {_range_text(low, high)}, "
                        f"got {type(value).__name__} {value!r}")
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
        raise TypeError(f"{name} must be a number in {_range_text(low, high, low_open)}, "
                        f"got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number in {_range_text(low, high, low_open)}, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        raise ValueError(f"{name} must be in {_range_text(low, high, low_open)}, got {value}")
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is a bool (``True``/``False``) or raise TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def check_path(name: str, value) -> Path:
    """Return ``value`` (a str or path-like) as a ``Path`` or raise TypeError/ValueError."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or pathlib.Path), got {type(value).__name__}")
    if not str(value):
        raise ValueError(f"{name} must be a non-empty file path")
    return Path(value)


def check_file(name: str, value) -> Path:
    """Return ``value`` as the ``Path`` of an existing file or raise TypeError/ValueError."""
    path = check_path(name, value)
    if not path.is_file():
        raise ValueError(f"{name} must be an existing file, got {str(path)!r} (not found)")
    return path


def check_output_file(name: str, value) -> Path:
    """Return ``value`` as the ``Path`` of a file to write (a checkpoint, a NIR file), or raise
    TypeError/ValueError: it must be a non-empty str or path, and not an existing folder.

    >>> check_output_file("out", "model.nir").name
    'model.nir'
    >>> check_output_file("out", ".")
    Traceback (most recent call last):
    ...
    ValueError: out must be a file path, but . is a folder
    """
    path = check_path(name, value)
    if path.is_dir():
        raise ValueError(f"{name} must be a file path, but {path} is a folder")
    return path


def check_generator(name: str, value) -> torch.Generator | None:
    """Return ``value`` if it is ``None`` or a ``torch.Generator`` or raise TypeError."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(value).__name__}")
    return value


def check_device(name: str, value) -> torch.device | None:
    """Return ``value`` as a CPU or CUDA ``torch.device`` (``None`` stays ``None``) or raise
    TypeError/ValueError; a CUDA device must exist on this machine."""
    if value is None:
        return None
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be None, a str such as 'cpu' or a torch.device, got {type(value).__name__}")
    try:
        device = torch.device(value)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be a device such as 'cpu' or 'cuda', got {value!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {value!r} but no CUDA GPU is available; use 'cpu' or None")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"{name} is {value!r} but this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                         f"numbered from 0")
    return device


def check_module(name: str, value) -> nn.Module:
    """Return ``value`` if it is a ``torch.nn.Module`` or raise TypeError."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module such as SNN(), got {type(value).__name__}")
    return value


def check_sizes(name: str, value) -> tuple[int, ...]:
    """Return ``value``, a list or tuple of at least two layer sizes each >= 1, as a tuple of ints."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of layer sizes such as (784, 512, 256, 10), "
                        f"got {type(value).__name__}")
    if len(value) < 2:
        raise ValueError(f"{name} must list at least an input and an output size, got {tuple(value)}")
    return tuple(check_int(f"{name}[{i}]", n, 1) for i, n in enumerate(value))


def check_loader(name: str, value, sized: bool = False):
    """Return ``value`` if it is iterable and, when it has a length, not empty.

    ``sized=True`` also requires ``len(value)`` (``fit`` needs the number of batches per epoch).
    """
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes, torch.Tensor)):
        raise TypeError(f"{name} must be an iterable of (images, labels) batches such as a "
                        f"BatchLoader, got {type(value).__name__}")
    if sized and not hasattr(value, "__len__"):
        raise TypeError(f"{name} must have a length (len() gives the batches per epoch), such as a "
                        f"BatchLoader or a list of batches, got {type(value).__name__}")
    if hasattr(value, "__len__") and len(value) == 0:
        raise ValueError(f"{name} must yield at least one batch, got an empty {type(value).__name__}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices`` or raise ValueError."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def float_array(name: str, value, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """A tensor (or numpy array) of any number type as a float numpy array, checked for rank
    (``ndim`` as for :func:`check_tensor`); a TypeError naming ``name`` for anything else."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, torch.Tensor) and not value.is_floating_point():
        value = value.float()
    check_tensor(name, value, ndim=ndim)
    return value.detach().cpu().numpy()


def check_tensor(name: str, value, ndim: int | tuple[int, ...] | None = None,
                 last_dims: tuple[int, ...] | None = None, integer: bool = False) -> torch.Tensor:
    """Return ``value`` if it is a floating (``integer=True``: integer) tensor of the expected rank.

    ndim: allowed numbers of dimensions (``None``: any). last_dims: required trailing sizes.

    >>> check_tensor("images", torch.zeros(2, 1, 28, 28), last_dims=(28, 28)).shape
    torch.Size([2, 1, 28, 28])
    >>> check_tensor("labels", torch.zeros(2), integer=True)
    Traceback (most recent call last):
    ...
    TypeError: labels must be an integer tensor, got dtype torch.float32
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor, got dtype {value.dtype}")
    if not integer and not value.is_floating_point():
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
    """Return ``value`` if every entry is a number in [0, 1] (no NaN), checked in one pass."""
    if not value.numel():
        return value
    low, high = torch.aminmax(value)  # a NaN anywhere makes both NaN
    if low.isnan():
        raise ValueError(f"{name} must be in [0, 1], but it contains NaN")
    if low < 0 or high > 1:
        raise ValueError(f"{name} must be in [0, 1], got values in [{low.item():.3g}, {high.item():.3g}]")
    return value


def _range_text(low, high, low_open: bool = False) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high is None else "]"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
