"""``socklint lsp``: a language server on stdio (pygls 2).

Diagnostics are computed on open, on save and (debounced) on change, and cleared on close.
A client that can pull them (``textDocument/diagnostic`` in its capabilities) gets them on
request; any other client gets them pushed (``textDocument/publishDiagnostics``), never both.
The analysis runs in a worker thread so the event loop keeps answering the editor while a big
file is analysed; a result that arrives after the text changed again is dropped, not shown.
While the text does not parse, the last good findings of the untouched top-level statements are
kept beside the SKL001. Settings: pyproject.toml, then the editor's ``socklint`` section
(``workspace/configuration``) over it.
Columns: socklint counts code points, LSP counts in the negotiated position encoding (UTF-16
by default), so every position goes through pygls' position codec.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import re
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec

from socklint import __version__
from socklint.api import check_source, iter_python_files
from socklint.codes import CODES
from socklint.config import ConfigError, Settings, validate_codes
from socklint.diagnostics import Diagnostic, Severity
from socklint.docs import rule_why
from socklint.integrations.common import SettingsCache, encode_source
from socklint.project import ProjectViews, outermost_package
from socklint.source import split_lines
from socklint.suppress import commentable_lines, noqa_edit

log = logging.getLogger(__name__)

SOURCE = "socklint"
DEFAULT_DEBOUNCE_SECONDS = 0.3

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


class SocklintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("socklint", __version__)
        self.settings_cache = SettingsCache()
        self.debounce = DEFAULT_DEBOUNCE_SECONDS
        # One analysis at a time per file is enough; two threads let a second file proceed.
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="socklint")
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.shown_errors: set[str] = set()
        # The project index of each package with open modules (see socklint.project).
        self.views = ProjectViews()
        # The client asks for diagnostics (textDocument/diagnostic) instead of being sent them.
        self.pull = False
        # The last result per open document: what a pull returns and what a hover looks up.
        self.results: dict[str, _Result] = {}
        # Pulls waiting for the analysis of the document's current version.
        self.waiters: dict[str, list[asyncio.Future[None]]] = {}
        # The last text that parsed and its findings, per document (see keep_untouched).
        self.last_good: dict[str, tuple[str, list[Diagnostic]]] = {}
        # The editor's settings: (workspace folder or None for the global scope, settings).
        self.editor: list[tuple[str | None, EditorSettings]] = []
        self._config_ready: asyncio.Event | None = None
        from socklint.integrations.lsp_fixes import FixMemo

        self.fix_memo = FixMemo()  # fixes per document version (code actions)

    @property
    def config_ready(self) -> asyncio.Event:
        # Created on first use, inside the running loop (Python 3.9 binds an Event to a loop).
        if self._config_ready is None:
            self._config_ready = asyncio.Event()
        return self._config_ready

    def open_document(self, uri: str) -> TextDocument | None:
        # pygls keys its documents by the unquoted URI; get_text_document() would read a
        # closed file from disk instead of saying it is not open.
        doc: TextDocument | None = self.workspace.text_documents.get(unquote(uri))
        return doc

    # --- scheduling -------------------------------------------------------------------

    def schedule(self, uri: str, delay: float) -> None:
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        task = asyncio.get_running_loop().create_task(self._analyse(uri, delay))
        self.pending[uri] = task
        task.add_done_callback(functools.partial(self._forget, uri))

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self.pending.get(uri) is task:
            del self.pending[uri]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("socklint analysis failed for %s", uri, exc_info=exc)
            # A pull waiting for this analysis gets the error instead of waiting forever.
            for waiter in self.waiters.pop(uri, []):
                if not waiter.done():
                    waiter.set_exception(exc)

    def cancel(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()

    async def _analyse(self, uri: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        await self._wait_for_editor_settings()
        doc = self.open_document(uri)
        if doc is None or not _is_python(doc.uri, doc.language_id):
            return
        version, text = doc.version, doc.source
        path = to_fs_path(uri) or doc.path
        try:
            settings = self.settings_cache.for_path(path)
        except ConfigError as exc:
            self._show_config_error(str(exc))
            self._publish(uri, version, text, [])
            return
        # The globs are anchored by the path itself: ``_report_path`` is already relative to the
        # configuration's folder, where ``socklint check`` anchors them too.
        settings = dataclasses.replace(self.editor_settings_for(path).apply(settings), root=None)
        report_path = self._report_path(path)
        if settings.is_excluded(report_path):
            self._publish(uri, version, text, [])
            return
        loop = asyncio.get_running_loop()
        data = encode_source(text)
        # Unsaved buffers of the same project count as its modules (the index sees the edit).
        overrides = {
            p: encode_source(d.source)
            for d in list(self.workspace.text_documents.values())
            if _is_python(d.uri, d.language_id) and (p := to_fs_path(d.uri)) and p != path
        }
        overrides[path] = data
        diags = await loop.run_in_executor(
            self.executor, self._check, path, report_path, data, settings, overrides
        )
        # The text does not parse (not just one function libcst rejects, also an SKL001).
        broken = any(d.code == SYNTAX_ERROR for d in diags) and not await loop.run_in_executor(
            self.executor, _parses, text
        )
        good = self.last_good.get(uri)
        if broken and good is not None:
            diags = await loop.run_in_executor(
                self.executor, keep_untouched, good[0], good[1], text, diags
            )
        current = self.open_document(uri)
        if current is None or current.version != version:
            return  # closed or edited meanwhile: a newer analysis is (or will be) scheduled
        if not broken:
            self.last_good[uri] = (text, diags)
        self._publish(uri, version, text, diags)
        if delay > 0:
            # An edit may change what the module exports: the other open modules of its package
            # are analysed again (unchanged functions come from the snippet cache).
            pkg = outermost_package(path)
            if pkg is not None:
                for other in list(self.workspace.text_documents.values()):
                    p = to_fs_path(other.uri)
                    if other.uri != uri and p and _is_python(other.uri, other.language_id) and outermost_package(p) == pkg:
                        self.schedule(other.uri, 0)

    def _check(
        self, path: str, report_path: str, data: bytes, settings: Any, overrides: dict[str, bytes]
    ) -> list[Diagnostic]:
        try:
            view = self.views.view_for(path, settings, lambda where: iter_python_files(where, settings), overrides)
        except Exception:
            log.exception("socklint could not index the project of %s", path)
            view = None
        return check_source(report_path, data, settings, view=view)

    def _report_path(self, path: str) -> str:
        """The path used for per-file-ignores and exclude, relative to the project (the folder
        of the governing pyproject.toml, else the workspace root) the way ``socklint check``
        run from the project root reports it. Outside both: just the file name, so folder
        names above the project (``~/build/...``) never match an exclude pattern."""
        config = self.settings_cache.config_file(path)
        for root in (str(config.parent) if config else None, self.workspace.root_path):
            if not root:
                continue
            try:
                rel = os.path.relpath(path, root)
            except ValueError:  # another drive on Windows
                continue
            if not rel.startswith(".."):
                return rel
        return os.path.basename(path)

    def _show_config_error(self, message: str) -> None:
        if message in self.shown_errors:
            return
        self.shown_errors.add(message)
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=f"socklint: {message}")
        )

    # --- conversion ---------------------------------------------------------------------

    def _publish(self, uri: str, version: int | None, text: str, diags: list[Diagnostic]) -> None:
        lines = split_lines(text)
        codec = self.workspace.position_codec
        caps = self.client_capabilities.text_document
        pub = caps.publish_diagnostics if caps is not None else None
        # A pulling client may say it only under textDocument/diagnostic (LSP 3.18), or, as
        # 3.17 clients do, only under publishDiagnostics.
        pulled = caps.diagnostic if caps is not None and self.pull else None
        related = bool((pub and pub.related_information) or (pulled and pulled.related_information))
        links = bool((pub and pub.code_description_support) or (pulled and pulled.code_description_support))
        out = [to_lsp(d, uri, lines, codec, related=related, links=links) for d in diags]
        if self._store(uri, version, out):
            return  # a pulling client gets them from textDocument/diagnostic
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=out)
        )

    def clear(self, uri: str) -> None:
        self.cancel(uri)
        self.results.pop(uri, None)
        self.last_good.pop(uri, None)
        self._wake(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    # --- pull diagnostics -------------------------------------------------------------------

    def _store(self, uri: str, version: int | None, items: list[types.Diagnostic]) -> bool:
        """Keep the result; True when the client pulls (so it is not pushed). A pulling client
        that can be told (``workspace/diagnostic/refresh``) is, when a result it did not ask
        for changed (another module's edit, a configuration change)."""
        result_id = hashlib.sha256(repr(items).encode("utf-8")).hexdigest()[:16]
        old = self.results.get(uri)
        self.results[uri] = _Result(version, items, result_id)
        asked = self._wake(uri)
        if not self.pull:
            return False
        if not asked and old is not None and old.result_id != result_id and self._can_refresh():
            self.workspace_diagnostic_refresh(None)
        return True

    def _wake(self, uri: str) -> bool:
        waiters = self.waiters.pop(uri, [])
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        return bool(waiters)

    def _can_refresh(self) -> bool:
        ws = self.client_capabilities.workspace
        return bool(ws and ws.diagnostics and ws.diagnostics.refresh_support)

    async def current_result(self, uri: str) -> _Result | None:
        """The result for the document's current text, analysing it if nothing is under way
        (None: not open, or not Python)."""
        while True:
            doc = self.open_document(uri)
            if doc is None or not _is_python(doc.uri, doc.language_id):
                return None
            result = self.results.get(uri)
            if result is not None and result.version == doc.version:
                return result
            if uri not in self.pending:
                self.schedule(uri, 0)
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.setdefault(uri, []).append(waiter)
            await waiter

    # --- configuration: the editor's settings, pyproject.toml watched -------------------------

    def relint_all(self) -> None:
        """The configuration changed: forget it and check every open Python file again."""
        self.settings_cache.clear()
        self.shown_errors.clear()
        for open_uri in list(self.workspace.text_documents):
            self.schedule(open_uri, 0)

    async def _wait_for_editor_settings(self) -> None:
        # The first analyses wait for the editor's answer, so they do not flash findings its
        # settings ignore; a client that never answers delays them by at most two seconds.
        try:
            await asyncio.wait_for(self.config_ready.wait(), 2)
        except asyncio.TimeoutError:
            self.config_ready.set()

    def editor_settings_for(self, path: str) -> EditorSettings:
        """The editor's settings of the innermost workspace folder holding ``path``."""
        best: tuple[int, EditorSettings] = (-1, EditorSettings())
        for folder, value in self.editor:
            if folder is None:
                depth = 0
            elif _is_within(path, folder):
                depth = len(folder)
            else:
                continue
            if depth > best[0]:
                best = (depth, value)
        return best[1]

    async def load_editor_settings(self) -> None:
        """Ask the client for the ``socklint`` section, globally and per workspace folder."""
        try:
            ws = self.client_capabilities.workspace
            if ws is None or not ws.configuration:
                return
            folders = [f.uri for f in self.workspace.folders.values()]
            items = [types.ConfigurationItem(section=SOURCE)] + [
                types.ConfigurationItem(scope_uri=uri, section=SOURCE) for uri in folders
            ]
            try:
                values = await asyncio.wait_for(
                    self.workspace_configuration_async(types.ConfigurationParams(items=items)), 10
                )
            except (JsonRpcException, asyncio.TimeoutError) as exc:  # pyproject.toml alone applies
                log.warning("the client did not answer workspace/configuration: %s", exc)
                return
            editor: list[tuple[str | None, EditorSettings]] = []
            for uri, value in zip([None, *folders], values):
                if uri is not None and value is None:
                    continue  # no answer for that folder (Helix's): the global one applies
                try:
                    editor.append((to_fs_path(uri) if uri else None, editor_settings(value)))
                except ConfigError as exc:
                    self._show_config_error(str(exc))
            self.editor = editor
        finally:
            self.config_ready.set()

    async def register_watchers(self) -> None:
        """Register, where the client lets a server do so, for changes of any pyproject.toml
        (edited outside the editor too: a git checkout) and of the editor's settings."""
        ws = self.client_capabilities.workspace
        registrations = []
        if ws and ws.did_change_watched_files and ws.did_change_watched_files.dynamic_registration:
            registrations.append(
                types.Registration(
                    id="socklint-pyproject",
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(
                        watchers=[types.FileSystemWatcher(glob_pattern="**/pyproject.toml")]
                    ),
                )
            )
        if ws and ws.did_change_configuration and ws.did_change_configuration.dynamic_registration:
            registrations.append(
                types.Registration(
                    id="socklint-configuration",
                    method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                    register_options=types.DidChangeConfigurationRegistrationOptions(section=SOURCE),
                )
            )
        if not registrations:
            return
        try:
            await asyncio.wait_for(
                self.client_register_capability_async(
                    types.RegistrationParams(registrations=registrations)
                ),
                10,
            )
        except (JsonRpcException, asyncio.TimeoutError) as exc:  # settings apply at each file's next check
            log.warning("the client refused client/registerCapability: %s", exc)


def _is_python(uri: str, language_id: str | None) -> bool:
    return language_id == "python" or uri.endswith((".py", ".pyi"))


def _position(lines: Sequence[str], codec: PositionCodec, line: int, column: int) -> types.Position:
    """1-based line and code-point column to an LSP position in the client's units."""
    line0 = max(line - 1, 0)
    if line0 >= len(lines):
        return types.Position(line=line0, character=0)
    text = lines[line0].rstrip("\r\n")
    col0 = min(max(column - 1, 0), len(text))
    return types.Position(line=line0, character=codec.client_num_units(text[:col0]))


def to_lsp(
    d: Diagnostic,
    uri: str,
    lines: Sequence[str],
    codec: PositionCodec,
    *,
    related: bool = True,
    links: bool = True,
) -> types.Diagnostic:
    start = _position(lines, codec, d.line, d.column)
    end = _position(lines, codec, d.end_line, d.end_column)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    info = None
    if related and d.trace:
        info = [
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri=uri,
                    range=types.Range(
                        start=(p := _position(lines, codec, s.line, s.column)), end=p
                    ),
                ),
                message=s.note,
            )
            for s in d.trace
        ]
    entry = CODES.get(d.code)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=d.message,
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=entry.docs_url) if links and entry else None,
        source=SOURCE,
        related_information=info,
    )


