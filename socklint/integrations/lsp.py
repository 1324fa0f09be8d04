"""``socklint lsp``: a language server on stdio (pygls 2).

Diagnostics are published on open, on save and (debounced) on change, and cleared on close.
The analysis runs in a worker thread so the event loop keeps answering the editor while a big
file is analysed; a result that arrives after the text changed again is dropped, not shown.
Columns: socklint counts code points, LSP counts in the negotiated position encoding (UTF-16
by default), so every position goes through pygls' position codec.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import io
import logging
import os
import re
import tokenize
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec

from socklint import __version__
from socklint.api import check_source, iter_python_files
from socklint.codes import CODES
from socklint.config import ConfigError
from socklint.diagnostics import Diagnostic, Severity
from socklint.integrations.common import SettingsCache, encode_source
from socklint.project import ProjectViews, outermost_package
from socklint.source import split_lines

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
        from socklint.integrations.lsp_fixes import FixMemo

        self.fix_memo = FixMemo()  # fixes per document version (code actions)

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
        if not task.cancelled() and task.exception() is not None:
            log.error("socklint analysis failed for %s", uri, exc_info=task.exception())

    def cancel(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()

    async def _analyse(self, uri: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
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
        settings = dataclasses.replace(settings, root=None)
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
        current = self.open_document(uri)
        if current is None or current.version != version:
            return  # closed or edited meanwhile: a newer analysis is (or will be) scheduled
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
        related = bool(pub and pub.related_information)
        links = bool(pub and pub.code_description_support)
        out = [to_lsp(d, uri, lines, codec, related=related, links=links) for d in diags]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=out)
        )

    def clear(self, uri: str) -> None:
        self.cancel(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


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


# --- the quick fix: a suppression comment for that code on that line -----------------------------------------------------------

# An existing suppression list such as "noqa: A1, B2" (codes only, so a trailing explanation
# after the codes is not swallowed).
_NOQA_LIST = re.compile(
    r"#\s*noqa:\s?(?:[A-Za-z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?:[,\s]+(?:[A-Z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+))*",
    re.IGNORECASE,
)
_NOQA_BARE = re.compile(r"#\s*noqa(?!:)\b", re.IGNORECASE)


def commentable_lines(text: str) -> set[int] | None:
    """1-based lines whose end can take a comment (not inside a string, not after ``\\``).

    None when the text does not tokenize (mid-edit): the caller then falls back to a
    line-local check.
    """
    out: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                out.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return out


def noqa_edit(line_text: str, code: str) -> tuple[int, int, str] | None:
    """How to suppress ``code`` on this line: (start, end, replacement) in code points.

    Extends an existing ``# noqa: ...`` list, otherwise appends ``  # noqa: CODE``. None when
    the line already suppresses the code (or everything).
    """
    body = line_text.rstrip("\r\n")
    m = _NOQA_LIST.search(body)
    if m:
        codes = {c.upper() for c in re.split(r"[,\s]+", m.group(0).split(":", 1)[1].strip()) if c}
        if code in codes:
            return None
        return m.end(), m.end(), f", {code}"
    if _NOQA_BARE.search(body):
        return None
    stripped = body.rstrip()
    return len(stripped), len(body), f"  # noqa: {code}"


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
            # The configuration changed: forget it and re-check every open Python file.
            ls.settings_cache.clear()
            ls.shown_errors.clear()
            for open_uri in list(ls.workspace.text_documents):
                ls.schedule(open_uri, 0)
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
            ls.settings_cache.clear()
            ls.shown_errors.clear()
            for open_uri in list(ls.workspace.text_documents):
                ls.schedule(open_uri, 0)

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
