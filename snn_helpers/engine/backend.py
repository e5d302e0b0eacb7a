"""Which engine computes the LIF layers, and why: one ``backend`` argument, resolved here.

:data:`BACKENDS` are the choices of ``SNN(backend=...)`` and ``LIF.forward(..., backend=...)``:

- ``"step"``: the step-by-step autograd loop that notebook 02 teaches;
- ``"torch"``: the fused path in plain torch (all time steps' products at once,
  the LIF recurrence as one autograd node, :class:`~snn_helpers.core.neurons.FusedLIF`);
- ``"compiled"``: the fused path with the compiled kernels of :mod:`~snn_helpers.engine.kernels`
  (fp32 CPU tensors only); an error says what is missing when they cannot run;
- ``"auto"`` (the default): on a CPU where the kernels run, the faster of ``"torch"`` and
  ``"compiled"`` as measured on this machine (:func:`auto_choice`); otherwise ``"torch"``.

:func:`resolve` turns a backend into an :class:`Engine`, a small frozen value that says
which engine runs and why (:meth:`Engine.describe`). Everything that needs to know (the
model, the command line, the benchmark, the exported JSON) asks it; nothing compares prose.

**The measured choice.** The first time ``auto`` is resolved for an SNN on a machine, a few
training steps of each fp32 engine are timed on a state like a trained model's
(:func:`~snn_helpers.core.model.measure_auto`) and the fastest is kept in a JSON file in
:func:`~snn_helpers.engine.kernels.cache_dir`, keyed by the CPU, the torch version and the
engines' source, like the kernel build. Later runs read it, so the choice does not flip
between runs; a new CPU, torch or source measures again. ``SNN_ENGINE=torch`` or
``SNN_ENGINE=compiled`` sets ``auto``'s choice without measuring; ``backend="torch"`` or
``backend="compiled"`` pins the engine of one model. All engines give the same spikes and
the same gradients up to the rounding of sums, so the choice changes a run only in its last
bits, and through them the path training takes.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from ..system._checks import check_choice
from ..system.atomic import write_json
from ..system.runtime import get_device
from . import kernels

BACKENDS = ("auto", "torch", "compiled", "step")
MEASURED = ("torch", "compiled")  # the engines auto chooses between; "step" is the slow teaching loop
ENGINE_ENV = "SNN_ENGINE"  # set to one of MEASURED: auto's choice, without measuring
_SOURCES = ("engine/_kernels.c", "engine/kernels.py", "core/neurons.py", "core/model.py", "core/encoding.py", "engine/backend.py")  # below snn_helpers/
_WORDS = {"step": "the step-by-step loop", "torch": "plain torch", "compiled": "the compiled kernels"}
_state: dict = {}


@dataclass(frozen=True)
class Engine:
    """Which engine runs (``name``: ``"step"``, ``"torch"`` or ``"compiled"``), on which device
    type (``device``: ``"cpu"``, ``"cuda"``, ...), and why (``reason``, in words).

    >>> Engine("torch", "cpu", "SNN_KERNELS=0 is set").describe()
    'plain torch (SNN_KERNELS=0 is set)'
    >>> Engine("compiled", "cpu", "asked for").compiled
    True
    """

    name: str
    device: str
    reason: str

    @property
    def compiled(self) -> bool:
        """True when the compiled kernels run."""
        return self.name == "compiled"

    def describe(self) -> str:
        """The engine in words, with the reason: what ``train`` prints beside a timing.

        >>> Engine("torch", "cuda", "the kernels take CPU tensors, got cuda").describe()
        'torch on cuda (the kernels take CPU tensors, got cuda)'
        """
        words = f"torch on {self.device}" if self.name == "torch" and self.device != "cpu" else _WORDS[self.name]
        return words if self.reason == "asked for" else f"{words} ({self.reason})"

    __str__ = describe

    def as_dict(self) -> dict:
        """``name``, ``device`` and ``reason`` as a dict, for a JSON file.

        >>> Engine("step", "cpu", "asked for").as_dict()
        {'name': 'step', 'device': 'cpu', 'reason': 'asked for'}
        """
        return asdict(self)


def check_backend(backend) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else a ValueError naming the choices; for
    ``"compiled"`` also a ValueError when the kernels are off (``SNN_KERNELS=0``) or cannot be built.

    >>> check_backend("torch")
    'torch'
    >>> check_backend("fast")
    Traceback (most recent call last):
    ...
    ValueError: backend must be one of ['auto', 'compiled', 'step', 'torch'], got 'fast'
    """
    if check_choice("backend", backend, BACKENDS) == "compiled" and kernels.why_unavailable() is not None:
        _refuse(kernels.why_unavailable())
    return backend


def _refuse(why: str):
    raise ValueError(f"backend='compiled', but the compiled kernels cannot run: {why}")


def usable(tensor: torch.Tensor) -> bool:
    """True when the compiled kernels are built and can take ``tensor``: fp32 on the CPU.

    >>> usable(torch.zeros(2, dtype=torch.float64))
    False
    """
    return tensor.device.type == "cpu" and tensor.dtype == torch.float32 and kernels.library() is not None


