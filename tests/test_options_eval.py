"""Static evaluation of setsockopt arguments (socklint.analysis.options).

The oracles are real: the host's own ``struct`` module for native packing, and the running Linux
kernel (setsockopt then getsockopt on a real socket) for how a linger value is read.
"""

from __future__ import annotations

import ast
import errno
import socket
import struct
import sys

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from socklint.analysis.options import (
    FOREVER,
    Evaluator,
    Linger,
    Packed,
    Sym,
    as_linger,
    lp64_format,
    pack_lp64,
    read_setsockopt,
    truthy,
)
from socklint.analysis.scan import scan

LP64_LE = struct.calcsize("l") == 8 and sys.byteorder == "little"
LINUX = sys.platform.startswith("linux")

_RANGES = {
    "b": (-(2**7), 2**7 - 1),
    "B": (0, 2**8 - 1),
    "?": (0, 1),
    "h": (-(2**15), 2**15 - 1),
    "H": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "I": (0, 2**32 - 1),
    "l": (-(2**63), 2**63 - 1),
    "L": (0, 2**64 - 1),
    "q": (-(2**63), 2**63 - 1),
    "Q": (0, 2**64 - 1),
    "n": (-(2**63), 2**63 - 1),
    "N": (0, 2**64 - 1),
}


@st.composite
def native_format_and_args(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    codes = draw(st.lists(st.sampled_from([*sorted(_RANGES), "x"]), min_size=1, max_size=5))
    prefix = draw(st.sampled_from(["", "@"]))
    args = tuple(draw(st.integers(*_RANGES[c])) for c in codes if c != "x")
    return prefix + "".join(codes), args


@pytest.mark.skipif(
    not LP64_LE, reason="the oracle is this host's native struct on LP64 little-endian"
)
@settings(deadline=None)  # timing is not the property; CI machines are shared
@given(native_format_and_args())
def test_lp64_packing_matches_native_struct(case: tuple[str, tuple[int, ...]]) -> None:
    fmt, args = case
    assert lp64_format(fmt) is not None
    assert pack_lp64(fmt, args) == struct.pack(fmt, *args)


LINGER_FORMATS = [
    p + f for p in ("", "@", "=", "<", ">", "!") for f in ("ii", "II", "ll", "LL", "hh", "HH")
]


@st.composite
def linger_case(draw: st.DrawFn) -> tuple[str, int, int]:
    fmt = draw(st.sampled_from(LINGER_FORMATS))
    code = fmt[-1]
    lo, hi = _RANGES[code]
    if fmt[0] in "=<>!" and code in "lL":
        lo, hi = _RANGES["i" if code == "l" else "I"]  # standard size of l/L is 4 bytes
    onoff = draw(st.one_of(st.sampled_from([0, 1]), st.integers(max(lo, -(2**40)), min(hi, 2**40))))
    linger = draw(
        st.one_of(st.sampled_from([0, 1, 5, 30]), st.integers(max(lo, -(2**40)), min(hi, 2**40)))
    )
    return fmt, onoff, linger


@pytest.mark.skipif(not (LINUX and LP64_LE), reason="the oracle is the 64-bit Linux kernel")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linger_case())
def test_linger_decoding_matches_the_kernel(case: tuple[str, int, int]) -> None:
    fmt, onoff, linger = case
    data = pack_lp64(fmt, (onoff, linger))
    assert data is not None
    value = Linger(data, fmt, (onoff, linger))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if value.posix is None:
            with pytest.raises(OSError) as info:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, data)
            assert info.value.errno == errno.EINVAL
            return
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, data)
        k_on, k_linger = struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
    effect = value.posix_effect
    assert effect is not None
    assert bool(k_on) == effect[0]
    if effect[0] and effect[1] != FOREVER:
        assert k_linger == effect[1]
    if effect[1] == FOREVER:
        assert k_linger < 0 or k_linger > 2**20  # clamped to "forever", read back as a huge value


def test_ll_on_lp64_turns_a_timeout_into_an_abortive_close() -> None:
    v = Linger(pack_lp64("ll", (1, 5)) or b"", "ll", (1, 5))
    assert len(v.data) == 16
    assert v.posix == (1, 0)
    assert v.zero and v.intended_effect == (True, 5)


def test_hh_is_too_short_for_posix() -> None:
    v = Linger(pack_lp64("hh", (1, 0)) or b"", "hh", (1, 0))
    assert v.posix is None and v.windows == (1, 0)


def test_network_order_changes_the_meaning() -> None:
    v = Linger(pack_lp64("!ii", (1, 5)) or b"", "!ii", (1, 5))
    assert v.posix == (1 << 24, 5 << 24)
    assert v.posix_effect != v.intended_effect


def _evaluator(src: str) -> tuple[Evaluator, cst.Module]:
    tree = ast.parse(src)
    return Evaluator(scan(tree).imports, tree), cst.parse_module(src)


def _setsockopts(src: str) -> list[tuple[str | None, object]]:
    ev, mod = _evaluator(src)
    out: list[tuple[str | None, object]] = []

    class Calls(cst.CSTVisitor):
        def __init__(self, fev: Evaluator) -> None:
            self.fev = fev

        def visit_Call(self, node: cst.Call) -> None:
            so = read_setsockopt(node, self.fev)
            if so is not None:
                out.append((so.option, so.value))

    for stmt in mod.body:
        if isinstance(stmt, cst.FunctionDef):
            stmt.visit(Calls(ev.for_function(stmt)))
        else:
            stmt.visit(Calls(ev))
    return out


