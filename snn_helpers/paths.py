"""Where things live: the files the package ships, MNIST, and everything the course writes.

Three kinds of files, three rules:

- **Shipped** (only read): the pretrained model in ``snn_helpers/pretrained/``
  (:func:`pretrained_dir`) and the kernel source ``snn_helpers/_kernels.c``.
  They are package data, so a wheel carries them.
- **MNIST** (read; fetched once by ``python -m snn_helpers fetch-data``):
  :func:`data_dir` is ``$SNN_DATA_DIR`` when set, else ``<project>/data`` in a
  source checkout, else ``data/`` in the current working folder.
- **Outputs** (written): everything goes under the *output folder*
  :func:`output_base`, which is ``$SNN_OUTPUT_DIR`` when set, else the project
  root in a source checkout, else the current working folder. Under it:
  ``img/`` (figures), ``checkpoints/`` (your models and metrics) and ``build/``
  (executed notebooks, videos, the website, student notebooks). Quick mode
  (``SNN_QUICK=1``, set by the test command) shrinks the work and moves
  ``img/``, ``checkpoints/`` and the executed notebooks and videos to
  ``build/quick/``, so tests never touch committed files.

A *source checkout* means the folder above the package holds this project's
``pyproject.toml``: running from a clone, or an editable install
(``pip install -e .``). A regular install (``pip install .`` or a wheel) is
not one, so nothing is ever written inside the installed package. A relative
path in ``SNN_DATA_DIR`` or ``SNN_OUTPUT_DIR`` is taken from the current
working folder when it is used; the notebook runner hands its kernels
absolute ones. The compiled kernels are cached elsewhere, in
``$SNN_KERNEL_CACHE`` (see :mod:`snn_helpers.kernels`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent  # the clone's root in a source checkout; see source_checkout()
QUICK_ENV = "SNN_QUICK"
DATA_ENV = "SNN_DATA_DIR"
OUTPUT_ENV = "SNN_OUTPUT_DIR"


def quick_mode() -> bool:
    """True in quick mode: ``SNN_QUICK=1``, or, with ``SNN_QUICK`` unset, while nbgrader runs the notebook.

    nbgrader sets ``NBGRADER_EXECUTION`` (``autograde`` or ``validate``) while
    it executes a notebook, with a time limit on every cell; quick mode keeps
    each cell within it, and the checks build their own inputs, so the grades
    are the same. An explicit ``SNN_QUICK`` wins: ``0`` (or any value but
    ``1``) is full mode, also under nbgrader.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "1"}):
    ...     quick_mode()
    True
    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "", "NBGRADER_EXECUTION": "autograde"}):
    ...     quick_mode()
    True
    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "0", "NBGRADER_EXECUTION": "autograde"}):
    ...     quick_mode()
    False
    """
    value = os.environ.get(QUICK_ENV, "")
    return value == "1" if value else os.environ.get("NBGRADER_EXECUTION", "") in ("autograde", "validate")


def source_checkout() -> bool:
    """True when the package runs from this project's source tree (a clone or ``pip install -e .``).

    The test: the folder above the package holds a ``pyproject.toml`` that
    names this project (``snn-helpers``). In a regular install that folder is
    ``site-packages`` (or the ``--target`` folder), which holds none.

    >>> source_checkout() == (PROJECT_ROOT / "pyproject.toml").is_file()
    True
    """
    pyproject = PROJECT_ROOT / "pyproject.toml"
    return pyproject.is_file() and re.search(r'^name\s*=\s*"snn-helpers"', pyproject.read_text(), re.M) is not None


def _from_env(name: str) -> Path | None:
    """The folder named by the environment variable ``name`` (``~`` expanded, made absolute), or None."""
    value = os.environ.get(name)
    return Path(value).expanduser().absolute() if value else None


def _default_base() -> Path:
    return PROJECT_ROOT if source_checkout() else Path.cwd()


def data_dir() -> Path:
    """Root folder for MNIST: ``$SNN_DATA_DIR``, else ``<project>/data`` in a source checkout, else ``./data``.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_DATA_DIR": "/srv/mnist"}):
    ...     print(data_dir())
    /srv/mnist
    """
    return _from_env(DATA_ENV) or _default_base() / "data"


def output_base() -> Path:
    """The output folder: ``$SNN_OUTPUT_DIR``, else the project root in a source checkout, else the working folder.

    Every output of the course goes under it (see the module's description);
    it is never inside an installed package.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course"}):
    ...     print(output_base())
    /tmp/course
    """
    return _from_env(OUTPUT_ENV) or _default_base()


def build_dir() -> Path:
    """``build/`` under the output folder: executed notebooks, videos, the website, student notebooks.

    >>> build_dir() == output_base() / "build"
    True
    """
    return output_base() / "build"


def output_root() -> Path:
    """Where figures and checkpoints go: the output folder in a full run, its ``build/quick`` in quick mode.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course", "SNN_QUICK": "1"}):
    ...     print(output_root())
    /tmp/course/build/quick
    """
    return build_dir() / "quick" if quick_mode() else output_base()


def figure_dir() -> Path:
    """Folder for the figures the README shows: ``img/`` under :func:`output_root` (created on demand).

    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": tmp}):
    ...     figure_dir() == output_root() / "img" and figure_dir().is_dir()
    True
    """
    path = output_root() / "img"
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_dir() -> Path:
    """Folder for your own checkpoints: ``checkpoints/`` under :func:`output_root` (created on demand).

    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": tmp}):
    ...     checkpoint_dir() == output_root() / "checkpoints"
    True
    """
    path = output_root() / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def media_dir() -> Path:
    """Folder for videos (MP4): ``build/media`` or, in quick mode, ``build/quick/media`` (created on demand).

    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": tmp}):
    ...     media_dir().relative_to(tmp).as_posix() in ("build/media", "build/quick/media")
    True
    """
    path = build_dir() / ("quick/media" if quick_mode() else "media")
    path.mkdir(parents=True, exist_ok=True)
    return path


def notebook_dir() -> Path:
    """The notebooks the runner executes: ``<project>/notebooks`` in a source checkout, else ``./notebooks``.

    The notebooks are not part of the package; after a regular install, copy
    them into ``notebooks/`` under the folder you run from.

    >>> notebook_dir().name
    'notebooks'
    """
    return _default_base() / "notebooks"


def pretrained_dir() -> Path:
    """Folder of the model shipped with the package: ``snn_helpers/pretrained`` (package data, only read).

    >>> (pretrained_dir() / "snn_improved.json").is_file()
    True
    """
    return PACKAGE_DIR / "pretrained"


def shown(path) -> Path:
    """``path`` as messages show it: relative to the project root (source checkout) or working folder when inside it.

    path: a ``str`` or ``Path``; one outside that folder comes back unchanged.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": ""}):  # empty: not set
    ...     print(shown(output_base() / "img" / "raster.png").as_posix())
    img/raster.png
    """
    path, base = Path(path), _default_base()
    return path.relative_to(base) if path.is_relative_to(base) else path
