"""Compiled CPU kernels for the fast path, built from ``_kernels.c`` on first use.

The fast path (:class:`~snn_helpers.model.SNN` with ``fast=True``) uses them when
it can: on the CPU, in fp32, when a C compiler with OpenMP is found. They change
nothing but the time and the rounding of sums:

- :class:`SpikeLinear` is ``x @ W.T + b`` for spike trains ``x``: it adds only
  the weights of inputs that fired (a pixel fires at about 13% of the steps).
- :class:`~snn_helpers.neurons.FusedLIF` runs its recurrence here in one pass
  over memory each way instead of a few small torch operations per step.

The library is compiled once per source, compiler and CPU into
``$SNN_KERNEL_CACHE`` (default ``~/.cache/snn_helpers``), which takes a fraction
of a second. Without a compiler, or with ``SNN_KERNELS=0``, everything runs in
plain torch, with the same results up to the rounding of sums.
"""
from __future__ import annotations

import ctypes
import hashlib
import math
import os
import platform
import shutil
import subprocess
import sysconfig
import warnings
from pathlib import Path

import torch

from .atomic import atomic_path
from .runtime import get_device

SOURCE = Path(__file__).with_name("_kernels.c")
FLAGS = ("-O3", "-march=native", "-fopenmp", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC")
STEPS_PER_BLOCK = 5  # TB in _kernels.c
COLUMN_BLOCK = 64  # CW in _kernels.c: SpikeLinear needs a multiple of it as output size
SURROGATE_KINDS = {"sigmoid": 0, "fast_sigmoid": 1, "arctan": 2}
ENABLE_ENV, CACHE_ENV = "SNN_KERNELS", "SNN_KERNEL_CACHE"

_P, _I64, _F, _INT = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float, ctypes.c_int
_SIGNATURES = {
    "snn_compact": [_P, _I64, _I64, _I64, _P, _P, _P],
    "snn_spike_linear_fwd": [_P, _P, _P, _P, _P, _P, _I64, _I64, _I64, _I64],
    "snn_spike_linear_wgrad": [_P, _P, _P, _P, _P, _I64, _I64, _I64, _I64],
    "snn_lif_fwd": [_P, _P, _P, _I64, _I64, _F, _F, _INT],
    "snn_lif_bwd": [_P, _P, _P, _P, _I64, _I64, _F, _F, _F, _INT, _INT],
}
_state: dict = {}


def cache_dir() -> Path:
    """Where the compiled library is kept: ``$SNN_KERNEL_CACHE`` or ``~/.cache/snn_helpers``."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "snn_helpers"
    return Path(os.environ.get(CACHE_ENV) or default)


def library() -> ctypes.CDLL | None:
    """The compiled kernels, built on first use; ``None`` when ``SNN_KERNELS=0`` or when
    no compiler could build them (then a warning says why, once per process)."""
    if _disabled():
        return None
    if "lib" not in _state:
        try:
            _state["lib"] = _load(_build())
        except (OSError, subprocess.SubprocessError) as error:
            _state["lib"] = None
            warnings.warn(f"compiled kernels unavailable ({error}); the fast path runs in plain torch "
                          f"(same results up to rounding, slower). Set {ENABLE_ENV}=0 to skip the attempt.",
                          RuntimeWarning, stacklevel=2)
    return _state["lib"]


def engine(device: torch.device | str | None = None) -> str:
    """What the fast path computes with on ``device`` (default: :func:`~snn_helpers.runtime.get_device`),
    in words, to print beside a timing: ``"the compiled kernels"``, ``"plain torch (...why)"``, ..."""
    device = get_device() if device is None else torch.device(device)
    if device.type != "cpu":
        return f"torch on {device.type}"
    if library() is not None:
        return "the compiled kernels"
    return f"plain torch ({ENABLE_ENV}=0)" if _disabled() else "plain torch (the kernels could not be built)"


def usable(tensor: torch.Tensor) -> bool:
    """True when the kernels are built and can take ``tensor``: fp32 on the CPU."""
    return tensor.device.type == "cpu" and tensor.dtype == torch.float32 and library() is not None


def choose(compiled: bool | None, tensor: torch.Tensor) -> bool:
    """Settle a ``compiled`` argument for work on ``tensor``: ``None`` means "when
    :func:`usable`"; ``True`` insists (an error names what is missing); ``False`` means torch."""
    if compiled is None:
        return usable(tensor)
    if compiled and not usable(tensor):
        why = (f"{ENABLE_ENV}=0 is set" if _disabled() else
               "they could not be built (see the warning)" if library() is None else
               f"they take fp32 CPU tensors, got {tensor.dtype} on {tensor.device.type}")
        raise ValueError(f"compiled=True, but the compiled kernels cannot run: {why}")
    return bool(compiled)


def _disabled() -> bool:
    return os.environ.get(ENABLE_ENV, "1") == "0"


def _compiler() -> str:
    for name in (os.environ.get("CC"), (sysconfig.get_config_var("CC") or "").split(" ")[0], "cc", "gcc"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise OSError("no C compiler found (set CC)")


def _cpu() -> str:
    """What the compiled code depends on: the CPU model and its instruction-set flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return "\n".join(sorted({line for line in lines if line.startswith(("model name", "flags"))}))
    except OSError:
        return platform.processor() or platform.machine()


def _build() -> Path:
    compiler = _compiler()
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    key = hashlib.sha256("\0".join([SOURCE.read_text(), compiler, version, " ".join(FLAGS), _cpu()])
                         .encode()).hexdigest()[:16]
    target = cache_dir() / f"snn_kernels-{key}.so"
    if not target.exists():
        with atomic_path(target) as tmp:
            result = subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", str(tmp)],
                                    capture_output=True, text=True, timeout=300)
            if result.returncode:
                raise OSError(f"{Path(compiler).name} failed: {result.stderr.strip()[-500:]}")
    return target


def _load(path: Path) -> ctypes.CDLL:
    # torch is imported, so its OpenMP runtime is loaded. Built by gcc, the library needs
    # libgomp.so.1, which on Linux is torch's own copy: its parallel loops run on torch's
    # threads, and torch.set_num_threads sets their number too.
    lib = ctypes.CDLL(str(path))
    for name, argtypes in _SIGNATURES.items():
        getattr(lib, name).argtypes = argtypes
        getattr(lib, name).restype = None
    return lib


def _ptr(tensor: torch.Tensor | None):
    """The address of ``tensor``'s data for a kernel. The caller holds a reference to
    ``tensor`` until the kernel returns (so never ``_ptr(t.contiguous())``)."""
    return None if tensor is None else tensor.data_ptr()


def _require(**tensors) -> ctypes.CDLL:
    """The library, once every tensor given (None skipped) is known to be what the kernels
    take: float32 on the CPU. A clear error otherwise, never a wild pointer."""
    lib = library()
    if lib is None:
        raise RuntimeError(f"the compiled kernels are not available: the fast path runs on {engine('cpu')}")
    for name, tensor in tensors.items():
        if tensor is not None and (tensor.dtype != torch.float32 or tensor.device.type != "cpu"):
            raise ValueError(f"{name} must be a float32 CPU tensor for the compiled kernels, "
                             f"got {tensor.dtype} on {tensor.device}")
    return lib


class SpikeLinear(torch.autograd.Function):
    """``x @ weight[:, columns].T + bias``, adding only the weights of nonzero inputs.

    ``SpikeLinear.apply(x [T, B, P], weight [N, I], bias [N] or None, columns [P] or None)``
    returns ``[T, B, N]``. Input ``j`` of ``x`` meets column ``columns[j]`` of
    ``weight`` (column ``j`` when ``columns`` is None, and then ``P = I``). The
    inputs are regrouped per sample and block of 5 steps, and only those nonzero
    in a block take part in its sums. ``N`` must be a multiple of 64
    (:data:`COLUMN_BLOCK`). Gradients reach ``x``, ``weight`` and ``bias``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, columns):
        lib = _require(x=x, weight=weight, bias=bias)
        if x.dim() != 3 or weight.dim() != 2:
            raise ValueError(f"x must be [T, B, P] and weight [N, I], got {tuple(x.shape)} and {tuple(weight.shape)}")
        if weight.shape[0] % COLUMN_BLOCK or (bias is not None and bias.shape != weight.shape[:1]):
            raise ValueError(f"weight must have a multiple of {COLUMN_BLOCK} rows and bias one value per row, "
                             f"got {tuple(weight.shape)} and {None if bias is None else tuple(bias.shape)}")
        used = weight.shape[1] if columns is None else len(columns)
        if x.shape[2] != used:
            raise ValueError(f"x must have one input per weight column used ({used}), got {x.shape[2]}")
        x = x.contiguous()
        steps, batch, inputs = x.shape
        blocks = batch * math.ceil(steps / STEPS_PER_BLOCK)
        count = torch.empty(blocks, dtype=torch.int32)
        index = torch.empty(blocks * inputs, dtype=torch.int32)
        values = torch.empty(blocks * inputs * STEPS_PER_BLOCK)
        lib.snn_compact(_ptr(x), steps, batch, inputs, _ptr(count), _ptr(index), _ptr(values))
        weight_t = weight.detach().t()  # [I, N]: a row per input
        weight_t = weight_t.contiguous() if columns is None else weight_t.index_select(0, columns)
        bias_c = None if bias is None else bias.detach().contiguous()
        out = x.new_empty(steps, batch, weight.shape[0])
        lib.snn_spike_linear_fwd(_ptr(count), _ptr(index), _ptr(values), _ptr(weight_t), _ptr(bias_c),
                                 _ptr(out), steps, batch, inputs, weight.shape[0])
        ctx.save_for_backward(count, index, values, weight, columns)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad_out):
        count, index, values, weight, columns = ctx.saved_tensors
        steps, batch, inputs = ctx.shape
        grad_out = grad_out.contiguous()
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            used = weight if columns is None else weight.index_select(1, columns)
            grad_x = (grad_out.view(-1, weight.shape[0]) @ used).view(steps, batch, inputs)
        if ctx.needs_input_grad[1]:
            grad_t = weight.new_empty(inputs, weight.shape[0])  # [P, N]
            _require().snn_spike_linear_wgrad(_ptr(count), _ptr(index), _ptr(values), _ptr(grad_out),
                                              _ptr(grad_t), steps, batch, inputs, weight.shape[0])
            grad_weight = (grad_t.t().contiguous() if columns is None else
                           weight.new_zeros(weight.shape).index_add_(1, columns, grad_t.t()))
        if ctx.needs_input_grad[2]:
            grad_bias = grad_out.sum((0, 1))
        return grad_x, grad_weight, grad_bias, None


