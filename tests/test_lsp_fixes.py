"""The language server's fixes, end to end through a real LSP client (pytest-lsp): each socket's
fix is a `quickfix` beside the `# noqa` one, and `source.fixAll.socklint` applies the safe
ones; the edits give exactly the text `socklint check --fix` writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_lsp import _next_publish, _open, _write

client = test_lsp.client  # the language client fixture, shared with tests/test_lsp.py

ROOT = Path(__file__).resolve().parent.parent
FIXES = ROOT / "fixtures" / "fixes"


def _apply(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(keepends=True)
    start, end = edit.range.start, edit.range.end
    assert start.character == 0  # whole lines (the fixtures are ASCII: units are characters)
    head = "".join(lines[: start.line])
    tail = "".join(lines[end.line :])[end.character :] if end.line < len(lines) else ""
    return head + edit.new_text + tail


async def _actions(client: LanguageClient, uri: str, diags: list[types.Diagnostic], only: list[str] | None = None) -> list[types.CodeAction]:
    got = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diags[0].range if diags else types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=diags, only=only),
        )
    )
    return [a for a in got or [] if isinstance(a, types.CodeAction)]


@pytest.mark.asyncio
async def test_quick_fix_rewrites_like_fix(client: LanguageClient, tmp_path: Path) -> None:
    text = (FIXES / "close_before_early_return.py").read_text()
    _, uri = _write(tmp_path, "early.py", text)
    _open(client, uri, text)
    diags = (await _next_publish(client, uri)).diagnostics
    assert len(diags) == 2
    for diag in diags:
        actions = await _actions(client, uri, [diag])
        kinds = sorted(a.title.split(":")[0] for a in actions)
        assert kinds == ["Fix", "Fix all safe socklint fixes", "Suppress SKL101 on this line (# noqa"], kinds
        (fix,) = [a for a in actions if a.title.startswith("Fix:")]
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        assert list(fix.diagnostics or ()) == [diag]
        assert fix.edit is not None and fix.edit.changes is not None
        (edit,) = fix.edit.changes[uri]
        fixed = _apply(text, edit)
        # Each quick fix closes its own socket: one `close()` line more, before that exit.
        assert len(fixed.splitlines()) == len(text.splitlines()) + 1
        assert fixed.splitlines()[diag.range.start.line].strip().endswith(".close()")
    # Both together are what `socklint check --fix` writes.
    (fix_all,) = await _actions(client, uri, [], only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.socklint"
    assert fix_all.edit is not None and fix_all.edit.changes is not None
    (edit,) = fix_all.edit.changes[uri]
    assert _apply(text, edit) == (FIXES / "close_before_early_return.fixed").read_text()


@pytest.mark.asyncio
async def test_unsafe_fix_is_offered_but_not_preferred_nor_in_fix_all(client: LanguageClient, tmp_path: Path) -> None:
    text = (FIXES / "unsafe_lent_before_hand_off.py").read_text()
    _, uri = _write(tmp_path, "lent.py", text)
    _open(client, uri, text)
    diags = (await _next_publish(client, uri)).diagnostics
    actions = await _actions(client, uri, diags)
    (fix,) = [a for a in actions if a.title.startswith("Fix:")]
    assert not fix.is_preferred and fix.title.endswith("(unsafe)")
    assert fix.edit is not None and fix.edit.changes is not None
    assert _apply(text, fix.edit.changes[uri][0]) == (FIXES / "unsafe_lent_before_hand_off.unsafe-fixed").read_text()
    assert await _actions(client, uri, [], only=["source.fixAll.socklint"]) == []
    # Asking only for quick fixes gives no source action.
    assert all(a.kind == types.CodeActionKind.QuickFix for a in await _actions(client, uri, diags, only=["quickfix"]))
