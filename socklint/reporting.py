"""Reporters only format: diagnostics in, text out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Callable

from socklint.diagnostics import Diagnostic
from socklint.source import split_lines


def format_text(diags: Sequence[Diagnostic], sources: dict[str, str] | None = None, *, show_source: bool = True) -> str:
    out: list[str] = []
    for d in diags:
        out.append(f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}")
        text = (sources or {}).get(d.path)
        if show_source and text is not None:
            lines = split_lines(text)
            if 0 < d.line <= len(lines):
                src = lines[d.line - 1].rstrip("\r\n").expandtabs(8)
                out.append(f"    {d.line:>4} | {src}")
        for step in d.trace:
            out.append(f"      {step.line}:{step.column}: {step.note}")
    return "\n".join(out) + ("\n" if out else "")


def format_json(diags: Sequence[Diagnostic], sources: dict[str, str] | None = None) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2, sort_keys=False) + "\n"


FORMATTERS: dict[str, Callable[..., str]] = {
    "text": format_text,
    "json": format_json,
}
