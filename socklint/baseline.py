"""Baseline files: today's findings recorded, so that a run fails only on new ones.

A baseline entry names a finding by what it is, not by where it is: the file (relative to the
baseline's folder), the code, and the finding's fingerprint, the one SARIF output gives code
scanning (``reporting.identities``: the function around the finding, the message and the
witness path with quoted line numbers blanked, and an occurrence number among identical
findings). Lines inserted or removed above a finding, and edits to other functions, keep it
baselined; a change to the finding itself (another socket, another exit) makes it new.

The file is JSON, sorted and deterministic so that it diffs well in review::

    {"version": 1, "findings": [{"path": "src/client.py", "code": "SKL101",
      "function": "Client.fetch", "message": "...", "fingerprint": "<32 hex>:1"}, ...]}

``function`` and ``message`` (line numbers blanked) are there for the reader; matching uses
``path``, ``code`` and ``fingerprint``. Tool diagnostics (SKL001-SKL003, SKL900) are never
baselined: they say the run did not check a file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socklint.codes import TOOL_CODES
from socklint.diagnostics import Diagnostic

VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or is not one (exit status 2)."""


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    code: str
    function: str
    fingerprint: str
    message: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.code, self.fingerprint)


def relative_key(path: str, root: str) -> str:
    """``path`` as a baseline names it: relative to the baseline's folder, ``/``-separated. A
    file on another drive (Windows) keeps its absolute path."""
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, root)
    except ValueError:
        rel = full
    return rel.replace(os.sep, "/")


def entries(diags: Sequence[Diagnostic], sources: Mapping[str, str], root: str) -> list[Entry]:
    """The baseline entries of ``diags`` (tool diagnostics left out), sorted.

    ``sources`` maps each reported path to its text, for the names of the functions around the
    findings.
    """
    findings = sorted((d for d in diags if d.code not in TOOL_CODES), key=Diagnostic.sort_key)
    return sorted(_aligned(findings, sources, root))


def _aligned(diags: Sequence[Diagnostic], sources: Mapping[str, str], root: str) -> list[Entry]:
    """One entry per diagnostic, in the order given, which must be report order
    (``Diagnostic.sort_key``): occurrence numbers of identical findings count in that order."""
    from socklint.reporting import identities, normalise_message

    keyed = [dataclasses.replace(d, path=relative_key(d.path, root)) for d in diags]
    texts = {relative_key(p, root): t for p, t in sources.items()}
    return [
        Entry(k.path, k.code, ident.function, ident.fingerprint, normalise_message(k.message))
        for k, ident in zip(keyed, identities(keyed, texts))
    ]


def dumps(found: Iterable[Entry]) -> str:
    rows = [
        {"path": e.path, "code": e.code, "function": e.function, "message": e.message, "fingerprint": e.fingerprint}
        for e in sorted(found)
    ]
    # ASCII with \u escapes: a file name that is not valid UTF-8 (a lone surrogate, as os.fsdecode
    # gives it) survives the round trip, and the file is valid UTF-8 whatever it holds.
    return json.dumps({"version": VERSION, "findings": rows}, indent=2, sort_keys=True) + "\n"


def write(path: Path, found: Iterable[Entry]) -> None:
    """Write a baseline atomically (readers see the old file or the new one). Raises OSError;
    a path that is not a regular file (a folder, a FIFO, a device) is refused, never replaced."""
    from socklint.fileio import atomic_write_text

    target = Path(os.path.realpath(path))  # a symlinked baseline stays a symlink
    if target.exists() and not target.is_file():
        raise IsADirectoryError(21, "not a regular file", str(path)) if target.is_dir() else OSError(
            22, "not a regular file", str(path)
        )
    atomic_write_text(target, dumps(found))


@dataclass
class Baseline:
    """A loaded baseline: its folder (paths are relative to it) and its entries."""

    file: str
    root: str
    entries: list[Entry]

    def keys(self) -> set[tuple[str, str, str]]:
        return {e.key for e in self.entries}


def load(path: str) -> Baseline:
    """Read and validate a baseline file; BaselineError says what is wrong, in the file's terms."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path}: no such file (create it with `socklint check --write-baseline {path}`)"
        ) from None
    except OSError as exc:
        raise BaselineError(f"baseline {path}: cannot read: {exc.strerror or exc}") from None
    try:
        data: Any = json.loads(raw.decode("utf-8-sig"))  # an editor may have added a BOM
    except (UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"baseline {path}: not a socklint baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or "findings" not in data or "version" not in data:
        raise BaselineError(f"baseline {path}: not a socklint baseline (expected an object with \"version\" and \"findings\")")
    if type(data["version"]) is not int or data["version"] != VERSION:  # not True, not 1.0
        raise BaselineError(
            f"baseline {path}: version {data['version']!r} is not one this socklint reads ({VERSION}); "
            "write it again with --write-baseline"
        )
    rows = data["findings"]
    if not isinstance(rows, list):
        raise BaselineError(f"baseline {path}: \"findings\" must be a list")
    found: list[Entry] = []
    for i, row in enumerate(rows):
        fields = ("path", "code", "fingerprint")
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) for f in fields):
            raise BaselineError(f"baseline {path}: finding {i + 1} needs the strings \"path\", \"code\" and \"fingerprint\"")
        function, message = row.get("function", ""), row.get("message", "")
        found.append(Entry(row["path"], row["code"], function if isinstance(function, str) else "", row["fingerprint"], message if isinstance(message, str) else ""))
    return Baseline(path, os.path.dirname(os.path.abspath(path)), found)


@dataclass
class Outcome:
    """What applying baselines to a run did."""

    kept: list[Diagnostic]
    baselined: int = 0
    gone: int = 0
    files: list[str] = dataclasses.field(default_factory=list)


def apply(
    diags: Sequence[Diagnostic],
    sources: Mapping[str, str],
    checked: Sequence[str],
    baseline_of: Callable[[str], Baseline | None],
    enabled: Callable[[str, str], bool],
) -> Outcome:
    """Drop the findings a baseline records; count the entries no finding matched.

    ``baseline_of(path)``: the baseline that governs a checked file (None: none). ``checked``:
    every file the run checked. An entry counts as gone (fixed) only when the run could have
    found it: its file was checked and its code is enabled there (``enabled(code, path)``), or
    its file no longer exists. So checking a few files (pre-commit) or a few codes does not
    report the rest of the baseline as fixed.
    """
    by_baseline: dict[str, tuple[Baseline, list[Diagnostic], list[str]]] = {}
    kept: list[Diagnostic] = []
    for path in checked:
        b = baseline_of(path)
        if b is not None:
            by_baseline.setdefault(b.file, (b, [], []))[2].append(path)
    for d in diags:
        b = baseline_of(d.path) if d.code not in TOOL_CODES else None
        if b is None:
            kept.append(d)
        else:
            by_baseline.setdefault(b.file, (b, [], []))[1].append(d)
    out = Outcome(kept)
    for b, found, paths in by_baseline.values():
        known = b.keys()
        matched: set[tuple[str, str, str]] = set()
        for d, e in zip(found, _aligned(found, sources, b.root)):
            if e.key in known:
                matched.add(e.key)
                out.baselined += 1
            else:
                kept.append(d)
        checked_here = {relative_key(p, b.root): p for p in paths}
        for e in b.entries:
            if e.key in matched:
                continue
            where = checked_here.get(e.path)
            if (where is not None and enabled(e.code, where)) or (
                where is None and not os.path.lexists(os.path.join(b.root, e.path))
            ):
                out.gone += 1
        out.files.append(b.file)
    kept.sort(key=Diagnostic.sort_key)
    return out
