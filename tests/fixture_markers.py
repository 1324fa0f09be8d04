"""Inline expectation markers in fixture files (parsed from COMMENT tokens only).

    # expect: SKL101[, SKL102]      a finding with this code must be reported on this line
    # expect-missing: SKL102         known false negative: must NOT be reported (yet)
    # expect-spurious: SKL101        known false positive: IS reported (flip it when fixed)
    # socklint-fixture: extend-select=SKL106; target-windows=true     (header, optional)
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from socklint.config import Settings

_MARK = re.compile(r"#\s*expect(?P<kind>-missing|-spurious)?\s*:\s*(?P<codes>SKL\d{3}(?:\s*,\s*SKL\d{3})*)")
_HEADER = re.compile(r"#\s*socklint-fixture:\s*(?P<opts>.*)")


@dataclass
class Expectations:
    expected: Counter[tuple[int, str]]  # must be reported (expect + expect-spurious)
    missing: Counter[tuple[int, str]]  # must not be reported
    settings: Settings


def parse(path: Path) -> Expectations:
    data = path.read_bytes()
    expected: Counter[tuple[int, str]] = Counter()
    missing: Counter[tuple[int, str]] = Counter()
    settings = Settings()
    for tok in tokenize.tokenize(io.BytesIO(data).readline):
        if tok.type != tokenize.COMMENT:
            continue
        h = _HEADER.search(tok.string)
        if h:
            settings = _apply_header(settings, h.group("opts"))
        for m in _MARK.finditer(tok.string):
            codes = [c.strip() for c in m.group("codes").split(",")]
            target = missing if m.group("kind") == "-missing" else expected
            for c in codes:
                target[(tok.start[0], c)] += 1
    return Expectations(expected, missing, settings)


def _apply_header(settings: Settings, opts: str) -> Settings:
    for part in opts.split(";"):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if key in ("extend-select", "select", "ignore"):
            attr = key.replace("-", "_")
            settings = replace(settings, **{attr: tuple(v.strip() for v in value.split(","))})
        elif key == "target-windows":
            settings = replace(settings, target_windows=value.lower() == "true")
        elif key in ("borrowers", "closers", "ownership-sinks", "socket-factories"):
            attr = key.replace("-", "_")
            settings = replace(settings, **{attr: tuple(v.strip() for v in value.split(","))})
        elif key == "exception-sources":
            settings = replace(settings, exception_sources=value)
        else:
            raise ValueError(f"unknown fixture header option {key!r}")
    return settings
