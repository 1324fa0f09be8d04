"""Small syntactic helpers over libcst nodes, shared by the interpreter's parts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

import libcst as cst

from socklint.analysis.facts import cst_name as _name_of


def walk(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name (cheaper than libcst's full-name helper,
    which _use_positions would call on every name of the function)."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def const_true(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name) and node.value == "True":
        return True
    if isinstance(node, cst.Integer) and node.value not in ("0", "0x0", "0o0", "0b0"):
        return True
    return False


def atom_const(node: cst.BaseExpression, by_case: bool = True) -> Optional[str]:
    """A comparand that names one fixed value: a number, a string literal, a dotted name in
    UPPER_CASE (`STATUS_SUCCESS`, `socket.SOCK_STREAM`), or a member of a class or enum
    (`AFI.ipv4`, tested `afi == AFI.ipv4`, then `afi == AFI.ipv6`). Names count only with
    ``by_case`` (the `constant-by-case` heuristic)."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return node.value
    if by_case and isinstance(node, (cst.Name, cst.Attribute)):
        n = _name_of(node)
        if n and n.rsplit(".", 1)[-1].isupper():
            return n
        parts = n.split(".") if n else []
        if len(parts) >= 2 and parts[-2][:1].isupper() and parts[0] not in ("self", "cls"):
            return n
    return None


def nonempty_iterable(node: cst.BaseExpression) -> bool:
    """A literal list/tuple/set with elements (none starred), or ``range(N)`` with N > 0."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return bool(node.elements) and not any(isinstance(e, cst.StarredElement) for e in node.elements)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "range"
        and len(node.args) == 1
        and isinstance(node.args[0].value, cst.Integer)
    ):
        return int(node.args[0].value.value, 0) > 0
    return False


def bindings_of(func: Optional[cst.CSTNode]) -> dict[str, list[Optional[cst.BaseExpression]]]:
    """Every value ``func`` binds to each name: the value of a plain ``name = value``, None
    for any other binding (augmented assignment, loop target, ``as``, unpacking)."""
    if not isinstance(func, cst.FunctionDef):
        return {}
    out: dict[str, list[Optional[cst.BaseExpression]]] = {}
    for n in walk(func.body):
        targets: list[cst.BaseExpression] = []
        if isinstance(n, cst.Assign):
            targets = [t.target for t in n.targets]
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor)):
            targets = [n.target]
        elif isinstance(n, cst.AsName):
            targets = [n.name]
        value: Optional[cst.BaseExpression] = None
        if (isinstance(n, cst.Assign) and len(n.targets) == 1) or isinstance(n, cst.AnnAssign):
            value = n.value
        for t in targets:
            if isinstance(t, cst.Name):
                out.setdefault(t.value, []).append(value)
    return out


def outer_call(value: cst.BaseExpression) -> Optional[cst.Call]:
    if isinstance(value, cst.Await):
        value = value.expression
    return value if isinstance(value, cst.Call) else None


def raise_note(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Call):
        return f"`{callee_text(node)}` raises"
    if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call):
        return f"`await {callee_text(node.expression)}` raises"
    if isinstance(node, (cst.Import, cst.ImportFrom)):
        return "the import fails (ImportError)"
    if isinstance(node, cst.With):
        return "`async with` awaits `__aenter__()` or `__aexit__()`: raises"
    if isinstance(node, cst.For):
        return "`async for` awaits `__anext__()`: raises"
    return "raises"


def callee_text(call: cst.Call) -> str:
    f = call.func
    if isinstance(f, cst.Attribute):
        return f"{f.attr.value}()"
    n = _name_of(f)
    return f"{n}()" if n else "call"


class FunctionBindings:
    """What each name of a function is bound to (``bindings_of``), walked once and only when a
    test needs it (string values, literal tuples, argument parsers)."""

    def __init__(self, func: Optional[cst.CSTNode]) -> None:
        self._func = func
        self._binds: Optional[dict[str, list[Optional[cst.BaseExpression]]]] = None

    def values(self, name: str) -> Optional[list[Optional[cst.BaseExpression]]]:
        if self._binds is None:
            self._binds = bindings_of(self._func)
        return self._binds.get(name)

    def single_value(self, name: str) -> Optional[cst.BaseExpression]:
        """The value of ``name`` when the function binds it exactly once, plainly."""
        values = self.values(name)
        return values[0] if values is not None and len(values) == 1 else None


def target_names(t: cst.BaseExpression) -> list[str]:
    """The names an assignment target binds (``a``, ``a, (b, *c)``)."""
    if isinstance(t, cst.Name):
        return [t.value]
    if isinstance(t, (cst.Tuple, cst.List)):
        out: list[str] = []
        for e in t.elements:
            out.extend(target_names(e.value))
        return out
    if isinstance(t, cst.StarredElement):
        return target_names(t.value)
    return []
