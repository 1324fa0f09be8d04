"""Static evaluation of socket option arguments.

``setsockopt(level, option, value)`` arguments are evaluated the way the running program would:
``struct.pack`` / ``struct.Struct(fmt).pack`` on literal arguments are really packed with the
``struct`` module, bytes literals are taken as written, and names bound exactly once (in the
function or at module level) to such constants are followed. Socket constants are resolved
through the file's imports however they are spelled (``socket.SO_LINGER``, ``so.SO_LINGER``,
``from socket import *``, ``getattr(socket, "SO_REUSEPORT", 15)``).

Expressions are evaluated over the stdlib ``ast``: a libcst expression is turned into its source
text and parsed again (:func:`cst_to_ast`), so the module-level bindings (read from the file's
``ast.Module``) and the function-level ones (read from the libcst function) share one evaluator.

Anything not statically known evaluates to ``None``: rules report nothing for it.

Native struct formats (no prefix, or ``@``) are packed as on 64-bit little-endian Linux (LP64:
``l`` and ``L`` are 8 bytes, ``int`` is 4, natural alignment) whatever machine runs socklint,
because that is the platform whose kernel behaviour the rules describe.
"""

from __future__ import annotations

import ast
import re
import struct
from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

from socklint.analysis.astutil import dotted_name
from socklint.analysis.scan import ImportTable

# Socket constants the option rules look at. Anything else from ``socket`` resolves too when it
# is spelled with the module name; this set is what a star import is trusted to provide.
SOCKET_CONSTANTS = frozenset(
    {
        "SOL_SOCKET",
        "SO_LINGER",
        "SO_REUSEADDR",
        "SO_REUSEPORT",
        "SO_REUSEPORT_LB",
        "SO_EXCLUSIVEADDRUSE",
        "SO_BROADCAST",
        "IPPROTO_IP",
        "IPPROTO_IPV6",
        "IPPROTO_UDP",
        "IPPROTO_TCP",
        "IP_ADD_MEMBERSHIP",
        "IPV6_JOIN_GROUP",
        "IPV6_ADD_MEMBERSHIP",
        "IP_ADD_SOURCE_MEMBERSHIP",
        "MCAST_JOIN_GROUP",
        "SOCK_STREAM",
        "SOCK_DGRAM",
        "SOCK_RAW",
        "AF_INET",
        "AF_INET6",
        "AF_UNIX",
        "SHUT_RD",
        "SHUT_WR",
        "SHUT_RDWR",
        "TCP_NODELAY",
    }
)
MULTICAST_JOIN = frozenset(
    {
        "socket.IP_ADD_MEMBERSHIP",
        "socket.IPV6_JOIN_GROUP",
        "socket.IPV6_ADD_MEMBERSHIP",
        "socket.IP_ADD_SOURCE_MEMBERSHIP",
        "socket.MCAST_JOIN_GROUP",
    }
)

# Limits that keep evaluation cheap and safe on hostile input (``b"x" * 10**9``).
_MAX_BYTES = 64
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Sym:
    """A named constant such as ``socket.SO_LINGER`` (qualified through the imports)."""

    name: str


@dataclass(frozen=True)
class StructFormat:
    """The value of ``struct.Struct(fmt)``: something with a ``.pack`` method."""

    fmt: str


@dataclass(frozen=True)
class Packed:
    """Bytes produced by packing two or more integers; remembers what was written."""

    data: bytes
    fmt: str
    args: tuple[int, ...]


Value = Union[int, bytes, str, Sym, StructFormat, Packed]


# --- struct packing as on LP64 Linux -------------------------------------------------------

