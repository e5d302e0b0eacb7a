"""Compiled CPU kernels for the fast path, built from ``_kernels.c`` on first use.

The fused path (:class:`~snn_helpers.core.model.SNN` with ``backend="compiled"``, or
``"auto"`` where they can run: :mod:`~snn_helpers.engine.backend` decides) uses them on
the CPU, in fp32, when a C compiler with OpenMP is found. They change
nothing but the time and the rounding of sums:

- :class:`SpikeLinear` is ``x @ W.T + b`` for spike trains ``x``: it adds only
  the weights of inputs that fired (notebook A1 counts how few they are).
- :class:`~snn_helpers.core.neurons.FusedLIF` runs its recurrence here in one pass
  over memory each way instead of a few small torch operations per step.
- :func:`poisson_spikes` turns the Poisson encoder's random draws into spikes
  (:func:`~snn_helpers.core.encoding.encode_lit` uses it where it can), the same spikes as torch's,
  and :func:`rand` draws those numbers: torch.rand's, from the same generator, several times faster.

The library is compiled once per source, compiler and CPU into
``$SNN_KERNEL_CACHE`` (default ``~/.cache/snn_helpers``). Without a compiler
with OpenMP, or with ``SNN_KERNELS=0``, everything runs in plain torch, with the
same results up to the rounding of sums.

Every tensor whose address is handed to C is first checked for its dtype, device,
contiguity and shape (:func:`_address`), and the ctypes signatures in
``_SIGNATURES`` are checked against the C definitions by
``tests/test_kernel_edges.py``.
"""
from __future__ import annotations

import ctypes
import hashlib
import math
import os
import shutil
import subprocess
import sysconfig
import tempfile
import warnings
from pathlib import Path

import torch

from ..system.atomic import atomic_path
from ..system.machine import cpu_key
from . import surrogates

SOURCE = Path(__file__).with_name("_kernels.c")
# -ffp-contract=off: no fused multiply-adds but where _kernels.c asks for them, so the sums round
# as torch's do. -fno-trapping-math: nothing reads the floating-point exception flags, which lets gcc
# turn the clamp in exp_poly into a select and vectorise the sigmoid surrogate's loop; no value changes.
FLAGS = ("-O3", "-march=native", "-fopenmp", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
         "-shared", "-fPIC")
STEPS_PER_BLOCK = 5  # TB in _kernels.c
COLUMN_BLOCK = 64  # a multiple of CW in _kernels.c (64 or 16, by target): SpikeLinear needs a multiple of it as output size
ENABLE_ENV, CACHE_ENV = "SNN_KERNELS", "SNN_KERNEL_CACHE"

RESETS = ("zero", "subtract")  # the reset's flag in _kernels.c is its index here
_P, _I64, _F, _INT = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float, ctypes.c_int
_SIGNATURES = {  # name: (return type, argument types) of each function _kernels.c exports
    "snn_compact": (None, [_P, _I64, _I64, _I64, _P, _P, _P]),
    "snn_spike_linear_fwd": (None, [_P, _P, _P, _P, _P, _P, _I64, _I64, _I64, _I64]),
    "snn_spike_linear_wgrad": (None, [_P, _P, _P, _P, _P, _I64, _I64, _I64, _I64]),
    "snn_gather_columns": (None, [_P, _P, _P, _I64, _I64, _I64]),
    "snn_scatter_columns": (None, [_P, _P, _P, _I64, _I64, _I64]),
    "snn_poisson": (_INT, [_P, _P, _P, _P, _I64, _I64, _I64]),
    "snn_rand": (_INT, [_P, _P, _I64]),
    "snn_lif_fwd": (None, [_P, _P, _P, _I64, _I64, _F, _F, _INT]),
    "snn_lif_bwd": (_INT, [_P, _P, _P, _P, _I64, _I64, _F, _F, _F, _INT, _INT]),
    "snn_num_threads": (_INT, []),
    "snn_set_ftz": (_INT, [_INT]),
}
_OPENMP_PROBE = "#include <omp.h>\nint probe(void) { return omp_get_max_threads(); }\n"
_state: dict = {}