def lif_forward(currents: torch.Tensor, beta: float, threshold: float, reset: str):
    """The LIF recurrence over ``currents [T, ...]`` (fp32, CPU):
    (potentials before reset, spikes), both shaped like ``currents``."""
    lib = _require(currents=currents)
    currents = currents.contiguous()
    potentials, spikes = torch.empty_like(currents), torch.empty_like(currents)
    lib.snn_lif_fwd(_ptr(currents), _ptr(potentials), _ptr(spikes), currents.shape[0],
                    currents[0].numel(), beta, threshold, int(reset == "subtract"))
    return potentials, spikes


def lif_backward(grad_spikes: torch.Tensor, potentials: torch.Tensor, spikes: torch.Tensor,
                 beta: float, threshold: float, slope: float, surrogate: str, reset: str) -> torch.Tensor:
    """dL/d(currents) from dL/d(spikes), as :meth:`FusedLIF.backward` computes it; all ``[T, ...]``."""
    lib = _require(grad_spikes=grad_spikes)
    grad, grad_spikes = torch.empty_like(potentials), grad_spikes.contiguous()
    lib.snn_lif_bwd(_ptr(grad_spikes), _ptr(potentials), _ptr(spikes), _ptr(grad),
                          potentials.shape[0], potentials[0].numel(), beta, threshold, slope,
                          SURROGATE_KINDS[surrogate], int(reset == "subtract"))
    return grad
