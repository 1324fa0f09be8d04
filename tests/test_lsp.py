"""The language server end to end: a real LSP client (pytest-lsp) drives ``python -m socklint lsp``.

Every expectation is derived from the library on the same text (check_source), so these tests
check the adaptation (positions, severities, links, debouncing, the quick fix), not the engine.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from frontend_sources import LEAK, NEVER_CLOSED
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from socklint.api import check_source
from socklint.codes import CODES
from socklint.diagnostics import Diagnostic
from socklint.integrations.lsp import commentable_lines, noqa_edit

DEBOUNCE_MS = 300
TIMEOUT = 30


def record_client(lsp_client: LanguageClient) -> None:
    """Keep every publish in ``published`` (the default handler keeps only the latest per
    file), and accept the server's dynamic registrations into ``registrations``, as VS Code
    does (the pyproject.toml watcher)."""
    lsp_client.published = []  # type: ignore[attr-defined]
    features = lsp_client.protocol.fm.features
    default = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    @functools.wraps(default)
    def _record(*args: Any) -> Any:
        lsp_client.published.append(args[-1])  # type: ignore[attr-defined]
        return default(*args)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _record
    lsp_client.registrations = []  # type: ignore[attr-defined]
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(
        lambda params: lsp_client.registrations.extend(params.registrations)  # type: ignore[attr-defined]
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "socklint", "lsp"])
)
async def client(lsp_client: LanguageClient, tmp_path: Path) -> Any:
    record_client(lsp_client)

    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")],
        initialization_options={"debounceMs": DEBOUNCE_MS},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def _next_publish(client: LanguageClient, uri: str) -> types.PublishDiagnosticsParams:
    while True:
        params = await asyncio.wait_for(
            client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), TIMEOUT
        )
        if params.uri == uri:
            return params


def _write(tmp_path: Path, name: str, text: str) -> tuple[Path, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, path.as_uri()


def _open(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )


def _change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def _utf16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _expected(path: Path, text: str) -> list[Diagnostic]:
    diags = check_source(str(path), text.encode("utf-8"))
    assert diags, "the engine reports nothing on this source; the test would prove nothing"
    return diags


@pytest.mark.asyncio
async def test_open_publishes_what_the_library_reports(
    client: LanguageClient, tmp_path: Path
) -> None:
    path, uri = _write(tmp_path, "leak.py", LEAK)
    expected = _expected(path, LEAK)
    _open(client, uri, LEAK)
    got = (await _next_publish(client, uri)).diagnostics
    lines = LEAK.splitlines()
    assert sorted((d.range.start.line + 1, d.range.start.character, d.code) for d in got) == sorted(
        (e.line, _utf16(lines[e.line - 1][: e.column - 1]), e.code) for e in expected
    )
    by_code = {e.code: e for e in expected}
    for d in got:
        e = by_code[str(d.code)]
        assert d.source == "socklint"
        assert d.message == e.message
        assert (
            d.severity
            == {
                "error": types.DiagnosticSeverity.Error,
                "warning": types.DiagnosticSeverity.Warning,
                "info": types.DiagnosticSeverity.Information,
            }[CODES[e.code].severity.value]
        )
        assert d.code_description is not None and d.code_description.href == CODES[e.code].docs_url
        # The witness path, step by step, in relatedInformation.
        related = d.related_information or []
        assert [(r.location.range.start.line + 1, r.message) for r in related] == [
            (s.line, s.note) for s in e.trace
        ]
        assert all(r.location.uri == uri for r in related)


@pytest.mark.asyncio
async def test_columns_are_utf16_code_units(client: LanguageClient, tmp_path: Path) -> None:
    # An astral character before the finding: 1 code point, 2 UTF-16 units.
    text = NEVER_CLOSED.replace("    sock = socket", '    tag = "\U0001f50c"; sock = socket')
    path, uri = _write(tmp_path, "astral.py", text)
    expected = _expected(path, text)
    _open(client, uri, text)
    got = (await _next_publish(client, uri)).diagnostics
    lines = text.splitlines()
    want = sorted((e.line - 1, _utf16(lines[e.line - 1][: e.column - 1]), e.code) for e in expected)
    assert sorted((d.range.start.line, d.range.start.character, str(d.code)) for d in got) == want
    # The conversion mattered for at least one finding (else this test could not fail).
    assert any(_utf16(lines[e.line - 1][: e.column - 1]) != e.column - 1 for e in expected)


@pytest.mark.asyncio
async def test_change_is_debounced_and_close_clears(client: LanguageClient, tmp_path: Path) -> None:
    _, uri = _write(tmp_path, "edit.py", LEAK)
    _open(client, uri, LEAK)
    first = await _next_publish(client, uri)
    assert first.diagnostics
    published = client.published  # type: ignore[attr-defined]
    before = len(published)

    # A burst of edits (typing): one analysis of the final text, not one per keystroke.
    clean = "import socket\n\n\ndef f():\n    return None\n"
    for version in range(2, 7):
        _change(client, uri, clean + "#" * version + "\n", version)
    last = await _next_publish(client, uri)
    await asyncio.sleep(3 * DEBOUNCE_MS / 1000)
    burst = [p for p in published[before:] if p.uri == uri]
    assert last.version == 6
    assert len(burst) == 1, [p.version for p in burst]
    assert not last.diagnostics

    # Back to the leaking text: the findings return.
    _change(client, uri, LEAK, 7)
    again = await _next_publish(client, uri)
    assert again.version == 7 and again.diagnostics

    # Save re-checks immediately.
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    saved = await _next_publish(client, uri)
    assert [d.code for d in saved.diagnostics] == [d.code for d in again.diagnostics]

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    closed = await _next_publish(client, uri)
    assert not closed.diagnostics


@pytest.mark.asyncio
async def test_quick_fix_adds_noqa_that_suppresses(client: LanguageClient, tmp_path: Path) -> None:
    path, uri = _write(tmp_path, "fix.py", LEAK)
    _open(client, uri, LEAK)
    diags = (await _next_publish(client, uri)).diagnostics
    assert diags
    target = diags[0]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=target.range,
            context=types.CodeActionContext(diagnostics=[target]),
        )
    )
    # One suppression action (beside it: the fixes of socklint.fixes, tests/test_lsp_fixes.py).
    noqa = [a for a in actions or [] if isinstance(a, types.CodeAction) and "noqa" in a.title]
    assert len(noqa) == 1
    action = noqa[0]
    assert isinstance(action, types.CodeAction) and action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[uri]
    lines = LEAK.splitlines(keepends=True)
    line = lines[edit.range.start.line]
    fixed_line = (
        line[: edit.range.start.character] + edit.new_text + line[edit.range.end.character :]
    )
    assert fixed_line.rstrip("\n").endswith(f"# noqa: {target.code}")
    lines[edit.range.start.line] = fixed_line
    fixed = "".join(lines)
    # The library (and hence the server) no longer reports that code on that line...
    after = check_source(str(path), fixed.encode("utf-8"))
    assert (target.range.start.line + 1, target.code) not in {(d.line, d.code) for d in after}
    # ...and the server agrees once the editor applies the edit.
    _change(client, uri, fixed, 2)
    republished = await _next_publish(client, uri)
    assert (target.range.start.line, target.code) not in {
        (d.range.start.line, d.code) for d in republished.diagnostics
    }


@pytest.mark.asyncio
async def test_project_settings_apply(client: LanguageClient, tmp_path: Path) -> None:
    path, uri = _write(tmp_path, "cfg.py", LEAK)
    codes = sorted({d.code for d in _expected(path, LEAK)})
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.socklint]\nignore = ["{codes[0]}"]\n', encoding="utf-8"
    )
    _open(client, uri, LEAK)
    got = (await _next_publish(client, uri)).diagnostics
    assert codes[0] not in {d.code for d in got}


@pytest.mark.asyncio
async def test_per_file_ignores_and_exclude_match_project_relative_paths(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "gen").mkdir()
    path, uri = _write(tmp_path / "sub", "a.py", LEAK)
    _, excluded_uri = _write(tmp_path / "gen", "b.py", LEAK)
    codes = sorted({d.code for d in _expected(path, LEAK)})
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.socklint]\nper-file-ignores = {{ "sub/*.py" = ["{codes[0]}"] }}\nexclude = ["gen"]\n',
        encoding="utf-8",
    )
    _open(client, uri, LEAK)
    got = (await _next_publish(client, uri)).diagnostics
    assert codes[0] not in {d.code for d in got}
    _open(client, excluded_uri, LEAK)
    assert not (await _next_publish(client, excluded_uri)).diagnostics


@pytest.mark.asyncio
async def test_bad_settings_are_shown(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.socklint]\nselekt = ["SKL1"]\n', encoding="utf-8"
    )
    _, uri = _write(tmp_path, "bad.py", LEAK)
    _open(client, uri, LEAK)
    got = await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), TIMEOUT)
    assert got.type == types.MessageType.Error and "selekt" in got.message


# --- the quick fix's text edit, line by line (no server needed) -----------------------------


@pytest.mark.parametrize(
    ("line", "code", "expected"),
    [
        ("    return None\n", "SKL101", "    return None  # noqa: SKL101\n"),
        ("    return None   \n", "SKL101", "    return None  # noqa: SKL101\n"),
        ("    x = f()  # why\n", "SKL103", "    x = f()  # why  # noqa: SKL103\n"),
        ("    x = f()  # noqa: E501\n", "SKL103", "    x = f()  # noqa: E501, SKL103\n"),
        (
            "    x = f()  # noqa:E501,W291 long line\n",
            "SKL103",
            "    x = f()  # noqa:E501,W291, SKL103 long line\n",
        ),
        ("    x = f()  # noqa: SKL103\n", "SKL103", None),
        ("    x = f()  # noqa\n", "SKL103", None),
    ],
)
def test_noqa_edit(line: str, code: str, expected: str | None) -> None:
    edit = noqa_edit(line, code)
    if expected is None:
        assert edit is None
        return
    assert edit is not None
    start, end, new = edit
    body = line.rstrip("\n")
    assert body[:start] + new + body[end:] + "\n" == expected


def test_no_comment_inside_a_string_or_after_a_backslash() -> None:
    text = 's = """\nsocket\n"""\nx = 1 + \\\n    2\ny = (1,\n     2)\n'
    ok = commentable_lines(text)
    assert ok is not None
    assert 1 not in ok and 2 not in ok  # inside the triple-quoted string
    assert 3 in ok
    assert 4 not in ok  # ends with a backslash continuation
    assert 5 in ok and 6 in ok and 7 in ok  # inside brackets a comment is fine


@pytest.mark.asyncio
async def test_an_edit_to_a_helper_module_refreshes_its_importers(client: LanguageClient, tmp_path: Path) -> None:
    """The workspace index: client.py's finding comes from transport.py's helper, and an unsaved
    edit of transport.py (the helper stops returning a socket) clears it."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    helper = "import socket\n\n\ndef open_channel(host):\n    return socket.create_connection((host, 80))\n"
    user = (
        "from .transport import open_channel\n\n\ndef fetch(host):\n    sock = open_channel(host)\n"
        "    if not sock.recv(1):\n        return None\n    sock.close()\n"
    )
    _, helper_uri = _write(pkg, "transport.py", helper)
    _, user_uri = _write(pkg, "client.py", user)
    published = client.published  # type: ignore[attr-defined]
    _open(client, helper_uri, helper)
    _open(client, user_uri, user)
    first = await _recorded(published, user_uri, 0)
    assert [(d.range.start.line + 1, d.code) for d in first.diagnostics] == [(6, "SKL102"), (7, "SKL101")]

    before = len(published)
    _change(client, helper_uri, helper.replace("return socket.create_connection((host, 80))", "return None"), 2)
    refreshed = await _recorded(published, user_uri, before)
    assert not refreshed.diagnostics


