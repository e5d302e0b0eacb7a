"""What notebook 03 hands to notebook 04 (and to 06, A1 and the runner): the trained model and its metrics.

Notebook 03 trains and writes ``<checkpoint_dir>/snn.pt`` (through ``fit``)
and ``snn_metrics.json``; notebook 04 calls :func:`load_trained_model`, and
``python -m snn_helpers run-notebooks`` reads the metrics to print the test accuracy.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..core.checkpoint import CheckpointError, load_checkpoint, read_settings
from ..core.model import SNN
from ..system.atomic import write_json
from ..system.paths import checkpoint_dir
from .shipped import pretrained_path

MODEL_FILE = "snn.pt"
METRICS_FILE = "snn_metrics.json"


def model_path() -> Path:
    """The checkpoint notebook 03 writes (full run: ``checkpoints/snn.pt``).

    >>> model_path().name
    'snn.pt'
    """
    return checkpoint_dir() / MODEL_FILE


def metrics_path() -> Path:
    """The metrics notebook 03 writes next to its checkpoint.

    >>> metrics_path().parent == model_path().parent, metrics_path().name
    (True, 'snn_metrics.json')
    """
    return checkpoint_dir() / METRICS_FILE


def save_metrics(metrics: dict) -> Path:
    """Write ``metrics`` (a JSON-serialisable dict) to :func:`metrics_path` atomically; return the path.

    Notebook 03 calls it with the test accuracy, the loss history and the run's
    settings; :func:`load_metrics` reads the dict back.

    >>> save_metrics([0.9])
    Traceback (most recent call last):
    TypeError: metrics must be a dict, got list
    """
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict, got {type(metrics).__name__}")
    return write_json(metrics_path(), metrics)


def load_metrics() -> dict:
    """The metrics notebook 03 wrote (the dict :func:`save_metrics` took); raises
    ``FileNotFoundError`` when there are none.

    >>> import os, tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": tmp}):
    ...     _ = save_metrics({"test_accuracy": 0.97, "epochs": 5})
    ...     load_metrics()  # the keys come back sorted
    {'epochs': 5, 'test_accuracy': 0.97}
    """
    return json.loads(metrics_path().read_text())


def model_from_checkpoint(path) -> tuple[SNN, dict]:
    """Build an :class:`SNN` with a checkpoint's settings and weights; return it (in eval mode) and the checkpoint.

    path: a checkpoint written by :func:`~snn_helpers.core.training.fit` or
    :func:`~snn_helpers.core.checkpoint.save_checkpoint` with ``model`` and ``settings``
    (:func:`~snn_helpers.core.checkpoint.read_settings` reads them, older checkpoints' too).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from snn_helpers.core.checkpoint import save_checkpoint, settings_payload
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     saved = SNN((784, 8, 10), reset="subtract")
    ...     path = save_checkpoint(Path(folder) / "m.pt", {"model": saved.state_dict(),
    ...                                                    **settings_payload(saved.settings)})
    ...     model, payload = model_from_checkpoint(path)
    >>> model.settings == saved.settings, model.training
    (True, False)
    """
    payload = load_checkpoint(path)
    settings, _ = read_settings(payload, path)
    model = SNN(**settings.as_dict())
    model.load_state_dict(payload["model"])
    return model.eval(), payload


def checkpoint_candidates() -> list[tuple[Path, str]]:
    """Checkpoints a trained model may come from, best first, each as ``(path, description)``.

    >>> [path.name for path, _ in checkpoint_candidates()]
    ['snn.pt', 'snn_improved.pt']
    """
    return [(model_path(), "your checkpoint from notebook 03"),
            (pretrained_path(), "the pretrained model shipped in snn_helpers/pretrained/ (recipe improved)")]


def load_trained_model(fallback) -> tuple[SNN, str]:
    """The first usable checkpoint of :func:`checkpoint_candidates`, or ``fallback()``'s model.

    Returns ``(model, source)`` where ``source`` says in words where the model
    came from. A candidate that is missing is skipped; one that cannot be
    loaded is reported and skipped. ``fallback`` is called with no arguments
    and must return a trained model.

    >>> import os, tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": tmp}):
    ...     model, source = load_trained_model(lambda: SNN())  # no checkpoint of yours here yet
    >>> source, model.sizes
    ('the pretrained model shipped in snn_helpers/pretrained/ (recipe improved) (snn_improved.pt)', (784, 512, 256, 10))
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
