"""Orchestration: text -> ast scan -> libcst per candidate function -> facts -> rules -> diagnostics.

libcst costs about ten times ``ast.parse`` per line, and its position metadata as much again,
so the engine parses with libcst only the functions the ``ast`` scan marked as able to produce
a finding, one snippet at a time, runs only the rules that can emit a code enabled for the
file, and computes positions only for snippets with findings that will be reported. Results
are kept per snippet (``SnippetCache``): re-checking an edited file re-analyses only the
functions whose text or inputs changed.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import enum
import hashlib
import re
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from socklint.analysis.facts import Finding
from socklint.analysis.flow import FunctionAnalyzer, ModuleContext
from socklint.analysis.model import Model, effective_model
from socklint.analysis.project import ModuleView
from socklint.analysis.scan import ImportTable, ScanResult, Snippet, Summaries, scan
from socklint.codes import CODES
from socklint.config import Settings
from socklint.diagnostics import Diagnostic, Severity, TraceStep
from socklint.heuristics import enabled_ids
from socklint.models import flat_rows
from socklint.rules import ALL_RULES, MODULE_RULES, ModuleRuleContext, Rule, RuleContext
from socklint.rules._support import ModuleFacts, lazy_module_facts
from socklint.source import split_lines

_WS = re.compile(r"\s+")


def settings_model(settings: Settings) -> Model:
    """The library model under ``settings``: the built-in rows, the user's
    ``[tool.socklint.models]`` rows, and the flat keys as rows (cached per distinct rows)."""
    return effective_model(
        settings.models
        + flat_rows(settings.socket_factories, settings.closers, settings.ownership_sinks, settings.borrowers)
    )


Position = tuple[int, int, int, int]  # line, column, end line, end column (1-based)


@dataclass(frozen=True)
class _Located:
    """A finding with positions in snippet lines (None: the node has no position) and its
    code text filled in: what remains to place it in the file is the snippet's line offset."""

    code: str
    pos: Optional[Position]
    message: str  # "{0}", "{1}"... stand for the lines of ``refs``
    refs: tuple[Optional[Position], ...]
    sort_refs: bool
    severity: Severity
    trace: tuple[tuple[Optional[Position], str], ...]
    failure: Optional[str] = None  # leak findings: what the witness needs to fail


def _shift(pos: Optional[Position], offset: int) -> Position:
    if pos is None:
        line = 1 + max(offset, 0)
        return (line, 1, line, 1)
    sl, sc, el, ec = pos
    return (sl + offset, sc, el + offset, ec)


@dataclass(frozen=True)
class _SnippetResult:
    located: tuple[_Located, ...]
    rids: int  # resource ids the snippet's units used (the next snippet's ids start after them)
    read_module_tree: bool  # a rule read module facts beyond the snippet

    def diagnostics(self, path: str, offset: int) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for f in self.located:
            sl, sc, el, ec = _shift(f.pos, offset)
            msg = f.message
            ref_lines = [_shift(ref, offset)[0] for ref in f.refs]
            if f.sort_refs:
                ref_lines.sort()
            for i, line in enumerate(ref_lines):
                msg = msg.replace(f"{{{i}}}", str(line))
            trace = tuple(TraceStep(*_shift(p, offset)[:2], note) for p, note in f.trace)
            out.append(Diagnostic(path, sl, sc, el, ec, f.code, msg, f.severity, trace, f.failure))
        return out


class _Uncacheable(Exception):
    pass


def _canonical(obj: object, out: list[str]) -> None:
    """Append a text that determines ``obj``'s value (sets and dicts in sorted order, ast nodes
    with their positions). Anything of an unknown kind raises _Uncacheable: a cache key must
    never ignore part of what an analysis read."""
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, enum.Enum)):
        out.append(repr(obj))
    elif isinstance(obj, (tuple, list)):
        out.append("(" if isinstance(obj, tuple) else "[")
        for item in obj:
            _canonical(item, out)
            out.append(",")
        out.append(")")
    elif isinstance(obj, (set, frozenset)):
        out.append("{" + ",".join(sorted(_text(item) for item in obj)) + "}")
    elif isinstance(obj, dict):
        out.append("{" + ",".join(sorted(_text(k) + ":" + _text(v) for k, v in obj.items())) + "}")
    elif isinstance(obj, ast.AST):
        out.append(ast.dump(obj, include_attributes=True))
    elif type(obj).__module__.startswith("socklint.") and hasattr(obj, "__dict__"):
        # The engine's own records (imports, summaries, module facts): their fields.
        out.append(type(obj).__qualname__)
        _canonical(vars(obj), out)
    else:
        raise _Uncacheable(type(obj).__name__)


