"""Where things live: the files the package ships, MNIST, and everything the course writes.

Three kinds of files, three rules:

- **Shipped** (only read): the pretrained model in ``snn_helpers/pretrained/``
  (:func:`pretrained_dir`) and the kernel source ``snn_helpers/engine/_kernels.c``.
  They are package data, so a wheel carries them.
- **MNIST** (read; fetched once by ``python -m snn_helpers fetch-data``):
  :func:`data_dir` is ``$SNN_DATA_DIR`` when set, else ``<project>/data`` in a
  source checkout (every notebook run from a clone shares the one copy; the
  files are only read), else ``data/`` in the current working folder.
- **Outputs** (written): everything goes under the *output folder*
  :func:`output_base`, which is ``$SNN_OUTPUT_DIR`` when set, else the current
  working folder, however the package was installed. A notebook's working
  folder is the folder it sits in, so each student's notebooks write beside
  themselves, and notebook 04 finds the checkpoint notebook 03 wrote there.
  Under it: ``checkpoints/`` (your models and metrics) and ``build/`` (figures
  in ``build/img/``, executed notebooks in ``build/executed/``, videos in
  ``build/media/``, the website in ``build/site/`` with what it fetches in
  ``build/vendor/``, student notebooks in ``build/student/``). Quick mode
  (``SNN_QUICK=1``, set by the test command; read only by :func:`quick_mode`)
  shrinks the work and moves the figures, ``checkpoints/``, the executed
  notebooks, the website and the videos to ``build/quick/``. ``make run`` and ``make test`` set
  ``SNN_OUTPUT_DIR`` to the clone's root, so they write under its ``build/``
  (and ``checkpoints/``) and never over a committed file; ``make figures``
  copies the README's figures from ``build/img/`` over the committed ``img/``.

A *source checkout* means the folder above the package holds this project's
``pyproject.toml``: running from a clone, or an editable install
(``pip install -e .``). A regular install (``pip install .`` or a wheel) is
not one, so nothing is ever written inside the installed package. A relative
path in ``SNN_DATA_DIR`` or ``SNN_OUTPUT_DIR`` is taken from the current
working folder when it is used; the notebook runner hands its kernels
absolute ones. These functions only name folders; whatever writes a file
creates its folder (:func:`snn_helpers.system.atomic.atomic_path`). The compiled
kernels are cached elsewhere, in ``$SNN_KERNEL_CACHE`` (see
:mod:`snn_helpers.engine.kernels`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # snn_helpers/, above this subpackage
PROJECT_ROOT = PACKAGE_DIR.parent  # the clone's root in a source checkout; see source_checkout()
QUICK_ENV = "SNN_QUICK"
DATA_ENV = "SNN_DATA_DIR"
OUTPUT_ENV = "SNN_OUTPUT_DIR"


def quick_mode(quick: bool | None = None) -> bool:
    """Whether to run in quick mode: ``quick`` when given, else what the environment says.

    This is the one place quick mode is read from the environment; a function
    with a ``quick`` argument passes it here, so ``None`` (its default) means
    the environment and ``True``/``False`` override it. The environment says
    quick for ``SNN_QUICK=1``, or, with ``SNN_QUICK`` unset, while nbgrader runs
    the notebook. nbgrader sets ``NBGRADER_EXECUTION`` (``autograde`` or
    ``validate``) while it executes a notebook, with a time limit on every cell;
    quick mode keeps each cell within it, and the checks build their own inputs,
    so the grades are the same. An explicit ``SNN_QUICK`` wins: ``0`` (or any
    value but ``1``) is full mode, also under nbgrader.

    quick: ``True``, ``False`` or ``None``; anything else raises ``TypeError``.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "1"}):
    ...     quick_mode(), quick_mode(False)
    (True, False)
    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "", "NBGRADER_EXECUTION": "autograde"}):
    ...     quick_mode()
    True
    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "0", "NBGRADER_EXECUTION": "autograde"}):
    ...     quick_mode()
    False
    """
    if quick is not None:
        if not isinstance(quick, bool):
            raise TypeError(f"quick must be True, False or None (read SNN_QUICK), got {type(quick).__name__}")
        return quick
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


def _source_base() -> Path:
    """Where the clone's own files are read from: the project root in a source checkout, else the working folder."""
    return PROJECT_ROOT if source_checkout() else Path.cwd()


def data_dir() -> Path:
    """Root folder for MNIST: ``$SNN_DATA_DIR``, else ``<project>/data`` in a source checkout, else ``./data``.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_DATA_DIR": "/srv/mnist"}):
    ...     print(data_dir())
    /srv/mnist
    """
    return _from_env(DATA_ENV) or _source_base() / "data"


