"""Checkpoints that are written atomically and loaded without running code.

A checkpoint is a dict of tensors and plain data. Its ``"model"`` is a ``state_dict`` and its
``"settings"`` a dict; for an SNN, ``"settings"`` is the network's
:class:`~snn_helpers.core.settings.ModelSettings` as a dict, and ``"train_settings"``, when the
checkpoint comes from training, the :class:`~snn_helpers.core.settings.TrainSettings` as a dict
(:func:`settings_payload` builds both, :func:`read_settings` reads them back, older
checkpoints too).
"""
from __future__ import annotations

import pickle
import random
import re
from pathlib import Path

import numpy as np
import torch

from ..system._checks import check_output_file, check_path
from ..system.atomic import DiskFullError, atomic_path
from .settings import ModelSettings, TrainSettings

OLD_TRAIN_KEYS = ("num_steps", "lr", "schedule", "schedule_epochs")  # in "settings" before the split

REQUIRED_KEYS = ("model", "settings")
RESUME_KEYS = REQUIRED_KEYS + ("optimizer", "epoch", "loss_history", "rng")


class CheckpointError(RuntimeError):
    """A checkpoint is unsafe, unreadable, or does not fit the model it is loaded into."""


def rng_state(generators: dict[str, torch.Generator | None]) -> dict:
    """Every random-generator state the training depends on, as plain tensors and numbers.

    Saves torch's global generator, Python's ``random``, NumPy's global
    generator and each ``torch.Generator`` in ``generators``; the result can go
    into a checkpoint and back through :func:`set_rng_state`.

    generators: maps a name (``"data"``, ``"encode"``, ...) to a ``torch.Generator``,
    or to ``None`` where that part of the run uses the global generator.

    >>> data = torch.Generator().manual_seed(0)
    >>> state = rng_state({"data": data, "encode": None})
    >>> sorted(key for key in state if key.startswith("gen_"))
    ['gen_data']
    """
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
    """Restore what :func:`rng_state` saved.

    The generators given must be the ones that were saved (``None`` where none
    was), otherwise the resumed run could not repeat the original one.
    A generator shared under two names is simply restored twice to the same state.

    state: what :func:`rng_state` returned. generators: the same names as then.

    >>> data = torch.Generator().manual_seed(0)
    >>> state = rng_state({"data": data})
    >>> first = torch.rand(3, generator=data)
    >>> set_rng_state(state, {"data": data})
    >>> torch.equal(torch.rand(3, generator=data), first)  # the same draws again
    True
    >>> set_rng_state(state, {})
    Traceback (most recent call last):
    ...
    snn_helpers.core.checkpoint.CheckpointError: the checkpoint saved random generators ['data'] but [] were given; ...
    """
    given = {f"gen_{name}" for name, gen in generators.items() if gen is not None}
    saved = {key for key in state if key.startswith("gen_")}
    if given != saved:
        raise CheckpointError(
            f"the checkpoint saved random generators {sorted(k[4:] for k in saved)} but "
            f"{sorted(k[4:] for k in given)} were given; resume with the same generator setup")
    torch.set_rng_state(state["torch"])
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"],
                         *state["numpy_gauss"]))
    for name, gen in generators.items():
        if gen is not None:
            gen.set_state(state[f"gen_{name}"])


check_checkpoint_path = check_output_file  # the checkpoint's name for it, as before


def save_checkpoint(path, payload: dict) -> Path:
    """Write ``payload`` (tensors and plain data only) to ``path`` via a temporary file and rename.

    The temporary file is read back with ``weights_only=True`` before the
    rename, so a payload that :func:`load_checkpoint` would refuse is never
    written; on any error the previous file at ``path`` is left as it was.
    A full disk raises :class:`~snn_helpers.system.atomic.DiskFullError` naming ``path``.

    path: str or path of the file (its folder is created if needed).
    payload: a dict with at least the keys ``"model"`` (a ``state_dict``) and
    ``"settings"`` (a dict, e.g. :func:`settings_payload`'s).

    >>> import tempfile
    >>> layer = torch.nn.Linear(3, 2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_checkpoint(Path(folder) / "tiny.pt",
    ...                            {"model": layer.state_dict(), "settings": {"sizes": [3, 2]}})
    ...     print(path.name, sorted(load_checkpoint(path)["model"]))
    tiny.pt ['bias', 'weight']
    """
    path = check_checkpoint_path("path", path)
    if not isinstance(payload, dict):
        raise TypeError(f"payload must be a dict, got {type(payload).__name__}")
    if not set(REQUIRED_KEYS) <= payload.keys():
        raise ValueError(f"payload must have at least the keys {list(REQUIRED_KEYS)}, got {list(payload)}")
    try:
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
            _load_weights_only(tmp, path)
    except DiskFullError:
        raise  # its own one-line message
    except OSError as err:
        raise CheckpointError(f"could not write checkpoint {path} ({err}); "
                              f"the previous checkpoint there, if any, is unchanged") from err
    return path