def _text(obj: object) -> str:
    out: list[str] = []
    _canonical(obj, out)
    return "".join(out)


def _digest(*parts: object) -> Optional[str]:
    try:
        text = _text(parts)
    except (_Uncacheable, RecursionError):
        return None
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


_UNSET = "<unset>"


class _FileKeys:
    """Cache keys for one file's snippets. A snippet's analysis reads its own text, where it
    sits (indented, module level), the classes and candidacy the scan gave its functions, the
    first resource id, and from the file: the path, the settings, the imports and the
    module-local summaries. Rules may also read module facts (``ModuleFacts``): those are
    fingerprinted only for entries whose rules did, on first need."""

    def __init__(self, path: str, settings: Settings, result: ScanResult, facts: Callable[[], ModuleFacts]) -> None:
        self.result = result
        self._facts = facts
        self._file: Optional[str] = _UNSET
        self._path, self._settings = path, settings
        self._module: Optional[str] = _UNSET

    def snippet_key(self, src: str, snip: Snippet, rid_base: int) -> Optional[str]:
        if self._file == _UNSET:
            self._file = _digest(self._path, self._settings.cache_key(), self.result.imports, self.result.summaries)
        if self._file is None:
            return None
        classes = tuple(self.result.fn_class.get(id(fn)) for fn, _ in snip.functions)
        candidates = tuple(cand for _, cand in snip.functions)
        return _digest(self._file, src, snip.indented, snip.module_level, snip.whole_module, candidates, classes, rid_base)

    def module_facts(self) -> Optional[str]:
        if self._module == _UNSET:
            self._module = _digest(self._facts().fingerprint())
        return self._module


@dataclass
class _CacheEntry:
    result: _SnippetResult
    module_facts: Optional[str]


