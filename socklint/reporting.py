"""Reporters only format: diagnostics in, text out.

``text`` and ``concise`` are for people (colour on request, a summary line); ``json`` is the
documented contract (docs/json-output.md); ``sarif`` is SARIF 2.1.0 for code scanning; ``github``
prints GitHub Actions workflow commands so findings become annotations.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
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

    ``--color always`` / ``never`` decide alone. ``auto`` never colours a report file (a CI
    job with ``FORCE_COLOR`` set for its log must not get escape codes in its artifacts), and
    otherwise follows the order CPython uses for its own tracebacks (Lib/_colorize.py): a
    non-empty ``NO_COLOR`` turns colour off (https://no-color.org), then a non-empty
    ``FORCE_COLOR`` turns it on, then ``TERM=dumb`` turns it off, and otherwise colour goes only
    to a terminal.
    """
    if mode == "always":
        return True
    if mode == "never" or stream is None:
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or a stand-in without a descriptor
        return False


def _paint(text: str, *codes: str, color: bool) -> str:
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if color and text else text


def _headline(d: Diagnostic, color: bool, fixable: Collection[Diagnostic] = ()) -> str:
    where = _paint(d.path, _BOLD, color=color) + f":{d.line}:{d.column}:"
    # ruff's mark for a finding `--fix` can remove (docs/fixes.md).
    mark = " [*]" if d in fixable else ""
    return f"{where} {_paint(d.code, _BOLD, _SEVERITY_COLOR[d.severity], color=color)}{mark} {d.message}"


def format_text(
    diags: Sequence[Diagnostic],
    sources: dict[str, str] | None = None,
    *,
    show_source: bool = True,
    color: bool = False,
    fixable: Collection[Diagnostic] = (),
) -> str:
    out: list[str] = []
    split: dict[str, list[str]] = {}
    for d in diags:
        out.append(_headline(d, color, fixable))
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
    diags: Sequence[Diagnostic],
    sources: dict[str, str] | None = None,
    *,
    color: bool = False,
    fixable: Collection[Diagnostic] = (),
) -> str:
    """One line per finding, ``path:line:column: CODE message`` (ruff's ``concise``): for grep,
    editors' error lists and ``wc -l``."""
    return "".join(_headline(d, color, fixable) + "\n" for d in diags)


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


# A result's identity across runs, for code scanning to match alerts when lines move. The key
# names the hash and its version, as SARIF asks (3.27.17): a change of recipe is a new key.
FINGERPRINT_KEY = "socklintFindingHash/v1"

# Line numbers that messages and trace notes quote ("created at line 5", "lines 26, 28 or 30"):
# they change when code above moves, so they are not part of a finding's identity.
_LINE_REFS = re.compile(r"\blines? \d+(?:(?:, | or | and )\d+)*")
_SPACES = re.compile(r"\s+")


def normalise_message(text: str) -> str:
    """A message or trace note with the line numbers it quotes blanked (``line #``)."""
    return _SPACES.sub(" ", _LINE_REFS.sub("line #", text)).strip()


@dataclass(frozen=True)
class _Scope:
    start: int
    end: int
    qualname: str


def _scopes(source: str) -> list[_Scope]:
    """Every function and class of ``source`` with its dotted qualified name
    (``Client.fetch.inner``), innermost last among those that share a start line."""
    try:
        tree = ast.parse(source)
    except Exception:  # noqa: BLE001 - SyntaxError, RecursionError, null bytes: no names then
        return []
    out: list[_Scope] = []
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix else child.name
                first = min([child.lineno, *(dec.lineno for dec in child.decorator_list)])
                out.append(_Scope(first, child.end_lineno or child.lineno, name))
                stack.append((child, name))
            else:
                stack.append((child, prefix))
    return out


def enclosing_name(scopes: Sequence[_Scope], line: int) -> str:
    """The qualified name of the innermost function or class around ``line``; "" at module level."""
    best: _Scope | None = None
    for sc in scopes:
        if sc.start <= line <= sc.end and (best is None or (sc.start, -sc.end) > (best.start, -best.end)):
            best = sc
    return best.qualname if best is not None else ""