_NATIVE_SIZES = {
    "x": 1,
    "b": 1,
    "B": 1,
    "?": 1,
    "h": 2,
    "H": 2,
    "i": 4,
    "I": 4,
    "l": 8,
    "L": 8,
    "q": 8,
    "Q": 8,
    "n": 8,
    "N": 8,
}
# Standard-size equivalents of the native integer codes on LP64.
_TO_STANDARD = {"l": "q", "L": "Q", "n": "q", "N": "Q"}
_FORMAT_RE = re.compile(r"^[@=<>!]?(?:\s*\d{0,2}[xbB?hHiIlLqQnN])+\s*$")


def lp64_format(fmt: str) -> str | None:
    """An explicit little-endian format that packs like ``fmt`` does natively on LP64 Linux.

    Returns None for formats outside the integer subset socklint evaluates."""
    if not _FORMAT_RE.match(fmt):
        return None
    prefix = fmt[0] if fmt[0] in "@=<>!" else "@"
    body = fmt[1:] if fmt[0] in "@=<>!" else fmt
    items = re.findall(r"(\d*)([xbB?hHiIlLqQnN])", body)
    if prefix in "<>!=":
        if any(c in "nN" for _, c in items):
            return None  # struct rejects n/N in standard mode
        return fmt
    out = ["<"]
    offset = 0
    for count_text, code in items:
        count = int(count_text) if count_text else 1
        size = _NATIVE_SIZES[code]
        if code != "x" and offset % size:
            pad = size - offset % size
            out.append(f"{pad}x")
            offset += pad
        out.append(f"{count_text}{_TO_STANDARD.get(code, code)}")
        offset += size * count
    return "".join(out)


def pack_lp64(fmt: str, args: tuple[int, ...]) -> bytes | None:
    """``struct.pack(fmt, *args)`` as a 64-bit little-endian Linux program computes it, or None
    when the format is not supported or packing would raise."""
    std = lp64_format(fmt)
    if std is None:
        return None
    try:
        if struct.calcsize(std) > _MAX_BYTES:
            return None
        return struct.pack(std, *args)
    except (struct.error, OverflowError, TypeError, ValueError):
        return None


# --- struct linger --------------------------------------------------------------------------

FOREVER = -1  # l_linger that the kernel clamps to "wait forever"


@dataclass(frozen=True)
class Linger:
    """An SO_LINGER value and how each platform reads it."""

    data: bytes
    fmt: str | None = None  # struct format when built with struct.pack
    written: tuple[int, int] | None = None  # the two numbers as written in the source

    @property
    def posix(self) -> tuple[int, int] | None:
        """``(l_onoff, l_linger)`` as 64-bit Linux reads it: the first eight bytes as two
        little-endian C ints; None when the value is shorter (setsockopt fails with EINVAL)."""
        if len(self.data) < 8:
            return None
        onoff, linger = struct.unpack("<ii", self.data[:8])
        return onoff, linger

    @property
    def windows(self) -> tuple[int, int] | None:
        """``(l_onoff, l_linger)`` as Windows reads it: two u_short from the first four bytes."""
        if len(self.data) < 4:
            return None
        onoff, linger = struct.unpack("<HH", self.data[:4])
        return onoff, linger

    @staticmethod
    def effect(pair: tuple[int, int] | None) -> tuple[bool, int | None] | None:
        """What close() does: (lingering on?, seconds or FOREVER; None when off)."""
        if pair is None:
            return None
        onoff, linger = pair
        if not onoff:
            return (False, None)
        # Linux: ``unsigned long t_sec = ling.l_linger`` - a negative int means "forever".
        return (True, linger if linger >= 0 else FOREVER)

    @property
    def posix_effect(self) -> tuple[bool, int | None] | None:
        return self.effect(self.posix)

    @property
    def intended_effect(self) -> tuple[bool, int | None] | None:
        """The effect the written numbers ask for (None for a bytes literal)."""
        return self.effect(self.written)

    @property
    def zero(self) -> bool:
        """Linger on with a zero timeout on Linux: every close() is abortive (RST)."""
        return self.posix_effect == (True, 0)

    @property
    def nonzero(self) -> bool:
        e = self.posix_effect
        return e is not None and e[0] and e[1] != 0


