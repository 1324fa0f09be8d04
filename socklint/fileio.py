"""Everything socklint writes goes through here: temporary file in the same folder, then rename.

A run killed at any moment (SIGKILL, power loss after fsync) leaves the target either absent,
or with its previous content, or with the complete new content; never a torn file. What a
SIGKILL can leave behind is the temporary file itself, ``.<name>.<pid>-<random>.tmp`` beside
the target. The next write to the same target removes such leftovers whose writer process is
gone, so they do not pile up; leftovers of a live writer (a concurrent run) are never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path


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


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` so that readers see the old file or the new one, never a mix.

    ``durable=False`` skips the fsync: for caches, where losing an entry on power loss only
    costs a recomputation and an fsync per entry would dominate a cached run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if durable:
        # Reports: clean leftovers of killed runs. Cache entries skip it (a listdir per entry
        # would cost more than the cache saves); `socklint check --no-cache` ignores them.
        remove_stale_temp_files(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{_temp_prefix(path.name)}{os.getpid()}-", suffix=".tmp", dir=str(path.parent)
    )
    try:
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
