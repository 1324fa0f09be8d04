"""Reporters only format: diagnostics in, text out.

``text`` and ``concise`` are for people (colour on request, a summary line); ``json`` is the
documented contract (docs/json-output.md); ``sarif`` is SARIF 2.1.0 for code scanning; ``github``
prints GitHub Actions workflow commands so findings become annotations.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any, Callable, TextIO
from urllib.parse import quote

from socklint import __version__
from socklint.codes import CODES, TOOL_CODES, Code
from socklint.diagnostics import Diagnostic, Severity
from socklint.source import split_lines

INFORMATION_URI = "https://github.com/socklint/socklint"


# --- text formats: colour, summary, statistics ---------------------------------------------

# SGR codes. Only the text formats use them, and only when ``use_color`` says so.
_BOLD, _DIM, _RED, _GREEN, _YELLOW, _BLUE, _CYAN = "1", "2", "31", "32", "33", "34", "36"
_SEVERITY_COLOR = {Severity.ERROR: _RED, Severity.WARNING: _YELLOW, Severity.INFO: _CYAN}

TEXT_FORMATS = frozenset({"text", "concise"})


def use_color(mode: str, stream: TextIO | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour output written to ``stream`` (None: a file given with --output).

    ``--color always`` / ``never`` decide alone. ``auto`` follows the order CPython uses for its
    own tracebacks (Lib/_colorize.py): a non-empty ``NO_COLOR`` turns colour off
    (https://no-color.org), then a non-empty ``FORCE_COLOR`` turns it on, then ``TERM=dumb``
    turns it off, and otherwise colour goes only to a terminal.
    """
    if mode == "always":
        return True
    if mode == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb" or stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or a stand-in without a descriptor
        return False


def _paint(text: str, *codes: str, color: bool) -> str:
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if color and text else text


def _headline(d: Diagnostic, color: bool) -> str:
    where = _paint(d.path, _BOLD, color=color) + f":{d.line}:{d.column}:"
    return f"{where} {_paint(d.code, _BOLD, _SEVERITY_COLOR[d.severity], color=color)} {d.message}"


def format_text(
    diags: Sequence[Diagnostic],
    sources: dict[str, str] | None = None,
    *,
    show_source: bool = True,
    color: bool = False,
) -> str:
    out: list[str] = []
    split: dict[str, list[str]] = {}
    for d in diags:
        out.append(_headline(d, color))
        text = (sources or {}).get(d.path)
        if show_source and text is not None:
            lines = split.get(d.path)
            if lines is None:
                lines = split[d.path] = split_lines(text)
            if 0 < d.line <= len(lines):
                src = lines[d.line - 1].rstrip("\r\n").expandtabs(8)
                out.append(_paint(f"    {d.line:>4} |", _BLUE, color=color) + f" {src}")
        for step in d.trace:
            out.append(_paint(f"      {step.line}:{step.column}: {step.note}", _DIM, color=color))
    return "\n".join(out) + ("\n" if out else "")


def format_concise(
    diags: Sequence[Diagnostic], sources: dict[str, str] | None = None, *, color: bool = False
) -> str:
    """One line per finding, ``path:line:column: CODE message`` (ruff's ``concise``): for grep,
    editors' error lists and ``wc -l``."""
    return "".join(_headline(d, color) + "\n" for d in diags)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(diags: Sequence[Diagnostic], checked: int, *, color: bool = False) -> str:
    """``Found 3 findings in 2 files (41 checked)`` or ``All checks passed``, with its newline."""
    if not diags:
        return _paint("All checks passed", _BOLD, _GREEN, color=color) + "\n"
    files = len({d.path for d in diags})
    text = f"Found {_plural(len(diags), 'finding')} in {_plural(files, 'file')} ({checked} checked)"
    return _paint(text, _BOLD, color=color) + "\n"


def statistics(diags: Sequence[Diagnostic]) -> list[tuple[str, int]]:
    """(code, count) for every code found, most frequent first, ties by code."""
    counts = Counter(d.code for d in diags)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def format_statistics(diags: Sequence[Diagnostic], *, color: bool = False) -> str:
    """``count<TAB>code<TAB>name`` per code, as ``ruff check --statistics`` prints them."""
    rows = statistics(diags)
    width = max((len(str(n)) for _, n in rows), default=1)
    return "".join(
        f"{n:>{width}}\t{_paint(code, _BOLD, _SEVERITY_COLOR[CODES[code].severity], color=color)}\t{CODES[code].name}\n"
        for code, n in rows
    )


def format_statistics_json(diags: Sequence[Diagnostic]) -> str:
    rows = [{"code": code, "name": CODES[code].name, "count": n} for code, n in statistics(diags)]
    return json.dumps(rows, indent=2) + "\n"


class Progress:
    """``socklint: 120/1790 files`` on a terminal's stderr, redrawn in place.

    Nothing is drawn before ``delay`` seconds (a short run shows no flicker) nor more often
    than every ``interval`` seconds; ``close`` erases the line, so the report that follows (on
    stdout, written after the run) starts on a clean line. Never used when stderr is not a
    terminal: a log file or a pipe gets no carriage returns.
    """

    def __init__(self, stream: TextIO, total: int, *, delay: float = 0.5, interval: float = 0.1) -> None:
        self.stream = stream
        self.total = total
        self.delay = delay
        self.interval = interval
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last < self.interval:
            return
        self.last = now
        self._write(f"\rsocklint: {done}/{self.total} files\x1b[K")
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self._write("\r\x1b[K")
            self.drawn = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # the terminal went away: progress is decoration


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
    "concise": format_concise,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}
