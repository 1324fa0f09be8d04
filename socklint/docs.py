"""Rule documentation: docs/rules/<CODE>.md is the source (shipped in the wheel as
``socklint/rule_docs``); ``socklint rule`` prints it."""

from __future__ import annotations

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
