"""Checkpoints: exact resume, atomic writes, refusal of unsafe or mismatched files, SIGKILL."""
import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from snn_helpers import SNN, BatchLoader, fit, mnist_loaders, set_seed
from snn_helpers.core import checkpoint as ckpt
from snn_helpers.core.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_settings,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from snn_helpers.core.settings import SCHEDULES, TrainSettings
from snn_helpers.system.atomic import DiskFullError, _host, write_json
from snn_helpers.system.paths import PROJECT_ROOT

SIZES = (784, 32, 10)


def _run(epochs, shared=True, schedule="constant", sizes=SIZES, num_steps=4, loader_wrapper=None, **kwargs):
    """Seeded fit on 120 random images, with a shuffling loader like the CLI's."""
    gen = set_seed(0)
    images = torch.rand(120, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    labels = torch.randint(0, 10, (120,), generator=torch.Generator().manual_seed(2))
    loader = BatchLoader(images, labels, 40, shuffle=True,
                         generator=gen if shared else torch.Generator().manual_seed(5))
    model = SNN(sizes)
    history = fit(model, loader_wrapper(loader) if loader_wrapper else loader, epochs, num_steps,
                  schedule=schedule, generator=gen, device="cpu", progress=False, **kwargs)
    return model, history


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


@pytest.mark.parametrize("shared", [True, False], ids=["loader-shares-encoder-generator", "own-generators"])
def test_two_epochs_then_resume_equals_three_in_one_go(tmp_path, shared):
    straight, straight_history = _run(3, shared)
    _run(2, shared, checkpoint_path=tmp_path / "c.pt")
    resumed, resumed_history = _run(3, shared, resume_from=tmp_path / "c.pt")
    assert resumed_history == straight_history
    assert _same_weights(resumed, straight)
    assert load_checkpoint(tmp_path / "c.pt")["epoch"] == 2  # resuming without checkpoint_path wrote nothing


class _StopAtEpoch:
    """A loader that raises KeyboardInterrupt when epoch ``stop`` (1-based) starts, like a restarted kernel."""

    def __init__(self, loader, stop):
        self.loader, self.stop, self.epochs = loader, stop, 0
        self.generator = loader.generator

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        self.epochs += 1
        if self.epochs == self.stop:
            raise KeyboardInterrupt
        return iter(self.loader)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_interrupted_run_resumes_to_the_same_result(tmp_path, schedule):
    straight, straight_history = _run(3, schedule=schedule)
    with pytest.raises(KeyboardInterrupt):
        _run(3, schedule=schedule, checkpoint_path=tmp_path / "c.pt",
             loader_wrapper=lambda loader: _StopAtEpoch(loader, 3))
    resumed, resumed_history = _run(3, schedule=schedule, resume_from=tmp_path / "c.pt")
    assert resumed_history == straight_history
    assert _same_weights(resumed, straight)


def test_checkpoint_holds_everything_needed_to_resume(tmp_path):
    model, history = _run(2, checkpoint_path=tmp_path / "c.pt")
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["epoch"] == 2 and state["loss_history"] == history
    assert state["settings"] == model.settings.as_dict() and state["settings"]["sizes"] == list(SIZES)
    assert read_settings(state, "c.pt") == (model.settings, TrainSettings(epochs=2, num_steps=4))
    assert all(torch.equal(state["model"][k], v) for k, v in model.state_dict().items())
    assert state["optimizer"]["state"]  # Adam moments, not just hyper-parameters
    assert {"torch", "python", "numpy", "gen_encode", "gen_loader"} <= state["rng"].keys()
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_rng_state_round_trip_repeats_every_generator():
    gen = torch.Generator().manual_seed(3)
    state = rng_state({"encode": gen})

    def draws():
        return torch.rand(3), np.random.rand(3), random.random(), random.gauss(0, 1), torch.rand(3, generator=gen)

    first = draws()
    set_rng_state(state, {"encode": gen})
    second = draws()
    for a, b in zip(first, second):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_resume_needs_the_same_generators(tmp_path):
    _run(1, checkpoint_path=tmp_path / "c.pt")
    model = SNN(SIZES)
    before = [p.clone() for p in model.parameters()]
    loader = BatchLoader(torch.rand(8, 1, 28, 28), torch.zeros(8, dtype=torch.long), 4)  # no generator
    with pytest.raises(CheckpointError, match="generator"):
        fit(model, loader, 2, 4, resume_from=tmp_path / "c.pt", progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_resume_with_fewer_epochs_than_done_is_refused(tmp_path):
    _run(2, checkpoint_path=tmp_path / "c.pt")
    with pytest.raises(ValueError, match=r"epochs must be at least 2.*got 1"):
        _run(1, resume_from=tmp_path / "c.pt")


@pytest.mark.parametrize("code, error, message", [
    (errno.ENOSPC, DiskFullError, r"no space left on the disk to write \S*c\.pt; the previous file there, if any, "
                                  r"is unchanged"),
    (errno.EROFS, CheckpointError, "could not write checkpoint .*unchanged")])
def test_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch, code, error, message):
    path = tmp_path / "c.pt"
    _run(1, checkpoint_path=path)
    before = path.read_bytes()
    real_save = torch.save

    def half_then_fail(obj, target):
        real_save(obj, target)
        with open(target, "r+b") as handle:  # a crash half-way through the write
            handle.truncate(os.path.getsize(target) // 2)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(ckpt.torch, "save", half_then_fail)
    with pytest.raises(error, match=message):
        _run(2, checkpoint_path=path, resume_from=path)
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


@pytest.mark.skipif(os.name != "posix", reason="orphans are found by process id on POSIX only")
def test_a_write_removes_temporary_files_left_by_a_killed_writer(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its process id now belongs to nobody
    orphan = tmp_path / f".c.{_host()}-{dead.pid}.abc123.tmp.json"
    live = tmp_path / f".c.{_host()}-{os.getpid()}.def456.tmp.json"  # a write still in progress
    elsewhere = tmp_path / f".c.otherhost-{dead.pid}.ghi789.tmp.json"  # another machine's process
    other_file = tmp_path / f".d.{_host()}-{dead.pid}.jkl012.tmp.json"
    for path in (orphan, live, elsewhere, other_file):
        path.write_text("{half")
    write_json(tmp_path / "c.json", {"ok": True})
    assert not orphan.exists()
    assert live.exists() and elsewhere.exists() and other_file.exists()
    assert json.loads((tmp_path / "c.json").read_text()) == {"ok": True}


class _WritesAFile:
    """Unpickling this would create ``marker``: the kind of code a checkpoint must never run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("legacy", [False, True], ids=["zip-format", "plain-pickle"])
def test_checkpoint_with_code_is_refused_and_not_run(tmp_path, legacy):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save({"model": {"w": _WritesAFile(marker)}, "settings": {}}, path,
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError, match=r"refused.*Nothing in it was run") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    assert "weights_only=False" not in str(info.value)  # no advice to switch the check off
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is live: without weights_only it runs
    assert marker.exists()


def test_resume_from_a_checkpoint_with_code_changes_nothing(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save({"model": _WritesAFile(marker), "settings": {}, "epoch": 1}, path)
    model = SNN(SIZES)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(CheckpointError, match="refused"):
        fit(model, BatchLoader(torch.rand(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)),
            2, resume_from=path, progress=False)
    assert not marker.exists()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_saving_code_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(CheckpointError, match="refused"):
        save_checkpoint(tmp_path / "c.pt", {"model": _WritesAFile(tmp_path / "pwned"), "settings": {}})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "junk", "empty", "not-a-dict", "no-settings", "no-model"])
def test_damaged_or_foreign_files_are_refused_by_name(tmp_path, damage):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(100)}, "settings": {"sizes": [1]}})
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "junk":
        path.write_bytes(b"this is not a checkpoint")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        payload = {"not-a-dict": [1, 2], "no-settings": {"model": {}},
                   "no-model": {"settings": {}}}[damage]
        torch.save(payload, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(CheckpointError, match=re.escape(str(tmp_path / "nope.pt"))):
        load_checkpoint(tmp_path / "nope.pt")


def test_a_checkpoint_of_the_older_form_resumes_and_is_checked(tmp_path):
    """Before the settings dataclasses, one "settings" dict mixed the model's settings with the
    training's; such a checkpoint still resumes to the same weights, and its settings still must match."""
    straight, straight_history = _run(2, schedule="cosine")
    with pytest.raises(KeyboardInterrupt):  # stopped during the 2 epochs the schedule is planned for
        _run(2, schedule="cosine", checkpoint_path=tmp_path / "c.pt",
             loader_wrapper=lambda loader: _StopAtEpoch(loader, 3))
    payload = torch.load(tmp_path / "c.pt", weights_only=True)
    assert payload["epoch"] == 1
    train = TrainSettings.from_dict(payload.pop("train_settings"))
    payload["settings"] = {**payload["settings"], **train.plan()}
    torch.save(payload, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="schedule_epochs: checkpoint has 2, expected 3"):
        _run(3, schedule="cosine", resume_from=tmp_path / "old.pt")
    resumed, resumed_history = _run(2, schedule="cosine", resume_from=tmp_path / "old.pt")
    assert resumed_history == straight_history and _same_weights(resumed, straight)


def test_settings_mismatch_says_what_differs(tmp_path):
    _run(1, checkpoint_path=tmp_path / "c.pt")
    model = SNN((784, 16, 10))
    before = [p.clone() for p in model.parameters()]
    loader = BatchLoader(torch.rand(4, 1, 28, 28), torch.zeros(4, dtype=torch.long))
    with pytest.raises(CheckpointError) as info:
        fit(model, loader, 2, num_steps=7, resume_from=tmp_path / "c.pt", progress=False)
    message = str(info.value)
    assert "sizes: checkpoint has [784, 32, 10], expected [784, 16, 10]" in message
    assert "num_steps: checkpoint has 4, expected 7" in message
    assert "beta" not in message  # only what differs
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_every_torch_load_in_the_project_is_weights_only():
    sources = [*(PROJECT_ROOT / "snn_helpers").rglob("*.py"), *(PROJECT_ROOT / "notebooks").glob("*.ipynb"),
               *(PROJECT_ROOT / "benchmarks").glob("*.py")]
    calls = []
    for source in sources:
        text = source.read_text()
        if source.suffix == ".ipynb":
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        calls += [(source.name, call) for call in re.findall(r"torch\.load\((?:[^()]|\([^()]*\))*\)", text)]
    assert calls, "no torch.load found: the search itself is broken"
    unsafe = [(name, call) for name, call in calls if "weights_only=True" not in call]
    assert not unsafe


def test_train_command_resume_keeps_writing_the_checkpoint_it_resumed_from(tmp_path):
    from snn_helpers.cli import main
    path = tmp_path / "run.pt"
    small = ["--train-limit", "96", "--test-limit", "32", "--batch-size", "32", "--num-steps", "2", "--no-progress"]
    assert main(["train", *small, "--epochs", "1", "--checkpoint", str(path)]) == 0
    assert load_checkpoint(path)["epoch"] == 1
    assert main(["train", *small, "--epochs", "2", "--resume", str(path)]) == 0  # no --checkpoint
    assert load_checkpoint(path)["epoch"] == 2
    other = tmp_path / "elsewhere.pt"
    assert main(["train", *small, "--epochs", "3", "--resume", str(path), "--checkpoint", str(other)]) == 0
    assert (load_checkpoint(path)["epoch"], load_checkpoint(other)["epoch"]) == (2, 3)


@pytest.mark.slow
def test_sigkill_mid_epoch_leaves_a_checkpoint_that_resumes(tmp_path):
    path, limit, batch, steps, seed = tmp_path / "ckpt.pt", 300, 50, 2, 3
    settings = [f"--train-limit={limit}", "--test-limit=100", f"--batch-size={batch}", f"--num-steps={steps}",
                f"--seed={seed}", "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "snn_helpers", "train", *settings, "--epochs", "1000",
                             "--checkpoint", str(path)], cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        written = []  # (inode, time) of each checkpoint seen: every save is a rename, a new inode
        deadline = time.monotonic() + 60
        while len(written) < 2 and time.monotonic() < deadline and proc.poll() is None:
            if path.exists() and (not written or path.stat().st_ino != written[-1][0]):
                written.append((path.stat().st_ino, time.monotonic()))
            time.sleep(0.005)
        if len(written) < 2:
            proc.kill()
            pytest.fail(f"no two checkpoints within 60 s: {proc.communicate()[1].decode()[-2000:]}")
        time.sleep((written[1][1] - written[0][1]) / 2)  # half-way through the next epoch
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    state = load_checkpoint(path)
    done = state["epoch"]
    assert done >= 2 and len(state["loss_history"]) == done

    gen = set_seed(seed)
    train, _ = mnist_loaders(None, batch, limit, 100, generator=gen)
    history = fit(SNN(), train, done + 1, steps, generator=gen, device="cpu", checkpoint_path=path,
                  resume_from=path, progress=False)
    assert history[:done] == state["loss_history"] and len(history) == done + 1
    assert load_checkpoint(path)["epoch"] == done + 1
