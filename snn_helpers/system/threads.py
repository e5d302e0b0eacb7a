"""This process's share of the machine, and how OpenMP's threads wait: the bottom layer, standard library only.

Importing this module loads no torch, so ``snn_helpers/__init__.py`` can call
:func:`quiet_spinning` before torch loads OpenMP (libgomp reads its settings once,
when it loads).

- :func:`thread_share`: how many threads this process should compute with. The
  smallest of the limits :func:`cpu_limits` finds wins: ``CPU_LIMIT`` (JupyterHub's
  spawners export the user's ``c.Spawner.cpu_limit`` under that name), the cgroup
  CPU quota (what Kubernetes and Docker enforce: cgroup v2 ``cpu.max``, v1
  ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), the CPUs this process may run on
  (``os.sched_getaffinity``) and ``OMP_NUM_THREADS`` where it is set.
  :func:`snn_helpers.engine.cpu.computing` applies it around the package's work.
- :func:`quiet_spinning`: libgomp's threads spin for a while when they run out of
  work, waiting for the next parallel loop. With several students' processes on a
  few cores, that spinning takes the cores their neighbours are waiting for.
  ``GOMP_SPINCOUNT`` shortens it.
"""
from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

CPU_LIMIT_ENV = "CPU_LIMIT"
SPIN_ENV = "GOMP_SPINCOUNT"
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
SPIN_COUNT = 10000  # libgomp's default is 300000; Makefile's lab target repeats this number (a test checks)
_V2_MOUNTS = ("sys/fs/cgroup", "sys/fs/cgroup/unified")
_V1_MOUNTS = ("sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpuacct,cpu")


def cpu_limits(root="/", environ=None) -> dict[str, float]:
    """Every limit on this process's CPUs that is set, in CPUs: ``{source: CPUs}``.

    The sources, each present only where it is set:

    - ``"CPU_LIMIT"``: the environment variable, a positive number of CPUs (``"0.5"``,
      ``"2"``); anything else (``"abc"``, ``"-1"``, ``"0"``) is left out with a
      ``RuntimeWarning`` that names it;
    - ``"cgroup cpu.max"`` (v2: ``"QUOTA PERIOD"``, or ``"max PERIOD"`` for none) and
      ``"cgroup cpu.cfs_quota_us"`` (v1: quota ``-1`` for none), as quota / period;
      the smallest over this process's cgroup (from ``/proc/self/cgroup``) and its
      parents, because each of them caps it;
    - ``"affinity"``: the CPUs ``os.sched_getaffinity(0)`` allows (``os.cpu_count()``
      where the system has no affinity);
    - ``"OMP_NUM_THREADS"``: its first number where it is set (``"4"``, ``"4,2"``).

    root: the folder the cgroup files are read under (``/``: the real ones; a test
    passes a folder of fake ones). environ: the environment (default ``os.environ``).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     quota = Path(root, "sys/fs/cgroup/cpu.max")
    ...     quota.parent.mkdir(parents=True)
    ...     _ = quota.write_text("150000 100000\\n")
    ...     limits = cpu_limits(root, {"CPU_LIMIT": "0.5"})
    >>> limits["CPU_LIMIT"], limits["cgroup cpu.max"], limits["affinity"] >= 1
    (0.5, 1.5, True)
    """
    environ = os.environ if environ is None else environ
    root = Path(root)
    limits = {}
    limit = _positive(environ.get(CPU_LIMIT_ENV, "").strip())
    if limit is not None:
        limits[CPU_LIMIT_ENV] = limit
    for name, quota in (("cgroup cpu.max", _cgroup_quota(root, v2=True)),
                        ("cgroup cpu.cfs_quota_us", _cgroup_quota(root, v2=False))):
        if quota is not None:
            limits[name] = quota
    limits["affinity"] = float(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                               else os.cpu_count() or 1)
    threads = _positive(environ.get("OMP_NUM_THREADS", "").split(",")[0].strip())
    if threads is not None:
        limits["OMP_NUM_THREADS"] = threads
    for name in (CPU_LIMIT_ENV, "OMP_NUM_THREADS"):
        text = environ.get(name, "").strip()
        if text and name not in limits:
            others = {source: value for source, value in limits.items() if source != name}
            warnings.warn(f"{name}={text!r} is not a positive number of CPUs; ignoring it and using "
                          f"{_threads(others)} thread(s), the share the other limits give "
                          f"({', '.join(f'{k} {v:g}' for k, v in others.items())})", RuntimeWarning, stacklevel=2)
    return limits


