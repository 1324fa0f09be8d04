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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from socklint._version import __version__
from socklint.analysis.project import ModuleSummary
from socklint.config import Settings
from socklint.diagnostics import Diagnostic, Severity, TraceStep
from socklint.fileio import atomic_write_bytes

CACHE_FORMAT = 2
DEFAULT_CACHE_DIR = ".socklint_cache"

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

    def __init__(self, directory: str | os.PathLike[str], settings: Settings) -> None:
        self.directory = Path(directory)
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
        try:
            raw = self.entry_path(key).read_bytes()
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
        return diags, summary

    def put(self, key: str, diags: list[Diagnostic], summary: ModuleSummary | None = None) -> None:
        payload = {
            "format": CACHE_FORMAT,
            "key": key,
            "diagnostics": [d.to_json() for d in diags],
            "summary": summary.to_json() if summary is not None else None,
        }
        data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        try:
            self._prepare()
            # No fsync: after a crash an entry is either whole or unreadable, and unreadable
            # entries are misses.
            atomic_write_bytes(self.entry_path(key), data, durable=False)
        except OSError:
            return  # read-only checkout, full disk: run uncached rather than fail
        self.stores += 1

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
