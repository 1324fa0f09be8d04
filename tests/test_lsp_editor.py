"""The language server's editor-facing features through a real LSP client (pytest-lsp):
pull diagnostics, the editor's settings and the pyproject.toml watcher, hover, and the findings
kept while the text does not parse. Expectations come from the library on the same text."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from frontend_sources import CLEAN, LEAK
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from test_lsp import TIMEOUT, _change, _next_publish, _open, _write, record_client

from socklint.api import check_source
from socklint.codes import CODES
from socklint.config import tomllib
from socklint.diagnostics import Diagnostic
from socklint.docs import rule_why
from socklint.integrations.lsp import _move_line_references, keep_untouched

DEBOUNCE_MS = 100


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "socklint", "lsp"])
)
async def client(lsp_client: LanguageClient) -> Any:
    """A client not yet initialised: each test starts the session with the capabilities of the
    editor it plays (``_start``)."""
    record_client(lsp_client)
    yield
    if lsp_client.capabilities is not None:
        await lsp_client.shutdown_session()


async def _start(
    client: LanguageClient, root: Path, caps: types.ClientCapabilities
) -> types.InitializeResult:
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options={"debounceMs": DEBOUNCE_MS},
        )
    )


def _library(path: Path, text: str) -> list[tuple[int, str, str]]:
    return sorted((d.line - 1, d.code, d.message) for d in check_source(str(path), text.encode()))


def _lsp(items: Any) -> list[tuple[int, str, str]]:
    return sorted((d.range.start.line, str(d.code), d.message) for d in items)


async def _pull(
    client: LanguageClient, uri: str, previous: str | None = None
) -> types.DocumentDiagnosticReport:
    return await asyncio.wait_for(
        client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous
            )
        ),
        TIMEOUT,
    )


# --- 1. pull diagnostics -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_client_that_pulls_gets_diagnostics_on_request_and_none_pushed(
    client: LanguageClient, tmp_path: Path
) -> None:
    caps = client_capabilities("neovim@v0.11.0")
    assert caps.text_document is not None and caps.text_document.diagnostic is not None
    result = await _start(client, tmp_path, caps)
    provider = result.capabilities.diagnostic_provider
    assert isinstance(provider, types.DiagnosticOptions)
    assert provider.identifier == "socklint" and provider.inter_file_dependencies

    path, uri = _write(tmp_path, "leak.py", LEAK)
    _open(client, uri, LEAK)
    first = await _pull(client, uri)
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport)
    assert _lsp(first.items) == _library(path, LEAK)
    assert first.result_id
    # The witness path, as related information (Neovim says it takes it in publishDiagnostics).
    traces = {d.code: [s.line - 1 for s in d.trace] for d in check_source(str(path), LEAK.encode())}
    assert {str(d.code): [r.location.range.start.line for r in d.related_information or []] for d in first.items} == traces

    # Asked again with nothing changed: "unchanged", by the id it was given.
    again = await _pull(client, uri, first.result_id)
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
    assert again.result_id == first.result_id

    # An edit: the pull answers for the new text (it waits for the debounced analysis).
    _change(client, uri, CLEAN, 2)
    after = await _pull(client, uri, first.result_id)
    assert isinstance(after, types.RelatedFullDocumentDiagnosticReport) and not after.items

    await asyncio.sleep(3 * DEBOUNCE_MS / 1000)
    assert client.published == []  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_a_push_client_is_sent_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    # VS Code 1.65 has no textDocument/diagnostic capability: the provider is advertised, the
    # client ignores it, and the server pushes.
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.text_document.diagnostic is None
    result = await _start(client, tmp_path, caps)
    assert result.capabilities.diagnostic_provider is not None
    path, uri = _write(tmp_path, "leak.py", LEAK)
    _open(client, uri, LEAK)
    assert _lsp((await _next_publish(client, uri)).diagnostics) == _library(path, LEAK)


@pytest.mark.asyncio
async def test_a_pulling_client_is_told_to_refresh_when_another_module_changes_a_result(
    client: LanguageClient, tmp_path: Path
) -> None:
    caps = client_capabilities("neovim@v0.11.0")
    assert caps.workspace is not None
    caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    await _start(client, tmp_path, caps)
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
    _open(client, helper_uri, helper)
    _open(client, user_uri, user)
    first = await _pull(client, user_uri)
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport)
    assert [(d.range.start.line + 1, d.code) for d in first.items] == [(6, "SKL102"), (7, "SKL101")]
    assert client.diagnostic_refresh_count == 0

    # The helper stops returning a socket: client.py's result changes without an edit of its
    # own, so the server asks the client to pull again.
    _change(client, helper_uri, helper.replace("return socket.create_connection((host, 80))", "return None"), 2)
    for _ in range(TIMEOUT * 10):
        if client.diagnostic_refresh_count:
            break
        await asyncio.sleep(0.1)
    assert client.diagnostic_refresh_count >= 1
    refreshed = await _pull(client, user_uri, first.result_id)
    assert isinstance(refreshed, types.RelatedFullDocumentDiagnosticReport) and not refreshed.items
    assert client.published == []  # type: ignore[attr-defined]


# --- 2. the editor's settings and the pyproject.toml watcher ------------------------------------


@pytest.mark.asyncio
async def test_editor_settings_apply_over_pyproject(client: LanguageClient, tmp_path: Path) -> None:
    path, uri = _write(tmp_path, "cfg.py", LEAK)
    assert {c for _, c, _ in _library(path, LEAK)} == {"SKL101", "SKL102"}
    (tmp_path / "pyproject.toml").write_text('[tool.socklint]\nignore = ["SKL101"]\n', encoding="utf-8")
    # The editor's ignore extends the file's (as --ignore does): nothing left.
    client.set_configuration({"ignore": ["SKL102"], "trace": {"server": "off"}}, section="socklint")
    await _start(client, tmp_path, client_capabilities("visual-studio-code"))
    _open(client, uri, LEAK)
    assert not (await _next_publish(client, uri)).diagnostics

    # The editor's select replaces the file's lists (as --select does); the server asks for the
    # settings again on workspace/didChangeConfiguration and checks the open files.
    client.set_configuration({"select": ["SKL101"]}, section="socklint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    got = (await _next_publish(client, uri)).diagnostics
    assert [d.code for d in got] == ["SKL101"]

    # A code that does not exist is shown, as a bad pyproject.toml is.
    client.set_configuration({"ignore": ["SKL1O1"]}, section="socklint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    msg = await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), TIMEOUT)
    assert msg.type == types.MessageType.Error and "SKL1O1" in msg.message


@pytest.mark.asyncio
async def test_each_workspace_folder_has_its_own_editor_settings(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    a_path, a_uri = _write(tmp_path / "a", "m.py", LEAK)
    _, b_uri = _write(tmp_path / "b", "m.py", LEAK)
    _, c_uri = _write(tmp_path / "c", "m.py", LEAK)
    client.set_configuration({"ignore": ["SKL102"]}, section="socklint")  # the user's
    client.set_configuration({"ignore": ["SKL101"]}, section="socklint", scope_uri=(tmp_path / "a").as_uri())
    client.set_configuration({"ignore": []}, section="socklint", scope_uri=(tmp_path / "b").as_uri())
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=(tmp_path / "a").as_uri(),
            workspace_folders=[
                types.WorkspaceFolder(uri=(tmp_path / "a").as_uri(), name="a"),
                types.WorkspaceFolder(uri=(tmp_path / "b").as_uri(), name="b"),
            ],
        )
    )
    assert {c for _, c, _ in _library(a_path, LEAK)} == {"SKL101", "SKL102"}
    for uri, want in ((a_uri, {"SKL102"}), (b_uri, {"SKL101", "SKL102"}), (c_uri, {"SKL101"})):
        _open(client, uri, LEAK)
        assert {str(d.code) for d in (await _next_publish(client, uri)).diagnostics} == want, uri

    # A folder added later: its settings are asked for, and the open files checked again.
    client.set_configuration({"ignore": ["SKL1"]}, section="socklint", scope_uri=(tmp_path / "c").as_uri())
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=(tmp_path / "c").as_uri(), name="c")], removed=[]
            )
        )
    )
    for _ in range(TIMEOUT * 10):
        latest = [p for p in client.published if p.uri == c_uri]  # type: ignore[attr-defined]
        if not latest[-1].diagnostics:
            break
        await asyncio.sleep(0.1)
    assert not latest[-1].diagnostics


@pytest.mark.asyncio
async def test_pyproject_watcher_relints_open_documents(client: LanguageClient, tmp_path: Path) -> None:
    await _start(client, tmp_path, client_capabilities("visual-studio-code"))
    for _ in range(TIMEOUT * 10):
        if client.registrations:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.1)
    watch = [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]  # type: ignore[attr-defined]
    assert len(watch) == 1
    assert [w["globPattern"] for w in watch[0].register_options["watchers"]] == ["**/pyproject.toml"]

    _, uri = _write(tmp_path, "w.py", LEAK)
    _open(client, uri, LEAK)
    assert {d.code for d in (await _next_publish(client, uri)).diagnostics} == {"SKL101", "SKL102"}
    # Changed outside the editor (no didSave): the client's watcher tells the server.
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.socklint]\nignore = ["SKL101"]\n', encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    assert {d.code for d in (await _next_publish(client, uri)).diagnostics} == {"SKL102"}


# --- 3. hover ------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("markdown", [True, False])
async def test_hover_on_a_finding_shows_why_and_the_page(
    client: LanguageClient, tmp_path: Path, markdown: bool
) -> None:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.text_document.hover is not None
    if not markdown:
        caps.text_document.hover.content_format = [types.MarkupKind.PlainText]
    await _start(client, tmp_path, caps)
    _, uri = _write(tmp_path, "h.py", LEAK)
    _open(client, uri, LEAK)
    diags = (await _next_publish(client, uri)).diagnostics
    target = next(d for d in diags if d.code == "SKL101")
    inside = types.Position(line=target.range.start.line, character=target.range.start.character + 2)
    got = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=inside)
    )
    assert got is not None and isinstance(got.contents, types.MarkupContent)
    assert got.contents.kind == (types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText)
    why = rule_why("SKL101")
    assert why.startswith("A TCP connection is closed in two halves")
    assert why in got.contents.value and CODES["SKL101"].docs_url in got.contents.value
    assert ("[SKL101 documentation](" in got.contents.value) == markdown
    assert got.range == target.range
    # Off any finding (the import line): nothing.
    off = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=3),
        )
    )
    assert off is None


# --- 4. a syntax error being typed ----------------------------------------------------------------

GOOD = """\
import socket