def thread_share(root="/", environ=None) -> int:
    """The number of threads this process should compute with: the smallest of
    :func:`cpu_limits`, rounded down, and at least 1.

    Rounded down because a quota of 1.5 CPUs lets two busy threads run for only 3/4
    of the time, and parallel loops wait for their slowest thread. root, environ:
    as for :func:`cpu_limits`.

    >>> thread_share(environ={"CPU_LIMIT": "0.5"}), thread_share(environ={"CPU_LIMIT": "1"})
    (1, 1)
    >>> thread_share(environ={"OMP_NUM_THREADS": "1"}), thread_share(environ={}) >= 1
    (1, True)
    """
    return _threads(cpu_limits(root, environ))


def quiet_spinning(environ=None):
    """Shorten the spinning of libgomp's idle threads: ``GOMP_SPINCOUNT=10000`` (:data:`SPIN_COUNT`)
    in ``environ``, unless ``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY`` is set there already
    (the user's choice stays). Returns ``environ`` (default ``os.environ``).

    libgomp reads it only when it loads, which is when torch is imported: set it in
    the environment of a process before it starts (``make lab``, the notebook kernels
    of ``make run``, JupyterHub's ``c.Spawner.environment``), or before ``import torch``.

    >>> quiet_spinning({})
    {'GOMP_SPINCOUNT': '10000'}
    >>> quiet_spinning({"OMP_WAIT_POLICY": "active"})
    {'OMP_WAIT_POLICY': 'active'}
    """
    environ = os.environ if environ is None else environ
    if SPIN_ENV not in environ and WAIT_POLICY_ENV not in environ:
        environ[SPIN_ENV] = str(SPIN_COUNT)
    return environ


def _threads(limits: dict) -> int:
    return max(1, math.floor(min(limits.values(), default=1)))


def _positive(text: str) -> float | None:
    """``text`` as a finite number > 0, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:  # absent, or not readable: no limit there
        return None


def _cgroup_paths(root: Path, v2: bool) -> list[str]:
    """This process's cgroup paths from ``/proc/self/cgroup``: the v2 one (``0::path``), or the
    v1 ones of the ``cpu`` controller; ``["/"]`` where the file says nothing."""
    text = _read(root / "proc/self/cgroup") or ""
    paths = []
    for line in text.splitlines():
        number, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if (v2 and number == "0" and not controllers) or (not v2 and "cpu" in controllers.split(",")):
            paths.append(path)
    return paths or ["/"]


def _ancestors(mount: Path, path: str) -> list[Path]:
    """``mount/path`` and each folder above it, up to ``mount`` itself."""
    parts = [part for part in path.split("/") if part]
    return [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _cgroup_quota(root: Path, v2: bool) -> float | None:
    """The smallest CPU quota (quota / period, in CPUs) over this process's cgroups and their
    parents, from v2's ``cpu.max`` or v1's ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``;
    None where none is set (``max`` in v2, ``-1`` in v1)."""
    quotas = []
    for mount in _V2_MOUNTS if v2 else _V1_MOUNTS:
        for path in _cgroup_paths(root, v2):
            for folder in _ancestors(root / mount, path):
                if v2:
                    fields = (_read(folder / "cpu.max") or "").split()
                else:
                    fields = [_read(folder / name) or "" for name in ("cpu.cfs_quota_us", "cpu.cfs_period_us")]
                quota, period = (_positive(field) for field in fields) if len(fields) == 2 else (None, None)
                if quota and period:
                    quotas.append(quota / period)
    return min(quotas, default=None)