def cache_dir() -> Path:
    """Where the compiled library is kept: ``$SNN_KERNEL_CACHE`` or ``~/.cache/snn_helpers``.

    >>> import os
    >>> from unittest import mock
    >>> from snn_helpers.engine import kernels
    >>> with mock.patch.dict(os.environ, {"SNN_KERNEL_CACHE": "/tmp/snn-kernels"}):
    ...     print(kernels.cache_dir().as_posix())
    /tmp/snn-kernels
    """
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "snn_helpers"
    return Path(os.environ.get(CACHE_ENV) or default)


def library() -> ctypes.CDLL | None:
    """The compiled kernels, built on first use; ``None`` when ``SNN_KERNELS=0`` or when
    no compiler could build them (then a warning says why, once per process).

    >>> from unittest import mock
    >>> from snn_helpers.engine import kernels
    >>> with mock.patch.dict(os.environ, {"SNN_KERNELS": "0"}):  # switched off: torch computes everything
    ...     print(kernels.library())
    None
    """
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


def why_unavailable() -> str | None:
    """Why :func:`library` is ``None``, in words (``"SNN_KERNELS=0 is set"``, ...), or ``None``
    when the kernels are built. Builds them on first use, like :func:`library`.

    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_KERNELS": "0"}):
    ...     why_unavailable()
    'SNN_KERNELS=0 is set'
    """
    if _disabled():
        return f"{ENABLE_ENV}=0 is set"
    return None if library() is not None else "the kernels could not be built; see the warning"


def num_threads() -> int:
    """The number of OpenMP threads the compiled kernels run on, as the library reports it.

    The library runs on torch's OpenMP pool, so this follows :func:`torch.set_num_threads`.
    Raises RuntimeError where :func:`library` is ``None``.

    >>> import torch
    >>> from snn_helpers.engine import kernels
    >>> if kernels.library() is not None:
    ...     assert kernels.num_threads() == torch.get_num_threads()
    """
    return _require().snn_num_threads()


def has_openmp(compiler: str | None = None) -> bool:
    """True when ``compiler`` (default: the one :func:`library` builds with) compiles and
    links a library that uses OpenMP (``-fopenmp``, ``<omp.h>``); False without it (Apple's
    clang, for one) or without any compiler. Tried once per compiler per process, in a
    temporary folder.

    >>> from snn_helpers.engine import kernels
    >>> kernels.has_openmp("/no/such/compiler")  # a compiler that does not run cannot link OpenMP
    False
    """
    try:
        compiler = compiler or _compiler()
    except OSError:
        return False
    known = _state.setdefault("openmp", {})
    if compiler not in known:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "probe.c"
            source.write_text(_OPENMP_PROBE)
            try:
                result = subprocess.run([compiler, "-fopenmp", "-shared", "-fPIC", str(source),
                                         "-o", str(Path(folder) / "probe.so")],
                                        capture_output=True, text=True, timeout=120)
                known[compiler] = result.returncode == 0
            except (OSError, subprocess.SubprocessError):
                known[compiler] = False
    return known[compiler]


def _disabled() -> bool:
    return os.environ.get(ENABLE_ENV, "1") == "0"


def _compiler() -> str:
    for name in (os.environ.get("CC"), (sysconfig.get_config_var("CC") or "").split(" ")[0], "cc", "gcc"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise OSError("no C compiler found (set CC)")


def _build() -> Path:
    compiler = _compiler()
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    key = hashlib.sha256("\0".join([SOURCE.read_text(), compiler, version, " ".join(FLAGS), cpu_key()])
                         .encode()).hexdigest()[:16]
    target = cache_dir() / f"snn_kernels-{key}.so"
    if not target.exists():
        with atomic_path(target) as tmp:
            result = subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", str(tmp)],
                                    capture_output=True, text=True, timeout=300)
            if result.returncode:
                name, error = Path(compiler).name, result.stderr.strip()[-500:]
                if not has_openmp(compiler):
                    raise OSError(f"{name} has no OpenMP, which the kernels need (-fopenmp and <omp.h>; "
                                  f"Apple's clang lacks it: install gcc or libomp and set CC): {error}")
                raise OSError(f"{name} failed: {error}")
    return target


