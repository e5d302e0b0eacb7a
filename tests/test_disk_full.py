"""A full disk is a clear error: one line that names the file, the previous file kept, a non-zero exit.

The writes are mocked to fail as they do on a full disk (``torch.save``'s
``RuntimeError`` without an errno, the ``OSError`` ENOSPC of Python's and
matplotlib's writes); as root, a real 1 MiB tmpfs is filled as well.
"""
import errno
import os
import subprocess

import matplotlib
import pytest
import torch

from snn_helpers.analysis import plots
from snn_helpers.cli import main
from snn_helpers.core import checkpoint
from snn_helpers.core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from snn_helpers.course import runner
from snn_helpers.system import atomic
from snn_helpers.system.atomic import DiskFullError, is_disk_full, write_json

matplotlib.use("Agg")

TORCH_FULL = "[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"  # torch.save, disk full


def payload(size=4):
    return {"model": {"w": torch.arange(float(size))}, "settings": {"size": size}}


def torch_save_fills_the_disk(monkeypatch):
    """``torch.save`` writes part of the file and fails as it does when the disk fills; the disk then reads full."""
    real_save = torch.save

    def save(obj, target):
        real_save(obj, target)
        with open(target, "r+b") as handle:
            handle.truncate(os.path.getsize(target) // 2)
        raise RuntimeError(TORCH_FULL)
    monkeypatch.setattr(checkpoint.torch, "save", save)
    monkeypatch.setattr(atomic, "folder_is_full", lambda folder: True)


def test_torch_saves_error_on_a_full_disk_is_a_one_line_error_naming_the_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "snn.pt", payload())
    before = path.read_bytes()
    torch_save_fills_the_disk(monkeypatch)
    with pytest.raises(DiskFullError) as caught:
        save_checkpoint(path, payload(1000))
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "unchanged" in message, message
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert path.read_bytes() == before and load_checkpoint(path)["settings"] == {"size": 4}
    assert [p.name for p in tmp_path.iterdir()] == ["snn.pt"]  # no temporary file left


def test_torchs_error_with_room_on_the_disk_stays_what_it_was(tmp_path, monkeypatch):
    """Only a disk that is full turns torch's RuntimeError into a DiskFullError; the package's own errors never."""
    def save(obj, target):
        raise RuntimeError(TORCH_FULL)
    monkeypatch.setattr(checkpoint.torch, "save", save)
    with pytest.raises(RuntimeError) as caught:
        save_checkpoint(tmp_path / "snn.pt", payload())
    assert not isinstance(caught.value, DiskFullError)
    assert not is_disk_full(CheckpointError("refused"), tmp_path)
    monkeypatch.setattr(atomic, "folder_is_full", lambda folder: True)
    assert not is_disk_full(CheckpointError("refused"), tmp_path) and is_disk_full(RuntimeError(TORCH_FULL), tmp_path)


def test_an_enospc_anywhere_in_the_chain_is_a_full_disk():
    try:
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as err:
            raise RuntimeError("basic_ios::clear: iostream error") from err
    except RuntimeError as err:
        assert is_disk_full(err)
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("what", ["json", "figure"])
def test_json_and_figures_on_a_full_disk_keep_the_previous_file(tmp_path, monkeypatch, what):
    if what == "json":
        path = write_json(tmp_path / "metrics.json", {"accuracy": 0.9})
        monkeypatch.setattr(atomic.Path, "write_text", enospc)
        write = lambda: write_json(path, {"accuracy": 0.1})  # noqa: E731
    else:
        figure = plots.loss_curve([1.0, 0.5])
        path = plots.save_figure(figure, tmp_path / "loss.png", dpi=20)
        monkeypatch.setattr(figure, "savefig", enospc)
        write = lambda: plots.save_figure(figure, path)  # noqa: E731
    before = path.read_bytes()
    with pytest.raises(DiskFullError, match=f"no space left on the disk to write {path};"):
        write()
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_the_command_line_prints_one_line_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    torch_save_fills_the_disk(monkeypatch)
    out = tmp_path / "model.pt"
    status = main(["train", "--epochs", "0", "--train-limit", "64", "--test-limit", "64", "--no-progress",
                   "--export", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: no space left on the disk to write {out};"), err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_main_job_reports_a_notebooks_full_disk_in_one_line(tmp_path, monkeypatch, capsys):
    import nbformat
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(
        "from snn_helpers.system.atomic import DiskFullError\nraise DiskFullError('checkpoints/snn.pt')")]
    nbformat.write(notebook, tmp_path / "03_full.ipynb")
    monkeypatch.setenv("SNN_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setattr(runner, "run_notebooks", lambda quick: runner.execute_notebook(
        tmp_path / "03_full.ipynb", tmp_path / "out", quick))
    assert runner.main_job(quick=True) == 1
    err = capsys.readouterr().err
    assert err == ("error: a notebook failed, stopping: no space left on the disk to write checkpoints/snn.pt; "
                   "the previous file there, if any, is unchanged. Free some space and try again\n"), err


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs at ``tmp_path / "disk"`` (needs root and a kernel that lets this process mount)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a 1 MiB tmpfs needs root; the mocked writes above cover the same paths")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this container may not mount a tmpfs ({done.stderr.strip()}); the mocked writes cover it")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_checkpoint_on_a_really_full_disk(tiny_disk, capsys):
    path = save_checkpoint(tiny_disk / "snn.pt", payload())
    before = path.read_bytes()
    with pytest.raises(DiskFullError, match=f"to write {path};"):
        save_checkpoint(path, payload(500_000))  # 2 MB of float32: more than the disk holds
    assert path.read_bytes() == before and [p.name for p in tiny_disk.iterdir()] == ["snn.pt"]
    out = tiny_disk / "model.pt"  # the 784-512-256-10 SNN: 1.9 MB
    assert main(["train", "--epochs", "0", "--train-limit", "64", "--test-limit", "64", "--no-progress",
                 "--export", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"error: no space left on the disk to write {out};")
    assert [p.name for p in tiny_disk.iterdir()] == ["snn.pt"]
