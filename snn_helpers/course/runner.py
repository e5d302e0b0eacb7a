"""Execute the notebooks in order, the way the main job (``make run``) does.

The notebooks come from :func:`snn_helpers.system.paths.notebook_dir`: the clone's
``notebooks/`` in a source checkout, else ``notebooks/`` in the folder you
run from (the notebooks are not part of an installed package). Each one runs
in a fresh kernel whose working folder is the notebook's own folder; the
kernel is handed this process's MNIST and output folders as absolute paths
(``SNN_DATA_DIR``, ``SNN_OUTPUT_DIR``), so it reads and writes where this
process looks: the output folder is ``$SNN_OUTPUT_DIR`` (``make run`` sets the
clone's root) or else the folder this process was started from, never the
notebooks' own folder. The executed copy (with outputs) is written atomically
to :func:`~snn_helpers.system.paths.executed_dir` (``build/executed/`` under the
output folder), the figures go to its ``build/img/``; the notebooks are only read.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from unittest import mock

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from ..system.atomic import DiskFullError, atomic_path
from ..system.paths import (
    DATA_ENV,
    OUTPUT_ENV,
    QUICK_ENV,
    data_dir,
    executed_dir,
    figure_dir,
    notebook_dir,
    output_base,
    quick_mode,
    shown,
)
from ..system.threads import quiet_spinning
from .handoff import load_metrics, metrics_path
from .prerender import PRERENDER_ENV


def notebook_paths(folder=None) -> list[Path]:
    """The numbered notebooks ``NN_name.ipynb`` in ``folder`` in order, then the appendices ``AN_name.ipynb``.

    folder: a folder of notebooks; ``None`` means :func:`snn_helpers.system.paths.notebook_dir`.
    Raises ``FileNotFoundError`` when it holds no numbered notebook.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("A1_x.ipynb", "02_b.ipynb", "01_a.ipynb", "notes.ipynb"):
    ...         _ = (Path(tmp) / name).write_text("{}")
    ...     [path.name for path in notebook_paths(tmp)]
    ['01_a.ipynb', '02_b.ipynb', 'A1_x.ipynb']
    """
    folder = notebook_dir() if folder is None else folder
    numbered = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not numbered:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {folder}")
    return numbered + sorted(Path(folder).glob("A[0-9]_*.ipynb"))


def kernel_environment(quick: bool | None = None) -> dict:
    """The environment a notebook's kernel starts with: this process's, with ``SNN_QUICK``
    (``1`` or ``0``), ``SNN_DATA_DIR`` and ``SNN_OUTPUT_DIR`` (this process's folders, absolute),
    and libgomp's spinning shortened (:func:`~snn_helpers.system.threads.quiet_spinning`: the
    notebooks import torch before the package, too late to set it from there).

    quick: as for :func:`~snn_helpers.system.paths.quick_mode` (``None``: this process's mode).

    >>> with mock.patch.dict(os.environ, {"SNN_QUICK": "1", "SNN_DATA_DIR": "mnist"}):
    ...     env, full = kernel_environment(), kernel_environment(quick=False)
    >>> env["SNN_QUICK"], full["SNN_QUICK"], env["SNN_DATA_DIR"] == str(Path.cwd() / "mnist")
    ('1', '0', True)
    """
    return quiet_spinning({**os.environ, QUICK_ENV: "1" if quick_mode(quick) else "0", DATA_ENV: str(data_dir()),
                           OUTPUT_ENV: str(output_base())})


def execute_notebook(path, out_dir, quick: bool | None = None, timeout: int = 3600) -> Path:
    """Run one notebook top to bottom in a fresh ``python3`` kernel; write the executed copy.

    The kernel's environment is :func:`kernel_environment` (``quick`` sets
    ``SNN_QUICK``; ``None``: this process's mode). A failing cell raises ``nbclient.exceptions.CellExecutionError``; nothing is
    written then. Returns the path of the executed copy in ``out_dir``.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    env = kernel_environment(quick)
    # The kernel's own log stays quiet: its start-up notice about the TCP transport, and the
    # "KeyboardInterrupt caught in kernel." that ipykernel logs as an ERROR when the SIGINT that
    # jupyter_client sends before every shutdown lands mid-message, are not failures. A failing
    # cell still reaches us through the execution replies, as CellExecutionError.
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    client.execute(env=env)
    target = Path(out_dir) / path.name
    with atomic_path(target) as tmp:
        nbformat.write(notebook, tmp)
    return target


def run_notebooks(folder=None, out_dir=None, quick: bool | None = None) -> list[tuple[Path, float]]:
    """Execute every notebook of :func:`notebook_paths` in order; print and return ``(copy, seconds)`` each.

    folder: as for :func:`notebook_paths`; out_dir: default :func:`~snn_helpers.system.paths.executed_dir`;
    quick: as for :func:`~snn_helpers.system.paths.quick_mode`.
    """
    quick = quick_mode(quick)
    out_dir = executed_dir(quick) if out_dir is None else out_dir
    done = []
    for path in notebook_paths(folder):
        start = time.perf_counter()
        print(f"running {path.name} ...", flush=True)
        target = execute_notebook(path, out_dir, quick)
        seconds = time.perf_counter() - start
        print(f"  done in {seconds:.1f} s -> {shown(target)}", flush=True)
        done.append((target, seconds))
    return done


def main_job(quick: bool | None = None) -> int:
    """Run all notebooks, then print the test accuracy notebook 03 recorded and the total wall time.

    quick: as for :func:`~snn_helpers.system.paths.quick_mode` (``None``: ``SNN_QUICK`` decides).
    The kernels get ``SNN_PRERENDER=1``, so every slider panel also draws the
    figures the website shows (:mod:`snn_helpers.course.prerender`).

    Returns the exit status: 0 on success, 1 when a notebook failed (in one line when its disk was
    full) or wrote no metrics.
    """
    quick = quick_mode(quick)
    os.environ[QUICK_ENV] = "1" if quick else "0"  # this process reads the same folders as the kernels
    start = time.time()
    try:
        with mock.patch.dict(os.environ, {PRERENDER_ENV: "1"}):  # the kernels draw the website's sliders too
            run_notebooks(quick=quick)
    except CellExecutionError as err:
        if err.ename == DiskFullError.__name__:  # the kernel's one-line message is the whole story
            print(f"error: a notebook failed, stopping: {err.evalue}", file=sys.stderr)
        else:
            print(f"error: a notebook failed, stopping.\n{err}", file=sys.stderr)
        return 1
    wall = time.time() - start
    path = metrics_path()
    if not path.is_file() or path.stat().st_mtime < start:
        print(f"error: notebook 03 wrote no metrics to {shown(path)} in this run", file=sys.stderr)
        return 1
    metrics = load_metrics()
    print(f"final test accuracy: {100 * metrics['test_accuracy']:.2f}% "
          f"({metrics['test_images']} test images, {metrics['num_steps']} time steps, "
          f"{metrics['epochs']} epochs on {metrics['train_images']} training images)")
    print(f"figures in {shown(figure_dir())}/, executed notebooks in {shown(executed_dir(quick))}/")
    print(f"total wall time: {wall:.1f} s")
    return 0
