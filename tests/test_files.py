"""Files: every writer replaces only regular files (never a device, a FIFO, a folder or a symbolic
link), leaves the umask alone, names the user's path in its errors; sets of files appear whole or
not at all; loading opens only regular files.

Some of these matter most as root, who may replace anything: they run as root in CI.
"""

from __future__ import annotations

import errno
import io
import os
import socket
import stat
import threading
from pathlib import Path
from typing import Any, Callable, List

import pytest

from tracegrad import MLP
from tracegrad.files import NotARegularFileError, read_regular, staged_folder, write_atomic
from tracegrad.nn import History
from tracegrad.viz import save

import needs

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def a_character_device(tmp_path: Path) -> str:
    """A character device to aim at: a copy of /dev/null made in tmp_path as root (so a wrong
    replacement harms nothing), else /dev/null itself (which a user cannot replace)."""
    if ROOT:
        path = str(tmp_path / "null")
        os.mknod(path, stat.S_IFCHR | 0o666, os.stat("/dev/null").st_rdev)
        return path
    return "/dev/null"


def special_files(tmp_path: Path) -> List[Any]:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    sock_path = str(tmp_path / "sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(sock_path)
    folder = str(tmp_path / "folder")
    os.mkdir(folder)
    link = str(tmp_path / "to-stdout")
    os.symlink("/proc/self/fd/1", link)
    link_to_fifo = str(tmp_path / "to-fifo")
    os.symlink(fifo, link_to_fifo)
    to_file = str(tmp_path / "to-file")
    (tmp_path / "file").write_text("someone else's")
    os.symlink(tmp_path / "file", to_file)
    return [(a_character_device(tmp_path), "a character device"), (fifo, "a FIFO"), (sock_path, "a socket"),
            (folder, "a directory"), (link_to_fifo, "a symbolic link"), (link, "a symbolic link"),
            (to_file, "a symbolic link"), sock]


WRITERS: List[Callable[[str], Any]] = [
    lambda path: write_atomic(path, "text"),
    lambda path: MLP(2, [2, 1], rng=0).save(path),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs, sockets and devices are POSIX")
@pytest.mark.parametrize("writer", range(len(WRITERS)))
def test_nothing_but_a_regular_file_is_ever_replaced(tmp_path: Path, writer: int) -> None:
    *cases, sock = special_files(tmp_path)
    try:
        for path, what in cases:
            before = os.lstat(path)
            with pytest.raises(NotARegularFileError, match=f"{path!r}.* is {what}.*, not a regular file; refusing"):
                WRITERS[writer](path)
            after = os.lstat(path)
            assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
        assert not [name for name in os.listdir(tmp_path) if name.startswith(".tmp-")]
    finally:
        sock.close()


def test_the_command_line_refuses_a_device_as_its_output(tmp_path: Path) -> None:
    from tracegrad.cli import main

    device = a_character_device(tmp_path)
    before = os.stat(device)
    err = io.StringIO()
    assert main(["trace", "x*2", "x=1", "-o", device], out=io.StringIO(), err=err) == 1
    assert f"{device!r} is a character device, not a regular file" in err.getvalue()
    assert stat.S_ISCHR(os.stat(device).st_mode) and os.stat(device).st_ino == before.st_ino


def test_a_symbolic_link_is_refused_naming_where_it_points(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(NotARegularFileError, match=rf"'{link}' is a symbolic link \(to '{target}'\).*give the file"):
        write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "old"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(NotARegularFileError, match="is a symbolic link"):
        write_atomic(dangling, "x")
    assert not (tmp_path / "nowhere.txt").exists()
    write_atomic(target, "new")  # the file itself is written, and the link still reads it
    assert link.read_text() == "new"


def test_the_umask_is_never_touched_and_a_new_file_gets_what_open_gives(tmp_path: Path, monkeypatch: Any) -> None:
    old = os.umask(0o027)
    try:
        calls: List[Any] = []
        monkeypatch.setattr(os, "umask", lambda *a: calls.append(a) or 0)
        write_atomic(tmp_path / "new.txt", "x")
        with open(tmp_path / "by-open.txt", "w"):
            pass
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert calls == []  # setting the umask, even for a moment, is process-wide: other threads' files
    mode = stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "by-open.txt").st_mode) == 0o640


def test_concurrent_files_keep_the_umask_while_writers_run(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        stop = threading.Event()

        def write() -> None:
            while not stop.is_set():
                write_atomic(tmp_path / "page.html", "x" * 100)

        thread = threading.Thread(target=write)
        thread.start()
        try:
            for i in range(300):
                with open(tmp_path / f"other-{i}", "w"):
                    pass
        finally:
            stop.set()
            thread.join()
    finally:
        os.umask(old)
    modes = {stat.S_IMODE(os.stat(tmp_path / f"other-{i}").st_mode) for i in range(300)}
    assert modes == {0o644}


def test_errors_name_the_users_path_not_a_temporary_file(tmp_path: Path, monkeypatch: Any) -> None:
    missing = tmp_path / "no-such-folder" / "page.html"
    with pytest.raises(FileNotFoundError) as caught:
        write_atomic(missing, "x")
    assert caught.value.filename == str(missing) and ".tmp-" not in str(caught.value)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "model.json"
    target.write_text("kept")
    with pytest.raises(OSError, match="No space left on device") as disk:
        write_atomic(target, "new")
    assert disk.value.errno == errno.ENOSPC and disk.value.filename == str(target)
    assert target.read_text() == "kept" and os.listdir(tmp_path) == ["model.json"]
    with pytest.raises(ValueError, match="the path is empty"):
        write_atomic("", "x")


def test_the_command_line_names_an_unwritable_output(tmp_path: Path) -> None:
    from tracegrad.cli import main

    needs.any_renderer()
    target = str(tmp_path / "missing" / "page.html")
    err = io.StringIO()
    assert main(["trace", "x*2", "x=1", "-o", target], out=io.StringIO(), err=err) == 1
    assert f"No such file or directory: {target!r}" in err.getvalue() and ".tmp-" not in err.getvalue()
    frames = str(tmp_path / "missing" / "frames")
    err = io.StringIO()
    assert main(["trace", "x*2", "x=1", "--frames", frames], out=io.StringIO(), err=err) == 1
    assert frames in err.getvalue() and ".tmp-" not in err.getvalue()


def test_a_set_of_files_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    with pytest.raises(OSError, match="disk full"), staged_folder(folder) as stage:
        (Path(stage) / "frame-001.svg").write_text("1")
        raise OSError(errno.ENOSPC, "disk full")
    assert not folder.exists() and os.listdir(tmp_path) == []
    with staged_folder(folder) as stage:
        for i in (1, 2, 3):
            (Path(stage) / f"frame-00{i}.svg").write_text(str(i))
    assert sorted(os.listdir(folder)) == ["frame-001.svg", "frame-002.svg", "frame-003.svg"]
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(OSError), staged_folder(folder) as stage:
        (Path(stage) / "frame-001.svg").write_text("new")
        raise OSError(errno.ENOSPC, "disk full")
    assert (folder / "frame-001.svg").read_text() == "1"  # the old set is untouched
    with staged_folder(folder, stale=lambda name: name.startswith("frame-")) as stage:
        (Path(stage) / "frame-001.svg").write_text("new")
    assert sorted(os.listdir(folder)) == ["frame-001.svg", "notes.txt"]  # a shorter set: the rest was ours
    assert (folder / "frame-001.svg").read_text() == "new" and (folder / "notes.txt").read_text() == "mine"
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("loader", ["Module.load", "History.load"])
def test_loading_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path, loader: str) -> None:
    fifo = str(tmp_path / "model.json")
    os.mkfifo(fifo)
    model = MLP(2, [2, 1], rng=0)
    before = model.state_dict()
    outcome: List[BaseException] = []

    def load() -> None:
        try:
            model.load(fifo) if loader == "Module.load" else History.load(fifo)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():  # the old behaviour: blocked in open(); let it go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=10)
        pytest.fail(f"{loader} blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], NotARegularFileError)
    assert f"{fifo!r} is a FIFO (named pipe), not a regular file; refusing to read it" in str(outcome[0])
    assert model.state_dict() == before
    with pytest.raises(NotARegularFileError, match="is a directory"):
        read_regular(tmp_path, 100)
    with pytest.raises(NotARegularFileError, match="is a character device"):
        read_regular("/dev/zero", 100)  # a device that never ends is not read either


def test_pictures_refuse_special_files_too(tmp_path: Path) -> None:
    fifo = str(tmp_path / "graph.dot")
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match="is a FIFO"):
        save("digraph { a }", fifo)  # .dot needs no renderer
