"""Write files so that a crash never leaves a half-written one behind."""
from __future__ import annotations

import contextlib
import json
import os
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
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}")
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
    """Write ``data`` as JSON to ``path`` through :func:`atomic_path`; return the path."""
    path = Path(path)
    text = json.dumps(data, indent=indent, sort_keys=True) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