class SnippetCache:
    """Per-snippet results, least recently used first out, shared by every file this process
    checks: after a one-line edit the language server (or a caller of ``check_source``)
    re-analyses only the function that changed, and unchanged functions reuse their findings
    as long as nothing they read changed (see ``_FileKeys``)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _CacheEntry] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: str, keys: _FileKeys) -> Optional[_SnippetResult]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and entry.result.read_module_tree and entry.module_facts != keys.module_facts():
            entry = None
        with self._lock:
            if entry is None:
                self.misses += 1
            else:
                self.hits += 1
        return entry.result if entry is not None else None

    def put(self, key: str, result: _SnippetResult, keys: _FileKeys) -> None:
        facts = keys.module_facts() if result.read_module_tree else None
        if result.read_module_tree and facts is None:
            return
        with self._lock:
            self._entries[key] = _CacheEntry(result, facts)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


SNIPPET_CACHE = SnippetCache()


def clear_caches() -> None:
    """Forget every result kept across calls (for benchmarks that time the analysis itself)."""
    SNIPPET_CACHE.clear()
    with _DEPTH_LOCK:
        _DEPTH_MEMO.clear()


def _syntax_error(path: str, exc: BaseException, lines: list[str]) -> Diagnostic:
    # CPython may point past the text (an error "at" the end of file is one line beyond it, an
    # error at the end of a line one column beyond it) or give no position (NUL bytes):
    # clamp into the file so every front end can show it.
    line = getattr(exc, "lineno", None) or 1
    col = getattr(exc, "offset", None) or 1
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    line = min(max(1, int(line)), max(1, len(lines)))
    width = len(lines[line - 1].rstrip("\r\n")) if lines else 0
    col = min(max(1, int(col)), width + 1)
    return Diagnostic(path, line, col, line, min(col + 1, width + 1) if width else col,
                      "SKL001", f"syntax error: {msg}", CODES["SKL001"].severity)


def analyze_text(
    path: str,
    text: str,
    settings: Settings,
    *,
    deep: bool = True,
    tree: Optional[ast.Module] = None,
    view: Optional[ModuleView] = None,
    on_scan: Optional[Callable[[Optional[ast.Module], Optional[ScanResult]], None]] = None,
    scan_only: bool = False,
) -> list[Diagnostic]:
    """``deep=False``: only check that the file parses (the prefilter ruled out findings).
    ``tree``: the ``ast`` of ``text`` when the caller parsed it already. ``view``: what the
    module sees of its project (``socklint.analysis.project``). ``on_scan`` is handed the
    tree and the scan (None when the file was not scanned) before the deep analysis, which
    ``scan_only`` skips: the project index summarises modules from them."""
    try:
        if tree is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as exc:
        # Newer syntax than the running interpreter knows (PEP 695 under 3.11, say)? libcst's
        # grammar is newer than most interpreters': if it parses, the file is valid.
        result: Optional[ScanResult]
        # Never for NUL bytes: no CPython accepts them (libcst does, in strings and comments).
        usable = "\0" not in text and _safe_for_libcst(text)
        fallback: Optional[ScanResult] = (
            # PEP 701 f-strings (3.12) reuse their quotes inside: older parsers call that an
            # f-string error, and libcst parses them.
            _cst_fallback(text, "f-string" in str(getattr(exc, "msg", "")))
            if (deep or isinstance(exc, SyntaxError)) and usable
            else None
        )
        if fallback is None:
            return [_syntax_error(path, exc, split_lines(text))]
        if not deep:
            return []
        result = fallback
    except (RecursionError, MemoryError):
        # Valid Python can be too deep for the ast module (a 5,000-branch elif chain on 3.11, a
        # long `a + b + ...`): not a syntax error, a limit of ours.
        return [Diagnostic(path, 1, 1, 1, 1, "SKL003", "analysis budget exceeded: the file nests too deeply to parse; it was not checked", CODES["SKL003"].severity)]
    else:
        if not deep:
            if on_scan is not None:
                on_scan(tree, None)
            return []
        result = None
    # Only now, after ast.parse ran at the caller's limit: ast refusing deep input is what keeps
    # it away from libcst's native parser, which overflows the C stack (SIGSEGV, no recovery)
    # on expressions about 8,000 levels deep.
    with recursion_headroom():
        if result is None:
            assert tree is not None  # parsed above, or handed in
            m = settings_model(settings)
            result = scan(
                tree,
                frozenset(settings.socket_factories) | m.user("factories"),
                frozenset(settings.closers) | m.CLOSING_FUNCTIONS,
                enabled_ids(settings),
                view,
                summary_only=scan_only,
                handlers=m.HANDLERS,
            )
            if on_scan is not None:
                on_scan(tree, result)
        if scan_only:
            return []
        return _analyze_result(path, text, result, settings)


# libcst's visitors (positions, codegen) recurse about seven Python frames per nesting level:
# 200 nested brackets, which CPython accepts, need ~1,400 frames, past the default limit of
# 1,000. 5,000 leaves room for that and stays far from the C stack on 3.9/3.10, where every
# Python call also uses C stack. Deeper input still ends as SKL003 through RecursionError.
RECURSION_LIMIT = 5_000
# Statements nested deeper than this (in ast nodes) are not handed to libcst at all: its native
# parser has no depth guard on Python 3.9/3.10, where ast.parse accepts 100,000-deep `a + a + ...`.
MAX_AST_DEPTH = 1_000


@contextlib.contextmanager
def recursion_headroom(limit: int = RECURSION_LIMIT) -> Iterator[None]:
    """Raise the recursion limit while analysing, on the main thread only: other threads
    (a language server's workers) may have small stacks (512 KiB on macOS)."""
    old = sys.getrecursionlimit()
    if old >= limit or threading.current_thread() is not threading.main_thread():
        yield
        return
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


class _DepthGuard:
    """Which snippets overlap a top-level statement nested deeper than MAX_AST_DEPTH.

    Top-level statements follow each other in source order, so the ones overlapping a line
    range are found by bisection rather than by scanning the module once per snippet (which
    made a file of 50,000 lines cost about ten times one of 25,000). Each statement's depth is
    measured at most once per file, iteratively: the point is not to recurse. A statement's
    depth is a function of its text, so an edited file re-measures only what changed."""

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.body = tree.body
        self.lines = lines
        self.starts = [stmt.lineno for stmt in self.body]
        self.ends = [stmt.end_lineno or stmt.lineno for stmt in self.body]
        self.deep: dict[int, bool] = {}  # index in body -> nests too deep

    def too_deep(self, start: int, end: int) -> bool:
        lo = bisect.bisect_left(self.ends, start)
        hi = bisect.bisect_right(self.starts, end)
        for i in range(lo, hi):
            if i not in self.deep:
                self.deep[i] = self._measure(self.body[i], self.ends[i])
            if self.deep[i]:
                return True
        return False

    def _measure(self, stmt: ast.stmt, end: int) -> bool:
        # Decorators belong to the statement's tree but sit above its first line.
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        text = "".join(self.lines[first - 1 : end])
        key = f"{stmt.col_offset}:{stmt.end_col_offset}:{text}"
        with _DEPTH_LOCK:
            hit = _DEPTH_MEMO.get(key)
        if hit is not None:
            return hit
        deep = _nests_deeper(stmt, MAX_AST_DEPTH)
        with _DEPTH_LOCK:
            _DEPTH_MEMO[key] = deep
            while len(_DEPTH_MEMO) > _DEPTH_MEMO_SIZE:
                _DEPTH_MEMO.pop(next(iter(_DEPTH_MEMO)))
        return deep


# Depth by statement text, for re-analyses of an edited file (first in, first out).
_DEPTH_MEMO: dict[str, bool] = {}
_DEPTH_MEMO_SIZE = 4096
_DEPTH_LOCK = threading.Lock()


def _nests_deeper(root: ast.AST, limit: int) -> bool:
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, d = stack.pop()
        if d > limit:
            return True
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))
    return False


