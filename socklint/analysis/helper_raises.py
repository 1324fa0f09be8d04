"""What a module's own helpers can raise, read from the ``ast``: calls that cannot fail or only
log (``cannot_fail``, ``logger_call``), bodies that only report (``only_reports``), and
``OsGuard``, which tells whether a helper lets only OSError out (or keeps its OSErrors in).
The scan's summaries (``Summaries.os_only``, ``non_os``, ``nonraising``) are built from these.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from socklint.analysis import model
from socklint.analysis.astutil import dotted_name

if TYPE_CHECKING:
    from socklint.analysis.scan import ImportTable


def without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return list(body)


def logger_call(call: ast.Call, guesses: frozenset[str]) -> bool:
    """A call to a logger: a logging method (`log.debug`, `self._debug`), any method of a logger
    (`vlog.err`), or a module's own logging function (`debug2(...)`), as far as the
    `logging-call` and `logger-receiver` heuristics apply."""
    func = call.func
    logs = "logging-call" in guesses
    if isinstance(func, ast.Attribute):
        return (logs and model.is_logging_call(None, func.attr)) or (
            "logger-receiver" in guesses and model.is_logger_name(dotted_name(func.value))
        )
    return logs and isinstance(func, ast.Name) and model.is_logging_call(func.id, None)


def cannot_fail(call: ast.Call) -> bool:
    """A builtin or library call that fails only when misused: `len(x)`, `min(a, b)`,
    `time.time()`, `float('inf')`."""
    name = dotted_name(call.func)
    if name is None:
        return False
    if name in model.PURE_BUILTINS or name in model.INSPECTING_FUNCTIONS or name in model.PURE_CALLS:
        return True
    return name in model.CONSTANT_CONVERSIONS and not call.keywords and all(isinstance(a, ast.Constant) for a in call.args)


def only_reports(body: list[ast.stmt], guesses: frozenset[str]) -> bool:
    """A module's own print/log helper: every statement prints or logs a message, possibly
    under a flag test (`if self.debug: print("DEBUG (" + self.id + "): " + msg)`,
    a node's `debug_print`). Like a logging call it is not a raise
    point: it fails only for a programming error or a broken console."""
    for stmt in body:
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Return) and (stmt.value is None or isinstance(stmt.value, ast.Constant))):
            continue
        if isinstance(stmt, ast.If):
            if not no_calls(stmt.test) or not only_reports(stmt.body, guesses) or (stmt.orelse and not only_reports(stmt.orelse, guesses)):
                return False
            continue
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return False
        call = stmt.value
        if dotted_name(call.func) not in model.REPORT_CALLS and not logger_call(call, guesses):
            return False
        if not all(no_calls(a) for a in call.args) or not all(no_calls(k.value) for k in call.keywords):
            return False
    return True


def no_calls(node: ast.expr) -> bool:
    """Nothing in the expression calls anything but a text builtin (`str(x)`, `repr(x)`)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and n.func.id in model.TEXT_BUILTINS):
            return False
        if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)):
            return False
    return True


class OsGuard:
    """Does a helper keep every OSError in? Each call either cannot raise one (a pure or
    logging call) or sits in a `try` whose OSError handler does not re-raise it: it logs,
    passes, returns, or raises an exception of another kind (`translates`). `other_calls`:
    some guarded call may still raise something else. A `set_nonblocking(sock)` that logs the
    OSError swallows it; an `md5()` that raises its own `MD5Error` from the handler translates."""

    def __init__(self, params: set[str], imports: ImportTable, guesses: frozenset[str]) -> None:
        self.params = params
        self.imports = imports
        self.guesses = guesses
        self.translates = False
        self.other_calls = False

    def block(self, stmts: list[ast.stmt], guarded: bool) -> bool:
        return all(self.stmt(st, guarded) for st in stmts)

    def stmt(self, st: ast.stmt, guarded: bool) -> bool:
        if isinstance(st, (ast.Pass, ast.Continue, ast.Break, ast.Import, ast.ImportFrom)):
            return True
        if isinstance(st, ast.Try) and not st.finalbody:
            catches = any(self._catches_os(h) for h in st.handlers)
            if not self.block(st.body, guarded or catches):
                return False
            for h in st.handlers:
                if not self._handler(h, guarded, self._catches_os(h)):
                    return False
            return self.block(st.orelse, guarded)
        if isinstance(st, ast.Raise):
            if guarded:
                self.other_calls = True  # an enclosing OSError handler sees it
                return True
            return st.exc is not None and self._raises_other(st.exc, guarded)
        if isinstance(st, (ast.If, ast.While)):
            return self.expr(st.test, guarded) and self.block(st.body, guarded) and self.block(st.orelse, guarded)
        if isinstance(st, ast.For):
            return self.expr(st.iter, guarded) and self.block(st.body, guarded) and self.block(st.orelse, guarded)
        if isinstance(st, (ast.Expr, ast.Return)):
            return st.value is None or self.expr(st.value, guarded)
        if isinstance(st, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            if not all(isinstance(t, (ast.Name, ast.Tuple)) for t in targets):
                return False  # a store into an object may run code
            return st.value is None or self.expr(st.value, guarded)
        return False

    def _handler(self, h: ast.ExceptHandler, guarded: bool, catches_os: bool) -> bool:
        for st in h.body:
            if isinstance(st, ast.Raise):
                if not catches_os and st.exc is None:
                    continue  # re-raising what only this handler caught (not an OSError)
                if st.exc is None or (isinstance(st.exc, ast.Name) and st.exc.id == h.name):
                    if guarded:
                        continue  # an enclosing OSError handler takes it
                    return False  # the OSError goes on
                if not self._raises_other(st.exc, guarded):
                    return False
            elif not self.stmt(st, guarded):
                return False
        return True

    def _catches_os(self, h: ast.ExceptHandler) -> bool:
        if h.type is None:
            return True
        types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        return any((dotted_name(t) or "") in model.OSERROR_CATCHERS | model.OS_EXCEPTIONS for t in types)

    def _raises_other(self, exc: ast.expr, guarded: bool) -> bool:
        call = exc if isinstance(exc, ast.Call) else None
        name = dotted_name(call.func if call is not None else exc)
        if name is None or name in model.OS_EXCEPTIONS or self.imports.qualify(name) in model.OS_EXCEPTIONS:
            return False
        self.translates = True
        return call is None or all(self.expr(a, True) for a in call.args)

    def expr(self, e: ast.expr, guarded: bool) -> bool:
        stack: list[ast.AST] = [e]
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom)):
                return False
            if isinstance(n, ast.Lambda):
                continue  # defined here, run by whoever is given it (a lazy log message)
            if not isinstance(n, ast.Call):
                stack.extend(ast.iter_child_nodes(n))
                continue
            if logger_call(n, self.guesses):
                continue  # `log.warning(...)`, `vlog.err(...)`: its message is the logger's business
            func = n.func
            stack.extend(n.args)
            stack.extend(k.value for k in n.keywords)
            if isinstance(func, ast.Attribute):
                stack.append(func.value)
            if cannot_fail(n):
                continue
            if guarded:
                if not (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id in self.params
                    and func.attr in model.SOCKET_METHODS
                ):
                    self.other_calls = True
                continue
            return False
        return True
