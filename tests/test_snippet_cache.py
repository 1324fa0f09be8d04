"""The per-function result cache: after an edit, only the functions whose inputs changed are
analysed again, and the output is the same as a cold analysis of the edited file."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from socklint import engine
from socklint.api import check_source
from socklint.config import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import generate_large_file

ALL = Settings(select=("ALL",))

BASE = '''import socket
import struct

LINGER = struct.pack("ii", 1, 0)


def helper(sock):
    sock.sendall(b"x")


def leaky(host):
    s = socket.create_connection((host, 1))
    helper(s)
    data = s.recv(10)
    s.close()
    return data


def linger(host):
    s = socket.create_connection((host, 1))
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER)
        s.sendall(b"bye")
    finally:
        s.close()


class Client:
    def talk(self, host):
        c = socket.create_connection((host, 2))
        c.sendall(b"hi")
        while True:
            chunk = c.recv(10)
            self.feed(chunk)
'''

# Each edit, and what it must change in the analysis of functions it does not touch.
EDITS = {
    # A comment inside `leaky`: every other function is reused.
    "comment": ("    data = s.recv(10)\n", "    data = s.recv(10)  # read the reply\n"),
    # A line inserted at the top: every function moves down one line; the findings move with it.
    "insert": ("import struct\n", "import struct\nimport os\n"),
    # `helper` now closes its argument: its summary changes, and so does `leaky`'s finding.
    "summary": ('    sock.sendall(b"x")\n', '    sock.sendall(b"x")\n    sock.close()\n'),
    # A module constant that only `linger` reads through the module facts: SKL201 goes away.
    "module fact": ('LINGER = struct.pack("ii", 1, 0)\n', 'LINGER = struct.pack("ii", 1, 5)\n'),
    # A new import changes what names mean in every function.
    "import": ("import struct\n", "import struct\nfrom os import close as helper2\n"),
}


@pytest.fixture(autouse=True)
def _cold_cache() -> Iterator[None]:
    engine.SNIPPET_CACHE.clear()
    yield
    engine.SNIPPET_CACHE.clear()


def _cold(path: str, data: bytes, settings: Settings) -> list[object]:
    saved = engine.SNIPPET_CACHE
    engine.SNIPPET_CACHE = engine.SnippetCache()
    try:
        return list(check_source(path, data, settings))
    finally:
        engine.SNIPPET_CACHE = saved


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("settings", [Settings(), ALL], ids=["default", "ALL"])
def test_warm_equals_cold_after_an_edit(edit: str, settings: Settings) -> None:
    old, new = EDITS[edit]
    edited = BASE.replace(old, new, 1)
    assert edited != BASE
    check_source("m.py", BASE.encode(), settings)  # warm the cache with the original
    warm = check_source("m.py", edited.encode(), settings)
    assert warm == _cold("m.py", edited.encode(), settings)
    # And back: the original's entries are still right.
    assert check_source("m.py", BASE.encode(), settings) == _cold("m.py", BASE.encode(), settings)


def test_edits_change_what_they_should() -> None:
    # The edits above are not no-ops for the functions they do not touch (else the test
    # above would pass with a cache that ignores everything but the function's own text).
    def codes(text: str) -> set[tuple[int, str]]:
        return {(d.line, d.code) for d in _cold("m.py", text.encode(), ALL)}

    base = codes(BASE)
    assert (14, "SKL101") not in base and any(code == "SKL102" for _, code in base)
    assert any(code == "SKL201" for _, code in base)
    assert {(line + 1, code) for line, code in base} == codes(BASE.replace(*EDITS["insert"], 1))
    summary = codes(BASE.replace(*EDITS["summary"], 1))
    assert summary != {(line + 1, code) for line, code in base if line > 8} | {x for x in base if x[0] <= 8}
    assert not any(code == "SKL201" for _, code in codes(BASE.replace(*EDITS["module fact"], 1)))


def test_only_the_edited_function_is_analysed_again() -> None:
    text = generate_large_file()
    settings = Settings()
    first = check_source("big.py", text.encode(), settings)
    snippets = engine.SNIPPET_CACHE.misses
    assert snippets == 50 and engine.SNIPPET_CACHE.hits == 0
    edited = re.sub(r"(def fetch_26\(.*?\n(?:.*\n){4}.*chunks = \[\])", r"\1  # edited", text, count=1)
    assert edited != text
    again = check_source("big.py", edited.encode(), settings)
    assert engine.SNIPPET_CACHE.misses == snippets + 1
    assert engine.SNIPPET_CACHE.hits == snippets - 1
    assert again == first


def test_the_cache_is_bounded() -> None:
    cache = engine.SnippetCache(max_entries=2)
    saved = engine.SNIPPET_CACHE
    engine.SNIPPET_CACHE = cache
    try:
        text = generate_large_file()
        check_source("big.py", text.encode(), Settings())
        assert len(cache._entries) == 2
        assert cache.misses == 50
    finally:
        engine.SNIPPET_CACHE = saved


def test_rules_read_the_module_tree_only_through_module_facts() -> None:
    # The cache keys a snippet whose rules read ``ctx.module_tree`` on the file's ModuleFacts
    # only: any other use of the tree would need its own part of the key. The one reader is
    # rules._support.module_facts_of, which builds the facts from it.
    for path in (ROOT / "socklint" / "rules").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        uses = re.findall(r".{0,20}ctx\.module_tree.{0,15}", text)
        allowed = "RuleContext) else ctx.module_tree" if path.name == "_support.py" else None
        assert all(allowed is not None and allowed in u for u in uses), (path.name, uses)
