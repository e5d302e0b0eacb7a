"""The main job's notebook runner and the hand-off notebook 03 gives to notebook 04 and the runner."""
import json
import os
import shutil
import subprocess

import nbformat
import pytest
import torch
from nbclient.exceptions import CellExecutionError

from snn_helpers import SNN
from snn_helpers.core.checkpoint import save_checkpoint
from snn_helpers.course import handoff, runner
from snn_helpers.system.paths import PROJECT_ROOT


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def handoff_folder(tmp_path, monkeypatch):
    """Send the hand-off's checkpoint and metrics files to a temporary folder; hide the shipped model."""
    monkeypatch.setattr(handoff, "checkpoint_dir", lambda: tmp_path)
    monkeypatch.setattr(handoff, "pretrained_path", lambda: tmp_path / "no-pretrained.pt")
    return tmp_path


def test_notebook_paths_are_the_numbered_ones_in_order_then_the_appendices(tmp_path):
    for name in ("A2_e.ipynb", "02_b.ipynb", "A1_d.ipynb", "01_a.ipynb", "notes.ipynb", "10_c.ipynb", "Ab_x.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in runner.notebook_paths(tmp_path)] == [
        "01_a.ipynb", "02_b.ipynb", "10_c.ipynb", "A1_d.ipynb", "A2_e.ipynb"]
    (tmp_path / "appendix_only").mkdir()
    (tmp_path / "appendix_only" / "A1_d.ipynb").write_text("{}")
    for folder in (tmp_path / "empty", tmp_path / "appendix_only"):
        with pytest.raises(FileNotFoundError, match="numbered"):
            runner.notebook_paths(folder)


@pytest.mark.slow
@pytest.mark.parametrize("quick", [True, False])
def test_execute_notebook_runs_in_its_folder_with_the_mode_set(tmp_path, quick):
    source = write_notebook(tmp_path / "01_probe.ipynb",
                            "import os\nprint(os.getcwd())\nprint(os.environ['SNN_QUICK'])")
    before = source.read_bytes()
    copy = runner.execute_notebook(source, tmp_path / "out", quick=quick)
    assert copy == tmp_path / "out" / "01_probe.ipynb"
    printed = nbformat.read(copy, as_version=4).cells[0].outputs[0].text.split()
    assert printed == [str(tmp_path), "1" if quick else "0"]
    assert source.read_bytes() == before  # the committed notebook is only read


@pytest.mark.slow
def test_execute_notebook_failure_writes_no_copy(tmp_path):
    source = write_notebook(tmp_path / "01_fail.ipynb", "assert 1 + 1 == 3, 'arithmetic'")
    with pytest.raises(CellExecutionError, match="arithmetic"):
        runner.execute_notebook(source, tmp_path / "out")
    assert not (tmp_path / "out" / "01_fail.ipynb").exists()


def test_main_job_reports_accuracy_written_during_the_run(handoff_folder, monkeypatch, capsys):
    monkeypatch.setenv("SNN_QUICK", "1")  # restored afterwards; main_job sets it for its kernels
    monkeypatch.setattr(runner, "run_notebooks", lambda quick: handoff.save_metrics({
        "test_accuracy": 0.9731, "num_steps": 10, "epochs": 5, "train_images": 60000, "test_images": 10000}))
    assert runner.main_job(quick=False) == 0
    assert os.environ["SNN_QUICK"] == "0"
    out = capsys.readouterr().out
    assert "final test accuracy: 97.31% (10000 test images, 10 time steps, 5 epochs" in out
    assert "total wall time:" in out


@pytest.mark.parametrize("argv, env, quick", [([], "1", True), ([], "0", False), (["--quick"], "0", True)])
def test_run_notebooks_takes_quick_mode_from_the_option_else_the_environment(monkeypatch, argv, env, quick):
    from snn_helpers.cli import main
    monkeypatch.setenv("SNN_QUICK", env)
    seen = []
    monkeypatch.setattr(runner, "run_notebooks", lambda quick: seen.append(quick))
    main(["run-notebooks", *argv])  # fails afterwards (no metrics written): only the mode matters here
    assert seen == [quick]


def test_main_job_fails_when_no_metrics_were_written_in_this_run(handoff_folder, monkeypatch, capsys):
    monkeypatch.setenv("SNN_QUICK", "1")
    (handoff_folder / handoff.METRICS_FILE).write_text(json.dumps({"test_accuracy": 0.5}))
    os.utime(handoff_folder / handoff.METRICS_FILE, (0, 0))  # a stale file from an earlier run
    monkeypatch.setattr(runner, "run_notebooks", lambda quick: None)
    assert runner.main_job(quick=True) == 1
    assert "wrote no metrics" in capsys.readouterr().err


def test_metrics_round_trip_without_temporary_files(handoff_folder):
    path = handoff.save_metrics({"test_accuracy": 0.5, "loss_history": [2.0, 1.0]})
    assert handoff.load_metrics() == {"test_accuracy": 0.5, "loss_history": [2.0, 1.0]}
    assert [p.name for p in handoff_folder.iterdir()] == [path.name]
    with pytest.raises(TypeError, match="metrics"):
        handoff.save_metrics([0.5])


def test_load_trained_model_falls_back_when_there_is_no_checkpoint(handoff_folder):
    trained = SNN((784, 8, 10))
    model, source = handoff.load_trained_model(fallback=lambda: trained)
    assert model is trained
    assert "trained just now" in source


def test_load_trained_model_prefers_the_checkpoint_of_notebook_03(handoff_folder):
    saved = SNN((784, 8, 10), beta=0.8)
    old_form = {**saved.settings.as_dict(), "num_steps": 10, "lr": 1e-3}  # settings mixed, as before the split
    save_checkpoint(handoff.model_path(), {"model": saved.state_dict(), "epoch": 3, "settings": old_form})
    model, source = handoff.load_trained_model(fallback=pytest.fail)
    assert model.settings == saved.settings
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), saved.state_dict().values()))
    assert source == "your checkpoint from notebook 03 (snn.pt, 3 epochs)"
    assert not model.training


def test_load_trained_model_skips_a_damaged_checkpoint(handoff_folder, capsys):
    handoff.model_path().write_bytes(b"not a checkpoint")
    fallback = SNN((784, 8, 10))
    model, source = handoff.load_trained_model(fallback=lambda: fallback)
    assert model is fallback
    assert "skipping snn.pt" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on PATH")
def test_every_make_command_writes_under_the_clone_whatever_the_environment_says(tmp_path):
    """``make run`` and ``make test`` say where they write: the Makefile exports the clone's root as
    ``SNN_OUTPUT_DIR``, so their figures go to the clone's build/ even when started from elsewhere."""
    env = {**os.environ, "SNN_OUTPUT_DIR": str(tmp_path)}
    done = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(PROJECT_ROOT),
                           "--eval", "show-output-dir: ; @echo $$SNN_OUTPUT_DIR", "show-output-dir"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == str(PROJECT_ROOT), done.stdout + done.stderr