# --- results kept per document, the editor's settings -------------------------------------


@dataclasses.dataclass(frozen=True)
class _Result:
    version: int | None
    items: list[types.Diagnostic]
    # Same items, same id: a pull with it as previousResultId gets "unchanged".
    result_id: str


# The editor's keys, as in [tool.socklint] (and camelCase, as VS Code settings are spelt).
_EDITOR_KEYS = {"select": "select", "extend-select": "extend_select", "extendSelect": "extend_select", "ignore": "ignore"}


@dataclasses.dataclass(frozen=True)
class EditorSettings:
    """The code lists of the editor's ``socklint`` section, applied over pyproject.toml the way
    the command line's flags are: ``select`` replaces the file's lists, otherwise
    ``extend-select`` and ``ignore`` extend them."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def apply(self, settings: Settings) -> Settings:
        if self.select is not None:
            return dataclasses.replace(
                settings, select=self.select, extend_select=self.extend_select, ignore=self.ignore
            )
        if not self.extend_select and not self.ignore:
            return settings
        return dataclasses.replace(
            settings,
            extend_select=settings.extend_select + self.extend_select,
            ignore=settings.ignore + self.ignore,
        )


def editor_settings(value: Any) -> EditorSettings:
    """The editor's ``socklint`` section; raises ConfigError. Other keys of the section (VS
    Code puts ``trace.server`` there) and unset ones (null) are left alone."""
    if value is None:
        return EditorSettings()
    if not isinstance(value, dict):
        raise ConfigError("the editor's socklint settings: expected an object")
    lists: dict[str, tuple[str, ...]] = {}
    for key, field in _EDITOR_KEYS.items():
        v = value.get(key)
        if v is None:
            continue
        if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
            raise ConfigError(f"the editor's socklint.{key}: expected a list of strings")
        validate_codes(f"the editor's socklint.{key}", tuple(v))
        lists[field] = lists.get(field, ()) + tuple(v)
    return EditorSettings(**lists)


def _is_within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) == os.path.abspath(folder)
    except ValueError:  # another drive on Windows
        return False


# --- while the text does not parse: keep the findings of what the edit did not touch --------

SYNTAX_ERROR = "SKL001"


def _parse(text: str) -> ast.Module | None:
    # As the engine parses (its SyntaxWarnings are not the editor's business).
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _parses(text: str) -> bool:
    return _parse(text) is not None


def keep_untouched(
    old_text: str, old: Sequence[Diagnostic], new_text: str, new: Sequence[Diagnostic]
) -> list[Diagnostic]:
    """``new`` (the SKL001 of a text that does not parse) plus the findings of ``old_text``
    (the last text that parsed) whose top-level statement (function, class, or module-level
    statement, decorators included) lies wholly outside the edited region, moved to its new
    lines.

    The edited region is what lies between the lines both texts start with and the lines both
    end with: everything before it keeps its line, everything after it moves by the difference
    in length. Two edits far apart make one large region, which only keeps fewer findings. A
    finding whose witness or message names a line inside the region is dropped: it may no
    longer hold."""
    tree = _parse(old_text)
    if tree is None:
        return list(new)
    old_lines = [line.rstrip("\r\n") for line in split_lines(old_text)]
    new_lines = [line.rstrip("\r\n") for line in split_lines(new_text)]
    limit = min(len(old_lines), len(new_lines))
    head = 0  # lines 1..head are the same in both
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0  # so are the last ``tail`` lines
    while tail < limit - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    shift = len(new_lines) - len(old_lines)
    first_after = len(old_lines) - tail + 1  # the first old line after the edited region

    def move(line: int) -> int | None:
        if line <= head:
            return line
        return line + shift if line >= first_after else None

    spans = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        spans.append((first, node.end_lineno or node.lineno))
    kept = list(new)
    for d in old:
        if d.code == SYNTAX_ERROR or CODES.get(d.code) is None:
            continue
        span = next(((a, b) for a, b in spans if a <= d.line <= b), None)
        if span is None or not (span[1] <= head or span[0] >= first_after):
            continue  # the statement holding the finding overlaps the edited region
        lines = [d.line, d.end_line, *(t.line for t in d.trace)]
        moved = {n: m for n in lines if (m := move(n)) is not None}
        message = _move_line_references(d.message, move)
        if len(moved) < len(set(lines)) or message is None:
            continue
        kept.append(
            dataclasses.replace(
                d,
                message=message,
                line=moved[d.line],
                end_line=moved[d.end_line],
                trace=tuple(dataclasses.replace(t, line=moved[t.line]) for t in d.trace),
            )
        )
    return sorted(kept, key=Diagnostic.sort_key)


# The messages name lines: "(created at line 5)", "(created at line 5, 7 or 9)", "(line 12)".
_LINE_REFERENCE = re.compile(r"\bline (\d+(?:(?:, | or | and )\d+)*)")


def _move_line_references(message: str, move: Callable[[int], int | None]) -> str | None:
    """The message with the lines it names moved; None when one of them changed."""
    lost = False

    def move_all(m: re.Match[str]) -> str:
        def move_one(n: re.Match[str]) -> str:
            nonlocal lost
            new = move(int(n.group(0)))
            lost = lost or new is None
            return str(new)

        return "line " + re.sub(r"\d+", move_one, m.group(1))

    out = _LINE_REFERENCE.sub(move_all, message)
    return None if lost else out


# --- hover: the rule's "why" on a finding's range ----------------------------------------------


def _covers(rng: types.Range, pos: types.Position) -> bool:
    return (rng.start.line, rng.start.character) <= (pos.line, pos.character) <= (rng.end.line, rng.end.character)


def hover_text(code: str, markdown: bool) -> str:
    """The rule's name and summary, the first paragraph of its "why", and its page."""
    entry = CODES[code]
    why = rule_why(code)
    if markdown:
        head = f"**{code}** `{entry.name}`: {entry.summary}"
        link = f"[{code} documentation]({entry.docs_url})"
    else:
        head = f"{code} {entry.name}: {entry.summary}"
        link = f"Documentation: {entry.docs_url}"
    return "\n\n".join(part for part in (head, why, link) if part)


