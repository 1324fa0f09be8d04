"""The rule pages in docs/rules/ stay complete and true.

Every code in the registry has a page with the required sections, and the examples in the
lifecycle pages are run through the analyzer: the bad example must produce its code, the
fixed example(s) nothing at all, and the suppression comments the page documents must
silence the bad example. So a page cannot drift away from what socklint does.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from socklint.api import check_source
from socklint.codes import CODES, TOOL_CODES
from socklint.config import Settings
from socklint.docs import rule_doc

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules"

RULE_SECTIONS = (
    "What it finds",
    "Why it hurts",
    "Example (bad)",
    "Fixed example",
    "When to suppress",
    "Known limitations",
)
TOOL_SECTIONS = ("What it means", "What to do")

# Pages still to be written with their rules (issue 3: socket options and closing). A code
# leaves this set when its page lands; test_pending_pages_are_really_missing fails until it
# is removed here, so the exemption cannot outlive its reason.
PENDING: frozenset[str] = frozenset()  # the SKL2xx/SKL3xx pages landed (their examples: test_option_docs.py)

LIFECYCLE = sorted(c for c in CODES if c.startswith("SKL1"))

# What each lifecycle page must teach about the TCP consequences.
WHY_TERMS = {
    "SKL101": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
    "SKL102": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
    "SKL103": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
    "SKL104": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
    "SKL105": ("CLOSE_WAIT", "CPU", 'b""'),
    "SKL106": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
    # SKL107's leak needs the kernel to reject a configuration call: say which errors do it.
    "SKL107": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "garbage collector", "EBADF", "EINVAL", "ENOMEM", "ENOPROTOOPT"),
    # SKL108: the same leak, reached by a cancellation; and what an unclosed asyncio transport says.
    "SKL108": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector", "unclosed transport", "BaseException"),
    "SKL111": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
    "SKL112": ("CLOSE_WAIT", "EMFILE", "ulimit -n", "ResourceWarning", "garbage collector"),
}

_FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _page(code: str) -> str:
    return (RULES / f"{code}.md").read_text(encoding="utf-8")


def _sections(text: str) -> dict[str, str]:
    """Level-2 headings to their bodies (up to the next level-2 heading)."""
    out: dict[str, str] = {}
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    for title, body in zip(parts[1::2], parts[2::2]):
        out[title.strip()] = body
    return out


def _python_blocks(body: str) -> list[str]:
    return _FENCE.findall(body)


def _settings(code: str) -> Settings:
    # Opt-in codes need an explicit selection, as the page tells the reader.
    return Settings() if CODES[code].default_enabled else replace(Settings(), extend_select=(code,))


def _check(code: str, source: str) -> list[tuple[int, str]]:
    diags = check_source(f"docs/rules/{code}.md.py", source.encode(), _settings(code))
    return [(d.line, d.code) for d in diags]


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_page_with_its_sections(code: str) -> None:
    page = RULES / f"{code}.md"
    if code in PENDING:
        pytest.skip(f"{code}: page pending with its rule (issue 3)")
    assert page.is_file(), f"docs/rules/{code}.md is missing"
    text = _page(code)
    first = text.splitlines()[0]
    assert first == f"# {code} {CODES[code].name}", (
        f"title must be '# {code} {CODES[code].name}', got {first!r}"
    )
    required = TOOL_SECTIONS if code in TOOL_CODES else RULE_SECTIONS
    found = _sections(text)
    missing = [s for s in required if s not in found]
    assert not missing, f"{code}: missing sections {missing}"
    empty = [s for s in required if not found[s].strip()]
    assert not empty, f"{code}: empty sections {empty}"
    # The page states whether the rule is on by default, and says it truthfully.
    if CODES[code].default_enabled:
        assert "Off by default" not in text
    else:
        assert "Off by default" in text and "extend-select" in text


def test_pending_pages_are_really_missing() -> None:
    landed = sorted(c for c in PENDING if (RULES / f"{c}.md").is_file())
    assert not landed, f"pages now exist for {landed}: remove them from PENDING in this test"
    assert set(CODES) >= PENDING, "PENDING names a code that is not in socklint/codes.py"


def test_no_page_for_an_unknown_code() -> None:
    stray = sorted(p.stem for p in RULES.glob("*.md") if p.stem not in CODES)
    assert not stray, f"docs/rules has pages for codes that do not exist: {stray}"


@pytest.mark.parametrize("code", LIFECYCLE)
def test_why_it_hurts_teaches_the_tcp_consequences(code: str) -> None:
    why = _sections(_page(code))["Why it hurts"]
    missing = [t for t in WHY_TERMS[code] if t not in why]
    assert not missing, f"{code}: 'Why it hurts' does not mention {missing}"


@pytest.mark.parametrize("code", LIFECYCLE)
def test_bad_example_produces_the_code(code: str) -> None:
    blocks = _python_blocks(_sections(_page(code))["Example (bad)"])
    assert blocks, f"{code}: no ```python block under 'Example (bad)'"
    found = _check(code, blocks[0])
    assert code in {c for _, c in found}, f"{code}: the bad example produces {found}, not {code}"
    # The example shows one bug; other findings would distract the reader.
    assert {c for _, c in found} == {code}, f"{code}: the bad example also produces {found}"


@pytest.mark.parametrize("code", LIFECYCLE)
def test_fixed_examples_produce_nothing(code: str) -> None:
    blocks = _python_blocks(_sections(_page(code))["Fixed example"])
    assert blocks, f"{code}: no ```python block under 'Fixed example'"
    for block in blocks:
        assert _check(code, block) == [], (
            f"{code}: a fixed example still produces findings:\n{block}"
        )


@pytest.mark.parametrize("code", LIFECYCLE)
@pytest.mark.parametrize("comment", ["# noqa: {code}", "# socklint: ignore[{code}]"])
def test_documented_suppressions_silence_the_bad_example(code: str, comment: str) -> None:
    suppress = _sections(_page(code))["When to suppress"]
    marker = comment.format(code=code)
    assert f"`{marker}`" in suppress, f"{code}: 'When to suppress' does not show `{marker}`"
    source = _python_blocks(_sections(_page(code))["Example (bad)"])[0]
    lines = source.splitlines()
    reported = sorted({ln for ln, c in _check(code, source) if c == code})
    assert reported
    for ln in reported:
        # Replace any explanatory comment on that line by the suppression.
        lines[ln - 1] = lines[ln - 1].split("#", 1)[0].rstrip() + "  " + marker
    assert _check(code, "\n".join(lines) + "\n") == []


@pytest.mark.parametrize("code", sorted(c for c in CODES if c not in PENDING))
def test_rule_command_prints_the_page(code: str) -> None:
    assert rule_doc(code) == _page(code)