def _safe_for_libcst(text: str, limit: int = 5_000) -> bool:
    """Whether a file ast rejected may go to libcst's native parser. Without an ast tree there
    is no depth to measure, so measure what deep nesting needs: brackets past CPython's 200
    levels, or a logical line long enough to chain thousands of operators (libcst crashes at
    ~8,000 `a + a + ...` terms, ~4,000 nested lambdas). Brackets inside strings and comments
    do not count (a `(` in a docstring must not make the rest of the file one long line)."""
    depth = run = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch in "'\"":
            q = text[i : i + 3] if text[i : i + 3] in ("'''", '"""') else ch
            j = i + len(q)
            while j < n and not text.startswith(q, j):
                if text[j] == "\\":
                    j += 1
                elif len(q) == 1 and text[j] == "\n":
                    break  # unterminated single-quoted string: stop at the line end
                j += 1
            run += j + len(q) - i
            i = j + len(q)
            if run > limit:
                return False
            continue
        if ch in "([{":
            depth += 1
            if depth > 200:
                return False
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch == "\n" and depth == 0:
            run = 0
        else:
            run += 1
            if run > limit:
                return False
        i += 1
    return True


def enabled_codes(settings: Settings, path: str) -> frozenset[str]:
    """The codes ``api.finalize`` would keep for this path: work for any other code is wasted."""
    return frozenset(code for code in CODES if settings.is_enabled(code, path))