def _load(path: Path) -> ctypes.CDLL:
    # torch is imported, so its OpenMP runtime is loaded. Built by gcc, the library needs
    # libgomp.so.1, which on Linux is torch's own copy: its parallel loops run on torch's
    # threads, and torch.set_num_threads sets their number too.
    lib = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        getattr(lib, name).argtypes = argtypes
        getattr(lib, name).restype = restype
    return lib


def _address(name: str, tensor: torch.Tensor | None, dtype: torch.dtype, shape: tuple[int, ...],
             optional: bool = False) -> int | None:
    """The address of ``tensor``'s data, for a kernel that reads or writes ``prod(shape)``
    values of ``dtype`` there, row-major; a ValueError naming ``name`` unless ``tensor`` is
    exactly that: ``dtype``, on the CPU, contiguous, of ``shape``. ``None`` passes as NULL
    where ``optional``. The caller holds a reference to ``tensor`` until the kernel returns
    (so never ``_address(..., t.contiguous(), ...)``: that copy could be freed first)."""
    if tensor is None and optional:
        return None
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a tensor for the compiled kernels, got {type(tensor).__name__}")
    if tensor.dtype != dtype or not tensor.is_cpu or tensor.shape != shape or not tensor.is_contiguous():
        raise ValueError(f"{name} must be a {str(dtype).removeprefix('torch.')} CPU tensor of shape {tuple(shape)}, "
                         f"contiguous, for the compiled kernels; got {tensor.dtype} on {tensor.device}, shape "
                         f"{tuple(tensor.shape)}{'' if tensor.is_contiguous() else ', not contiguous'}")
    return tensor.data_ptr()


def _require(**tensors) -> ctypes.CDLL:
    """The library, once every tensor given (None skipped) is known to be what the kernels
    take: float32 on the CPU. A clear error otherwise, never a wild pointer."""
    lib = library()
    if lib is None:
        raise RuntimeError(f"the compiled kernels are not available: {why_unavailable()}")
    for name, tensor in tensors.items():
        if tensor is not None and (tensor.dtype != torch.float32 or tensor.device.type != "cpu"):
            raise ValueError(f"{name} must be a float32 CPU tensor for the compiled kernels, "
                             f"got {tensor.dtype} on {tensor.device}")
    return lib