def load_checkpoint(path, expected_settings: dict | None = None, keys=REQUIRED_KEYS) -> dict:
    """Load a checkpoint with ``weights_only=True``.

    Anything that is not tensors and plain data is refused, never executed.
    ``keys`` must all be present. When ``expected_settings`` is given, every key
    it names must match the checkpoint's ``settings``; the error lists what differs.
    Returns the payload dict, its tensors on the CPU.

    path: str or path of an existing checkpoint file.
    expected_settings: ``None``, or a dict of settings that must match (a tuple
    matches the list it was saved as).
    keys: the payload keys that must be present (:data:`RESUME_KEYS` to resume training).

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = save_checkpoint(Path(folder.name) / "tiny.pt", {"model": {}, "settings": {"beta": 0.9}})
    >>> load_checkpoint(path, expected_settings={"beta": 0.9})["settings"]
    {'beta': 0.9}
    >>> load_checkpoint(path, expected_settings={"beta": 0.95})
    Traceback (most recent call last):
    ...
    snn_helpers.core.checkpoint.CheckpointError: checkpoint ... does not match: beta: checkpoint has 0.9, expected 0.95
    >>> folder.cleanup()
    """
    path = check_path("path", path)
    if expected_settings is not None and not isinstance(expected_settings, dict):
        raise TypeError(f"expected_settings must be a dict or None, got {type(expected_settings).__name__}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    payload = _load_weights_only(path, path)
    if not isinstance(payload, dict) or not isinstance(payload.get("settings"), dict):
        raise CheckpointError(f"checkpoint {path} is not a snn_helpers checkpoint (no settings dict)")
    missing = [key for key in keys if key not in payload]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it cannot be used here")
    if expected_settings:
        check_match(path, payload["settings"], expected_settings)
    return payload


def check_match(path, saved: dict, expected: dict) -> None:
    """Raise a :class:`CheckpointError` listing every key of ``expected`` whose value differs in
    ``saved`` (a tuple matches the list it was saved as), the settings of the checkpoint at ``path``.

    >>> check_match("c.pt", {"lr": 0.001, "sizes": [4, 2]}, {"sizes": (4, 2), "lr": 0.002})
    Traceback (most recent call last):
    ...
    snn_helpers.core.checkpoint.CheckpointError: checkpoint c.pt does not match: lr: checkpoint has 0.001, expected 0.002
    """
    diffs = [f"{key}: checkpoint has {saved.get(key)!r}, expected {value!r}"
             for key, value in expected.items() if _norm(saved.get(key)) != _norm(value)]
    if diffs:
        raise CheckpointError(f"checkpoint {path} does not match: " + "; ".join(diffs))


def settings_payload(model: ModelSettings, train: TrainSettings | None = None) -> dict:
    """The part of a checkpoint that records its settings: ``{"settings": model.as_dict()}``, and
    ``"train_settings": train.as_dict()`` with ``train``. Plain data, so it loads with ``weights_only=True``.

    >>> sorted(settings_payload(ModelSettings((4, 2)), TrainSettings(epochs=1)))
    ['settings', 'train_settings']
    """
    payload = {"settings": model.as_dict()}
    if train is not None:
        payload["train_settings"] = train.as_dict()
    return payload


def read_settings(payload: dict, path) -> tuple[ModelSettings, TrainSettings | None]:
    """The settings that a checkpoint's ``payload`` (loaded from ``path``) records:
    ``(ModelSettings, TrainSettings or None)``. A value the dataclasses refuse is a
    :class:`CheckpointError` naming ``path``.

    It reads what :func:`settings_payload` writes, and also the older single ``"settings"``
    dict that mixed the model's settings with ``num_steps``, ``lr``, ``schedule`` and
    ``schedule_epochs`` (the shipped model's). That form kept the planned epochs only for a
    schedule other than ``constant``; for ``constant`` the epochs returned are those trained
    (the payload's ``"epoch"``, else 0), on which a constant schedule does not depend.

    >>> old = {"sizes": [4, 2], "beta": 0.9, "num_steps": 8, "lr": 0.002, "schedule": "cosine",
    ...        "schedule_epochs": 5}
    >>> model, train = read_settings({"settings": old}, "old.pt")
    >>> model.neuron.beta, train
    (0.9, TrainSettings(epochs=5, num_steps=8, lr=0.002, schedule='cosine'))
    >>> read_settings({"settings": {"sizes": [4, 2], "beta": 2.0}}, "bad.pt")
    Traceback (most recent call last):
    ...
    snn_helpers.core.checkpoint.CheckpointError: checkpoint bad.pt has settings that cannot be used: beta must be in [0.0, 1.0], got 2.0
    """
    settings = dict(payload["settings"])
    old = {key: settings.pop(key) for key in OLD_TRAIN_KEYS if key in settings}
    try:
        model = ModelSettings.from_dict(settings)
        if payload.get("train_settings") is not None:
            return model, TrainSettings.from_dict(payload["train_settings"])
        if not old:
            return model, None
        epochs = old.pop("schedule_epochs", None)
        return model, TrainSettings(epochs=payload.get("epoch", 0) if epochs is None else epochs, **old)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} has settings that cannot be used: {err}") from None


def _load_weights_only(source: Path, name: Path):
    """``torch.load(source, weights_only=True)``, every failure a :class:`CheckpointError` about ``name``."""
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\. Please|\n|$)", str(err))
        reason = found.group(1) if found else "not tensors and plain data"
        raise CheckpointError(f"checkpoint {name} was refused: it holds something other than tensors "
                              f"and plain data ({reason}). Nothing in it was run.") from None
    except Exception as err:  # damaged files show up as RuntimeError, EOFError, KeyError, OSError, ...
        raise CheckpointError(f"checkpoint {name} cannot be read (truncated or not a checkpoint): "
                              f"{type(err).__name__}: {err}") from err


def _norm(value):
    return list(value) if isinstance(value, tuple) else value
