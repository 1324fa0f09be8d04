"""Inline suppression: ``# noqa``, ``# noqa: SKL101,SKL102`` and ``# socklint: ignore[SKL101]``."""

from __future__ import annotations

import re

from socklint.codes import resolve

_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Za-z0-9\-]+(?:[,\s]+[A-Za-z0-9\-]+)*))?", re.IGNORECASE)
_OWN = re.compile(r"#\s*socklint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)


def suppressed_codes(line: str) -> frozenset[str] | None:
    """Codes suppressed on a physical line: None for none, an empty set for all codes."""
    if "#" not in line:
        return None
    found: set[str] = set()
    any_match = False
    for rx in (_NOQA, _OWN):
        for m in rx.finditer(line):
            any_match = True
            codes = m.group("codes")
            if not codes:
                return frozenset()
            found.update(resolve(c) for c in re.split(r"[,\s]+", codes.strip()) if c)
    return frozenset(found) if any_match else None


def is_suppressed(line: str, code: str) -> bool:
    codes = suppressed_codes(line)
    if codes is None:
        return False
    return not codes or any(code.startswith(c) for c in codes)


def merge_codes(comment: str, codes: list[str]) -> str | None:
    """``comment`` (one ``#`` comment) with ``codes`` added to its suppression, keeping every
    code already there (another tool's too): ``# socklint: ignore[...]`` first, as the project's
    own spelling, else ``# noqa: ...``. None when the comment suppresses nothing by code (no
    such comment; a bare ``# noqa`` suppresses everything already)."""
    m = _OWN.search(comment)
    if m is not None and m.group("codes") is not None and m.group("codes").strip():
        end = m.end("codes")
        return comment[:end] + "".join(f", {c}" for c in codes) + comment[end:]
    m = _NOQA.search(comment)
    if m is not None and m.group("codes"):
        end = m.end("codes")
        return comment[:end] + "".join(f", {c}" for c in codes) + comment[end:]
    return None