def _analyze_result(path: str, text: str, result: ScanResult, settings: Settings) -> list[Diagnostic]:
    tree = result.tree
    lines = split_lines(text)
    enabled = enabled_codes(settings, path)
    # Whole-module rules (class attributes, keyword arguments) run on the ast even when no
    # function is a candidate for the flow analysis.
    file_facts = lazy_module_facts(tree, result.imports)  # one walk, shared by every rule of the file
    diags: list[Diagnostic] = _module_findings(path, tree, result.imports, settings, lines, text, enabled, file_facts)
    if not result.snippets:
        return diags
    rules = tuple(rule for rule in ALL_RULES if not enabled.isdisjoint(rule.codes))
    if not rules and enabled.isdisjoint(("SKL001", "SKL003")):
        # Nothing a snippet can yield (findings, or "could not analyse this") would be shown.
        return diags
    keys = _FileKeys(path, settings, result, file_facts)
    rid_base = 0
    depth = _DepthGuard(tree, lines)
    for snip in result.snippets:
        if depth.too_deep(snip.start, snip.end):
            diags.append(
                Diagnostic(path, snip.start, 1, snip.start, 1, "SKL003",
                           f"analysis budget exceeded: this code nests more than {MAX_AST_DEPTH} levels deep; it was not checked",
                           CODES["SKL003"].severity)
            )
            continue
        src, offset = _snippet_source(lines, snip)
        key = keys.snippet_key(src, snip, rid_base) if offset >= 0 else None
        entry = SNIPPET_CACHE.get(key, keys) if key is not None else None
        if entry is None:
            try:
                module = cst.parse_module(src)
            except RecursionError:
                diags.append(
                    Diagnostic(path, snip.start, 1, snip.start, 2, "SKL003",
                               "analysis budget exceeded: this code nests too deeply to analyse; it was not checked",
                               CODES["SKL003"].severity)
                )
                continue
            except cst.ParserSyntaxError as exc:
                diags.append(
                    Diagnostic(path, snip.start, 1, snip.start, 2, "SKL001",
                               f"syntax error: socklint's parser (libcst) rejects this code: {str(exc).splitlines()[0]}",
                               CODES["SKL001"].severity)
                )
                continue
            entry = _analyze_snippet(module, snip, result, settings, path, rules, enabled, rid_base, file_facts)
            if key is not None:
                SNIPPET_CACHE.put(key, entry, keys)
        rid_base += entry.rids
        diags.extend(entry.diagnostics(path, offset))
    return diags


def _code_for_factory(module: cst.Module) -> Callable[[cst.CSTNode], str]:
    memo: dict[int, str] = {}

    def code_for(node: cst.CSTNode) -> str:
        # Memoised: the same test or handler appears in many findings' traces.
        key = id(node)
        hit = memo.get(key)
        if hit is not None:
            return hit
        try:
            s = module.code_for_node(node)
        except Exception:  # noqa: BLE001 - code text is decoration
            return "?"
        s = _WS.sub(" ", s).strip()
        s = s if len(s) <= 60 else s[:57] + "..."
        memo[key] = s
        return s

    return code_for


def _analyze_snippet(
    module: cst.Module,
    snip: Snippet,
    result: ScanResult,
    settings: Settings,
    path: str,
    rules: Sequence[Rule],
    enabled: frozenset[str],
    rid_base: int,
    file_facts: Callable[[], ModuleFacts],
) -> _SnippetResult:
    """Flow analysis and rules for every unit of one snippet; positions and code text only for
    the findings that will be reported."""
    code_for = _code_for_factory(module)
    m = settings_model(settings)
    ctx = ModuleContext(
        result.imports,
        result.summaries,
        settings,
        code_for,
        factories=frozenset(settings.socket_factories) | m.user("factories") | frozenset(result.summaries.socket_classes)
        | frozenset(result.summaries.resource_classes),
        closers=frozenset(settings.closers) | m.CLOSING_FUNCTIONS,
        sinks=frozenset(settings.ownership_sinks) | m.user("keepers"),
        borrowers=frozenset(settings.borrowers) | m.user("borrowers"),
        model=m,
    )
    with_outer = _functions_with_outer(module)
    cst_funcs = [fn for fn, _ in with_outer]
    outer_of = {id(fn): outer for fn, outer in with_outer}
    units: list[tuple[Optional[cst.FunctionDef], Sequence[cst.CSTNode], str, bool]] = []
    class_of: dict[int, Optional[str]] = {}
    if snip.whole_module:
        units.append((None, module.body, "<module>", True))
        units.extend((fn, fn.body.body, fn.name.value, False) for fn in cst_funcs if isinstance(fn.body, cst.IndentedBlock))
    elif snip.module_level:
        # Functions inside a module-level statement are snippets of their own.
        units.append((None, module.body, "<module>", True))
    else:
        for fn, (afn, cand) in zip(cst_funcs, snip.functions):
            class_of[id(fn)] = result.fn_class.get(id(afn))
            if cand:
                units.append((fn, fn.body.body, fn.name.value, False))
    findings: list[Finding] = []
    next_rid = rid_base
    read_module_tree = False
    for unit_fn, body, name, module_level in units:
        analyzer = FunctionAnalyzer(
            ctx, unit_fn, body, name, module_level=module_level, rid_base=next_rid,
            outer_params=outer_of.get(id(unit_fn), frozenset()) if unit_fn is not None else (),
            cur_class=class_of.get(id(unit_fn)) if unit_fn is not None else None,
        )
        facts = analyzer.run()
        next_rid = analyzer.next_rid
        if facts.budget_exceeded:
            if "SKL003" in enabled:
                node: cst.CSTNode = unit_fn if unit_fn is not None else module
                findings.append(
                    Finding("SKL003", node, f"analysis budget exceeded in `{name}` ({settings.max_function_steps} steps); it was not checked", ())
                )
            continue
        rctx = RuleContext(facts, result.imports, settings, result.tree, code_for, path, file_facts)
        for rule in rules:
            findings.extend(f for f in rule.check(rctx) if f.code in enabled)
        read_module_tree = read_module_tree or rctx.read_module_tree
    located = _locate(module, findings, code_for) if findings else ()
    return _SnippetResult(tuple(located), next_rid - rid_base, read_module_tree)


