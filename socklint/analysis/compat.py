"""Python 2 compatibility code that never runs on Python 3.

socklint checks Python 3 code. Old packages carry branches for Python 2 (``if six.PY2:``,
``if sys.version_info[0] < 3:``, ``if not hasattr(socket, 'socketpair'):``,
``isinstance(x, types.StringTypes)``); a socket leaked in one of them is no leak at all, and
reporting it is the noise that gets a linter switched off. The names involved are model rows
(``python-version-flags``, ``python2-names``, ``socket-attributes``)."""

from __future__ import annotations

import ast
from typing import Callable, Optional

import libcst as cst

from socklint.analysis import model
from socklint.analysis.facts import cst_name as _name_of


def _version_tuple(node: cst.BaseExpression) -> Optional[tuple[int, ...]]:
    if isinstance(node, cst.Integer):
        return (int(node.value, 0),)
    if isinstance(node, cst.Tuple) and node.elements:
        out = []
        for el in node.elements:
            if not isinstance(el.value, cst.Integer):
                return None
            out.append(int(el.value.value, 0))
        return tuple(out)
    return None


_VERSION_OPS: dict[type, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    cst.LessThan: lambda a, b: a < b,
    cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b,
    cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.Equal: lambda a, b: a == b,
    cst.NotEqual: lambda a, b: a != b,
}


def python3_constant(test: cst.BaseExpression) -> Optional[bool]:
    """The value of a Python-major-version test on every Python 3 (``sys.version_info[0] < 3``,
    ``sys.version_info >= (3, 0)``, ``six.PY2``), or None when it depends on the minor
    version or is not such a test. socklint checks Python 3 code: Python 2 branches are dead."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = python3_constant(test.expression)
        return None if inner is None else not inner
    if isinstance(test, cst.Call) and len(test.args) == 2:
        func = _name_of(test.func) if isinstance(test.func, (cst.Name, cst.Attribute)) else None
        first = _name_of(test.args[0].value) if isinstance(test.args[0].value, (cst.Name, cst.Attribute)) else None
        second = test.args[1].value
        if (
            func == "hasattr"
            and first == "socket"
            and isinstance(second, cst.SimpleString)
            and second.evaluated_value in model.SOCKET_ATTRIBUTES_ON_EVERY_PYTHON3
        ):
            # `if not hasattr(socket, 'socketpair'):` guards a fallback for old Pythons.
            return True
    name = _name_of(test) if isinstance(test, (cst.Name, cst.Attribute)) else None
    if name is not None and name in model.PYTHON3_FLAGS:
        return model.PYTHON3_FLAGS[name]
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    comp = test.comparisons[0]
    op = _VERSION_OPS.get(type(comp.operator))
    right = _version_tuple(comp.comparator)
    left = test.left
    major_only = False
    if isinstance(left, cst.Subscript) and len(left.slice) == 1:
        idx = left.slice[0].slice
        if isinstance(idx, cst.Index) and isinstance(idx.value, cst.Integer) and idx.value.value == "0":
            left, major_only = left.value, True
    elif isinstance(left, cst.Attribute) and left.attr.value == "major":
        left, major_only = left.value, True
    if op is None or right is None or _name_of(left) != "sys.version_info":
        return None
    if major_only and len(right) != 1:
        return None
    lo, hi = ((3,), (3,)) if major_only else ((3, 0, 0), (3, 99, 99))
    a, b = op(lo, right), op(hi, right)
    return a if a == b else None


def raises_on_python3(test: cst.BaseExpression) -> bool:
    """``isinstance(x, types.StringTypes)``: the name is gone in Python 3, so the test raises
    AttributeError and neither branch runs (Python 2 client code kept beside the Python 3 one)."""
    if not (isinstance(test, cst.Call) and len(test.args) == 2 and isinstance(test.func, cst.Name)):
        return False
    kind = test.args[1].value
    return test.func.value == "isinstance" and isinstance(kind, cst.Attribute) and _name_of(kind) in model.PYTHON2_TYPES


# Names any such test mentions: the cheap check before the scan pays for a libcst parse.
_COMPAT_NAMES = frozenset({"version_info", "hasattr"} | {n.rsplit(".", 1)[-1] for n in model.PYTHON3_FLAGS})


def python3_constant_ast(test: ast.expr) -> Optional[bool]:
    """`python3_constant` for the scan's ``ast`` tree, which decides what is analysed at all: a
    function defined in a Python 2 branch is not (a ``socketpair()`` fallback for old Pythons)."""
    if not any(
        (isinstance(n, ast.Name) and n.id in _COMPAT_NAMES) or (isinstance(n, ast.Attribute) and n.attr in _COMPAT_NAMES)
        for n in ast.walk(test)
    ):
        return None
    try:
        return python3_constant(cst.parse_expression(ast.unparse(test)))
    except Exception:  # noqa: BLE001 - an expression libcst cannot read is simply not such a test
        return None
