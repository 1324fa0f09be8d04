"""Reporters only format: diagnostics in, text out.

``json`` is the documented contract (docs/json-output.md); ``sarif`` is SARIF 2.1.0 for code
scanning; ``github`` prints GitHub Actions workflow commands so findings become annotations.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any, Callable
from urllib.parse import quote

from socklint import __version__
from socklint.codes import CODES, TOOL_CODES, Code
from socklint.diagnostics import Diagnostic, Severity
from socklint.source import split_lines

INFORMATION_URI = "https://github.com/socklint/socklint"


def format_text(
    diags: Sequence[Diagnostic], sources: dict[str, str] | None = None, *, show_source: bool = True
) -> str:
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


# --- SARIF 2.1.0 -------------------------------------------------------------------------

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def sarif_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) for a reported path.

    Relative paths stay relative to %SRCROOT% (the folder socklint ran in), which is what
    GitHub code scanning resolves against the checkout; absolute paths become file:// URIs.
    """
    p = path.replace(os.sep, "/")
    if os.path.isabs(path):
        return PurePath(os.path.abspath(path)).as_uri(), None
    while p.startswith("./"):
        p = p[2:]
    # RFC 3986: keep the path separators, percent-encode everything else that is not plain.
    return quote(p, safe="/-._~!$&'()*+,;=@"), "%SRCROOT%"


def _rule(c: Code) -> dict[str, Any]:
    from socklint.docs import rule_doc

    default = "on" if c.default_enabled else "off (opt-in)"
    return {
        "id": c.code,
        "name": c.name,
        "shortDescription": {"text": c.summary},
        "fullDescription": {
            "text": f"{c.summary}. Severity {c.severity.value}, {default} by default."
        },
        "help": {"text": f"{c.summary}. See {c.docs_url}", "markdown": rule_doc(c.code)},
        "helpUri": c.docs_url,
        "defaultConfiguration": {"level": _SARIF_LEVEL[c.severity], "enabled": c.default_enabled},
        "properties": {"tags": ["socklint-tool" if c.code in TOOL_CODES else "reliability"]},
    }


def _physical(
    uri: str,
    base: str | None,
    line: int,
    column: int,
    end_line: int | None = None,
    end_column: int | None = None,
) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    region: dict[str, Any] = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    if end_line is not None and end_column is not None and (end_line, end_column) >= (line, column):
        region["endLine"] = max(end_line, 1)
        region["endColumn"] = max(end_column, 1)
    return {"artifactLocation": artifact, "region": region}


def _result(d: Diagnostic, rule_index: dict[str, int]) -> dict[str, Any]:
    uri, base = sarif_uri(d.path)
    result: dict[str, Any] = {
        "ruleId": d.code,
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [
            {"physicalLocation": _physical(uri, base, d.line, d.column, d.end_line, d.end_column)}
        ],
    }
    if d.code in rule_index:
        result["ruleIndex"] = rule_index[d.code]
    if d.trace:
        # One thread flow whose steps are the witness path: code scanning shows it step by step.
        steps = [
            {
                "location": {
                    "physicalLocation": _physical(uri, base, step.line, step.column),
                    "message": {"text": step.note},
                },
                "executionOrder": i,
            }
            for i, step in enumerate(d.trace, 1)
        ]
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    if d.failure is not None:
        # What the leak's witness needs to fail (docs/json-output.md, "failure").
        result["properties"] = {"failure": d.failure}
    return result


def format_sarif(diags: Sequence[Diagnostic], sources: dict[str, str] | None = None) -> str:
    rules = [c for c in CODES.values() if c.status != "removed"]
    rule_index = {c.code: i for i, c in enumerate(rules)}
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "socklint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(c) for c in rules],
                    }
                },
                # socklint counts columns in code points; SARIF's default is UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, rule_index) for d in diags],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


# --- GitHub Actions workflow commands -------------------------------------------------------

_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(s: str) -> str:
    # The runner's rules (actions/toolkit command.ts escapeData): % first, then CR and LF.
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    # Property values additionally may not contain the ':' and ',' that delimit them.
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def format_github(diags: Sequence[Diagnostic], sources: dict[str, str] | None = None) -> str:
    out: list[str] = []
    for d in diags:
        path = d.path.replace(os.sep, "/")
        while path.startswith("./"):
            path = path[2:]
        props = [
            f"file={_escape_property(path)}",
            f"line={d.line}",
            f"col={d.column}",
        ]
        if d.end_line >= d.line:
            props.append(f"endLine={d.end_line}")
            if d.end_line == d.line and d.end_column > d.column:
                props.append(f"endColumn={d.end_column}")
        props.append(f"title={_escape_property(f'{d.code} {d.name}')}")
        body = d.message + "".join(f"\n{s.line}:{s.column}: {s.note}" for s in d.trace)
        out.append(f"::{_GITHUB_LEVEL[d.severity]} {','.join(props)}::{_escape_data(body)}")
    return "\n".join(out) + ("\n" if out else "")


FORMATTERS: dict[str, Callable[..., str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}