async def _recorded(published: list[types.PublishDiagnosticsParams], uri: str, start: int) -> types.PublishDiagnosticsParams:
    """The first publish for ``uri`` recorded after ``start``: two files publish close together,
    and waiting for one notification at a time could miss one that arrives between waits."""
    for _ in range(TIMEOUT * 10):
        found = [p for p in published[start:] if p.uri == uri]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no diagnostics published for {uri}")


@pytest.mark.asyncio
async def test_package_knowledge_reaches_the_editor(client: LanguageClient, tmp_path: Path) -> None:
    """fixtures/project/netpkg opened in the editor: listener.py's attributes closed by
    shutdown.py (which the file does not import) are no SKL112, and hosts.py's subclasses of
    listener.Endpoint hold its socket after `super().__init__()` (SKL111), as in the CLI."""
    import shutil

    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "project" / "netpkg", tmp_path / "netpkg")
    for name, code in (("listener.py", "SKL112"), ("hosts.py", "SKL111")):
        path = tmp_path / "netpkg" / name
        text = path.read_text(encoding="utf-8")
        marked = sorted(i for i, line in enumerate(text.splitlines()) if f"# expect: {code}" in line)
        assert marked
        _open(client, path.as_uri(), text)
        got = (await _next_publish(client, path.as_uri())).diagnostics
        assert sorted(d.range.start.line for d in got if d.code == code) == marked
