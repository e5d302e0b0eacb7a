"""A regular install (a wheel, not ``pip install -e .``) works and writes nothing inside the package;
with either install, a notebook writes its outputs beside itself.

The wheel is built from a copy of the project's sources and installed with
``pip install --no-deps --target`` into a temporary folder; its dependencies
come from the environment running the tests. Every command then runs from a
temporary working folder with ``PYTHONPATH`` set to that folder only (not the
clone), ``SNN_DATA_DIR`` at the MNIST the tests already use, and
``SNN_KERNEL_CACHE`` at a temporary folder. ``PYTHONDONTWRITEBYTECODE=1``
keeps Python from caching bytecode beside the installed modules, so the check
that the installed package is unchanged (every file's path, size and mtime)
sees what the package itself writes. The clone's own install (``make setup``:
``pip install -e .``) is checked the same way, with ``PYTHONPATH`` at the clone.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from snn_helpers.system.paths import PROJECT_ROOT, data_dir

pytestmark = pytest.mark.slow

NOTEBOOK = PROJECT_ROOT / "notebooks" / "01_spike_encoding.ipynb"

PROBE = """
import hashlib, json, os, sys
import snn_helpers
from snn_helpers.system import paths
from snn_helpers.course.handoff import model_from_checkpoint
shipped = paths.pretrained_dir() / "snn_improved.pt"
model_from_checkpoint(shipped)  # its settings and weights build the network
report = {"package": snn_helpers.__file__, "shipped": str(shipped), "source_checkout": paths.source_checkout(),
          "sha256": hashlib.sha256(shipped.read_bytes()).hexdigest(),
          "recorded": json.loads(shipped.with_suffix(".json").read_text())["sha256"],
          "outputs": str(paths.output_base()), "data": str(paths.data_dir()), "notebooks": str(paths.notebook_dir())}
os.environ["SNN_OUTPUT_DIR"] = sys.argv[1]
report["figures_with_env"] = str(paths.figure_dir())
print(json.dumps(report))
"""


def snapshot(folder: Path) -> dict:
    """Every file under ``folder``: its relative path -> (size, mtime in ns)."""
    return {path.relative_to(folder).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(site, env)``: the wheel installed into ``site``, and the environment the commands run in."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "snn_helpers", source / "snn_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(tmp / "wheel")],
                   check=True, capture_output=True, timeout=300)
    wheel, = (tmp / "wheel").glob("snn_helpers-*.whl")
    site = tmp / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "SNN_OUTPUT_DIR", "SNN_QUICK")}
    env.update(PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1", SNN_DATA_DIR=str(data_dir()),
               SNN_KERNEL_CACHE=str(tmp / "kernel-cache"))
    return site, env


def test_the_wheel_carries_the_shipped_model_and_the_kernel_source(installed):
    site, _ = installed
    package = site / "snn_helpers"
    for name in ("engine/_kernels.c", "pretrained/snn_improved.pt", "pretrained/snn_improved.json"):
        assert (package / name).is_file(), f"{name} is not in the wheel"
    assert (package / "pretrained" / "snn_improved.pt").read_bytes() == \
        (PROJECT_ROOT / "snn_helpers" / "pretrained" / "snn_improved.pt").read_bytes()


def test_training_and_notebook_01_run_from_the_installed_package_and_write_only_in_the_working_folder(
        installed, tmp_path):
    site, env = installed
    data = Path(env["SNN_DATA_DIR"])
    site_before, data_before = snapshot(site), snapshot(data)
    work = tmp_path / "work"
    work.mkdir()

    probe = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "elsewhere")], cwd=work, env=env,
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert Path(report["package"]).is_relative_to(site), report["package"]  # not the clone
    assert Path(report["shipped"]).is_relative_to(site) and report["sha256"] == report["recorded"]
    assert report["source_checkout"] is False
    assert (report["outputs"], report["notebooks"]) == (str(work), str(work / "notebooks"))
    assert report["data"] == str(data)
    assert report["figures_with_env"] == str(tmp_path / "elsewhere" / "build" / "img")

    train = subprocess.run([sys.executable, "-m", "snn_helpers", "train", "--epochs", "1", "--train-limit", "2000",
                            "--test-limit", "500", "--no-progress"], cwd=work, env=env,
                           capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stdout + train.stderr
    assert re.search(r"test accuracy \(10-step evaluation, 500 images\): \d+\.\d\d%", train.stdout), train.stdout

    kernel_package, _ = run_notebook_01(work, env)
    assert kernel_package.is_relative_to(site), kernel_package

    assert snapshot(site) == site_before, "something was written inside the installed package"
    assert snapshot(data) == data_before, "something was written in the MNIST folder"


def run_notebook_01(work: Path, env: dict) -> tuple[Path, bool]:
    """Run notebook 01 in quick mode from ``work``, as a student's copy there would run, and check that its
    figures are in ``work``. Returns where the kernel imported the package from and whether that was a source
    checkout (``paths.source_checkout()``)."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import snn_helpers\nfrom snn_helpers.system import paths\nprint(snn_helpers.__file__, paths.source_checkout())"))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}},
                   extra_arguments=["--IPKernelApp.log_level=CRITICAL"]).execute(env={**env, "SNN_QUICK": "1"})
    package, checkout = notebook.cells[-1].outputs[0].text.split()
    written = re.findall(r'figure_dir\(\) / "([^"]+)"', "\n".join(cell.source for cell in notebook.cells))
    assert written, "notebook 01 writes no figures: this test checks nothing"
    for name in written:
        assert (work / "build" / "quick" / "img" / name).is_file(), f"{name} is not in the working folder"
    return Path(package), checkout == "True"


def clone_snapshot() -> dict:
    """:func:`snapshot` of the clone, less its git data and virtual environments (only read here)."""
    files = {}
    for folder, dirs, names in os.walk(PROJECT_ROOT):
        dirs[:] = [name for name in dirs if name != ".git" and not (Path(folder) / name / "pyvenv.cfg").exists()]
        for name in names:
            stat = (Path(folder) / name).stat()
            files[(Path(folder) / name).relative_to(PROJECT_ROOT).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def test_notebook_01_run_from_another_folder_with_the_clones_install_writes_there_and_not_in_the_clone(tmp_path):
    """Students who share one clone (``pip install -e .``) each run their copies in their own folder;
    nothing they write may land in the clone, where it would overwrite another student's."""
    env = {key: value for key, value in os.environ.items() if key not in ("SNN_OUTPUT_DIR", "SNN_QUICK")}
    env.update(PYTHONPATH=str(PROJECT_ROOT), PYTHONDONTWRITEBYTECODE="1", SNN_DATA_DIR=str(data_dir()))
    before = clone_snapshot()
    package, checkout = run_notebook_01(tmp_path, env)
    assert package.is_relative_to(PROJECT_ROOT) and checkout, f"the kernel did not use the clone: {package}"
    changed = sorted(set(before.items()) ^ set(clone_snapshot().items()))
    assert not changed, f"notebook 01 wrote in the clone: {sorted({name for name, _ in changed})}"