class SpikeLinear(torch.autograd.Function):
    """``x @ weight[:, columns].T + bias``, adding only the weights of nonzero inputs.

    ``SpikeLinear.apply(x, weight, bias, columns)``:

    - x: ``[T, B, P]`` float32 CPU tensor, typically spikes (mostly 0, some 1);
    - weight: ``[N, I]`` float32, ``N`` a multiple of :data:`COLUMN_BLOCK` (64);
    - bias: ``[N]`` float32 or None;
    - columns: ``[P]`` int64 indices into ``weight``'s ``I`` columns, or None (then ``P = I``):
      input ``j`` of ``x`` meets column ``columns[j]``.

    Returns ``out [T, B, N]`` with ``out[t, b, n] = bias[n] + sum_j x[t, b, j] weight[n, columns[j]]``.
    The inputs are regrouped per sample and block of :data:`STEPS_PER_BLOCK` (5) steps, and
    only those nonzero in a block take part in its sums. Gradients reach ``x``, ``weight``
    and ``bias``.

    >>> import torch
    >>> from snn_helpers.engine import kernels
    >>> _ = torch.manual_seed(0)
    >>> x = (torch.rand(7, 2, 30) < 0.2).float()            # [T, B, P] spikes
    >>> weight, bias = torch.randn(64, 30), torch.randn(64)  # [N, P], [N]
    >>> if kernels.library() is not None:  # where a C compiler with OpenMP built the kernels
    ...     out = kernels.SpikeLinear.apply(x, weight, bias, None)
    ...     assert out.shape == (7, 2, 64)
    ...     torch.testing.assert_close(out, x @ weight.T + bias)
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
        if columns is not None:
            columns = _check_columns(columns, weight.shape[1])
        x = x.contiguous()
        steps, batch, inputs = x.shape
        outputs = weight.shape[0]
        blocks = batch * math.ceil(steps / STEPS_PER_BLOCK)
        count = torch.empty(blocks, dtype=torch.int32)
        index = torch.empty(blocks * inputs, dtype=torch.int32)
        values = torch.empty(blocks * inputs * STEPS_PER_BLOCK, dtype=torch.float32)
        lib.snn_compact(_address("x", x, torch.float32, (steps, batch, inputs)), steps, batch, inputs,
                        *_compacted(count, index, values, blocks, inputs))
        weight_t = weight.detach().t().contiguous() if columns is None else _columns(weight.detach(), columns)
        bias_c = None if bias is None else bias.detach().contiguous()
        out = x.new_empty(steps, batch, outputs)
        lib.snn_spike_linear_fwd(*_compacted(count, index, values, blocks, inputs),
                                 _address("weight (transposed)", weight_t, torch.float32, (inputs, outputs)),
                                 _address("bias", bias_c, torch.float32, (outputs,), optional=True),
                                 _address("out", out, torch.float32, (steps, batch, outputs)),
                                 steps, batch, inputs, outputs)
        ctx.save_for_backward(count, index, values, weight, columns)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad_out):
        count, index, values, weight, columns = ctx.saved_tensors
        steps, batch, inputs = ctx.shape
        outputs = weight.shape[0]
        grad_out = grad_out.contiguous()
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            used = weight if columns is None else weight.index_select(1, columns)
            grad_x = (grad_out.view(-1, outputs) @ used).view(steps, batch, inputs)
        if ctx.needs_input_grad[1]:
            grad_t = weight.new_empty(inputs, outputs)  # [P, N]
            blocks = count.shape[0]
            _require().snn_spike_linear_wgrad(*_compacted(count, index, values, blocks, inputs),
                                              _address("grad_out", grad_out, torch.float32, (steps, batch, outputs)),
                                              _address("grad_t", grad_t, torch.float32, (inputs, outputs)),
                                              steps, batch, inputs, outputs)
            grad_weight = grad_t.t().contiguous() if columns is None else _to_columns(grad_t, columns, weight.shape)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_out.sum((0, 1))
        return grad_x, grad_weight, grad_bias, None


def _check_columns(columns: torch.Tensor, size: int) -> torch.Tensor:
    """``columns`` as a contiguous int64 CPU tensor, once it is known to be 1-D and to hold
    indices in ``[0, size)``: the kernels that take it read and write there."""
    if not isinstance(columns, torch.Tensor) or columns.dim() != 1 or columns.is_floating_point() \
            or columns.is_complex() or columns.device.type != "cpu":
        raise ValueError(f"columns must be a 1-D integer CPU tensor, got {columns!r:.80}")
    columns = columns.to(torch.int64).contiguous()
    if len(columns) and not 0 <= int(columns.min()) <= int(columns.max()) < size:
        raise ValueError(f"columns must hold indices in [0, {size - 1}], got values in "
                         f"[{int(columns.min())}, {int(columns.max())}]")
    return columns


def _columns(weight: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """``weight.t().index_select(0, columns)``, ``[P, N]`` for ``weight [N, I]``: the rows the
    product adds (``snn_gather_columns``)."""
    (outputs, size), inputs = weight.shape, len(columns)
    weight = weight.contiguous()
    rows = weight.new_empty(inputs, outputs)
    _require().snn_gather_columns(_address("weight", weight, torch.float32, (outputs, size)),
                                  _address("columns", columns, torch.int64, (inputs,)),
                                  _address("rows", rows, torch.float32, (inputs, outputs)), outputs, size, inputs)
    return rows


def _to_columns(rows: torch.Tensor, columns: torch.Tensor, shape) -> torch.Tensor:
    """``zeros(shape).index_add_(1, columns, rows.t())``: the gradient ``rows [P, N]`` of the rows
    that :func:`_columns` gathered, back in the weight's columns (``snn_scatter_columns``)."""
    (outputs, size), inputs = shape, len(columns)
    grad = rows.new_empty(outputs, size)
    _require().snn_scatter_columns(_address("rows", rows, torch.float32, (inputs, outputs)),
                                   _address("columns", columns, torch.int64, (inputs,)),
                                   _address("grad", grad, torch.float32, (outputs, size)), outputs, size, inputs)
    return grad


