"""Generated programs (hypothesmith) and mutated socket code: socklint answers, the same way twice,
with positions inside the file.

Bounded for CI: a few dozen examples per strategy, no per-example deadline (libcst's first parse
of a big example is slow), and the too_slow health check off because generating grammar-valid
programs is itself slow. The whole module runs in well under a minute.
"""

from __future__ import annotations

import textwrap

import hypothesmith
import libcst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from positions import position_errors

from socklint.api import check_source
from socklint.config import Settings

# Socket code first, so the text prefilter passes and the engine really runs on every example.
PREFIX = "import socket\ns = socket.socket()\ns.connect(('localhost', 80))\n"

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    derandomize=True,  # the same examples in every CI run: a failure is reproducible, never flaky
)

BASE = """\
import socket


def fetch(addr, payload):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(addr)
    sock.sendall(payload)
    data = sock.recv(4096)
    if not data:
        return None
    sock.close()
    return data


def serve(port):
    srv = socket.create_server(("", port))
    try:
        while True:
            conn, _ = srv.accept()
            with conn:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                conn.sendall(chunk)
    finally:
        srv.close()
"""


def check_invariants(source: str | bytes) -> None:
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    first = check_source("fuzz.py", data)  # must not raise: check_source's contract
    second = check_source("fuzz.py", data)
    assert first == second, "two runs over the same bytes disagree"
    assert not [d for d in first if d.code == "SKL900"], [d.message for d in first]
    problems = position_errors(data, first)
    assert not problems, problems


def _in_function(body: str) -> str:
    """The generated program as the body of a function that owns a socket."""
    return (
        "import socket\n\n\ndef victim(addr):\n    sock = socket.socket()\n    sock.connect(addr)\n"
        + textwrap.indent(body if body.strip() else "pass\n", "    ")
        + "\n    sock.close()\n"
    )


@BOUNDED
@given(hypothesmith.from_grammar())
def test_grammar_programs_after_socket_code(program: str) -> None:
    check_invariants(PREFIX + program)


@BOUNDED
@given(hypothesmith.from_grammar())
def test_grammar_programs_inside_a_socket_function(program: str) -> None:
    check_invariants(_in_function(program))


@BOUNDED
@given(hypothesmith.from_node())
def test_node_programs_after_socket_code(program: str) -> None:
    check_invariants(PREFIX + program)


@BOUNDED
@given(hypothesmith.from_node(libcst.FunctionDef))
def test_generated_functions_beside_socket_code(program: str) -> None:
    check_invariants(BASE + "\n\n" + program + "\n")


@BOUNDED
@given(hypothesmith.from_node(libcst.IndentedBlock))
def test_generated_blocks_inside_a_socket_function(program: str) -> None:
    check_invariants(_in_function(program))


@BOUNDED
@given(
    st.lists(
        st.tuples(st.integers(0, len(BASE)), st.integers(0, 8), st.text(max_size=6)),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_socket_code(edits: list[tuple[int, int, str]]) -> None:
    """Real socket code with a few characters deleted or inserted: mostly syntax errors and odd
    shapes near the places the engine cares about."""
    text = BASE
    for pos, delete, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + delete :]
    check_invariants(text)


@BOUNDED
@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_socket_code(junk: bytes) -> None:
    check_invariants(PREFIX.encode() + junk)


def test_invariants_hold_for_the_base_program() -> None:
    """The base program leaks on two error paths, so the invariants are checked against real
    findings, not only against empty output."""
    check_invariants(BASE)
    codes = {d.code for d in check_source("fuzz.py", BASE.encode(), Settings())}
    assert {"SKL101", "SKL102"} <= codes
