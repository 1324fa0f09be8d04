"""The SKL2xx/SKL3xx rule pages: complete, and their examples are what socklint reports.

The bad example of each page must produce its code and nothing else, every fixed example must
produce nothing at all, and the suppression comments the page shows must silence it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from socklint.api import check_source
from socklint.codes import CODES
from socklint.config import Settings

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules"
CODES_HERE = sorted(c for c in CODES if c.startswith(("SKL2", "SKL3")))
SECTIONS = (
    "What it finds",
    "Why it hurts",
    "Example (bad)",
    "Fixed example",
    "When to suppress",
    "Known limitations",
    "References",
)
_FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _sections(code: str) -> dict[str, str]:
    text = (RULES / f"{code}.md").read_text(encoding="utf-8")
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    return {t.strip(): b for t, b in zip(parts[1::2], parts[2::2])}


def _check(code: str, source: str) -> list[tuple[int, str]]:
    settings = (
        Settings() if CODES[code].default_enabled else replace(Settings(), extend_select=(code,))
    )
    return [(d.line, d.code) for d in check_source(f"docs/{code}.py", source.encode(), settings)]


@pytest.mark.parametrize("code", CODES_HERE)
def test_page_has_title_sections_and_default(code: str) -> None:
    text = (RULES / f"{code}.md").read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# {code} {CODES[code].name}"
    found = _sections(code)
    assert [s for s in SECTIONS if not found.get(s, "").strip()] == []
    if CODES[code].default_enabled:
        assert "On by default" in text and "Off by default" not in text
    else:
        assert "Off by default" in text and "extend-select" in text


@pytest.mark.parametrize("code", CODES_HERE)
def test_bad_example_produces_only_its_code(code: str) -> None:
    [bad, *_] = _FENCE.findall(_sections(code)["Example (bad)"])
    assert {c for _, c in _check(code, bad)} == {code}


@pytest.mark.parametrize("code", CODES_HERE)
def test_fixed_examples_are_clean(code: str) -> None:
    blocks = _FENCE.findall(_sections(code)["Fixed example"])
    assert blocks
    for block in blocks:
        assert _check(code, block) == [], block


@pytest.mark.parametrize("code", CODES_HERE)
@pytest.mark.parametrize("comment", ["# noqa: {code}", "# socklint: ignore[{code}]"])
def test_documented_suppression_works(code: str, comment: str) -> None:
    marker = comment.format(code=code)
    assert f"`{marker}`" in _sections(code)["When to suppress"]
    bad = _FENCE.findall(_sections(code)["Example (bad)"])[0]
    lines = bad.splitlines()
    for ln in {ln for ln, c in _check(code, bad) if c == code}:
        lines[ln - 1] = lines[ln - 1].split("#", 1)[0].rstrip() + "  " + marker
    assert _check(code, "\n".join(lines) + "\n") == []


@pytest.mark.parametrize("code", ["SKL201", "SKL211", "SKL213", "SKL301", "SKL303"])
def test_why_it_hurts_names_the_tcp_mechanics(code: str) -> None:
    why = _sections(code)["Why it hurts"]
    terms = {
        "SKL201": ("RST", "FIN", "TIME_WAIT", "ECONNRESET"),
        "SKL211": ("bpo-37228",),
        "SKL213": ("SO_EXCLUSIVEADDRUSE", "Windows", "TIME_WAIT"),
        "SKL301": ("RST", "FIN", "lingering close", "RFC 1122"),
        "SKL303": ("ENOTCONN",),
    }[code]
    assert [t for t in terms if t not in why] == []