def helper(x):
    return x + 1


""" + LEAK.split("\n\n\n", 1)[1]


@pytest.mark.asyncio
async def test_a_syntax_error_keeps_the_findings_of_untouched_functions(
    client: LanguageClient, tmp_path: Path
) -> None:
    await _start(client, tmp_path, client_capabilities("visual-studio-code"))
    path, uri = _write(tmp_path, "typing.py", GOOD)
    _open(client, uri, GOOD)
    good = (await _next_publish(client, uri)).diagnostics
    assert {d.code for d in good} == {"SKL101", "SKL102"}

    # Typing in helper() (a line more, not yet valid): fetch()'s findings stay, one line down,
    # as the library reports them once helper() is valid again; plus the SKL001.
    broken = GOOD.replace("    return x + 1\n", "    return x + (\n        1\n")
    valid_two_lines = GOOD.replace("    return x + 1\n", "    return x + (\n        1)\n")
    _change(client, uri, broken, 2)
    got = (await _next_publish(client, uri)).diagnostics
    syntax = [d for d in got if d.code == "SKL001"]
    assert len(syntax) == 1
    assert _lsp(d for d in got if d.code != "SKL001") == _library(path, valid_two_lines)
    kept = sorted((d for d in got if d.code != "SKL001"), key=lambda d: d.range.start.line)
    assert [r.location.range.start.line for r in kept[0].related_information or []] == [
        s.line - 1 for s in min(check_source(str(path), valid_two_lines.encode()), key=lambda d: d.line).trace
    ]

    # Fixed: fresh findings for the new text.
    _change(client, uri, valid_two_lines, 3)
    fixed = (await _next_publish(client, uri)).diagnostics
    assert _lsp(fixed) == _library(path, valid_two_lines)

    # An error inside fetch() itself: its findings may no longer hold, only the SKL001 stays.
    inside = valid_two_lines.replace("    if not greeting:\n", "    if not greeting\n")
    _change(client, uri, inside, 4)
    assert [d.code for d in (await _next_publish(client, uri)).diagnostics] == ["SKL001"]


def _d(line: int, code: str = "SKL101", message: str = "m") -> Diagnostic:
    return Diagnostic("x.py", line, 1, line, 2, code, message, CODES[code].severity)


def test_keep_untouched_needs_the_whole_statement_unchanged() -> None:
    old = "def a():\n    x = 1\n    return x\n\n\ndef b():\n    return 2\n"
    syntax = _d(1, "SKL001")
    # b() moved down by two lines, unchanged: kept there; a() changed: its finding dropped.
    new = "def a(:\n    x = 1\n    y = 2\n    z = 3\n    return x\n\n\ndef b():\n    return 2\n"
    got = keep_untouched(old, [_d(2), _d(7)], new, [syntax])
    assert [(d.line, d.code) for d in got] == [(1, "SKL001"), (9, "SKL101")]
    # An edit below the finding, inside its function: dropped (the statement is not untouched).
    inner = "def a():\n    x = 1\n    y = (\n    return x\n\n\ndef b():\n    return 2\n"
    assert keep_untouched(old, [_d(2)], inner, [syntax]) == [syntax]
    # Nothing to map from: only the SKL001.
    assert keep_untouched("def (", [_d(1)], new, [syntax]) == [syntax]
    # The lines a message names move too; one that changed drops the finding.
    named = _d(7, message="`s` (created at line 6) is still open")
    (_, moved) = keep_untouched(old, [named], new, [syntax])
    assert moved.line == 9 and moved.message == "`s` (created at line 8) is still open"
    assert keep_untouched(old, [_d(7, message="(created at line 1)")], new, [syntax]) == [syntax]


def test_line_references_in_messages() -> None:
    moved = {5: 6, 7: 8, 9: 10, 12: 13}.get
    assert _move_line_references("(created at line 5, 7 or 9)", moved) == "(created at line 6, 8 or 10)"
    assert _move_line_references("set after bind() (line 12): no effect", moved) == "set after bind() (line 13): no effect"
    assert _move_line_references("(created at line 5 or 3)", moved) is None
    assert _move_line_references("no numbers here, 5 lines", moved) == "no numbers here, 5 lines"


@pytest.mark.asyncio
async def test_pull_and_push_agree_on_a_syntax_error(client: LanguageClient, tmp_path: Path) -> None:
    """The kept findings reach a pulling client too."""
    await _start(client, tmp_path, client_capabilities("neovim@v0.11.0"))
    _, uri = _write(tmp_path, "p.py", GOOD)
    _open(client, uri, GOOD)
    first = await _pull(client, uri)
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport) and len(first.items) == 2
    broken = GOOD.replace("    return x + 1\n", "    return x + (\n        1\n")
    _change(client, uri, broken, 2)
    got = await _pull(client, uri)
    assert isinstance(got, types.RelatedFullDocumentDiagnosticReport)
    assert sorted(str(d.code) for d in got.items) == ["SKL001", "SKL101", "SKL102"]
    assert await _recorded_none(client)


async def _recorded_none(client: LanguageClient) -> bool:
    await asyncio.sleep(2 * DEBOUNCE_MS / 1000)
    return client.published == []  # type: ignore[attr-defined]


# --- 5. the editor set-ups in docs/editors.md, as written ------------------------------------------

EDITORS_MD = Path(__file__).resolve().parent.parent / "docs" / "editors.md"
PLACEHOLDER = "/path/to/socklint/.venv/bin/socklint"
# Code that the documented settings change: SKL106 is off by default and they turn it on.
SKL106_SOURCE = """\
import socket