def output_base() -> Path:
    """The output folder: ``$SNN_OUTPUT_DIR``, else the current working folder (a clone's or not).

    Every output of the course goes under it (see the module's description).
    A notebook runs in its own folder, so its outputs land beside it.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course"}):
    ...     print(output_base())
    /tmp/course
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": ""}):  # empty: not set
    ...     output_base() == Path.cwd()
    True
    """
    return _from_env(OUTPUT_ENV) or Path.cwd()


def build_dir() -> Path:
    """``build/`` under the output folder: executed notebooks, videos, the website, student notebooks.

    >>> build_dir() == output_base() / "build"
    True
    """
    return output_base() / "build"


def output_root() -> Path:
    """Where checkpoints go: the output folder in a full run, its ``build/quick`` in quick mode.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course", "SNN_QUICK": "1"}):
    ...     print(output_root())
    /tmp/course/build/quick
    """
    return build_dir() / "quick" if quick_mode() else output_base()


def figure_dir() -> Path:
    """Folder for the figures: ``build/img`` or, in quick mode, ``build/quick/img``.

    Never the committed ``img/`` that the README shows: ``make figures`` copies
    them there on request. Only the path: the writers (``save_figure``, the
    animations, through :func:`snn_helpers.system.atomic.atomic_path`) create the folder.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course", "SNN_QUICK": "0"}):
    ...     print(figure_dir().as_posix())
    /tmp/course/build/img
    """
    return build_dir() / ("quick/img" if quick_mode() else "img")


def checkpoint_dir() -> Path:
    """Folder for your own checkpoints and NIR files: ``checkpoints/`` under :func:`output_root`.

    Only the path: the writers (``save_checkpoint``, ``export_nir``, ``save_metrics``) create it.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course", "SNN_QUICK": "1"}):
    ...     print(checkpoint_dir().as_posix())
    /tmp/course/build/quick/checkpoints
    """
    return output_root() / "checkpoints"


def media_dir() -> Path:
    """Folder for videos (MP4): ``build/media`` or, in quick mode, ``build/quick/media``.

    Only the path: the animations create it when they write a video.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/tmp/course", "SNN_QUICK": "1"}):
    ...     print(media_dir().as_posix())
    /tmp/course/build/quick/media
    """
    return build_dir() / ("quick/media" if quick_mode() else "media")


def executed_dir(quick: bool | None = None) -> Path:
    """Where the runner writes the executed notebooks: ``build/executed``, or ``build/quick/executed``.

    quick: as for :func:`quick_mode` (``None``: the environment decides).

    >>> executed_dir(quick=True).relative_to(build_dir()).as_posix(), executed_dir(quick=False).name
    ('quick/executed', 'executed')
    """
    return build_dir() / ("quick/executed" if quick_mode(quick) else "executed")


def site_dir(quick: bool | None = None) -> Path:
    """Where the website goes: ``build/site``, or ``build/quick/site``.

    quick: as for :func:`quick_mode` (``None``: the environment decides).

    >>> site_dir(quick=True).relative_to(build_dir()).as_posix(), site_dir(quick=False).name
    ('quick/site', 'site')
    """
    return build_dir() / ("quick/site" if quick_mode(quick) else "site")


def vendor_dir() -> Path:
    """``build/vendor``: the third-party files the website needs (MathJax, axe-core), fetched once.

    >>> vendor_dir().relative_to(output_base()).as_posix()
    'build/vendor'
    """
    return build_dir() / "vendor"


def student_dir() -> Path:
    """Where the student notebooks go: ``build/student``.

    >>> student_dir().relative_to(output_base()).as_posix()
    'build/student'
    """
    return build_dir() / "student"


def notebook_dir() -> Path:
    """The notebooks the runner executes: ``<project>/notebooks`` in a source checkout, else ``./notebooks``.

    The notebooks are not part of the package; after a regular install, copy
    them into ``notebooks/`` under the folder you run from.

    >>> notebook_dir().name
    'notebooks'
    """
    return _source_base() / "notebooks"


def pretrained_dir() -> Path:
    """Folder of the model shipped with the package: ``snn_helpers/pretrained`` (package data, only read).

    >>> (pretrained_dir() / "snn_improved.json").is_file()
    True
    """
    return PACKAGE_DIR / "pretrained"


def shown(path) -> Path:
    """``path`` as messages show it: relative to the output folder, or else the working folder, when inside it.

    A notebook that ``make run`` executes runs in ``notebooks/`` but writes under
    the clone's root, so its figures show as ``build/img/...``, as the README
    names them, with no machine's absolute path in the executed copy.

    path: a ``str`` or ``Path``; one outside both folders comes back unchanged.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SNN_OUTPUT_DIR": "/srv/course"}):
    ...     print(shown("/srv/course/build/img/raster.png").as_posix(), shown("/elsewhere/snn.pt").as_posix())
    build/img/raster.png /elsewhere/snn.pt
    """
    path = Path(path)
    for base in (output_base(), Path.cwd()):
        if path.is_relative_to(base):
            return path.relative_to(base)
    return path
