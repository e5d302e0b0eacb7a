"""Device choice, the CPU's name and timing: the bottom layer, imports only torch and the standard library."""
from __future__ import annotations

import platform
import time
from pathlib import Path

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


def cpu_name() -> str:
    """The CPU as the system names it: on Linux the first ``model name`` of ``/proc/cpuinfo`` and its
    family and model numbers (``"AMD EPYC (family 26, model 2)"``: a virtual machine may report no
    more of the name, and the family tells the generation: 26 is AMD's Zen 5, 6 most of Intel's cores),
    else :func:`platform.processor`, else the architecture (:func:`platform.machine`).

    >>> from unittest import mock
    >>> cpuinfo = "model name : AMD EPYC\\ncpu family : 26\\nmodel : 2\\nmodel name : AMD EPYC\\n"
    >>> with mock.patch.object(Path, "read_text", return_value=cpuinfo):
    ...     cpu_name()
    'AMD EPYC (family 26, model 2)'
    """
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    fields = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    if fields.get("model name"):
        numbers = f" (family {fields['cpu family']}, model {fields['model']})" if "cpu family" in fields else ""
        return fields["model name"] + numbers
    return platform.processor() or platform.machine() or "unknown CPU"


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
