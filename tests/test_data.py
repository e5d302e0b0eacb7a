"""MNIST file integrity: missing, damaged, unwritable. Small fake files, no network."""
import errno
import hashlib
import os
import shutil
import subprocess

import pytest

from snn_helpers import ensure_mnist
from snn_helpers.core import data
from snn_helpers.core.data import MNISTDataError
from snn_helpers.system.atomic import DiskFullError

FAKE = {name: f"fake {name} contents".encode() * 50 for name in data.SHA256}


@pytest.fixture(autouse=True)
def fake_mnist(monkeypatch):
    """Checksums of small fake files, and fetchers that fail as if offline (tests replace them)."""
    monkeypatch.setattr(data, "SHA256", {name: hashlib.sha256(blob).hexdigest() for name, blob in FAKE.items()})
    monkeypatch.setattr(data, "_from_torchvision", _offline)
    monkeypatch.setattr(data, "_from_npm", _offline)


def _offline(workdir):
    raise ConnectionError("no network in this test")


def _serving(files):
    """A fetcher that writes ``files`` (name -> bytes) into its work folder."""
    def fetch(workdir):
        for name, blob in files.items():
            (workdir / name).write_bytes(blob)
        return {name: workdir / name for name in files}
    return fetch


def _raw(root, names=tuple(FAKE)):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in names:
        (raw / name).write_bytes(FAKE[name])
    return raw


def _contents(folder):
    """Every file and folder under ``folder`` (hidden temporary ones included)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_complete_checked_folder_is_used_without_fetching(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    monkeypatch.setattr(data, "_from_torchvision", lambda workdir: pytest.fail("fetched although complete"))
    assert ensure_mnist(tmp_path, verbose=False) == raw


def test_missing_file_is_named_with_the_ways_to_fix_it(tmp_path):
    missing = "t10k-labels-idx1-ubyte"
    raw = _raw(tmp_path, [name for name in FAKE if name != missing])
    with pytest.raises(MNISTDataError) as info:
        ensure_mnist(tmp_path, verbose=False)
    message = str(info.value)
    assert f"['{missing}'] are missing from {raw}" in message
    assert "no network in this test" in message  # why each source failed
    for way in ("1. run `python -m snn_helpers fetch-data`", "2. install Node.js", "3. put the four"):
        assert way in message
    assert _contents(raw) == sorted(name for name in FAKE if name != missing)


@pytest.mark.parametrize("damage", ["truncated", "altered", "empty"])
def test_damaged_file_is_named_and_left_for_the_user(tmp_path, monkeypatch, damage):
    raw = _raw(tmp_path)
    path = raw / "train-images-idx3-ubyte"
    blob = FAKE[path.name]
    path.write_bytes({"truncated": blob[:len(blob) // 2], "altered": blob[:-1] + b"!", "empty": b""}[damage])
    monkeypatch.setattr(data, "_from_torchvision", lambda workdir: pytest.fail("a damaged file was replaced"))
    with pytest.raises(MNISTDataError) as info:
        ensure_mnist(tmp_path, verbose=False)
    message = str(info.value)
    assert f"{path} is damaged" in message and "python -m snn_helpers fetch-data" in message
    assert "t10k" not in message  # only the file at fault


def test_fetched_files_are_checked_before_they_are_used(tmp_path, monkeypatch):
    raw = _raw(tmp_path, ["train-labels-idx1-ubyte"])
    wanted = [name for name in FAKE if name != "train-labels-idx1-ubyte"]
    altered = {name: FAKE[name] + b"tampered" for name in wanted}
    monkeypatch.setattr(data, "_from_torchvision", _serving(altered))
    monkeypatch.setattr(data, "_from_npm", _serving({name: FAKE[name] for name in wanted}))
    assert ensure_mnist(tmp_path, verbose=False) == raw
    assert _contents(raw) == sorted(FAKE)
    assert all((raw / name).read_bytes() == FAKE[name] for name in FAKE)


def test_only_altered_downloads_give_an_error_and_no_file(tmp_path, monkeypatch):
    raw = _raw(tmp_path, [])
    monkeypatch.setattr(data, "_from_torchvision", _serving({name: b"x" + FAKE[name] for name in FAKE}))
    with pytest.raises(MNISTDataError, match="does not match its sha256; it was not used"):
        ensure_mnist(tmp_path, verbose=False)
    assert _contents(raw) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_write_error_mid_fetch_leaves_no_half_written_file(tmp_path, monkeypatch, code):
    raw = _raw(tmp_path, ["t10k-labels-idx1-ubyte"])

    def half_then_fail(workdir):
        (workdir / "train-images-idx3-ubyte").write_bytes(FAKE["train-images-idx3-ubyte"][:100])
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(data, "_from_torchvision", half_then_fail)
    with pytest.raises(MNISTDataError if code != errno.ENOSPC else DiskFullError) as info:
        ensure_mnist(tmp_path, verbose=False)
    if code == errno.ENOSPC:  # one line naming the folder; no other source is tried
        assert str(info.value).startswith(f"no space left on the disk to write {raw};")
    else:
        assert os.strerror(code) in str(info.value)
    assert _contents(raw) == ["t10k-labels-idx1-ubyte"]  # no partial file, no temporary folder


def test_unwritable_data_folder_is_an_error(tmp_path, monkeypatch):
    class Refused:
        def __init__(self, *args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    raw = _raw(tmp_path, [])
    monkeypatch.setattr(data.tempfile, "TemporaryDirectory", Refused)
    with pytest.raises(MNISTDataError) as info:
        ensure_mnist(tmp_path, verbose=False)
    message = str(info.value)
    assert f"could not write MNIST files into {raw}" in message and "Read-only file system" in message
    assert "SNN_DATA_DIR" in message
    assert _contents(raw) == []


@pytest.fixture
def read_only(tmp_path):
    """Make a folder truly read-only: chmod for a normal user, ``chattr +i`` for root."""
    made = []

    def make(folder):
        if os.geteuid() != 0:
            folder.chmod(0o555)
        elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)],
                                                       capture_output=True).returncode == 0:
            made.append(folder)
        else:
            pytest.skip("running as root without chattr: a read-only folder cannot be made")
        return folder

    yield make
    for folder in made:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    for folder in tmp_path.rglob("*"):
        if folder.is_dir():
            folder.chmod(0o755)


def test_read_only_data_folder_is_an_error_not_a_half_written_file(tmp_path, monkeypatch, read_only):
    raw = _raw(tmp_path, ["train-labels-idx1-ubyte"])
    monkeypatch.setattr(data, "_from_torchvision", _serving(FAKE))
    read_only(raw)
    with pytest.raises(MNISTDataError, match=f"could not write MNIST files into {raw}"):
        ensure_mnist(tmp_path, verbose=False)
    assert _contents(raw) == ["train-labels-idx1-ubyte"]
