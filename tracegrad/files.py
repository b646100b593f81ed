"""Writing and reading files safely: a reader never sees a half-written model, picture or page,
and nothing that is not a regular file is ever replaced or opened.

* :func:`write_atomic` writes a new file beside the target, then renames it over the target. It
  refuses to replace anything that is not a regular file (a directory, a device such as
  ``/dev/full``, a FIFO, a socket) and refuses symbolic links too, naming the path and what it
  is. A link is not written through: where it points is not the writer's choice (a link planted
  in a shared folder could aim at any file of yours, ``/proc/self/fd/1`` at whatever the output
  is), so "never replace what is not ours" means: write to the file itself.
* :func:`staged_folder` makes a set of files appear all at once or not at all.
* :func:`read_regular` opens only a regular file, so a FIFO never blocks the reader.

Permissions: a replaced file keeps its mode; a new one gets what ``open()`` would give it under
the process's umask, which is left untouched (reading the umask means setting it, and another
thread's file would be created under the wrong one in that moment).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
from typing import Callable, Iterator, Optional, Tuple, Union

from .engine.errors import TracegradError

PathLike = Union[str, "os.PathLike[str]"]


class NotARegularFileError(TracegradError, OSError):
    """A path to write or read is not a regular file (a directory, a device, a FIFO, ...);
    ``path`` is the path as given."""

    path: str = ""


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words: ``"a character device"``, ``"a FIFO"``."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"),
                        (stat.S_ISREG, "a regular file")):
        if test(mode):
            return words
    return "a special file"


def _refuse(path: str, mode: int, doing: str = "replace") -> NotARegularFileError:
    return not_a_file(path, f"{path!r} is {kind_of(mode)}, not a regular file; refusing to {doing} it")


def not_a_file(path: str, message: str) -> NotARegularFileError:
    """The error for ``path``, whose message is exactly ``message`` (no ``[Errno ...]`` prefix)."""
    error = NotARegularFileError(message)
    error.path = path
    return error


def _renamed(exc: OSError, path: str) -> OSError:
    """``exc`` re-raised about the user's ``path`` (not a temporary file's name), same type."""
    if isinstance(exc, TracegradError) or exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror, path)  # OSError picks the subclass for the errno


def existing_mode(path: str) -> Optional[int]:
    """The permissions of the regular file at ``path``, or None if there is nothing there.

    Raises:
        NotARegularFileError: something other than a regular file is there (a symbolic link too).
        ValueError: the path is empty.
    """
    if not path:
        raise ValueError("write: the path is empty; give a file name")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise not_a_file(path, f"{path!r} is a symbolic link (to {os.readlink(path)!r}), not a regular file; "
                               "refusing to replace it or write through it: give the file's own path")
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, st.st_mode)
    return stat.S_IMODE(st.st_mode)


def _new_temp(folder: str, name: str, mode: Optional[int]) -> Tuple[int, str]:
    """A new, empty, exclusively created file in ``folder``: its descriptor and path."""
    short = re.sub(r"[^\w.-]", "_", name)[-40:]
    for _ in range(100):
        tmp = os.path.join(folder, f".tmp-{secrets.token_hex(6)}-{short}")
        try:
            # 0o666 under the umask is what open() gives a new file; an existing file's mode is
            # set once the file is ours
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666 if mode is None else 0o600)
        except FileExistsError:
            continue
        if mode is not None:
            os.chmod(tmp, mode)
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def write_atomic(path: PathLike, data: Union[bytes, str]) -> str:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    Returns the path written, as given. On any error the target is left as it was, and the
    error names ``path``.

    Raises:
        NotARegularFileError: ``path`` exists and is not a regular file (a symbolic link too).
        OSError: the file cannot be written (the folder is missing, the disk is full, ...).
    """
    target = os.fspath(path)
    mode = existing_mode(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = os.path.dirname(os.path.abspath(target))
    try:
        fd, tmp = _new_temp(folder, os.path.basename(target), mode)
    except OSError as exc:
        raise _renamed(exc, target) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _renamed(exc, target) from None
        raise
    return target


@contextlib.contextmanager
def staged_folder(path: PathLike, stale: Callable[[str], bool] = lambda name: False) -> Iterator[str]:
    """Write a set of files into a temporary folder (yielded), then move them into ``path``
    together: a failure on the way leaves no file of the set behind.

    If ``path`` does not exist, the temporary folder is renamed to it; if it is a folder, each
    new file replaces the one of its name (each must be a regular file or absent, checked before
    anything moves), and the regular files for which ``stale(name)`` is true and that are not in
    the new set are removed (files of an earlier, larger set). Other files are left alone.

    Raises:
        NotARegularFileError: ``path`` exists and is not a folder, or holds a non-regular file
            where a new one would go.
    """
    target = os.fspath(path)
    if not target:
        raise ValueError("write: the folder name is empty")
    exists = os.path.lexists(target)
    if exists and not os.path.isdir(target):
        raise not_a_file(target, f"{target!r} is {kind_of(os.lstat(target).st_mode)}, not a folder; "
                         "refusing to write into it")
    parent = os.path.dirname(os.path.realpath(target) if exists else os.path.abspath(target))
    stage = os.path.join(parent, f".tmp-{secrets.token_hex(6)}-{os.path.basename(os.path.abspath(target))[-40:]}")
    try:
        os.mkdir(stage, 0o777)  # the umask applies, as for any new folder
    except OSError as exc:
        raise _renamed(exc, target) from None
    try:
        yield stage
        if not exists:
            os.rename(stage, target)
            return
        names = sorted(os.listdir(stage))
        for name in names:
            existing_mode(os.path.join(target, name))  # refuse before anything moves
        for name in names:
            os.replace(os.path.join(stage, name), os.path.join(target, name))
        for name in os.listdir(target):
            old = os.path.join(target, name)
            if name not in names and stale(name) and os.path.isfile(old) and not os.path.islink(old):
                os.unlink(old)
    except OSError as exc:
        raise _renamed(exc, target) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def read_regular(path: PathLike, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of the regular file at ``path`` (a caller sees it is too large).

    The file is opened without blocking and checked before it is read, so a FIFO, a device or
    a folder is refused at once instead of hanging or reading forever.

    Raises:
        NotARegularFileError: the path is not a regular file.
        OSError: it cannot be opened.
    """
    target = os.fspath(path)
    fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(target, mode, doing="read")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
