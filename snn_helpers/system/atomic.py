"""Write files so that a crash never leaves a half-written one behind, and a full disk says so.

Every file the package writes goes through :func:`atomic_path` (checkpoints,
figures and videos, JSON, executed and student notebooks, NIR graphs, the
compiled kernels); MNIST is fetched into a temporary folder and renamed. A
write that fails for lack of space raises :class:`DiskFullError`, whose one-line
message names the file; the command line prints it and exits with status 2.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)  # no space left on the device; the user's disk quota exceeded
FULL_BELOW = 1 << 20  # bytes: a folder with less free space than this, after a failed write, is full


class DiskFullError(OSError):
    """A file could not be written because its disk (or the user's quota) is full; the previous file is kept.

    An ``OSError`` with ``errno.ENOSPC`` and ``filename`` the file, so code that
    catches ``OSError`` still catches it; ``str()`` is a one-line message.

    path: the file (or folder) that could not be written.

    >>> print(DiskFullError("checkpoints/snn.pt"))  # doctest: +ELLIPSIS
    no space left on the disk to write checkpoints/snn.pt; the previous file there, if any, is unchanged. ...
    """

    def __init__(self, path):
        self.path = Path(path)
        super().__init__(errno.ENOSPC, f"no space left on the disk to write {path}; the previous file there, "
                         f"if any, is unchanged. Free some space and try again", str(path))

    def __str__(self) -> str:
        return self.strerror

    def __reduce__(self):  # pickles (e.g. from a worker process) as it was built
        return type(self), (self.path,)


def is_disk_full(error: BaseException, folder=None) -> bool:
    """True when ``error`` means that the disk holding ``folder`` is full.

    That is when ``error``, or an exception it was raised from or during
    (``__cause__``, ``__context__``), is an ``OSError`` with ``errno`` ENOSPC or
    EDQUOT; or, for the writers' errors that carry no ``errno`` (a plain
    ``RuntimeError``, as ``torch.save`` raises: ``[enforce fail at
    inline_container.cc:...] unexpected pos``; a ``CalledProcessError`` of
    ffmpeg), when ``folder`` has less than :data:`FULL_BELOW` bytes free. Call
    it before the partly written file is removed, for that file is what fills
    the disk. The package's own errors (subclasses) are never taken for a full disk.

    error: the exception. folder: str or path of the folder written to, or ``None``.

    >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> is_disk_full(RuntimeError("unexpected pos 576 vs 534"), ".")  # this folder has space
    False
    """
    first, seen = error, set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        error = error.__cause__ or error.__context__
    return folder is not None and type(first) in (RuntimeError, subprocess.CalledProcessError) \
        and folder_is_full(folder)


def folder_is_full(folder) -> bool:
    """True when the disk holding ``folder`` has less than :data:`FULL_BELOW` bytes free (False if unreadable).

    folder: str or path of an existing folder.

    >>> folder_is_full(".")  # this folder's disk has room
    False
    """
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW
    except OSError:
        return False


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
    A write that fails because the disk is full (:func:`is_disk_full`) raises
    :class:`DiskFullError` instead of the writer's own error.

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
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        owner = f"{_host()}-{os.getpid()}"
        _remove_orphans(target)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.{owner}.",
                                   suffix=f".tmp{target.suffix}")
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        with open(tmp, "r+b") as written:  # on disk before the rename, so a power cut cannot leave it empty
            os.fsync(written.fileno())
        os.replace(tmp, target)
    except Exception as err:
        if is_disk_full(err, target.parent if target.parent.is_dir() else None):  # before the partial file goes
            raise DiskFullError(target) from err
        raise
    finally:
        if tmp is not None:
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