def _cst_fallback(text: str, fstring_error: bool = False) -> Optional[ScanResult]:
    """A whole-module snippet for a file only libcst can parse: every function is analysed,
    with imports read from the libcst tree and no module-local summaries."""
    try:
        module = cst.parse_module(text)
    except Exception:  # noqa: BLE001 - any parser failure means: report the ast error
        return None
    if not (fstring_error or _has_newer_syntax(module)):
        # libcst also accepts some *older* syntax (Python 2's `except E, e:`): only code
        # that needs a newer grammar than ours is treated as valid.
        return None
    imports = ImportTable()
    for node in _statements(module):
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                if isinstance(small, cst.Import):
                    for a in small.names:
                        full = get_full_name_for_node(a.name) or ""
                        alias = get_full_name_for_node(a.asname.name) if a.asname is not None else None
                        imports.add(ast.Import(names=[ast.alias(name=full, asname=alias)]))
                elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    mod = get_full_name_for_node(small.module) or ""
                    if isinstance(small.names, cst.ImportStar):
                        imports.add(ast.ImportFrom(module=mod, names=[ast.alias(name="*")], level=0))
                        continue
                    for a in small.names:
                        full = get_full_name_for_node(a.name) or ""
                        alias = get_full_name_for_node(a.asname.name) if a.asname is not None else None
                        imports.add(ast.ImportFrom(module=mod, names=[ast.alias(name=full, asname=alias)], level=0))
    lines = split_lines(text)
    snip = Snippet(1, max(1, len(lines)), False, [], whole_module=True)
    return ScanResult(imports, Summaries(), [snip], [], ast.Module(body=[], type_ignores=[]))


def _has_newer_syntax(module: cst.Module) -> bool:
    """PEP 695 type parameters and `type` aliases (3.12), template strings (3.14)."""
    newer: tuple[type, ...] = tuple(
        t for t in (getattr(cst, "TypeAlias", None), getattr(cst, "TypeParameters", None), getattr(cst, "TemplatedString", None)) if t
    )
    if not newer:
        return False
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, newer):
            return True
        stack.extend(node.children)
    return False


def _statements(module: cst.Module) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        out.append(node)
        if not isinstance(node, cst.BaseExpression):
            stack.extend(node.children)
    return out


