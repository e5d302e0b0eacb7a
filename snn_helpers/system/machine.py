"""The machine a figure was measured on: CPU model, vendor, vector extensions and cores.

The benchmark, the results file (:mod:`~snn_helpers.course.results`) and the cache of
``auto``'s engine choice (:mod:`~snn_helpers.engine.backend`) record or key on it.
It reads ``/proc/cpuinfo`` on Linux and falls back to :mod:`platform` elsewhere.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

# The instruction-set flags that change how fast (or how) the products and kernels run.
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "avx512_fp16")


def cpu_info(cpuinfo: str | Path = "/proc/cpuinfo") -> dict:
    """The CPU as a dict: ``model`` (its name), ``vendor``, ``flags`` (those of :data:`VECTOR_FLAGS`
    it has, in that order), ``cores`` (logical CPUs this process may run on) and ``machine``
    (``x86_64``, ``arm64``, ...).

    cpuinfo: the file to read (a test passes its own); where it cannot be read, ``model`` is
    :func:`platform.processor` and ``flags`` is empty.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     fake = Path(folder) / "cpuinfo"
    ...     _ = fake.write_text("vendor_id\\t: AuthenticAMD\\nmodel name\\t: AMD EPYC 9B45\\nflags\\t\\t: fpu avx2 fma avx512f\\n")
    ...     info = cpu_info(fake)
    >>> info["model"], info["vendor"], info["flags"]
    ('AMD EPYC 9B45', 'AuthenticAMD', ['avx2', 'fma', 'avx512f'])
    """
    fields = {}
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", fields.get("Features", "")).split())
    return {"model": fields.get("model name") or platform.processor() or platform.machine(),
            "vendor": fields.get("vendor_id", ""),
            "flags": [flag for flag in VECTOR_FLAGS if flag in flags],
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "machine": platform.machine()}
