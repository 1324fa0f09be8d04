"""The language server's fixes (docs/fixes.md): each socket's fix as a ``quickfix`` code action
on its findings, beside the ``# noqa`` one, and ``source.fixAll.socklint`` (the safe fixes of
the whole file, for "fix on save").

Fixes are computed on the buffer's text as it is now, in the server's worker threads, and kept
per document version: an editor asks for code actions at every cursor move.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from socklint.config import ConfigError, Settings
from socklint.fixes import SocketFix, candidate_fixes, checker, fix_text, line_edit
from socklint.source import split_lines

if TYPE_CHECKING:
    from pygls.workspace.position_codec import PositionCodec

    from socklint.integrations.lsp import SocklintServer

log = logging.getLogger(__name__)

FIX_ALL = "source.fixAll.socklint"
_MEMO_SIZE = 16


class FixMemo:
    """Fixes per (uri, version): at most a few documents' worth."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, int | None, str], Any] = {}

    def get(self, key: tuple[str, int | None, str], make: Any) -> Any:
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = make()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > _MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))
        return value


def wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a request restricted to ``only`` kinds asks for ``kind`` (a kind includes its
    sub-kinds: asking for "source.fixAll" gets "source.fixAll.socklint")."""
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def _settings(server: SocklintServer, path: str) -> Settings:
    # As the diagnostics are computed (lsp.SocklintServer._analyse): globs anchored by the path.
    return dataclasses.replace(server.settings_cache.for_path(path), root=None)


def _whole_edit(codec: PositionCodec, old: str, new: str) -> types.TextEdit:
    """The smallest whole-line replacement, in the client's position units."""
    first, end, text = line_edit(old, new)
    lines = split_lines(old)
    if end < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        stop = types.Position(line=end, character=0)
    else:  # up to the end of a last line without a newline
        last = lines[-1]
        stop = types.Position(line=len(lines) - 1, character=codec.client_num_units(last))
    return types.TextEdit(range=types.Range(start=types.Position(line=first, character=0), end=stop), new_text=text)


def fix_actions(
    server: SocklintServer, uri: str, path: str, report_path: str, text: str, version: int | None,
    diagnostics: Sequence[types.Diagnostic], only: Sequence[str] | None,
) -> list[types.CodeAction]:
    """Runs in a worker thread: the analysis of the fixes may take a while. A failure costs
    the fixes, never the editor's request (the `# noqa` action is still offered)."""
    try:
        return _fix_actions(server, uri, path, report_path, text, version, diagnostics, only)
    except ConfigError:
        raise
    except Exception:
        log.exception("socklint could not compute the fixes of %s", uri)
        return []


def _fix_actions(
    server: SocklintServer, uri: str, path: str, report_path: str, text: str, version: int | None,
    diagnostics: Sequence[types.Diagnostic], only: Sequence[str] | None,
) -> list[types.CodeAction]:
    settings = _settings(server, path)
    check = checker(report_path, settings)
    codec = server.workspace.position_codec
    out: list[types.CodeAction] = []
    lines = split_lines(text)
    if wants(only, types.CodeActionKind.QuickFix) and diagnostics:
        fixes: list[SocketFix] = server.fix_memo.get(
            (uri, version, "each"), lambda: candidate_fixes(text, check(text), check)
        )
        from socklint.integrations.lsp import _position

        for fix in fixes:
            starts = {((p := _position(lines, codec, d.line, d.column)).line, p.character, d.code) for d in fix.diagnostics}
            mine = [d for d in diagnostics if (d.range.start.line, d.range.start.character, d.code) in starts]
            if not mine:
                continue
            out.append(
                types.CodeAction(
                    title=f"Fix: {fix.title}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=mine,
                    is_preferred=fix.safe,
                    edit=types.WorkspaceEdit(changes={uri: [_whole_edit(codec, text, fix.new_text)]}),
                )
            )
    if wants(only, FIX_ALL):
        result = server.fix_memo.get((uri, version, "all"), lambda: fix_text(text, check))
        if result.applied:
            out.append(
                types.CodeAction(
                    title="Fix all safe socklint fixes",
                    kind=FIX_ALL,
                    edit=types.WorkspaceEdit(changes={uri: [_whole_edit(codec, text, result.text)]}),
                )
            )
    return out
