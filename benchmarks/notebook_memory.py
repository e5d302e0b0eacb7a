"""Peak memory of each notebook in full mode, for sizing a Binder (or JupyterHub) session.

Each notebook runs top to bottom in a fresh kernel, as ``make run`` runs it, but
from its own Python process: once that process has shut its kernel down, the
kernel's peak resident memory is that process's ``getrusage(RUSAGE_CHILDREN)``
``ru_maxrss`` (the largest child it waited for, so a compiler the kernel started
counts only if it was larger). The process's own peak, the notebook client,
stands in for the Jupyter server a Binder session also holds.

The notebooks run in order in one output folder (a temporary one unless
``--output-dir`` names one), so notebook 04 finds the checkpoint 03 wrote; nothing
is written in the clone except the results file. That file is rewritten after
each notebook, every row with its own date, commit and CPU; ``--update`` keeps
the rows of notebooks this run does not measure, so runs of a few notebooks at a
time (in parallel, on a busy machine) add up to one file.

    python benchmarks/notebook_memory.py [--limit-gb 2] [--out results/notebook_memory.json]
                                         [--output-dir DIR] [--update] [NOTEBOOK ...]

Full mode trains on all of MNIST (03 and 05 for minutes on 2 cores); MNIST must
be fetched first (``python -m snn_helpers fetch-data``; ``$SNN_DATA_DIR`` is used).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Linux counts a process's peak from before its exec: a child started from a process that holds torch
# would report torch's memory too. So this process never imports torch: the package's lazy __init__ lets
# it use snn_helpers.system.atomic alone, and a child tells it what needs more (the runner's notebook order).
from snn_helpers.system.atomic import write_json
from snn_helpers.system.paths import PROJECT_ROOT, data_dir

SETUP = """
import json
from snn_helpers.course.runner import notebook_paths
from snn_helpers.system.machine import cpu_name
print(json.dumps({"notebooks": [str(p) for p in notebook_paths()], "cpu": cpu_name()}))
"""

# Runs in the child process: execute one notebook with nbclient alone (no torch in this process, as in a
# Jupyter server), then report the kernel's and its own peak (Linux: KiB). The runner's execute_notebook
# would import the package, torch with it, and so overstate the client.
CHILD = """
import json, pathlib, resource, sys
import nbformat
from nbclient import NotebookClient
path = pathlib.Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=7200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
               extra_arguments=["--IPKernelApp.log_level=CRITICAL"]).execute()
print(json.dumps({"kernel_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "client_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""
WHAT = ("peak resident memory of each notebook's kernel in full mode (SNN_QUICK=0), and of the notebook client "
        "that ran it (a stand-in for the Jupyter server); fits: their sum is at most limit_gb")


def measure(notebook: Path, output: Path) -> dict:
    """Execute ``notebook`` in its own process, its outputs under ``output``; the peaks in MB and the wall time.

    The executed copy is not kept."""
    env = {**os.environ, "SNN_DATA_DIR": str(data_dir()), "SNN_OUTPUT_DIR": str(output), "SNN_QUICK": "0"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(notebook)],
                          env=env, capture_output=True, text=True, check=True)
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    return {"kernel_peak_mb": round(peaks["kernel_kib"] * 1024 / 1e6, 1),
            "client_peak_mb": round(peaks["client_kib"] * 1024 / 1e6, 1),
            "seconds": round(time.perf_counter() - start, 1)}


def commit() -> str:
    done = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def record(out: Path, name: str, row: dict, limit_gb: float, keep: bool) -> None:
    """Write ``row`` for notebook ``name`` into the results file ``out``, keeping its other rows when ``keep``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # runs in parallel take turns (the lock goes with the descriptor)
        rows = json.loads(out.read_text())["notebooks"] if keep and out.is_file() else {}
        rows[name] = row
        write_json(out, {"what": WHAT, "limit_gb": limit_gb, "python": sys.version.split()[0],
                         "notebooks": dict(sorted(rows.items()))})
    finally:
        os.close(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: all, in the runner's order)")
    parser.add_argument("--limit-gb", type=float, default=2.0, help="the session's memory limit in GB (10^9 bytes)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "results" / "notebook_memory.json")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="the notebooks' output folder (default: a temporary one)")
    parser.add_argument("--update", action="store_true", help="keep the results file's rows of other notebooks")
    args = parser.parse_args()
    setup = json.loads(subprocess.run([sys.executable, "-c", SETUP],
                                      capture_output=True, text=True, check=True).stdout)
    notebooks = [Path(p) for p in args.notebooks or setup["notebooks"]]
    keep = args.update
    with contextlib.ExitStack() as stack:
        output = args.output_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="snn-memory-")))
        for notebook in notebooks:
            print(f"running {notebook.name} in full mode ...", flush=True)
            row = measure(notebook, output)
            row["fits"] = row["kernel_peak_mb"] + row["client_peak_mb"] <= 1000 * args.limit_gb
            row.update(cpu=setup["cpu"], cores=os.cpu_count(), commit=commit(),
                       date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"))
            record(args.out, notebook.name, row, args.limit_gb, keep)
            keep = True  # this run's own earlier rows stay
            print(f"  kernel peak {row['kernel_peak_mb']:.0f} MB, client {row['client_peak_mb']:.0f} MB, "
                  f"{row['seconds']:.0f} s: {'fits' if row['fits'] else 'does NOT fit'} {args.limit_gb:g} GB "
                  f"-> {args.out}", flush=True)


if __name__ == "__main__":
    main()
