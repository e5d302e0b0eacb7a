"""The machine a figure was measured on: CPU name, family and model, vendor, vector extensions and cores.

The one reader of ``/proc/cpuinfo``. The benchmark, the results file
(:mod:`~snn_helpers.course.results`), notebook A1 and the cache of ``auto``'s engine
choice (:mod:`~snn_helpers.engine.backend`) record, print or key on what it finds.
Where the file cannot be read (not Linux), it falls back to :mod:`platform`.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")

# The instruction-set flags that change how fast (or how) the products and kernels run.
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "avx512_fp16")


def _fields(cpuinfo) -> dict[str, str]:
    """The first value of each ``key : value`` line of ``cpuinfo`` (the first CPU's); empty where unreadable."""
    fields = {}
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_info(cpuinfo: str | Path = CPUINFO) -> dict:
    """The CPU as a dict:

    - ``model``: its name with its family and model numbers, ``"AMD EPYC (family 25, model 17)"``.
      A virtual machine may report no more of the name than that, and the numbers tell the
      generation (AMD's family 25 is Zen 3 and Zen 4, 26 is Zen 5; most of Intel's cores are family 6);
    - ``vendor``; ``flags``: those of :data:`VECTOR_FLAGS` it has, in that order;
    - ``cores``: logical CPUs this process may run on; ``machine``: ``x86_64``, ``arm64``, ...

    cpuinfo: the file to read (a test passes its own); where it cannot be read, ``model`` is
    :func:`platform.processor` (else the architecture) and ``flags`` is empty.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     fake = Path(folder) / "cpuinfo"
    ...     _ = fake.write_text("vendor_id\\t: AuthenticAMD\\ncpu family\\t: 26\\nmodel\\t\\t: 2\\n"
    ...                         "model name\\t: AMD EPYC 9B45\\nflags\\t\\t: fpu avx2 fma avx512f\\n")
    ...     info = cpu_info(fake)
    >>> info["model"], info["vendor"], info["flags"]
    ('AMD EPYC 9B45 (family 26, model 2)', 'AuthenticAMD', ['avx2', 'fma', 'avx512f'])
    """
    fields = _fields(cpuinfo)
    flags = set(fields.get("flags", fields.get("Features", "")).split())
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return {"model": name,
            "vendor": fields.get("vendor_id", ""),
            "flags": [flag for flag in VECTOR_FLAGS if flag in flags],
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "machine": platform.machine()}


def cpu_name(cpuinfo: str | Path = CPUINFO) -> str:
    """The CPU as a reader should see it next to a figure: :func:`cpu_info`'s ``model``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     fake = Path(folder) / "cpuinfo"
    ...     _ = fake.write_text("model name : AMD EPYC\\ncpu family : 25\\nmodel : 17\\nmodel name : AMD EPYC\\n")
    ...     cpu_name(fake)
    'AMD EPYC (family 25, model 17)'
    """
    return cpu_info(cpuinfo)["model"]


def cpu_key(cpuinfo: str | Path = CPUINFO) -> str:
    """What compiled code and timings depend on, as text: each distinct ``model name``, ``cpu family``,
    ``model`` and ``flags`` line of ``cpuinfo``, sorted (else :func:`platform.processor`).

    >>> import tempfile
    >>> core = "model name : X\\nmodel : 17\\nflags : avx\\n"
    >>> two_cores = "processor : 0\\n" + core + "processor : 1\\n" + core
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     fake = Path(folder) / "cpuinfo"
    ...     _ = fake.write_text(two_cores)
    ...     print(cpu_key(fake))
    flags : avx
    model : 17
    model name : X
    """
    try:
        lines = Path(cpuinfo).read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    keep = {line for line in lines if line.partition(":")[0].strip() in ("model name", "cpu family", "model", "flags")}
    return "\n".join(sorted(keep))