def as_linger(value: Value | None) -> Linger | None:
    if isinstance(value, Packed):
        written = value.args if len(value.args) == 2 else None
        return Linger(value.data, value.fmt, (written[0], written[1]) if written else None)
    if isinstance(value, bytes):
        return Linger(value)
    return None


# --- evaluation -----------------------------------------------------------------------------


def cst_to_ast(node: cst.CSTNode) -> ast.expr | None:
    """Re-parse a libcst expression with the stdlib parser (None if it is not an expression)."""
    try:
        text = cst.Module(body=[]).code_for_node(node)
        tree = ast.parse("(" + text + "\n)", mode="eval")
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None
    return tree.body


_Binding = Optional[ast.expr]  # None: bound more than once, or not to a plain expression


def _module_bindings(tree: ast.Module) -> dict[str, _Binding]:
    """Names bound at module level: to their one expression, or None if bound otherwise."""
    out: dict[str, _Binding] = {}

    def bind(name: str, value: _Binding) -> None:
        out[name] = None if name in out else value

    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            bind(stmt.targets[0].id, stmt.value)
            continue
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            bind(stmt.target.id, stmt.value)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(stmt.name, None)
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for a in stmt.names:
                bind((a.asname or a.name).split(".")[0], None)
            continue
        # Any other statement: every name it stores is "bound otherwise"; nested blocks are
        # still module level.
        for attr in ("body", "orelse", "finalbody"):
            stack.extend(getattr(stmt, attr, []) or [])
        for h in getattr(stmt, "handlers", []) or []:
            stack.extend(h.body)
        for sub in _own_nodes(stmt):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                bind(sub.id, None)
    return out


