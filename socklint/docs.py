"""Rule documentation: docs/rules/<CODE>.md is the source (shipped in the wheel as
``socklint/rule_docs``); ``socklint rule`` prints it."""

from __future__ import annotations

import re
from pathlib import Path

from socklint.codes import CODES

_HERE = Path(__file__).resolve().parent
_CANDIDATES = (_HERE / "rule_docs", _HERE.parent / "docs" / "rules")


def rule_doc_path(code: str) -> Path | None:
    for d in _CANDIDATES:
        page = d / f"{code}.md"
        if page.is_file():
            return page
    return None


def rule_doc(code: str) -> str:
    c = CODES[code]
    page = rule_doc_path(code)
    if page is not None:
        return page.read_text(encoding="utf-8")
    default = "on" if c.default_enabled else "off (opt-in)"
    return f"# {c.code} {c.name}\n\n{c.summary}.\n\nSeverity: {c.severity.value}. Default: {default}.\n"


def rule_sections(code: str) -> dict[str, str]:
    """The page's level-2 headings to their bodies (up to the next level-2 heading)."""
    parts = re.split(r"^## +(.+?)\s*$", rule_doc(code), flags=re.MULTILINE)
    return {title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2])}


def rule_why(code: str) -> str:
    """The page's "why" in short, for a hover: the first paragraph of "Why it hurts" (tool
    codes: "What it means"), with the block after it when the paragraph only leads into a list
    ("...without testing for that value:"). Empty when the page has neither section."""
    sections = rule_sections(code)
    body = sections.get("Why it hurts") or sections.get("What it means") or ""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", body) if b.strip()]
    if not blocks:
        return ""
    short = blocks[0]
    if short.endswith(":") and len(blocks) > 1:
        short += "\n\n" + blocks[1]
    return short
