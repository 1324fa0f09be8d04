"""A content-hash cache of per-file results in ``.socklint_cache/``.

An entry is keyed by everything that can change a file's diagnostics: the file's bytes, its
path (diagnostics carry it, and ``per-file-ignores`` match on it), the effective settings
(``Settings.cache_key()``), the socklint version, and the interpreter and libcst versions
(``ast.parse`` and libcst accept different syntax in different versions). In a development
checkout the version string does not change when the code does, so the key also covers the
size and mtime of every module of the installed ``socklint`` package: editing the engine
invalidates the cache instead of replaying stale results.

Entries are content-addressed JSON files written with a temporary file and a rename, so two
concurrent runs can only race to write identical bytes, and a reader sees either no entry or a
whole one. Anything unreadable, truncated or of another format is treated as a miss and
overwritten. JSON rather than pickle: a cache folder can be committed or planted by mistake,
and loading it must never run code.

Size: the folder is kept under a bound (``DEFAULT_MAX_BYTES``, ``--cache-max-size``), counted
as disk usage as ``du`` counts it. Measuring it means a ``stat`` per entry (0.2 s for 10,000
entries on a loaded machine), so the folder keeps its last measured usage in ``usage.json`` and
a run that stored entries adds what it wrote; only when that estimate passes the bound (or is
missing) is the folder measured, and the least recently used entries deleted until it is under
``PRUNE_TO`` of the bound (so the next runs do not prune again at once). Concurrent runs can
lose each other's additions to the estimate; the next measurement corrects it. "Used" is the entry's
mtime: written on a store, refreshed on a hit when it is more than ``TOUCH_AFTER`` seconds old,
so a warm run does not rewrite every inode's metadata.

``socklint clean`` (:func:`clean`) deletes the folder, but only what socklint writes there:
entries, their two-letter subfolders, its own ``.gitignore`` / ``CACHEDIR.TAG`` / ``README``
and temporary files. A folder without socklint's ``CACHEDIR.TAG`` is not touched at all, and a
file socklint did not write keeps the folder alive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socklint._version import __version__
from socklint.analysis.project import ModuleSummary
from socklint.config import Settings
from socklint.diagnostics import Diagnostic, Severity, TraceStep
from socklint.fileio import atomic_write_bytes

CACHE_FORMAT = 2
DEFAULT_CACHE_DIR = ".socklint_cache"
# About ten copies of the standard library's results (1,790 files take 7.3 MiB on disk, mostly
# one 4 KiB block per entry); one large run reached 79 MB without a bound.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
PRUNE_TO = 0.8
TOUCH_AFTER = 3600.0

_USAGE = "usage.json"
_BLOCK = 4096  # the usual file system block: an entry's disk usage is at least one

_ENTRY = re.compile(r"[0-9a-f]{64}\.json\Z")
_SUBDIR = re.compile(r"[0-9a-f]{2}\Z")
# fileio's temporary files: ``.<name>.<pid>-<random>.tmp``.
_TEMP = re.compile(r"\.(?:[0-9a-f]{64}\.json|\.gitignore|CACHEDIR\.TAG|README|usage\.json)\.\d+-[^/]*\.tmp\Z")

_README = b"# Created by socklint: a cache of per-file results. Safe to delete.\n"
_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# socklint cache (https://bford.info/cachedir/)\n"


def _package_fingerprint() -> str:
    """Sizes and mtimes of socklint's own modules: cheap (a few dozen ``stat`` calls)."""
    root = Path(__file__).resolve().parent
    parts: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                parts.append(f"{os.path.relpath(full, root)}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def _libcst_version() -> str:
    # importlib.metadata, not ``import libcst``: a warm run must not pay for importing libcst.
    try:
        from importlib.metadata import version

        return version("libcst")
    except Exception:  # noqa: BLE001 - a missing distribution only makes the key more specific
        return "unknown"


def diagnostic_from_json(obj: dict[str, Any]) -> Diagnostic:
    """The inverse of ``Diagnostic.to_json``; raises on anything malformed."""
    trace = tuple(TraceStep(int(s["line"]), int(s["column"]), str(s["note"])) for s in obj["trace"])
    return Diagnostic(
        str(obj["path"]),
        int(obj["line"]),
        int(obj["column"]),
        int(obj["end_line"]),
        int(obj["end_column"]),
        str(obj["code"]),
        str(obj["message"]),
        Severity(obj["severity"]),
        trace,
        str(obj["failure"]) if "failure" in obj else None,
    )


class Cache:
    """Per-file result cache. ``get`` and ``put`` never raise: the cache is an optimisation."""

    def __init__(
        self, directory: str | os.PathLike[str], settings: Settings, max_bytes: int | None = DEFAULT_MAX_BYTES
    ) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes  # None: no bound
        ns = hashlib.sha256()
        for part in (
            f"socklint-cache-{CACHE_FORMAT}",
            __version__,
            sys.implementation.name,
            sys.version,
            _libcst_version(),
            settings.cache_key(),
            _package_fingerprint(),
        ):
            ns.update(part.encode("utf-8", "surrogatepass"))
            ns.update(b"\0")
        self.namespace = ns.digest()
        self.hits = 0
        self.misses = 0
        self.stores = 0
        # whole runs (``get_run``/``put_run``), counted apart from the per-file entries
        self.run_hits = 0
        self.run_stores = 0
        self._stored_bytes = 0
        self._known_dirs: set[Path] = set()
        self._prepared = False

    def key(self, path: str, data: bytes, context: str = "") -> str:
        """``context``: anything else the result depends on (the module's view of its project,
        whether it was only summarised)."""
        h = hashlib.sha256(self.namespace)
        h.update(path.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
        h.update(hashlib.sha256(data).digest())
        h.update(context.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def entry_path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Diagnostic] | None:
        entry = self.get_entry(key)
        return entry[0] if entry is not None else None

    def get_entry(self, key: str) -> tuple[list[Diagnostic], ModuleSummary | None] | None:
        """The diagnostics and the module summary (for the project index) of an entry."""
        entry = self.entry_path(key)
        try:
            raw = entry.read_bytes()
            obj = json.loads(raw)
            if not isinstance(obj, dict) or obj.get("format") != CACHE_FORMAT or obj.get("key") != key:
                raise ValueError("not an entry of this format")
            diags = [diagnostic_from_json(d) for d in obj["diagnostics"]]
            summary = ModuleSummary.from_json(obj["summary"]) if obj.get("summary") is not None else None
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # Corrupt, truncated, unreadable or foreign: recompute and overwrite.
            self.misses += 1
            return None
        self.hits += 1
        self._touch(entry)
        return diags, summary

    def _touch(self, entry: Path) -> None:
        """Mark an entry as used, for the size bound's least-recently-used order."""
        now = time.time()
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > TOUCH_AFTER:
                os.utime(entry, (now, now))

    def prune(self) -> int:
        """Keep the folder under ``max_bytes``: delete least recently used entries. Returns the
        number deleted. Never raises: a concurrent run deleting the same entries is fine."""
        if self.max_bytes is None or self.stores + self.run_stores == 0:
            return 0  # nothing grew
        estimate = self._read_usage()
        if estimate is not None and estimate + self._stored_bytes <= self.max_bytes:
            self._write_usage(estimate + self._stored_bytes)
            return 0
        entries, total = _scan(self.directory)
        removed = 0
        if total > self.max_bytes:
            goal = int(self.max_bytes * PRUNE_TO)
            for _, size, path in sorted(entries):
                if total <= goal:
                    break
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass  # a concurrent run pruned it
                except OSError:
                    continue
                total -= size
                removed += 1
                # A subfolder left empty goes too: it holds a block of its own.
                try:
                    size = _usage(os.lstat(path.parent))
                    # Only succeeds when empty. A concurrent run about to write into it loses
                    # that one entry (its put fails quietly), nothing more.
                    path.parent.rmdir()
                except OSError:
                    continue
                total -= size
        self._write_usage(total)
        return removed

    def _read_usage(self) -> int | None:
        try:
            obj = json.loads((self.directory / _USAGE).read_bytes())
            return int(obj["bytes"]) if obj.get("format") == CACHE_FORMAT else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _write_usage(self, total: int) -> None:
        data = json.dumps({"format": CACHE_FORMAT, "bytes": total}).encode("utf-8")
        with contextlib.suppress(OSError):
            atomic_write_bytes(self.directory / _USAGE, data, durable=False)

    def get_run(
        self, key: str, still_valid: Callable[[list[tuple[str, str]]], bool]
    ) -> dict[str, list[Diagnostic]] | None:
        """A whole run's diagnostics by file, if ``still_valid`` accepts the modules it read
        besides the files it checked, each with the digest of its bytes (see ``put_run``)."""
        entry = self.entry_path(key)
        try:
            obj = json.loads(entry.read_bytes())
            if not isinstance(obj, dict) or obj.get("format") != CACHE_FORMAT or obj.get("key") != key:
                raise ValueError("not an entry of this format")
            diags = {str(p): [diagnostic_from_json(d) for d in ds] for p, ds in obj["results"]}
            read = [(str(p), str(h)) for p, h in obj["read"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not still_valid(read):
            return None
        self.run_hits += 1
        self._touch(entry)
        return diags

    def put_run(self, key: str, results: dict[str, list[Diagnostic]], read: list[tuple[str, str]]) -> None:
        """Keep a whole run's result: its key covers the files checked and which other modules
        the project has; what those it read hold is checked again from ``read``."""
        if self._write(
            key,
            {
                "format": CACHE_FORMAT,
                "key": key,
                "results": [[p, [d.to_json() for d in ds]] for p, ds in sorted(results.items())],
                "read": sorted(read),
            },
        ):
            self.run_stores += 1

    def put(self, key: str, diags: list[Diagnostic], summary: ModuleSummary | None = None) -> None:
        if self._write(
            key,
            {
                "format": CACHE_FORMAT,
                "key": key,
                "diagnostics": [d.to_json() for d in diags],
                "summary": summary.to_json() if summary is not None else None,
            },
        ):
            self.stores += 1

    def _write(self, key: str, payload: dict[str, Any]) -> bool:
        data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        entry = self.entry_path(key)
        if entry.parent not in self._known_dirs:
            # A new subfolder is a block of its own for the size estimate (one stat per
            # subfolder and run, not per entry).
            self._known_dirs.add(entry.parent)
            if not entry.parent.exists():
                self._stored_bytes += _BLOCK
        try:
            self._prepare()
            # No fsync: after a crash an entry is either whole or unreadable, and unreadable
            # entries are misses.
            atomic_write_bytes(entry, data, durable=False)
        except OSError:
            return False  # read-only checkout, full disk: run uncached rather than fail
        self._stored_bytes += -(-len(data) // _BLOCK) * _BLOCK
        return True

    def _prepare(self) -> None:
        if self._prepared:
            return
        self._prepared = True
        self.directory.mkdir(parents=True, exist_ok=True)
        # Keep the folder out of version control and out of backups, as ruff and pytest do.
        for name, content in ((".gitignore", b"*\n"), ("CACHEDIR.TAG", _TAG), ("README", _README)):
            target = self.directory / name
            if not target.exists():
                with contextlib.suppress(OSError):
                    atomic_write_bytes(target, content, durable=False)


def _usage(st: os.stat_result) -> int:
    blocks = getattr(st, "st_blocks", None)
    return blocks * 512 if blocks is not None else st.st_size


def _scan(directory: Path) -> tuple[list[tuple[float, int, Path]], int]:
    """Entries as ``(mtime, disk usage, path)``, and the folder's whole usage as ``du`` sees it
    (entries, subfolders, and anything else in it, which the bound counts but never deletes)."""
    entries: list[tuple[float, int, Path]] = []
    total = 0
    try:
        top = list(os.scandir(directory))
    except OSError:
        return entries, total
    for sub in top:
        try:
            total += _usage(sub.stat(follow_symlinks=False))  # a subfolder's own blocks count too
            if not sub.is_dir(follow_symlinks=False):
                continue
            children = list(os.scandir(sub.path))
        except OSError:
            continue
        for child in children:
            try:
                st = child.stat(follow_symlinks=False)
            except OSError:
                continue
            total += _usage(st)
            if _SUBDIR.match(sub.name) and _ENTRY.match(child.name) and stat.S_ISREG(st.st_mode):
                entries.append((st.st_mtime, _usage(st), Path(child.path)))
    return entries, total


@dataclass
class Cleaned:
    removed_files: int = 0
    removed_bytes: int = 0
    kept: list[str] | None = None  # what socklint did not write, left in place
    removed_folder: bool = False


class NotACache(Exception):
    """The folder is not one socklint created: ``clean`` refuses to touch it."""


def is_socklint_cache(directory: Path) -> bool:
    try:
        st = os.lstat(directory)
        if not stat.S_ISDIR(st.st_mode):
            return False
        with open(directory / "CACHEDIR.TAG", "rb") as fh:
            return fh.read(len(_TAG)) == _TAG
    except OSError:
        return False


def clean(directory: str | os.PathLike[str]) -> Cleaned:
    """Delete a socklint cache folder, and only what socklint wrote into it.

    Raises :class:`NotACache` for a symlink, or a folder without socklint's CACHEDIR.TAG; a
    missing folder is nothing to do. Files socklint would not have written are listed in
    ``kept`` and keep their folders.
    """
    root = Path(directory)
    result = Cleaned(kept=[])
    if not os.path.lexists(root):
        return result
    if not is_socklint_cache(root):
        raise NotACache(f"{root} is not a socklint cache (no CACHEDIR.TAG written by socklint); not touching it")
    ours_at_top = {".gitignore": b"*\n", "CACHEDIR.TAG": _TAG, "README": _README}
    kept: list[str] = []

    def remove(path: Path, st: os.stat_result) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError:
            kept.append(str(path))
            return
        result.removed_files += 1
        result.removed_bytes += _usage(st)

    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        path = Path(entry.path)
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode) and _SUBDIR.match(entry.name):
            for child in sorted(os.scandir(path), key=lambda e: e.name):
                cst = child.stat(follow_symlinks=False)
                if stat.S_ISREG(cst.st_mode) and (_ENTRY.match(child.name) or _TEMP.match(child.name)):
                    remove(Path(child.path), cst)
                else:
                    kept.append(child.path)
            with contextlib.suppress(OSError):
                path.rmdir()  # fails, and stays, when something we kept is in it
            continue
        if stat.S_ISREG(st.st_mode) and entry.name == _USAGE:
            try:
                obj = json.loads(path.read_bytes())
                ours = isinstance(obj, dict) and set(obj) == {"format", "bytes"}
            except (OSError, ValueError):
                ours = False
            if ours:
                remove(path, st)
                continue
        elif stat.S_ISREG(st.st_mode) and entry.name in ours_at_top and entry.name != "CACHEDIR.TAG":
            try:
                same = path.read_bytes() == ours_at_top[entry.name]
            except OSError:
                same = False
            if same:
                remove(path, st)
                continue
        elif stat.S_ISREG(st.st_mode) and _TEMP.match(entry.name):
            remove(path, st)
            continue
        if entry.name != "CACHEDIR.TAG":
            kept.append(entry.path)
    if not kept:
        # The tag goes last: while anything else is left, the folder still says whose it is.
        tag = root / "CACHEDIR.TAG"
        with contextlib.suppress(FileNotFoundError):
            remove(tag, tag.stat())
        with contextlib.suppress(OSError):
            root.rmdir()
            result.removed_folder = True
    result.kept = kept
    return result