@dataclass(frozen=True)
class Identity:
    """What a finding is, without where it is: the qualified name of the function (or class)
    around it ("" at module level) and its fingerprint (``hash:n``)."""

    function: str
    fingerprint: str


def fingerprints(diags: Sequence[Diagnostic], sources: Mapping[str, str] | None = None) -> list[str]:
    """``partialFingerprints`` values, one per diagnostic (see :func:`identities`)."""
    return [i.fingerprint for i in identities(diags, sources)]


def identities(diags: Sequence[Diagnostic], sources: Mapping[str, str] | None = None) -> list[Identity]:
    """Fingerprints, one per diagnostic, that do not move with line numbers: SARIF's
    ``partialFingerprints`` and the keys of a baseline file (socklint/baseline.py).

    The hash covers the file, the rule, the qualified name of the function (or class) around
    the finding, and the message and witness notes with quoted line numbers blanked: the message
    names the socket (`` `sock` ``, or the call that made it), the notes the branches and calls
    of the path. Positions are left out, so blank lines or a new function above a finding keep
    its fingerprint. Two findings that still hash alike (the same leak at two identical exits of
    one function) are told apart by their order, ``hash:1``, ``hash:2``, as GitHub's own
    ``primaryLocationLineHash`` does. Without the file's text (``sources``) the function name is
    left empty, which is stable too.
    """
    scope_cache: dict[str, list[_Scope]] = {}
    seen: Counter[str] = Counter()
    out: list[Identity] = []
    for d in diags:
        scopes = scope_cache.get(d.path)
        if scopes is None:
            text = (sources or {}).get(d.path)
            scopes = scope_cache[d.path] = _scopes(text) if text else []
        function = enclosing_name(scopes, d.line)
        parts = [
            d.code,
            d.path.replace(os.sep, "/"),
            function,
            normalise_message(d.message),
            *(normalise_message(step.note) for step in d.trace),
        ]
        digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        seen[digest] += 1
        out.append(Identity(function, f"{digest}:{seen[digest]}"))
    return out


def _result(d: Diagnostic, rule_index: dict[str, int], fingerprint: str) -> dict[str, Any]:
    uri, base = sarif_uri(d.path)
    result: dict[str, Any] = {
        "ruleId": d.code,
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [
            {"physicalLocation": _physical(uri, base, d.line, d.column, d.end_line, d.end_column)}
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
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


def _notification(d: Diagnostic, index: dict[str, int]) -> dict[str, Any]:
    uri, base = sarif_uri(d.path)
    return {
        "descriptor": {"id": d.code, "index": index[d.code]},
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": f"{d.code} {d.message}"},
        "locations": [
            {"physicalLocation": _physical(uri, base, d.line, d.column, d.end_line, d.end_column)}
        ],
    }


def format_sarif(diags: Sequence[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """The findings as results, and the files socklint could not analyse (SKL001, SKL002,
    SKL003, SKL900) as tool execution notifications of the run's invocation: they are about the
    run, not about the code, and must not become alerts. ``executionSuccessful`` is false when
    one of them is an error (a file that does not parse, cannot be read, or made socklint fail):
    the run did not check everything it was given."""
    live = [c for c in CODES.values() if c.status != "removed"]
    rules = [c for c in live if c.code not in TOOL_CODES]
    tool = [c for c in live if c.code in TOOL_CODES]
    rule_index = {c.code: i for i, c in enumerate(rules)}
    tool_index = {c.code: i for i, c in enumerate(tool)}
    findings = [d for d in diags if d.code not in TOOL_CODES]
    failures = [d for d in diags if d.code in TOOL_CODES]
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(d.severity is Severity.ERROR for d in failures)
    }
    if failures:
        invocation["toolExecutionNotifications"] = [_notification(d, tool_index) for d in failures]
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
                        "notifications": [_rule(c) for c in tool],
                    }
                },
                "invocations": [invocation],
                # socklint counts columns in code points; SARIF's default is UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "results": [
                    _result(d, rule_index, fp) for d, fp in zip(findings, fingerprints(findings, sources))
                ],
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