def send_report(host, report):
    sock = socket.create_connection((host, 80))
    payload = report.encode()
    sock.sendall(payload)
    sock.close()
"""


def _blocks(lang: str) -> list[str]:
    text = EDITORS_MD.read_text(encoding="utf-8")
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def _lua_strings(table: str) -> list[str]:
    return re.findall(r'"([^"]*)"', table)


def _documented_setups() -> dict[str, tuple[list[str], Any, str]]:
    """editor -> (command, the answer its settings give for section "socklint", capabilities)."""
    out: dict[str, tuple[list[str], Any, str]] = {}
    (package,) = [json.loads(b) for b in _blocks("json") if '"contributes"' in b]
    (settings,) = [json.loads(b) for b in _blocks("json") if '"contributes"' not in b]
    (js,) = _blocks("js")
    m = re.search(r'\{ command: "([^"]+)", args: \[([^\]]*)\] \}', js)
    assert m, "the extension's server command"
    # VS Code answers with every declared setting: the user's value, else its default.
    props = package["contributes"]["configuration"]["properties"]
    answer = {k.split(".", 1)[1]: settings.get(k, v["default"]) for k, v in props.items()}
    out["vscode"] = ([m.group(1), *_lua_strings(m.group(2))], answer, "visual-studio-code")
    luas = _blocks("lua")
    assert len(luas) == 2
    for name, lua in zip(("nvim-lspconfig", "neovim-0.11"), luas):
        cmd = re.search(r"cmd = \{([^}]*)\}", lua)
        extend = re.search(r"settings = \{ socklint = \{ extendSelect = \{([^}]*)\} \} \}", lua)
        assert cmd and extend, name
        out[name] = (_lua_strings(cmd.group(1)), {"extendSelect": _lua_strings(extend.group(1))}, "neovim@v0.11.0")
    (helix,) = [tomllib.loads(b) for b in _blocks("toml") if "language-server" in b]
    server = helix["language-server"]["socklint"]
    # Helix looks the section up inside `config`; it has no capabilities file in pytest-lsp, so
    # the client plays it with VS Code's (a push client, as Helix is).
    out["helix"] = ([server["command"], *server["args"]], server["config"]["socklint"], "visual-studio-code")
    return out


def test_the_documented_setups_agree() -> None:
    setups = _documented_setups()
    assert set(setups) == {"vscode", "nvim-lspconfig", "neovim-0.11", "helix"}
    for editor, (command, answer, _) in setups.items():
        assert command == [PLACEHOLDER, "lsp"], editor
        assert answer.get("extendSelect") == ["SKL106"], editor


@pytest.mark.asyncio
@pytest.mark.parametrize("editor", ["vscode", "nvim-lspconfig", "neovim-0.11", "helix"])
async def test_each_documented_setup_runs_the_server_with_its_settings(
    editor: str, tmp_path: Path
) -> None:
    command, answer, caps_name = _documented_setups()[editor]
    program = Path(sys.executable).parent / Path(command[0]).name
    if not program.is_file():
        pytest.skip(f"no {program}: socklint is not installed as a program in this environment")
    config = ClientServerConfig(server_command=[str(program), *command[1:]])
    lsp = await config.start()
    try:
        lsp.set_configuration(answer, section="socklint")  # type: ignore[attr-defined]
        if editor == "helix":
            # Helix answers a request scoped to a folder with null: the global answer applies.
            lsp.set_configuration(None, scope_uri=tmp_path.as_uri())  # type: ignore[attr-defined]
        await _start(lsp, tmp_path, client_capabilities(caps_name))  # type: ignore[arg-type]
        path, uri = _write(tmp_path, "report.py", SKL106_SOURCE)
        _open(lsp, uri, SKL106_SOURCE)  # type: ignore[arg-type]
        if caps_name.startswith("neovim"):
            report = await _pull(lsp, uri)  # type: ignore[arg-type]
            assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
            items = report.items
        else:
            items = (await _next_publish(lsp, uri)).diagnostics  # type: ignore[arg-type]
        assert sorted(str(d.code) for d in items) == ["SKL102", "SKL106"]
        assert "SKL106" not in {c for _, c, _ in _library(path, SKL106_SOURCE)}
    finally:
        # shutdown and exit end the server process, which stop() waits for.
        await asyncio.wait_for(lsp.shutdown_session(), TIMEOUT)  # type: ignore[attr-defined]
        await lsp.stop()
