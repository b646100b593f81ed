"""Writing files atomically: a reader never sees a half-written model, picture or page."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]


def _mode_for(target: str) -> int:
    """The existing file's permissions, or what a new file gets under the umask."""
    try:
        return os.stat(target).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_atomic(path: PathLike, data: Union[bytes, str]) -> str:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    Returns the path written, as text. On any error the target is left as it was.
    """
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(target), dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
