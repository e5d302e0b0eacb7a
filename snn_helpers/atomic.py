"""Write files so that a crash never leaves a half-written one behind."""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target):
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    The temporary file lives in the same folder, so the final ``os.replace`` is
    atomic, and keeps the target's extension, so writers that pick a format
    from the name (matplotlib, Pillow) still work. On any error the temporary
    file is removed and ``target`` is left as it was. The file gets the usual
    permissions (0666 less the umask), not ``mkstemp``'s private 0600.

    The temporary name records the host and process that write it; a process
    killed mid-write (SIGKILL, power cut) leaves its file behind, and the next
    write of the same ``target`` from that host removes it once that process is gone.

    target: str or path of the file to write; its folder is created if needed.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "notes.txt"
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("spikes")
    ...         print(target.exists())  # not yet: the text is in ``tmp``
    ...     print(target.read_text())
    False
    spikes
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    owner = f"{_host()}-{os.getpid()}"
    _remove_orphans(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.{owner}.",
                               suffix=f".tmp{target.suffix}")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        with open(tmp, "r+b") as written:  # on disk before the rename, so a power cut cannot leave it empty
            os.fsync(written.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_json(path, data, indent: int = 2) -> Path:
    """Write ``data`` as JSON (keys sorted) to ``path`` through :func:`atomic_path`; return the path.

    data: anything ``json.dumps`` takes (dicts, lists, str, numbers, bools, None).
    indent: spaces per nesting level, as in ``json.dumps``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_json(Path(folder) / "metrics.json", {"epochs": 2, "accuracy": 0.5})
    ...     print(path.read_text(), end="")
    {
      "accuracy": 0.5,
      "epochs": 2
    }
    """
    path = Path(path)
    text = json.dumps(data, indent=indent, sort_keys=True) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _remove_orphans(target: Path) -> None:
    """Remove temporary files of ``target`` left by dead processes of this host (POSIX only)."""
    if os.name != "posix":
        return
    pattern = re.compile(rf"\.{re.escape(target.stem)}\.{re.escape(_host())}-(\d+)\.[^.]*"
                         rf"\.tmp{re.escape(target.suffix)}")
    for path in target.parent.iterdir():
        match = pattern.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