def _compacted(count, index, values, blocks: int, inputs: int) -> tuple:
    """The addresses of what ``snn_compact`` writes for ``blocks`` blocks of ``inputs`` inputs
    (see _kernels.c), each checked by :func:`_address`."""
    return (_address("count", count, torch.int32, (blocks,)),
            _address("index", index, torch.int32, (blocks * inputs,)),
            _address("values", values, torch.float32, (blocks * inputs * STEPS_PER_BLOCK,)))


def poisson_spikes(probs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Bernoulli spikes ``[T, N]`` of the intensities ``probs [N]``, from the draws ``noise [T, D]``
    of the ``D`` intensities strictly between 0 and 1, in order: 1 where ``probs >= 1``,
    ``noise[t, r] < probs[n]`` for the ``r``-th intensity ``n`` between 0 and 1, 0 elsewhere.
    What :func:`~snn_helpers.core.encoding.poisson_encode` computes in torch with zeros and two scatters,
    in one kernel that writes each spike once (:func:`~snn_helpers.core.encoding.encode_lit` uses it).

    probs: float32 CPU tensor ``[N]``; noise: float32 CPU tensor ``[T, D]``. A ValueError when
    ``D`` is not the number of intensities strictly between 0 and 1.

    >>> import torch
    >>> from snn_helpers.engine import kernels
    >>> probs, noise = torch.tensor([0.0, 0.5, 1.0, 0.25]), torch.tensor([[0.4, 0.5], [0.6, 0.1]])
    >>> if kernels.library() is not None:
    ...     assert kernels.poisson_spikes(probs, noise).tolist() == [[0, 1, 1, 0], [0, 0, 1, 1]]
    """
    lib = _require(probs=probs, noise=noise)
    if probs.dim() != 1 or noise.dim() != 2:
        raise ValueError(f"probs must be [N] and noise [T, D], got {tuple(probs.shape)} and {tuple(noise.shape)}")
    (size,), (steps, drawn) = probs.shape, noise.shape
    probs, noise = probs.contiguous(), noise.contiguous()
    spikes = probs.new_empty(steps, size)
    where = torch.empty(drawn + 1, dtype=torch.int32)  # room for the indices of the drawn intensities, and one more
    if lib.snn_poisson(_address("probs", probs, torch.float32, (size,)),
                       _address("noise", noise, torch.float32, (steps, drawn)),
                       _address("where", where, torch.int32, (drawn + 1,)),
                       _address("spikes", spikes, torch.float32, (steps, size)), steps, size, drawn):
        raise ValueError(f"noise must hold one draw per step for each intensity strictly between 0 and 1; "
                         f"it has {drawn}, probs has {int(((probs > 0) & (probs < 1)).sum())}")
    return spikes


GENERATOR_STATE_BYTES = 5016  # sizeof(struct generator_state) in _kernels.c: the part of get_state() it reads


def rand(shape: tuple[int, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """``torch.rand(shape, generator=generator)``: the same float32 numbers, and the generator left
    in the same state, drawn by ``snn_rand`` (torch draws them one at a time on one thread).

    The kernel runs torch's own generator (MT19937) on the state that ``generator.get_state()``
    returns and hands the advanced state back with ``set_state``. That state's layout is torch's
    (not a promised interface), so the first call in a process checks the kernel against
    torch.rand itself, across the generator's 624-number batches; where the two differ (another
    torch), or without the kernels, or for a generator that is not on the CPU, torch.rand draws.
    Like torch.rand, it draws from one generator at a time: two threads that share a generator
    would interleave differently than with torch, where each draw holds the generator's lock.

    shape: sizes ``>= 0``; generator: a ``torch.Generator`` or None (torch's default one).

    >>> import torch
    >>> from snn_helpers.engine import kernels
    >>> ours, theirs = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    >>> torch.equal(kernels.rand((3, 700), ours), torch.rand((3, 700), generator=theirs))
    True
    >>> torch.equal(ours.get_state(), theirs.get_state())  # both generators moved on alike
    True
    """
    generator = torch.default_generator if generator is None else generator
    lib = library()
    if lib is None or generator.device.type != "cpu" or not _rand_agrees(lib):
        return torch.rand(shape, generator=generator)
    out = torch.empty(shape)
    state = generator.get_state()
    if lib.snn_rand(_address("state", state, torch.uint8, (state.numel(),)),
                    _address("out", out, torch.float32, out.shape), out.numel()):
        return torch.rand(shape, generator=generator)  # counters torch would not write: let torch say
    generator.set_state(state)
    return out


def _rand_agrees(lib: ctypes.CDLL) -> bool:
    """True when ``snn_rand`` gives torch.rand's numbers and the state torch leaves, on a fresh
    generator and on one part-way through a batch of 624; checked once per process."""
    if "rand" not in _state:
        agrees = True
        for seed, first, length in ((0, 0, 1), (1, 0, 1300), (2, 5, 2000), (3, 623, 1)):
            generator = torch.Generator().manual_seed(seed)
            torch.rand(first, generator=generator)
            state = generator.get_state()
            want = torch.rand(length, generator=generator)
            got = torch.empty(length)
            agrees &= (state.numel() >= GENERATOR_STATE_BYTES
                       and lib.snn_rand(_address("state", state, torch.uint8, (state.numel(),)),
                                        _address("out", got, torch.float32, (length,)), length) == 0
                       and torch.equal(got, want) and torch.equal(state, generator.get_state()))
        if not agrees:
            warnings.warn("the compiled random numbers differ from torch.rand's with this torch "
                          f"({torch.__version__}); torch.rand draws them (the same spikes, slower)",
                          RuntimeWarning, stacklevel=3)
        _state["rand"] = agrees
    return _state["rand"]


def _reset_flag(reset: str) -> int:
    """``reset``'s flag in _kernels.c: 0 for ``"zero"``, 1 for ``"subtract"``."""
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
    return RESETS.index(reset)


def _lif_shape(name: str, tensor: torch.Tensor) -> tuple[int, int]:
    """``(T, M)`` for a ``[T, ...]`` tensor: its steps and the neurons per step."""
    if tensor.dim() < 1:
        raise ValueError(f"{name} must be [T, ...] with a time axis first, got a 0-dimensional tensor")
    steps = tensor.shape[0]
    return steps, tensor.numel() // steps if steps else 0


def lif_forward(currents: torch.Tensor, beta: float, threshold: float, reset: str):
    """The LIF recurrence over all time steps, in one pass over memory.

    With ``I = currents``, ``U`` the potential before reset and ``S`` the spikes:
    ``U[0] = I[0]``, ``U[t] = beta M[t-1] + I[t]``, ``S[t] = (U[t] >= threshold)``, where
    the membrane after reset is ``M[t] = U[t] (1 - S[t])`` (``reset="zero"``) or
    ``U[t] - threshold S[t]`` (``"subtract"``).

    currents: ``[T, ...]`` float32 CPU tensor (e.g. ``[T, B, N]``; any layout); beta:
    the decay, in ``[0, 1]``; threshold: > 0. Returns (potentials before reset, spikes),
    both contiguous and shaped like ``currents``, spikes 0.0 or 1.0.

    >>> import torch
    >>> from snn_helpers.engine import kernels
    >>> currents = torch.full((3, 1), 0.6)  # [T=3, 1 neuron]
    >>> if kernels.library() is not None:
    ...     potentials, spikes = kernels.lif_forward(currents, 0.9, 1.0, "zero")
    ...     assert spikes.flatten().tolist() == [0.0, 1.0, 0.0]  # U = 0.6, 0.6 * 0.9 + 0.6, then reset
    """
    lib = _require(currents=currents)
    flag = _reset_flag(reset)
    steps, neurons = _lif_shape("currents", currents)
    currents = currents.contiguous()
    potentials, spikes = torch.empty_like(currents), torch.empty_like(currents)  # contiguous, as currents is
    lib.snn_lif_fwd(_address("currents", currents, torch.float32, currents.shape),
                    _address("potentials", potentials, torch.float32, currents.shape),
                    _address("spikes", spikes, torch.float32, currents.shape),
                    steps, neurons, beta, threshold, flag)
    return potentials, spikes


def lif_backward(grad_spikes: torch.Tensor, potentials: torch.Tensor, spikes: torch.Tensor,
                 beta: float, threshold: float, slope: float, surrogate: str, reset: str) -> torch.Tensor:
    """dL/d(currents) from dL/d(spikes), as :meth:`FusedLIF.backward` computes it, in one pass.

    With ``g[t] = surrogate'(U[t] - threshold)`` (``surrogate`` one of :data:`~snn_helpers.engine.surrogates.REGISTRY`,
    steepness ``slope``), the recurrence runs back from ``dL/dI[T] = 0``:
    ``dL/dI[t] = dL/dS[t] g[t] + beta A[t] dL/dI[t+1]``, with ``A = (1 - S) - U g``
    (``reset="zero"``) or ``1 - threshold g`` (``"subtract"``).

    grad_spikes: ``[T, ...]`` float32 CPU tensor; potentials (``U``, before reset) and
    spikes (``S``): float32 CPU tensors of the same shape, as :func:`lif_forward` returns
    them. Returns dL/d(currents), contiguous, of that shape. A NaN potential gives NaN
    where it reaches, never undefined behaviour.

    >>> import torch
    >>> from snn_helpers.engine import kernels
    >>> potentials = torch.tensor([[0.5], [1.0]])  # [T=2, 1 neuron]
    >>> spikes, grad_spikes = (potentials >= 1.0).float(), torch.tensor([[0.0], [1.0]])
    >>> if kernels.library() is not None:
    ...     grad = kernels.lif_backward(grad_spikes, potentials, spikes, 0.9, 1.0, 2.0, "fast_sigmoid", "subtract")
    ...     assert grad[1].item() == 1.0  # g at U = threshold: the fast sigmoid's peak, 1
    ...     assert abs(grad[0].item() - 0.9 * (1 - 1 / 2.0 ** 2)) < 1e-6  # beta A[0] dL/dI[1], g[0] = 1/(1 + 2 * 0.5)^2
    """
    lib = _require(grad_spikes=grad_spikes)
    entry = surrogates.REGISTRY.get(surrogate)
    if entry is None:
        raise ValueError(f"surrogate must be one of {sorted(surrogates.REGISTRY)}, got {surrogate!r}")
    kind = entry.kernel_id
    flag = _reset_flag(reset)
    steps, neurons = _lif_shape("grad_spikes", grad_spikes)
    shape = grad_spikes.shape
    grad_spikes, potentials, spikes = grad_spikes.contiguous(), potentials.contiguous(), spikes.contiguous()
    grad = torch.empty_like(grad_spikes)  # contiguous, as grad_spikes now is
    status = lib.snn_lif_bwd(_address("grad_spikes", grad_spikes, torch.float32, shape),
                             _address("potentials", potentials, torch.float32, shape),
                             _address("spikes", spikes, torch.float32, shape),
                             _address("grad", grad, torch.float32, shape),
                             steps, neurons, beta, threshold, slope, kind, flag)
    if status:
        raise ValueError(f"the compiled kernels have no surrogate {surrogate!r} (id {kind}) "
                         f"with reset {reset!r} (flag {flag})")
    return grad
