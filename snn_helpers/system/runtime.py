"""Device choice and timing: the bottom layer, imports only torch and the standard library."""
from __future__ import annotations

import time

import torch


def get_device() -> torch.device:
    """The GPU when one is available, otherwise the CPU. The one place this is chosen.

    Returns ``torch.device("cuda")`` when :func:`torch.cuda.is_available`, else
    ``torch.device("cpu")``; put a model and its inputs there with ``.to(device)``.

    >>> from unittest import mock
    >>> with mock.patch.object(torch.cuda, "is_available", return_value=False):  # a machine without a GPU
    ...     get_device()
    device(type='cpu')
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Timer:
    """Wall-clock seconds of a ``with`` block, measured with :func:`time.perf_counter`.

    After the block, ``seconds`` holds the elapsed time (a float >= 0), also when
    the block raised.

    >>> with Timer() as clock:
    ...     time.sleep(0.01)
    >>> clock.seconds >= 0.01
    True
    """

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start