def _module_findings(
    path: str, tree: ast.Module, imports: ImportTable, settings: Settings, lines: list[str], text: str, enabled: frozenset[str],
    file_facts: Callable[[], ModuleFacts],
) -> list[Diagnostic]:
    mctx = ModuleRuleContext(tree, imports, settings, path, text, file_facts)
    out: list[Diagnostic] = []
    for rule in MODULE_RULES:
        if enabled.isdisjoint(rule.codes):
            continue
        for f in rule.check(mctx):
            if f.code not in enabled:
                continue
            line = getattr(f.node, "lineno", 1) or 1
            col = _char_column(lines, line, getattr(f.node, "col_offset", 0) or 0)
            end_line = getattr(f.node, "end_lineno", None) or line
            end_col = _char_column(lines, end_line, getattr(f.node, "end_col_offset", None) or 0) if end_line == line else col
            if end_line != line or end_col <= col:
                end_line, end_col = line, col + 1
            out.append(Diagnostic(path, line, col + 1, end_line, end_col + 1, f.code, f.message,
                                  f.severity or CODES[f.code].severity))
    return out


def _char_column(lines: list[str], line: int, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; diagnostics count characters."""
    if not 0 < line <= len(lines):
        return byte_col
    return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _snippet_source(lines: list[str], snip: Snippet) -> tuple[str, int]:
    body = "".join(lines[snip.start - 1 : snip.end])
    if not body.endswith(("\n", "\r")):
        body += "\n"
    first = lines[snip.start - 1]
    # The tokenizer restarts the indentation count at a form feed: "\fdef f():" is at column 0
    # for the parser although ast gives it col_offset 1. Wrapping it would be a syntax error.
    indent = first[: len(first) - len(first.lstrip(" \t\f"))].rsplit("\f", 1)[-1]
    if snip.indented and indent:
        # Keep columns exact: wrap the indented function in a block instead of dedenting.
        return "if 1:\n" + body, snip.start - 2
    return body, snip.start - 1


def _functions_with_outer(module: cst.Module) -> list[tuple[cst.FunctionDef, frozenset[str]]]:
    """Functions in source order, each with the parameter names of its enclosing functions."""
    out: list[tuple[cst.FunctionDef, frozenset[str]]] = []
    stack: list[tuple[cst.CSTNode, frozenset[str]]] = [(module, frozenset())]
    while stack:
        node, outer = stack.pop()
        inner = outer
        if isinstance(node, cst.FunctionDef):
            out.append((node, outer))
            p = node.params
            inner = outer | {a.name.value for a in (*p.posonly_params, *p.params, *p.kwonly_params)}
        if isinstance(node, (cst.BaseExpression, cst.SimpleStatementLine, cst.BaseSmallStatement)):
            # Functions live in compound statements only. ``children`` is costly in libcst (it
            # rebuilds the node through a visitor), and most statements are simple ones.
            continue
        stack.extend((c, inner) for c in reversed(node.children))
    return out


def _locate(module: cst.Module, findings: Sequence[Finding], code_for: Callable[[cst.CSTNode], str]) -> list[_Located]:
    """Positions (one metadata pass over the snippet) and code text for the findings, in
    snippet lines: the file lines follow by adding the snippet's offset."""
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def pos(node: cst.CSTNode) -> Optional[tuple[int, int, int, int]]:
        r = positions.get(node)
        if r is None:
            return None
        sl, sc = r.start.line, r.start.column + 1
        el, ec = r.end.line, r.end.column + 1
        if el != sl:
            # Report the first line only: a finding spans what a reader should look at.
            el, ec = sl, sc + 1
        return sl, sc, el, ec

    out: list[_Located] = []
    for f in findings:
        trace: list[tuple[Optional[tuple[int, int, int, int]], str]] = []
        for node, note in f.trace:
            if "{code}" in note:
                note = note.replace("{code}", _step_code(node, code_for))
            trace.append((pos(node), note))
        out.append(
            _Located(f.code, pos(f.node), f.message, tuple(pos(ref) for ref in f.refs), f.sort_refs,
                     f.severity or CODES[f.code].severity, tuple(trace), f.failure)
        )
    return out


def _step_code(node: cst.CSTNode, code_for: Callable[[cst.CSTNode], str]) -> str:
    if isinstance(node, (cst.If, cst.While)):
        return str(code_for(node.test))
    if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
        return " " + str(code_for(node.type)) if node.type is not None else ""
    return str(code_for(node))