def hover(server: SocklintServer, params: types.HoverParams) -> types.Hover | None:
    result = server.results.get(params.text_document.uri)
    if result is None:
        return None
    hits = [d for d in result.items if _covers(d.range, params.position) and str(d.code) in CODES]
    if not hits:
        return None
    caps = server.client_capabilities.text_document
    formats = (caps.hover.content_format if caps and caps.hover else None) or [types.MarkupKind.PlainText]
    markdown = types.MarkupKind.Markdown in formats
    codes = list(dict.fromkeys(str(d.code) for d in hits))
    rule = "\n\n---\n\n" if markdown else "\n\n"
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText,
            value=rule.join(hover_text(code, markdown) for code in codes),
        ),
        range=hits[0].range,
    )


# --- the quick fix: a suppression comment for that code on that line -----------------------------------------------------------

# The edit itself and which lines can take it: socklint.suppress (shared with --add-noqa).


def code_actions(server: SocklintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    doc = server.open_document(uri)
    if doc is None:
        return []
    text = doc.source
    lines = split_lines(text)
    codec = server.workspace.position_codec
    ok_lines = commentable_lines(text)
    actions: list[types.CodeAction] = []
    seen: set[tuple[int, str]] = set()
    for diag in params.context.diagnostics:
        if diag.source != SOURCE or not isinstance(diag.code, str) or diag.code not in CODES:
            continue
        line0 = diag.range.start.line
        if line0 >= len(lines) or (line0, diag.code) in seen:
            continue
        seen.add((line0, diag.code))
        line_text = lines[line0]
        if ok_lines is not None and (line0 + 1) not in ok_lines:
            continue
        if ok_lines is None and line_text.rstrip("\r\n").endswith("\\"):
            continue
        edit = noqa_edit(line_text, diag.code)
        if edit is None:
            continue
        start, end, new_text = edit
        body = line_text.rstrip("\r\n")
        rng = types.Range(
            start=types.Position(line=line0, character=codec.client_num_units(body[:start])),
            end=types.Position(line=line0, character=codec.client_num_units(body[:end])),
        )
        actions.append(
            types.CodeAction(
                title=f"Suppress {diag.code} on this line (# noqa: {diag.code})",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                edit=types.WorkspaceEdit(
                    changes={uri: [types.TextEdit(range=rng, new_text=new_text)]}
                ),
            )
        )
    return actions


def make_server() -> SocklintServer:
    from socklint.integrations.lsp_fixes import FIX_ALL, fix_actions, wants

    server = SocklintServer()

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: SocklintServer, params: types.InitializeParams) -> None:
        caps = params.capabilities.text_document
        # Pull when the client can: diagnosticProvider is advertised to every client, and
        # one that cannot pull ignores it and gets them pushed.
        ls.pull = bool(caps and caps.diagnostic)
        opts: Any = params.initialization_options
        if isinstance(opts, dict):
            ms = opts.get("debounceMs")
            if isinstance(ms, (int, float)) and not isinstance(ms, bool) and 0 <= ms <= 10_000:
                ls.debounce = ms / 1000

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SocklintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SocklintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SocklintServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.endswith("/pyproject.toml"):
            ls.relint_all()
            return
        # A saved module may be new to its package: list the packages again on next need.
        ls.views.clear()
        ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SocklintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.clear(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: SocklintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(c.uri.endswith("/pyproject.toml") for c in params.changes):
            ls.relint_all()

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: SocklintServer, params: types.InitializedParams) -> None:
        await ls.load_editor_settings()  # first: the first analyses wait for it
        await ls.register_watchers()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration_changed(
        ls: SocklintServer, params: types.DidChangeConfigurationParams
    ) -> None:
        ws = ls.client_capabilities.workspace
        if ws is not None and ws.configuration:
            await ls.load_editor_settings()  # the notification's payload is not to be relied on
        elif isinstance(params.settings, dict):
            try:
                ls.editor = [(None, editor_settings(params.settings.get(SOURCE)))]
            except ConfigError as exc:
                ls._show_config_error(str(exc))
        ls.relint_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(
        ls: SocklintServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        await ls.load_editor_settings()  # each folder may have settings of its own
        ls.relint_all()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False
        ),
    )
    async def pull_diagnostics(
        ls: SocklintServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        result = await ls.current_result(params.text_document.uri)
        if result is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == result.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result.result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=result.items, result_id=result.result_id
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: SocklintServer, params: types.HoverParams) -> types.Hover | None:
        return hover(ls, params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    async def on_code_action(
        ls: SocklintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        only = params.context.only
        actions = code_actions(ls, params) if wants(only, types.CodeActionKind.QuickFix) else []
        doc = ls.open_document(params.text_document.uri)
        path = to_fs_path(params.text_document.uri) if doc is not None else None
        if doc is not None and path and _is_python(doc.uri, doc.language_id):
            # The fixes of socklint.fixes, computed in a worker thread (they re-analyse).
            socklint_diags = [d for d in params.context.diagnostics if d.source == SOURCE]
            with contextlib.suppress(ConfigError):  # shown with the diagnostics already
                actions += await asyncio.get_running_loop().run_in_executor(
                    ls.executor, fix_actions, ls, doc.uri, path, ls._report_path(path), doc.source, doc.version,
                    socklint_diags, only,
                )
        return actions

    return server


def serve() -> None:
    make_server().start_io()
