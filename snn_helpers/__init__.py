"""Helpers for the SNN-on-MNIST notebook series.

Modules, lowest layer first (a module imports only from its own layer or
below; ``tests/test_layers.py`` checks it): ``runtime`` (device choice and
timing), ``threads`` (this process's share of the CPUs, how OpenMP waits),
``paths`` (where data and outputs go), ``surrogates`` (the surrogate
derivatives, each described once), ``machine`` (the CPU a figure was measured
on), ``prerender`` (how a notebook run hands the website its sliders); ``kernels`` (compiled CPU kernels of the fast path, built on first use),
``cpu`` (subnormals flushed and the thread share, around the package's work),
``data`` (MNIST), ``checkpoint``, ``results`` (the results file the README
quotes); ``backend`` (which engine computes the LIF layers, and why), ``encoding`` (rate, latency and delta
spikes), ``neurons`` (LIF and surrogate spike); ``model`` (the SNN),
``plots``; ``training`` (fit/evaluate/seeding), ``compare`` (SNN against
ANN: operations, energy, sparsity), ``timesteps`` (accuracy against the
number of time steps), ``snntorch_harness`` (an snnTorch network run step by
step, to compare with), ``nir_graph`` (export to and import from NIR, the
Neuromorphic Intermediate Representation); ``recipes`` (named training
settings), ``shipped`` (the model shipped in ``snn_helpers/pretrained/``),
``handoff`` (what notebook 03 hands to notebook 04), ``widgets`` (the slider
demos), ``exercises`` (the checks of the notebooks' exercises); ``student``
(the student notebooks, made with nbgrader), ``runner`` (executes the
notebooks), ``site`` (the course website) and ``cli``.

The names below are imported from their modules on first use, so importing
one module (say ``snn_helpers.neurons``) loads only what that module needs.

>>> from snn_helpers import SNN, poisson_encode
>>> SNN.__module__, poisson_encode.__module__
('snn_helpers.model', 'snn_helpers.encoding')
"""
from __future__ import annotations

import importlib
import sys

from .threads import quiet_spinning

if "torch" not in sys.modules:  # libgomp reads this when torch loads it; the user's own setting stays
    quiet_spinning()

_EXPORTS = {
    "BatchLoader": "data", "as_tensors": "data", "ensure_mnist": "data", "load_mnist": "data",
    "mnist_loaders": "data",
    "poisson_encode": "encoding", "latency_encode": "encoding", "delta_encode": "encoding",
    "SNN": "model",
    "LIF": "neurons", "SURROGATES": "neurons", "FusedLIF": "neurons", "SurrogateSpike": "neurons",
    "spike": "neurons",
    "checkpoint_dir": "paths", "figure_dir": "paths", "quick_mode": "paths",
    "get_device": "runtime",
    "ModelSettings": "settings", "NeuronSettings": "settings", "TrainSettings": "settings",
    "evaluate": "training", "fit": "training", "predict": "training", "set_seed": "training",
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
