"""What notebook 03 hands to notebook 04 (and to 06, A1 and the runner): the trained model and its metrics.

Notebook 03 trains and writes ``<checkpoint_dir>/snn.pt`` (through ``fit``)
and ``snn_metrics.json``; notebook 04 calls :func:`load_trained_model`, and
``python -m snn_helpers run-notebooks`` reads the metrics to print the test accuracy.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

from .atomic import write_json
from .checkpoint import CheckpointError, load_checkpoint
from .model import SNN
from .paths import checkpoint_dir
from .shipped import pretrained_path

MODEL_FILE = "snn.pt"
METRICS_FILE = "snn_metrics.json"


def model_path() -> Path:
    """The checkpoint notebook 03 writes (full run: ``checkpoints/snn.pt``)."""
    return checkpoint_dir() / MODEL_FILE


def metrics_path() -> Path:
    """The metrics notebook 03 writes next to its checkpoint."""
    return checkpoint_dir() / METRICS_FILE


def save_metrics(metrics: dict) -> Path:
    """Write ``metrics`` (JSON-serialisable) to :func:`metrics_path` atomically; return the path."""
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict, got {type(metrics).__name__}")
    return write_json(metrics_path(), metrics)


def load_metrics() -> dict:
    """The metrics notebook 03 wrote; raises ``FileNotFoundError`` when there are none."""
    return json.loads(metrics_path().read_text())


def model_from_checkpoint(path) -> tuple[SNN, dict]:
    """Build an :class:`SNN` with a checkpoint's settings and weights; return it and the checkpoint."""
    payload = load_checkpoint(path)
    accepted = inspect.signature(SNN).parameters
    model = SNN(**{key: value for key, value in payload["settings"].items() if key in accepted})
    model.load_state_dict(payload["model"])
    return model.eval(), payload


def checkpoint_candidates() -> list[tuple[Path, str]]:
    """Checkpoints a trained model may come from, best first, each with a description."""
    return [(model_path(), "your checkpoint from notebook 03"),
            (pretrained_path(), "the pretrained model shipped in pretrained/ (recipe improved)")]


def load_trained_model(fallback) -> tuple[SNN, str]:
    """The first usable checkpoint of :func:`checkpoint_candidates`, or ``fallback()``'s model.

    Returns ``(model, source)`` where ``source`` says in words where the model
    came from. A candidate that is missing is skipped; one that cannot be
    loaded is reported and skipped. ``fallback`` is called with no arguments
    and must return a trained model.
    """
    for path, description in checkpoint_candidates():
        if not path.is_file():
            continue
        try:
            model, payload = model_from_checkpoint(path)
        except (CheckpointError, RuntimeError, TypeError, ValueError) as err:
            print(f"skipping {path.name}: {err}")
            continue
        epochs = payload.get("epoch")
        return model, f"{description} ({path.name}" + (f", {epochs} epochs)" if epochs else ")")
    return fallback(), "a model trained just now (no checkpoint found)"
