"""`[tool.socklint.models]` rows reach the analysis, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SOURCE = """\
from mylib.net import dial


def fetch(addr):
    s = dial(addr)
    return s.recv(10)
"""


def _check(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    (tmp_path / "client.py").write_text(SOURCE, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--no-cache", "--format", "json", "client.py"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_a_factory_row_makes_the_call_a_socket_source(tmp_path: Path) -> None:
    without = _check(tmp_path, "[tool.socklint]\n")
    assert without.returncode == 0, without.stderr
    assert json.loads(without.stdout) == []
    with_row = _check(tmp_path, '[tool.socklint.models]\nfactories = ["mylib.net.dial"]\n')
    assert with_row.returncode == 1, with_row.stderr
    assert [(d["line"], d["code"]) for d in json.loads(with_row.stdout)] == [(5, "SKL103")]


def test_a_borrower_row_beats_the_closer_guess(tmp_path: Path) -> None:
    source = SOURCE.replace("from mylib.net import dial", "import socket\nfrom mylib.fmt import close_reason")
    source = source.replace("    s = dial(addr)\n    return s.recv(10)\n",
                            "    s = socket.create_connection(addr)\n    text = close_reason(s)\n"
                            "    if not text:\n        return None\n    s.close()\n    return text\n")
    (tmp_path / "client.py").write_text(source, encoding="utf-8")
    guessed = _check_text(tmp_path, "[tool.socklint]\n", source)
    assert guessed == []
    told = _check_text(tmp_path, '[tool.socklint.models]\nborrowers = ["mylib.fmt.close_reason"]\n', source)
    assert ("SKL101", 9) in told


def _check_text(tmp_path: Path, config: str, source: str) -> list[tuple[str, int]]:
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    (tmp_path / "client.py").write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--no-cache", "--format", "json", "--exit-zero", "client.py"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return [(d["code"], d["line"]) for d in json.loads(proc.stdout)]


def test_a_bad_row_is_a_configuration_error(tmp_path: Path) -> None:
    proc = _check(tmp_path, '[tool.socklint.models]\nsocket-methods = [{ name = "frob", raises = "sometimes" }]\n')
    assert proc.returncode == 2
    assert "[tool.socklint.models]" in proc.stderr and "frob" in proc.stderr
    assert "Traceback" not in proc.stderr


ASYNC_SOURCE = """\
from mylib.aio import connect


async def fetch(addr):
    reader, writer = await connect(addr)
    data = await reader.read(10)
    writer.close()
    return data


async def tunnel(loop, addr):
    transport, proto = await loop.open_tunnel(addr)
    if not proto.ready:
        return None
    transport.close()
"""


def test_factory_rows_describe_awaited_asyncio_resources(tmp_path: Path) -> None:
    assert _check_text(tmp_path, "[tool.socklint]\n", ASYNC_SOURCE) == []
    config = (
        "[tool.socklint.models]\n"
        "factories = [\n"
        '  { name = "mylib.aio.connect", returns = "second-of-pair", resource = "stream-writer", companion = "view" },\n'
        '  { name = "open_tunnel", call = "method", returns = "first-of-pair", resource = "transport", companion = "holder" },\n'
        "]\n"
    )
    assert sorted(_check_text(tmp_path, config, ASYNC_SOURCE)) == [("SKL101", 14), ("SKL102", 6)]


HANDLER_SOURCE = """\
from mylib.serve import listen


async def handle(reader, writer):
    data = await reader.read(100)
    if not data:
        return
    writer.write(data)
    writer.close()


async def main():
    await listen(handle, port=8888)
"""


def test_a_connection_handler_row_makes_the_callback_own_its_writer(tmp_path: Path) -> None:
    # A framework of the user's own that registers per-connection callbacks, as
    # asyncio.start_server does: the callback owns the writer it is given.
    assert _check_text(tmp_path, "[tool.socklint]\n", HANDLER_SOURCE) == []
    row = (
        "[tool.socklint.models]\n"
        'connection-handlers = [{ name = "mylib.serve.listen", companion = "view", resource = "stream-writer" }]\n'
    )
    assert _check_text(tmp_path, row, HANDLER_SOURCE) == [("SKL101", 7)]
