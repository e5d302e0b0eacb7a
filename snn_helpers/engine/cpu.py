"""The CPU settings the package's work runs under, set on the way in and restored on the way out.

:func:`computing` wraps training, evaluation and the slider demos that run a network
(``fit``, ``run_epochs``, ``predict``, ``evaluate``, the ANN's, ``inference_demo``, ...):

- **Subnormals flushed to zero** (:func:`subnormals_flushed`). A float32 number below
  about 1.2e-38 in size is *subnormal*: it has lost the leading 1 of its mantissa,
  and many CPUs (Intel's above all) take a slow path for every operation on one.
  The seed recipe's sigmoid surrogate produces them (notebook A1 shows where), and
  they flow into the gradients, the weight updates and Adam's averages. Flushing
  rounds them to 0, a change of less than 1.2e-38 per number.
- **At most this process's share of threads** (:func:`~snn_helpers.system.threads.thread_share`),
  so that students sharing a server do not each start one thread per core.

The caller's settings are restored afterwards, so a notebook's own torch code runs as
it would without the package. Both are set per thread: see :func:`subnormals_flushed`.
"""
from __future__ import annotations

import contextlib

import torch

from ..system.threads import thread_share
from . import kernels


def flushes_subnormals() -> bool:
    """True when float32 operations on the calling thread flush subnormal results to zero.

    torch has no getter for :func:`torch.set_flush_denormal`, so this asks the CPU: it
    halves the smallest normal float32 number, which gives a subnormal unless flushing is on.

    >>> before = flushes_subnormals()
    >>> with subnormals_flushed():
    ...     flushes_subnormals()
    True
    >>> flushes_subnormals() == before
    True
    """
    tiny = torch.tensor(torch.finfo(torch.float32).tiny, dtype=torch.float32)
    return (tiny * 0.5).item() == 0.0


@contextlib.contextmanager
def subnormals_flushed():
    """Inside the ``with`` block, subnormal float32 numbers count as 0 and results that would be
    subnormal become 0, on the calling thread and on every thread of torch's OpenMP pool (which
    the compiled kernels share); the setting each had is restored afterwards.

    :func:`torch.set_flush_denormal` sets the CPU's flags (MXCSR's FTZ and DAZ on x86) of the
    calling thread only, and each thread of the pool has its own. The pool's threads are set by
    ``snn_set_ftz`` in the compiled kernels, so they are flushed only where the kernels are
    built (:func:`~snn_helpers.engine.kernels.library`; built on first use); without them, and on CPUs
    that are not x86, only the calling thread is. Torch's operations on small tensors, and the
    backward passes, run on the calling thread; its large element-wise operations and its
    matrix products also use the pool. On the way out, the pool's threads get back the setting
    they all had; where they differed (only when flushing was switched on or off by hand after
    they started), the calling thread gets back its own and the others get flushing off.
    The number of threads must not change inside the block.

    >>> tiny = torch.tensor(torch.finfo(torch.float32).tiny)  # the smallest normal float32 number
    >>> with subnormals_flushed():
    ...     inside = (tiny / 4).item()
    >>> inside, (tiny / 4).item() > 0  # assuming the caller does not flush
    (0.0, True)
    """
    caller = flushes_subnormals()
    lib = kernels.library()
    threads = lib.snn_num_threads() if lib is not None else 0
    torch.set_flush_denormal(True)
    pool = lib.snn_set_ftz(1) if lib is not None else -1
    try:
        yield
    finally:
        if pool != -1 and pool != threads:  # -1: no MXCSR; all threads flushed before: nothing to undo
            lib.snn_set_ftz(0)
        torch.set_flush_denormal(caller)


@contextlib.contextmanager
def threads_at_most(threads: int):
    """Inside the ``with`` block torch (and the compiled kernels) use at most ``threads`` threads;
    the caller's number comes back afterwards. threads: ``>= 1``.

    >>> with threads_at_most(1):
    ...     torch.get_num_threads()
    1
    """
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    caller = torch.get_num_threads()
    if threads < caller:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != caller:
            torch.set_num_threads(caller)


@contextlib.contextmanager
def computing(root="/", environ=None):
    """The package's work runs inside this: at most :func:`~snn_helpers.system.threads.thread_share`
    threads (the caller's number where that is smaller) and :func:`subnormals_flushed`;
    both as they were afterwards. Also a decorator: ``@computing()``.

    The share is read on each entry (a few small files), so a changed ``CPU_LIMIT`` counts
    from the next call. root, environ: as for :func:`~snn_helpers.system.threads.cpu_limits`.

    >>> with computing(environ={"CPU_LIMIT": "1"}):
    ...     torch.get_num_threads(), flushes_subnormals()
    (1, True)
    """
    with threads_at_most(thread_share(root, environ)), subnormals_flushed():
        yield
