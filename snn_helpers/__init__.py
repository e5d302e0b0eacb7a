"""Helpers for the SNN-on-MNIST notebook series: an SNN library and the course around it.

Six subpackages, lowest first (a module imports only from its own subpackage, one of its row, or
lower rows; ``tests/test_layers.py`` checks it):

- ``system``: argument checks, atomic writes, devices and timing, this process's share of the CPUs
  (``threads``), the CPU a figure was measured on (``machine``), where files go (``paths``);
- ``engine``: the surrogate derivatives, the compiled CPU kernels (``kernels``, ``_kernels.c``),
  which engine computes the LIF layers and why (``backend``), subnormals flushed around the work
  (``cpu``);
- ``core``: the SNN library: MNIST (``data``), rate, latency and delta spikes (``encoding``), LIF
  neurons (``neurons``), the SNN (``model``), ``checkpoint``, ``training``, ``inference`` and the
  named training settings (``recipes``);
- ``analysis`` (figures, the ANN that the SNN is measured against, what an image costs each of them,
  accuracy against time steps) and
  ``interop`` (NIR, the Neuromorphic Intermediate Representation);
- ``course``: the shipped model, what notebook 03 hands to 04, the slider demos and their
  pre-rendering, the exercises' checks, the notebook runner, the student copies, the website, the
  lab's timing, notebook 05's conclusion and the results file the README quotes;

and on top the command line, ``python -m snn_helpers`` (``cli``).

The names below are imported from their modules on first use, so importing one module (say
``snn_helpers.core.neurons``) loads only what that module needs.

>>> from snn_helpers import SNN, poisson_encode
>>> SNN.__module__, poisson_encode.__module__
('snn_helpers.core.model', 'snn_helpers.core.encoding')
"""
from __future__ import annotations

import importlib
import sys

from .system.threads import quiet_spinning

if "torch" not in sys.modules:  # libgomp reads this when torch loads it; the user's own setting stays
    quiet_spinning()

_EXPORTS = {
    "BatchLoader": "core.data", "as_tensors": "core.data", "ensure_mnist": "core.data", "load_mnist": "core.data",
    "mnist_loaders": "core.data",
    "poisson_encode": "core.encoding", "latency_encode": "core.encoding", "delta_encode": "core.encoding",
    "SNN": "core.model",
    "LIF": "core.neurons", "SURROGATES": "core.neurons", "FusedLIF": "core.neurons", "SurrogateSpike": "core.neurons",
    "spike": "core.neurons",
    "checkpoint_dir": "system.paths", "figure_dir": "system.paths", "quick_mode": "system.paths",
    "get_device": "system.runtime",
    "ModelSettings": "core.settings", "NeuronSettings": "core.settings", "TrainSettings": "core.settings",
    "evaluate": "core.training", "fit": "core.training", "predict": "core.training", "set_seed": "core.training",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """``snn_helpers.NAME``: a name of :data:`__all__` from its module, or a submodule."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # found once, then an ordinary attribute
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