def _own_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """Nodes of a compound statement's header (not of its nested statement bodies)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [
        c for c in ast.iter_child_nodes(stmt) if not isinstance(c, (ast.stmt, ast.excepthandler))
    ]
    for h in getattr(stmt, "handlers", []) or []:
        if h.name:
            out.append(ast.Name(id=h.name, ctx=ast.Store()))
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(ast.iter_child_nodes(n))
    return out


class _LocalBindings(cst.CSTVisitor):
    """Names bound in one function (not in nested scopes): to their one expression or None."""

    def __init__(self, root: cst.CSTNode) -> None:
        self.root = root
        self.out: dict[str, cst.BaseExpression | None] = {}

    def bind(self, name: str, value: cst.BaseExpression | None) -> None:
        self.out[name] = None if name in self.out else value

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is self.root:
            return True
        self.bind(node.name.value, None)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.bind(node.name.value, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_Param(self, node: cst.Param) -> None:
        self.bind(node.name.value, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.bind(node.targets[0].target.value, node.value)
        else:
            for t in node.targets:
                self._store(t.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._store(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._store(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._store(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._store(node.name.name)

    def visit_Global(self, node: cst.Global) -> None:
        for n in node.names:
            self.bind(n.name.value, None)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for n in node.names:
            self.bind(n.name.value, None)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def _store(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._store(el.value)
        elif isinstance(target, cst.StarredElement):
            self._store(target.value)
        elif isinstance(target, cst.Attribute):
            # ``import a.b`` binds ``a``.
            base: cst.BaseExpression = target
            while isinstance(base, cst.Attribute):
                base = base.value
            if isinstance(base, cst.Name):
                self.bind(base.value, None)


class Evaluator:
    """Evaluates option arguments in one file; :meth:`for_function` adds a function's locals."""

    def __init__(self, imports: ImportTable, module_tree: ast.Module | None) -> None:
        self.imports = imports
        self.module: dict[str, _Binding] = (
            _module_bindings(module_tree) if module_tree is not None else {}
        )
        self.local: dict[str, _Binding] = {}

    def for_function(self, func: cst.CSTNode | None) -> Evaluator:
        ev = Evaluator.__new__(Evaluator)
        ev.imports = self.imports
        ev.module = self.module
        ev.local = {}
        if isinstance(func, cst.FunctionDef):
            v = _LocalBindings(func)
            func.visit(v)
            for name, expr in v.out.items():
                ev.local[name] = cst_to_ast(expr) if expr is not None else None
        return ev

    # -- names ----------------------------------------------------------------------------

    def symbol(self, dotted: str) -> str | None:
        """``so.SO_LINGER`` -> ``socket.SO_LINGER``; a star-imported ``SO_LINGER`` too."""
        head = dotted.split(".", 1)[0]
        if head in self.local or (head in self.module and head not in self.imports.names):
            return None  # shadowed by an assignment
        q = self.imports.qualify(dotted)
        if q.startswith("_socket."):
            q = "socket." + q[len("_socket.") :]
        if q.startswith("socket.") and q.count(".") == 1:
            return q
        star = "socket" in self.imports.star_modules or "_socket" in self.imports.star_modules
        if (
            star
            and "." not in dotted
            and dotted in SOCKET_CONSTANTS
            and dotted not in self.imports.names
        ):
            return "socket." + dotted
        return None

    # -- values ---------------------------------------------------------------------------

    def cst_value(self, node: cst.CSTNode | None) -> Value | None:
        if node is None:
            return None
        expr = cst_to_ast(node)
        return None if expr is None else self.value(expr)

    def value(self, expr: ast.expr, depth: int = 0) -> Value | None:
        try:
            return self._value(expr, depth)
        except RecursionError:
            return None

    def _value(self, expr: ast.expr, depth: int) -> Value | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            v = expr.value
            if isinstance(v, bool):
                return int(v)
            if isinstance(v, (int, bytes, str)):
                return v
            return None
        if isinstance(expr, ast.Name):
            name = expr.id
            if name in self.local:
                b = self.local[name]
                return None if b is None else self._value(b, depth + 1)
            if name in self.module and name not in self.imports.names:
                b = self.module[name]
                return None if b is None else self._value(b, depth + 1)
            sym = self.symbol(name)
            return Sym(sym) if sym else None
        if isinstance(expr, ast.Attribute):
            d = dotted_name(expr)
            if d is None:
                return None
            sym = self.symbol(d)
            return Sym(sym) if sym else None
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd, ast.Not)):
            inner = self._value(expr.operand, depth + 1)
            if isinstance(inner, int):
                if isinstance(expr.op, ast.USub):
                    return -inner
                if isinstance(expr.op, ast.Not):
                    return int(not inner)
                return inner
            return None
        if isinstance(expr, ast.BinOp):
            left = self._value(expr.left, depth + 1)
            right = self._value(expr.right, depth + 1)
            if (
                isinstance(expr.op, ast.Add)
                and isinstance(left, (bytes, Packed))
                and isinstance(right, (bytes, Packed))
            ):
                data = _raw(left) + _raw(right)
                return data if len(data) <= _MAX_BYTES else None
            if isinstance(expr.op, ast.Mult):
                if (
                    isinstance(left, bytes)
                    and isinstance(right, int)
                    and not isinstance(right, bool)
                ):
                    return left * right if 0 <= len(left) * right <= _MAX_BYTES else None
                if isinstance(right, bytes) and isinstance(left, int):
                    return right * left if 0 <= len(right) * left <= _MAX_BYTES else None
            return None
        if isinstance(expr, ast.Call):
            return self._call(expr, depth)
        return None

    def _call(self, call: ast.Call, depth: int) -> Value | None:
        func = call.func
        name = dotted_name(func)
        qual = self.imports.qualify(name) if name else None
        if (
            qual in ("struct.Struct", "_struct.Struct")
            and len(call.args) == 1
            and not call.keywords
        ):
            fmt = self._value(call.args[0], depth + 1)
            if isinstance(fmt, bytes):
                fmt = fmt.decode("ascii", "replace")
            return StructFormat(fmt) if isinstance(fmt, str) else None
        if qual in ("struct.pack", "_struct.pack") and call.args and not call.keywords:
            fmt = self._value(call.args[0], depth + 1)
            if isinstance(fmt, bytes):
                fmt = fmt.decode("ascii", "replace")
            return self._pack(fmt, call.args[1:], depth) if isinstance(fmt, str) else None
        if isinstance(func, ast.Attribute) and func.attr == "pack" and not call.keywords:
            obj = self._value(func.value, depth + 1)
            if isinstance(obj, StructFormat):
                return self._pack(obj.fmt, call.args, depth)
            return None
        if name == "getattr" and 2 <= len(call.args) <= 3 and not call.keywords:
            # getattr(socket, "SO_REUSEPORT", 15): the constant where it exists.
            mod = dotted_name(call.args[0])
            attr = self._value(call.args[1], depth + 1)
            if mod and isinstance(attr, str) and self.imports.qualify(mod) in ("socket", "_socket"):
                return Sym("socket." + attr)
            return None
        if name == "bytes" and len(call.args) == 1 and not call.keywords:
            n = self._value(call.args[0], depth + 1)
            if isinstance(n, int) and 0 <= n <= _MAX_BYTES:
                return bytes(n)
            return None
        if name in ("int", "bool") and len(call.args) == 1 and not call.keywords:
            v = self._value(call.args[0], depth + 1)
            if isinstance(v, int):
                return int(bool(v)) if name == "bool" else v
        return None

    def _pack(self, fmt: str, args: list[ast.expr], depth: int) -> Value | None:
        values: list[int] = []
        for a in args:
            if isinstance(a, ast.Starred):
                return None
            v = self._value(a, depth + 1)
            if not isinstance(v, int):
                return None
            values.append(v)
        data = pack_lp64(fmt, tuple(values))
        if data is None:
            return None
        return Packed(data, fmt, tuple(values))


