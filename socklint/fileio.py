"""Everything socklint writes goes through here: temporary file in the same folder, then rename.

A run killed at any moment (SIGKILL, power loss after fsync) leaves the target either absent,
or with its previous content, or with the complete new content; never a torn file. What a
SIGKILL can leave behind is the temporary file itself, ``.<name>.<pid>-<random>.tmp`` beside
the target. The next write to the same target removes such leftovers whose writer process is
gone, so they do not pile up; leftovers of a live writer (a concurrent run) are never touched.

Only regular files are replaced. ``--output`` may name a FIFO, a terminal, a device or a
symlink: :func:`write_output` writes through to whatever is not a regular file (as a shell's
``>`` would), and follows a symlink to its target, so the link stays and the file it points to
gets the report. A new file gets the mode the umask allows, an existing one keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Optional, TypeVar

T = TypeVar("T")


def _temp_prefix(name: str) -> str:
    return f".{name}."


def _stale_temp_files(path: Path) -> list[Path]:
    """Temporary files of earlier writes to ``path`` whose writer process no longer exists."""
    pattern = re.compile(re.escape(_temp_prefix(path.name)) + r"(\d+)-[^/]*\.tmp\Z")
    stale: list[Path] = []
    try:
        entries = os.listdir(path.parent)
    except OSError:
        return stale
    for entry in entries:
        m = pattern.match(entry)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            stale.append(path.parent / entry)
        except (PermissionError, OverflowError, OSError):
            # Alive but someone else's, or an unusable pid: leave it alone.
            continue
    return stale


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Delete leftovers of killed writes to ``path``; returns what was removed."""
    removed: list[Path] = []
    for p in _stale_temp_files(path):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass  # gone already (another run cleaned it) or not ours to delete
    return removed


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere the only way to read it is to set it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: an existing file's own, else 0666 minus umask
    (mkstemp creates 0600, which would hide a report from the rest of a team or a CI job)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` so that readers see the old file or the new one, never a mix.

    ``path`` must be a regular file or absent: this replaces whatever is there (use
    :func:`write_output` for a path a user gave). ``durable=False`` skips the fsync: for
    caches, where losing an entry on power loss only costs a recomputation and an fsync per
    entry would dominate a cached run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if durable:
        # Reports: clean leftovers of killed runs. Cache entries skip it (a listdir per entry
        # would cost more than the cache saves); `socklint check --no-cache` ignores them.
        remove_stale_temp_files(path)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{_temp_prefix(path.name)}{os.getpid()}-", suffix=".tmp", dir=str(path.parent)
    )
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        else:  # Windows: only the read-only bit exists
            os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    # surrogateescape: a file name that is not valid UTF-8 reaches us as lone surrogates
    # (os.fsdecode); writing them back as the original bytes keeps the report truthful.
    atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"))


def write_output(path: Path, text: str) -> None:
    """Write a report to a path the user named, as ``> path`` would, but atomically for files.

    A symlink is followed (the link stays, its target gets the report). A regular file, or no
    file, is replaced atomically, keeping an existing file's mode. Anything else (a FIFO, a
    terminal, ``/dev/null``, a device) is opened and written in place: renaming a file over it
    would destroy it, and a FIFO's reader would get nothing. A regular file this process may not
    write is refused (``PermissionError``) like ``>`` refuses it, although the folder would
    allow the rename.
    """
    data = text.encode("utf-8", "surrogateescape")
    target = Path(os.path.realpath(path))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if st is not None and not stat.S_ISREG(st.st_mode):
        # No O_CREAT: if it vanished since the stat, fail rather than create a torn file.
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return
    if st is not None and not os.access(target, os.W_OK):
        raise PermissionError(13, "Permission denied", str(path))
    atomic_write_bytes(target, data)


def find_upwards(
    folder: str, memo: dict[str, T], lock: threading.Lock, found_in: Callable[[str], Optional[T]], missing: T
) -> T:
    """The first of ``folder`` and its parents for which ``found_in`` answers something, or
    ``missing``. Memoised in ``memo`` (guarded by ``lock``) for every folder on the way, so a
    walk that asks about every file of a tree climbs each folder once."""
    chain: list[str] = []
    found = missing
    while True:
        with lock:
            if folder in memo:
                found = memo[folder]
                break
        chain.append(folder)
        hit = found_in(folder)
        if hit is not None:
            found = hit
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    with lock:
        for f in chain:
            memo[f] = found
    return found
