"""Checkpoints that are written atomically and loaded without running code."""
from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import torch

from .atomic import atomic_path


class CheckpointError(RuntimeError):
    """A checkpoint is unsafe, unreadable, or does not fit the model it is loaded into."""


def rng_state(generators: dict[str, torch.Generator | None]) -> dict:
    """Every random-generator state the training depends on, as plain tensors and numbers."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": list(random.getstate()[1]),
        "python_version": random.getstate()[0],
        "python_gauss": random.getstate()[2],
        "numpy": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "numpy_gauss": (int(np_state[3]), float(np_state[4])),
    }
    for name, gen in generators.items():
        if gen is not None:
            state[f"gen_{name}"] = gen.get_state()
    return state


def set_rng_state(state: dict, generators: dict[str, torch.Generator | None]) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"],
                         *state["numpy_gauss"]))
    for name, gen in generators.items():
        if gen is not None and f"gen_{name}" in state:
            gen.set_state(state[f"gen_{name}"])


def save_checkpoint(path, payload: dict) -> Path:
    """Write ``payload`` (tensors and plain data only) to ``path`` via a temporary file and rename."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path, expected_settings: dict | None = None) -> dict:
    """Load a checkpoint with ``weights_only=True``.

    Anything that is not tensors and plain data is refused, never executed.
    When ``expected_settings`` is given, every key it names must match the
    checkpoint's ``settings``; the error lists what differs.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"checkpoint {path} holds objects other than tensors and plain data; "
                              f"it was refused and nothing in it was run ({err})") from err
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"checkpoint {path} cannot be read (truncated or not a checkpoint): {err}") from err
    if not isinstance(payload, dict) or "model" not in payload or "settings" not in payload:
        raise CheckpointError(f"checkpoint {path} is not a snn_helpers checkpoint (no model/settings)")
    if expected_settings:
        saved = payload["settings"]
        diffs = [f"{key}: checkpoint has {saved.get(key)!r}, expected {value!r}"
                 for key, value in expected_settings.items() if _norm(saved.get(key)) != _norm(value)]
        if diffs:
            raise CheckpointError(f"checkpoint {path} does not match: " + "; ".join(diffs))
    return payload


def _norm(value):
    return list(value) if isinstance(value, tuple) else value