def _raw(v: bytes | Packed) -> bytes:
    return v.data if isinstance(v, Packed) else v


def truthy(value: Value | None) -> bool | None:
    """Whether an option value turns the option on (None when unknown)."""
    if isinstance(value, int):
        return value != 0
    if isinstance(value, (bytes, Packed)):
        data = _raw(value)
        if len(data) >= 4:
            return bool(struct.unpack("<i", data[:4])[0] != 0)
    return None


# --- setsockopt calls -------------------------------------------------------------------------


@dataclass(frozen=True)
class SockOpt:
    """A ``setsockopt(level, option, value)`` call, its arguments evaluated."""

    level: Value | None
    option: str | None  # qualified constant, e.g. "socket.SO_LINGER"
    value: Value | None

    def is_option(self, *names: str) -> bool:
        return self.option is not None and self.option.rsplit(".", 1)[-1] in names


def positional_args(call: cst.Call) -> list[cst.BaseExpression] | None:
    """The call's positional arguments, or None if it uses ``*args`` / ``**kw``."""
    out: list[cst.BaseExpression] = []
    for a in call.args:
        if a.star:
            return None
        if a.keyword is None:
            out.append(a.value)
    return out


def read_setsockopt(call: cst.CSTNode, ev: Evaluator) -> SockOpt | None:
    """Evaluate a ``X.setsockopt(level, option, value)`` call; None for other calls."""
    if not isinstance(call, cst.Call):
        return None
    f = call.func
    if not isinstance(f, cst.Attribute) or f.attr.value != "setsockopt":
        return None
    args = positional_args(call)
    if args is None or len(args) != 3:
        return None
    level = ev.cst_value(args[0])
    opt = ev.cst_value(args[1])
    value = ev.cst_value(args[2])
    return SockOpt(level, opt.name if isinstance(opt, Sym) else None, value)
