"""Helpers for the SNN-on-MNIST notebook series.

Modules: ``data`` (MNIST), ``encoding`` (rate, latency and delta spikes),
``neurons`` (LIF and surrogate spike), ``model`` (the SNN), ``kernels`` (compiled CPU kernels of
the fast path, built on first use), ``training`` (fit/evaluate/seeding),
``checkpoint``, ``plots`` and ``widgets`` (figures and slider functions),
``recipes`` (named training settings, the shipped model), ``compare`` (SNN
against ANN: operations, energy, sparsity), ``timesteps`` (accuracy
against the number of time steps), ``nir_graph`` (export to and import from
NIR, the Neuromorphic Intermediate Representation), ``exercises`` (the checks
of the notebooks' exercises), ``student`` (the student notebooks, made with
nbgrader), ``runner`` (executes the notebooks) and ``site`` (the course
website).
"""
from .data import BatchLoader, as_tensors, ensure_mnist, load_mnist, mnist_loaders
from .encoding import delta_encode, latency_encode, poisson_encode
from .model import SNN
from .neurons import LIF, SURROGATES, FusedLIF, SurrogateSpike, spike
from .paths import checkpoint_dir, figure_dir, quick_mode
from .runtime import get_device
from .training import evaluate, fit, predict, set_seed

__all__ = [
    "BatchLoader", "as_tensors", "ensure_mnist", "load_mnist", "mnist_loaders", "poisson_encode",
    "latency_encode", "delta_encode",
    "SNN", "LIF", "SURROGATES", "FusedLIF", "SurrogateSpike", "spike", "checkpoint_dir",
    "figure_dir", "quick_mode", "evaluate", "fit", "get_device", "predict", "set_seed",
]