@pytest.mark.parametrize(
    "imports, level, option",
    [
        ("import socket", "socket.SOL_SOCKET", "socket.SO_LINGER"),
        ("import socket as so", "so.SOL_SOCKET", "so.SO_LINGER"),
        ("from socket import SOL_SOCKET, SO_LINGER", "SOL_SOCKET", "SO_LINGER"),
        ("from socket import SOL_SOCKET as L, SO_LINGER as O", "L", "O"),
        ("from socket import *", "SOL_SOCKET", "SO_LINGER"),
        ("import _socket", "_socket.SOL_SOCKET", "_socket.SO_LINGER"),
    ],
)
def test_constants_resolve_however_imported(imports: str, level: str, option: str) -> None:
    src = f"{imports}\nimport struct\ns.setsockopt({level}, {option}, struct.pack('ii', 1, 0))\n"
    [(opt, value)] = _setsockopts(src)
    assert opt == "socket.SO_LINGER"
    linger = as_linger(value)  # type: ignore[arg-type]
    assert linger is not None and linger.zero


def test_unrelated_module_constant_does_not_resolve() -> None:
    [(opt, _)] = _setsockopts(
        "import mysock as socket\ns.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'')\n"
    )
    assert opt is None


def test_shadowed_star_import_does_not_resolve() -> None:
    [(opt, _)] = _setsockopts(
        "from socket import *\nSO_LINGER = 99\ns.setsockopt(SOL_SOCKET, SO_LINGER, b'')\n"
    )
    assert opt is None


@pytest.mark.parametrize(
    "setup, expr, expected",
    [
        ("", "struct.pack('ii', 1, 0)", (1, 0)),
        ("", "struct.pack('<ii', True, 0)", (1, 0)),
        ("", "struct.Struct('ii').pack(1, 7)", (1, 7)),
        ("L = struct.Struct('=ii')", "L.pack(1, 3)", (1, 3)),
        ("V = struct.pack('ii', 1, 0)", "V", (1, 0)),
        ("ON, T = 1, 0", "struct.pack('ii', ON, T)", None),  # tuple binding: not followed
        ("", "b'\\x01\\x00\\x00\\x00' + b'\\x00' * 4", (1, 0)),
        ("", "bytes(8)", (0, 0)),
        ("", "struct.pack('ll', 1, 9)", (1, 0)),
        ("", "struct.pack('hh', 1, 0)", "EINVAL"),
        ("", "pack('ii', 1, 0)", (1, 0)),
        ("", "struct.pack(fmt, 1, 0)", None),
        ("", "struct.pack('ii', 1, n)", None),
        ("", "struct.pack('ii', *args)", None),
        ("", "struct.pack('1000000000x')", None),  # never materialised
        ("", "b'x' * 10**9", None),
    ],
)
def test_linger_values(setup: str, expr: str, expected: object) -> None:
    src = f"import socket, struct\nfrom struct import pack\n{setup}\ndef f(s, fmt, n, args):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, {expr})\n"
    [(opt, value)] = _setsockopts(src)
    assert opt == "socket.SO_LINGER"
    linger = as_linger(value)  # type: ignore[arg-type]
    if expected is None:
        assert linger is None
    elif expected == "EINVAL":
        assert linger is not None and linger.posix is None
    else:
        assert linger is not None and linger.posix == expected


def test_names_bound_twice_are_unknown() -> None:
    src = (
        "import socket, struct, os\n"
        "if os.name == 'nt':\n    V = struct.pack('hh', 1, 0)\nelse:\n    V = struct.pack('ii', 1, 0)\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, V)\n"
    )
    [(_, value)] = _setsockopts(src)
    assert value is None


def test_local_binding_shadows_module_binding() -> None:
    src = (
        "import socket, struct\nV = struct.pack('ii', 1, 0)\n"
        "def f(s):\n    V = struct.pack('ii', 1, 5)\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, V)\n"
        "def g(s, V):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, V)\n"
    )
    [(_, a), (_, b)] = _setsockopts(src)
    assert isinstance(a, Packed) and a.args == (1, 5)
    assert b is None


def test_getattr_socket_constant() -> None:
    src = "import socket\ns.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_REUSEPORT', 15), 1)\n"
    [(opt, value)] = _setsockopts(src)
    assert opt == "socket.SO_REUSEPORT" and truthy(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "expr, expected",
    [("1", True), ("True", True), ("0", False), ("False", False), ("flag", None), ("not 0", True)],
)
def test_truthiness(expr: str, expected: bool | None) -> None:
    [(_, value)] = _setsockopts(
        f"import socket\ndef f(s, flag):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, {expr})\n"
    )
    assert truthy(value) is expected  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar(start="eval_input"))
def test_evaluator_never_raises_on_any_expression(text: str) -> None:
    try:
        expr = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        assume(False)
        return
    ev, _ = _evaluator("import socket, struct\nfrom socket import *\n")
    ev.value(expr)
    ev.value(
        ast.Call(ast.Attribute(ast.Name("struct"), "pack"), [ast.Constant("ii"), expr, expr], [])
    )
    ev.cst_value(cst.parse_expression(text.strip()) if text.strip() else None)


def test_sym_is_hashable_value() -> None:
    assert Sym("socket.SO_LINGER") == Sym("socket.SO_LINGER")
