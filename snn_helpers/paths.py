"""Where things live, and the quick mode that tests use.

Full runs write figures to ``img/`` and checkpoints to ``checkpoints/``.
Quick mode (``SNN_QUICK=1``, set by the test command) shrinks the work and
writes everything under ``build/quick/`` instead, so tests never touch
committed files.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUICK_ENV = "SNN_QUICK"


def quick_mode() -> bool:
    """True when the environment variable ``SNN_QUICK`` is ``1``."""
    return os.environ.get(QUICK_ENV, "0") == "1"


def data_dir() -> Path:
    """Root folder for MNIST: ``$SNN_DATA_DIR`` or ``<project>/data``."""
    return Path(os.environ.get("SNN_DATA_DIR", PROJECT_ROOT / "data"))


def output_root() -> Path:
    """The project root in a full run, ``build/quick`` in quick mode."""
    return PROJECT_ROOT / "build" / "quick" if quick_mode() else PROJECT_ROOT


def figure_dir() -> Path:
    """Folder for the figures the README shows (created on demand)."""
    path = output_root() / "img"
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_dir() -> Path:
    """Folder for the user's own checkpoints (git-ignored, created on demand)."""
    path = output_root() / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def media_dir() -> Path:
    """Folder for videos (MP4): ``build/media`` or ``build/quick/media``; never committed."""
    path = PROJECT_ROOT / "build" / ("quick/media" if quick_mode() else "media")
    path.mkdir(parents=True, exist_ok=True)
    return path


def pretrained_dir() -> Path:
    """Folder of the checkpoint shipped with the project."""
    return PROJECT_ROOT / "pretrained"