def resolve(backend: str, device: torch.device | str | None = None, tensor: torch.Tensor | None = None,
            measure=None, precision: str = "fp32") -> Engine:
    """The :class:`Engine` that ``backend`` runs on, for fp32 work on ``device``, or on ``tensor``.

    backend: one of :data:`BACKENDS`; device: where the work runs (default: ``tensor``'s
    device, else :func:`~snn_helpers.system.runtime.get_device`); tensor: the input of the work, any
    shape, or None (then fp32 is assumed). ``"step"`` and ``"torch"`` run as asked;
    ``"compiled"`` raises a ValueError naming what is missing where the kernels cannot run
    (``SNN_KERNELS=0``, no compiler, a GPU tensor, not fp32). ``"auto"`` is ``"torch"`` where
    the kernels cannot run, and otherwise :func:`auto_choice` with ``measure``; with
    ``precision="bf16"`` (the products in bfloat16, which the kernels do not take) it is
    ``"compiled"`` there, for the LIF recurrence, unmeasured.

    >>> resolve("auto", tensor=torch.zeros(2, dtype=torch.float64))
    Engine(name='torch', device='cpu', reason='the kernels take fp32 CPU tensors, got torch.float64')
    >>> resolve("step", "cpu").describe()
    'the step-by-step loop'
    """
    backend = check_backend(backend)
    if device is None:
        device = tensor.device if tensor is not None else get_device()
    device = torch.device(device).type
    if backend in ("step", "torch"):
        return Engine(backend, device, "asked for")
    why = kernels.why_unavailable() if device == "cpu" else f"the kernels take CPU tensors, got {device}"
    if why is None and tensor is not None and tensor.dtype != torch.float32:
        why = f"the kernels take fp32 CPU tensors, got {tensor.dtype}"
    if backend == "compiled":
        if why is not None:
            _refuse(why)
        return Engine("compiled", device, "asked for")
    if why is not None:
        return Engine("torch", device, why)
    if precision == "bf16":
        return Engine("compiled", device, "bf16 products in torch, the LIF recurrence in the kernels")
    name, reason = auto_choice(measure)
    return Engine(name, device, reason)


def engine(device: torch.device | str | None = None, backend: str = "auto") -> Engine:
    """:func:`resolve` for fp32 work on ``device``, without measuring: what notebook A1 prints.
    ``auto`` reads the measured choice where one is cached (:meth:`SNN.engine <snn_helpers.core.model.SNN.engine>`
    measures it first where none is).

    >>> engine("cpu", "torch").describe()
    'plain torch'
    """
    return resolve(backend, device)


def auto_choice(measure=None) -> tuple[str, str]:
    """``auto``'s engine on this machine's CPU, where the kernels run: ``(name, reason)``, name one
    of :data:`MEASURED`.

    In this order: ``$SNN_ENGINE`` when set (one of :data:`MEASURED`, else a ValueError naming
    it); the choice already made in this process; the cache file (:func:`cache_path`); else,
    when ``measure`` is given, ``measure()`` (a dict of seconds per training step for each
    engine of :data:`MEASURED`), whose fastest is kept and written to the cache. Without
    ``measure`` and with nothing cached (a lone :class:`~snn_helpers.core.neurons.LIF` layer), the
    compiled kernels, unmeasured. A cache file that cannot be read or holds no valid choice
    is ignored with a warning, and measured again.

    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_ENGINE": "torch"}):
    ...     auto_choice()
    ('torch', 'SNN_ENGINE=torch is set')
    """
    forced = os.environ.get(ENGINE_ENV)
    if forced:
        if forced not in MEASURED:
            raise ValueError(f"{ENGINE_ENV} must be one of {list(MEASURED)} (or unset: measure), got {forced!r}")
        return forced, f"{ENGINE_ENV}={forced} is set"
    path = cache_path()
    if path in _state:
        return _state[path]
    cached = _read_cache(path)
    if cached is None and measure is None:
        return "compiled", "the default where they run; not measured yet on this machine"
    if cached is None:
        seconds = measure()
        cached = {"engine": min(MEASURED, key=seconds.get), "seconds_per_step": seconds,
                  "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "torch": torch.__version__}
        write_json(path, cached)
    times = ", ".join(f"{name} {1e3 * cached['seconds_per_step'][name]:.1f} ms" for name in MEASURED)
    _state[path] = cached["engine"], f"measured fastest on this CPU: {times} per step; cached in {path.name}"
    return _state[path]


def cache_path() -> Path:
    """The file that keeps ``auto``'s measured choice: ``engine-<key>.json`` in
    :func:`~snn_helpers.engine.kernels.cache_dir`, the key a hash of the CPU (model and flags), the
    torch version and the source of the engines (``_kernels.c``, ``kernels.py``, ``neurons.py``,
    ``model.py``, ``encoding.py`` and this module).

    >>> cache_path().name.startswith("engine-"), cache_path().suffix
    (True, '.json')
    """
    if "key" not in _state:  # the CPU, torch and the source do not change while the process runs
        here = Path(__file__).resolve().parents[1]
        _state["key"] = hashlib.sha256("\0".join([kernels.cpu_key(), torch.__version__,
                                                   *((here / name).read_text() for name in _SOURCES)])
                                       .encode()).hexdigest()[:16]
    return kernels.cache_dir() / f"engine-{_state['key']}.json"


def _read_cache(path: Path) -> dict | None:
    """The cached choice at ``path``, or None when there is none; a warning when it is unreadable."""
    if not path.exists():
        return None
    try:
        cached = json.loads(path.read_text())
        seconds = cached["seconds_per_step"]
        if cached["engine"] in MEASURED and all(float(seconds[name]) > 0 for name in MEASURED):
            return cached
        problem = f"engine {cached['engine']!r} or seconds_per_step {seconds!r} not valid"
    except (OSError, ValueError, KeyError, TypeError) as error:
        problem = f"{type(error).__name__}: {error}"
    warnings.warn(f"ignoring the engine cache {path} ({problem}); measuring again", RuntimeWarning, stacklevel=3)
    return None


def forget() -> None:
    """Forget what this process knows (the choice and the cache key; not the cache file): the next
    :func:`auto_choice` reads the cache again. For tests, and after editing the source.

    >>> forget()
    """
    _state.clear()
