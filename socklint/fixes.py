"""Fixes for the leak findings: libcst rewrites that close the leaked socket, keeping comments
and formatting (docs/fixes.md).

A fix is planned per *socket* (every leak finding of one creation site), from the file's text
and the diagnostics the engine reported for it: the creation statement is the one at the
trace's "created by" step, the socket's name is the one the message names. Three rewrites:

``with``
    ``s = socket.socket(...)`` followed, in the same block, by the statements that use it and
    then ``s.close()``, with no later use of ``s``: the creation becomes ``with socket.socket(...)
    as s:`` around those statements and the ``close()`` goes.
``close-on-failure``
    the statements between the creation and the point where the socket is closed or handed on
    (``return s``, ``self.sock = s``, a ``try`` that closes it) are wrapped in ``try: ... except
    BaseException: s.close(); raise``.
``close-before-exit``
    ``s.close()`` is inserted before an early ``return`` / ``raise`` / ``continue`` that leaves
    with the socket open.

A fix is *safe* when the rewritten code behaves as before on every path except that the
socket is closed: the socket is provably bound and owned at each inserted ``close()`` (every
path from its creation reaches it through uses of its methods only: no rebinding, no ``del``,
no hand-off to a call), and no ``finally`` or handler on the way can use it afterwards. The
others are *unsafe* (kept only with ``--unsafe-fixes``). Every fix is verified before it is
offered: the rewritten file must parse, socklint must report no leak of that socket any more,
and no finding that was not there before.

Nothing here writes files: ``socklint.cli`` and the language server decide what to do with
the rewritten text.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from socklint.analysis.project import ModuleView
from socklint.codes import CODES
from socklint.config import Settings
from socklint.diagnostics import Diagnostic

# The findings a fix can remove: leaks at an exit or at a raising call.
FIXABLE_CODES = frozenset({"SKL101", "SKL102", "SKL106", "SKL107"})
# Rounds of fixing: a round applies every fix that does not overlap another, then the file is
# analysed again (ruff's loop). Each round fixes at least one socket or stops.
MAX_ROUNDS = 10

# What `with` needs: a call known to return a socket object (which is a context manager).
# A module's own factory may return anything: it gets `try/except` instead.
_SOCKET_CONSTRUCTORS = frozenset(
    {"socket", "create_connection", "create_server", "fromfd", "dup", "wrap_socket", "SSLSocket"}
)

_NAMED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)` \(created at line")
_EXIT = re.compile(r"is still open at this `(return|raise)`|is still open at this `continue`")
_AT_CALL = "is left open if"

Check = Callable[[str], list[Diagnostic]]

Block = Union[cst.IndentedBlock, cst.Module]


@dataclass(frozen=True)
class SocketFix:
    """One socket's fix: what it does, whether ``--fix`` applies it, and the whole text of the
    file with only this fix applied."""

    line: int  # the creation's line and column (1-based)
    column: int
    name: str
    kinds: tuple[str, ...]  # "with", "close-on-failure", "close-before-exit"
    safe: bool
    why_unsafe: str  # "" for safe fixes
    diagnostics: tuple[Diagnostic, ...]
    new_text: str

    @property
    def title(self) -> str:
        what = {
            "with": f"use `with ... as {self.name}:`",
            "close-on-failure": f"close `{self.name}` if the code before its hand-off raises",
            "close-before-exit": f"close `{self.name}` before the early exit",
        }
        return "; ".join(what[k] for k in self.kinds) + ("" if self.safe else " (unsafe)")


@dataclass
class FixResult:
    text: str  # the fixed text
    applied: list[SocketFix] = field(default_factory=list)
    original: str = ""  # the text before any fix

    @property
    def fixed_findings(self) -> int:
        return sum(len(f.diagnostics) for f in self.applied)


def is_fixable(d: Diagnostic) -> bool:
    return d.code in FIXABLE_CODES and _creation(d) is not None


def _creation(d: Diagnostic) -> Optional[tuple[int, int, str]]:
    """The socket a leak finding is about: its creation's line, column and name."""
    m = _NAMED.match(d.message)
    if m is None or not d.trace or "created by" not in d.trace[0].note:
        return None
    return d.trace[0].line, d.trace[0].column, m.group(1)


# --- planning -----------------------------------------------------------------------------


class _Tree:
    """The file's libcst module with positions and parents, and lookups by position."""

    def __init__(self, module: cst.Module) -> None:
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.module = module
        self.pos = self.wrapper.resolve(PositionProvider)
        self.parent = self.wrapper.resolve(ParentNodeProvider)
        self._by_start: dict[tuple[int, int], list[cst.CSTNode]] = {}
        for node, r in self.pos.items():
            self._by_start.setdefault((r.start.line, r.start.column + 1), []).append(node)

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        r = self.pos[node]
        return r.start.line, r.start.column + 1

    def span(self, node: cst.CSTNode) -> tuple[tuple[int, int], tuple[int, int]]:
        r = self.pos[node]
        return (r.start.line, r.start.column + 1), (r.end.line, r.end.column + 1)

    def at(self, kind: type | tuple[type, ...], line: int, column: int) -> list[cst.CSTNode]:
        """The nodes of ``kind`` that start at this position (``a.b(c)`` and ``a`` both do)."""
        return [n for n in self._by_start.get((line, column), ()) if isinstance(n, kind)]

    def ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        out: list[cst.CSTNode] = []
        while node in self.parent:
            node = self.parent[node]
            out.append(node)
        return out


def _names(node: cst.CSTNode) -> Iterable[cst.Name]:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            yield n
        stack.extend(n.children)


class _Uses:
    """How a statement range uses the socket's name."""

    def __init__(self, tree: _Tree, name: str, nodes: Sequence[cst.CSTNode]) -> None:
        self.method_only = True  # every use is `name.method(...)` (or `name.attr`)
        self.lent = False  # passed as an argument to a call
        self.closes = False  # `name.close()` somewhere
        self.escapes = False  # any other use: returned, stored, rebound, deleted
        for root in nodes:
            for n in _names(root):
                if n.value != name:
                    continue
                parent = tree.parent.get(n)
                if isinstance(parent, cst.Attribute) and parent.value is n:
                    if parent.attr.value in ("close", "__exit__"):
                        self.closes = True
                    elif parent.attr.value == "detach":
                        self.escapes = True
                    continue
                if isinstance(parent, (cst.Attribute, cst.Param)):
                    continue  # `other.name`, or a parameter of a nested function
                self.method_only = False
                if isinstance(parent, cst.Arg) and parent.value is n and not _handed_out(tree, n):
                    self.lent = True
                else:
                    self.escapes = True


def _handed_out(tree: _Tree, node: cst.CSTNode) -> bool:
    """``node`` is part of what a ``return``, ``raise`` or ``yield`` gives away
    (``raise Upgrade(proto, s)``: the handler goes on with the socket)."""
    while node in tree.parent:
        node = tree.parent[node]
        if isinstance(node, (cst.Return, cst.Raise, cst.Yield)):
            return True
        if isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            return False
    return False


def _block_of(tree: _Tree, stmt: cst.CSTNode) -> Optional[tuple[Block, int]]:
    parent = tree.parent.get(stmt)
    if isinstance(parent, (cst.IndentedBlock, cst.Module)):
        body = list(parent.body)
        for i, s in enumerate(body):
            if s is stmt:
                return parent, i
    return None


def _is_close_stmt(stmt: cst.CSTNode, name: str) -> bool:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)):
        return False
    call = stmt.body[0].value
    return (
        isinstance(call, cst.Call)
        and not call.args
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.value.value == name
        and call.func.attr.value == "close"
    )


def _comments(stmt: cst.BaseStatement) -> list[cst.EmptyLine]:
    """The comments of a simple statement (above it and after it), as comment lines."""
    assert isinstance(stmt, cst.SimpleStatementLine)
    out = [ln for ln in stmt.leading_lines if ln.comment is not None]
    trailing = stmt.trailing_whitespace.comment
    if trailing is not None:
        out.append(cst.EmptyLine(comment=trailing))
    return out


def _close_call(name: str) -> cst.Expr:
    return cst.Expr(cst.Call(func=cst.Attribute(value=cst.Name(name), attr=cst.Name("close"))))


def _callee_name(value: cst.BaseExpression) -> Optional[str]:
    if isinstance(value, cst.Call):
        f = value.func
        if isinstance(f, cst.Name):
            return f.value
        if isinstance(f, cst.Attribute):
            return f.attr.value
    return None


@dataclass
class _Plan:
    name: str
    line: int
    column: int
    diags: list[Diagnostic]
    block: Optional[Block] = None  # the creation's block, for `with` / `try`
    index: int = 0  # the creation's index in it
    end: int = 0  # the end of the stretch (exclusive)
    kind: Optional[str] = None  # "with" | "close-on-failure" | None
    inserts: list[cst.CSTNode] = field(default_factory=list)  # exits to close before
    unsafe: list[str] = field(default_factory=list)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in (self.kind, "close-before-exit" if self.inserts else None) if k)


def _plan(tree: _Tree, line: int, column: int, name: str, diags: list[Diagnostic]) -> Optional[_Plan]:
    found = [
        (v, a)
        for v in tree.at(cst.BaseExpression, line, column)
        if isinstance(a := tree.parent.get(v), (cst.Assign, cst.AnnAssign)) and a.value is v
    ]
    if not found:
        return None
    value, assign = found[0]
    stmt = tree.parent.get(assign)
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    if isinstance(assign, cst.Assign):
        if len(assign.targets) != 1:
            return None
        target = assign.targets[0].target
    else:
        target = assign.target
    simple = isinstance(target, cst.Name) and target.value == name
    if not simple and not (
        isinstance(target, (cst.Tuple, cst.List))
        and any(isinstance(e.value, cst.Name) and e.value.value == name for e in target.elements)
    ):
        return None
    located = _block_of(tree, stmt)
    if located is None:
        return None
    block, i = located
    body = list(block.body)
    plan = _Plan(name, line, column, diags, block, i)
    # The stretch: from the creation to the first statement that closes the socket, hands it
    # on (returns, stores, yields it), rebinds or deletes it.
    k = i + 1
    while k < len(body):
        uses = _Uses(tree, name, [body[k]])
        if uses.closes or uses.escapes:
            break
        k += 1
    plan.end = k
    stretch = body[i + 1 : k]
    stretch_lines = [(tree.span(s)[0][0], tree.span(s)[1][0]) for s in stretch]
    calls = [d for d in diags if _AT_CALL in d.message]
    exits = [d for d in diags if _EXIT.search(d.message)]
    if len(calls) + len(exits) != len(diags):
        return None  # a leak at the end of the function, a rebinding: no fix
    if calls:
        if k >= len(body) or not stretch:
            return None  # never closed nor handed on in this block: nothing to protect up to
        if not all(any(a <= d.line <= b for a, b in stretch_lines) for d in calls):
            return None
        later = _Uses(tree, name, body[k + 1 :])
        after_function = _later_uses(tree, stmt, body[k], name)
        if (
            _is_close_stmt(body[k], name)
            and simple
            and later.method_only
            and not later.closes
            and not after_function
            # A module's own factory may return something that is no context manager.
            and _callee_name(value) in _SOCKET_CONSTRUCTORS
            # The comments of the dropped `close()` need a statement after it to stay above.
            and (k + 1 < len(body) or not _comments(body[k]))
        ):
            plan.kind = "with"
        else:
            plan.kind = "close-on-failure"
        # Lending it to a call is safe when this block closes it anyway (the function acts
        # as its owner); before a hand-off the call may have become the owner.
        if _Uses(tree, name, stretch).lent and not _Uses(tree, name, [body[k]]).closes:
            plan.unsafe.append(f"`{name}` is passed to a call before its hand-off, which may take it over")
    for d in exits:
        exits_here = tree.at((cst.Return, cst.Raise, cst.Continue), d.line, d.column)
        if len(exits_here) != 1:
            return None
        small = exits_here[0]
        if _inside(tree, small, stretch) and (plan.kind == "with" or (plan.kind and isinstance(small, cst.Raise))):
            continue  # the `with`, or the `except` around the stretch, closes it
        why = _exit_unsafe(tree, small, stmt, block, name)
        if why is None:
            return None
        if why:
            plan.unsafe.append(why)
        plan.inserts.append(small)
    return plan if plan.kinds else None


def _safe_plan(tree: _Tree, line: int, column: int, name: str, diags: list[Diagnostic]) -> Optional[_Plan]:
    """``_plan``, where a shape it does not foresee means no fix rather than a traceback."""
    try:
        return _plan(tree, line, column, name, diags)
    except Exception:  # noqa: BLE001 - a fix is optional; the finding is still reported
        return None


def _later_uses(tree: _Tree, creation: cst.CSTNode, close: cst.CSTNode, name: str) -> bool:
    """The name is used after ``close`` anywhere in the creation's function (or module)."""
    scope: cst.CSTNode = tree.module
    for a in tree.ancestors(creation):
        if isinstance(a, cst.FunctionDef):
            scope = a
            break
    end = tree.span(close)[1]
    for n in _names(scope):
        if n.value == name and n in tree.pos and tree.start(n) > end:
            return True
    # A loop around the block runs it again: its earlier statements come after the close too.
    for a in tree.ancestors(close):
        if a is scope:
            break
        if isinstance(a, (cst.For, cst.While)):
            return True
    return False


def _inside(tree: _Tree, node: cst.CSTNode, stmts: Sequence[cst.CSTNode]) -> bool:
    anc = tree.ancestors(node)
    return any(s is node or s in anc for s in stmts)


def _exit_unsafe(tree: _Tree, small: cst.CSTNode, creation: cst.CSTNode, block: Block, name: str) -> Optional[str]:
    """Whether ``name.close()`` may go before this exit: None when it cannot at all, "" when it
    is safe, else why it is unsafe."""
    line = tree.parent.get(small)
    if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return None
    if any(n.value == name for n in _names(small)):
        return None  # `return s.recv(4)`: the exit itself needs the socket open
    anc = tree.ancestors(small)
    if block not in anc:
        return None  # not after the creation in its block
    below = anc[: anc.index(block)]
    reasons: list[str] = []
    for a in below:
        if isinstance(a, (cst.For, cst.While)) and isinstance(small, cst.Continue):
            return None  # the next iteration of an inner loop still uses the socket
        if isinstance(a, (cst.Try, cst.TryStar)):
            if a.finalbody is not None and any(n.value == name for n in _names(a.finalbody)):
                reasons.append("a `finally` on the way uses the socket")
            if isinstance(small, cst.Raise) and a.handlers and _inside(tree, small, a.body.body):
                reasons.append("a handler may catch this `raise` and go on using the socket")
    # Every use between the creation and the exit, in source order, is a method call: the
    # socket is still bound to this name and owned here on every path.
    start = tree.span(creation)[1]
    stop = tree.start(small)
    between: list[cst.CSTNode] = []
    for n in _names(tree.module if isinstance(block, cst.Module) else block):
        if n.value == name and n in tree.pos and start < tree.start(n) < stop:
            between.append(n)
    parents_ok = True
    for use in between:
        p = tree.parent.get(use)
        if not (isinstance(p, cst.Attribute) and p.value is use and p.attr.value != "detach"):
            parents_ok = False
    if not parents_ok:
        reasons.append(f"`{name}` may be rebound or handed on before this exit")
    return "; ".join(reasons)


# --- rewriting ----------------------------------------------------------------------------


def _lead(stmt: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    assert isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    return stmt.leading_lines


def _with_lead(stmt: cst.BaseStatement, lines: Sequence[cst.EmptyLine]) -> cst.BaseStatement:
    assert isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    return stmt.with_changes(leading_lines=lines)


class _Rewrite(cst.CSTTransformer):
    def __init__(self, plans: Sequence[_Plan]) -> None:
        super().__init__()
        self.before: dict[int, str] = {}  # id(small exit statement) -> name to close
        self.blocks: dict[int, _Plan] = {}
        for p in plans:
            for s in p.inserts:
                self.before[id(s)] = p.name
            if p.kind is not None and p.block is not None:
                self.blocks[id(p.block)] = p

    def _lines(self, original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]) -> list[list[cst.BaseStatement]]:
        groups: list[list[cst.BaseStatement]] = []
        for o, u in zip(original, updated):
            if isinstance(o, cst.SimpleStatementLine) and isinstance(u, cst.SimpleStatementLine) and len(o.body) == 1 and id(o.body[0]) in self.before:
                close = cst.SimpleStatementLine([_close_call(self.before[id(o.body[0])])], leading_lines=u.leading_lines)
                groups.append([close, u.with_changes(leading_lines=())])
            else:
                groups.append([u])
        return groups

    def _small(self, original: Sequence[cst.BaseSmallStatement], updated: Sequence[cst.BaseSmallStatement]) -> list[cst.BaseSmallStatement]:
        out: list[cst.BaseSmallStatement] = []
        for o, u in zip(original, updated):
            if id(o) in self.before:
                out.append(_close_call(self.before[id(o)]))
            out.append(u)
        return out

    def leave_SimpleStatementSuite(self, original: cst.SimpleStatementSuite, updated: cst.SimpleStatementSuite) -> cst.SimpleStatementSuite:
        if any(id(o) in self.before for o in original.body):
            return updated.with_changes(body=self._small(original.body, updated.body))
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        if len(original.body) > 1 and any(id(o) in self.before for o in original.body):
            return updated.with_changes(body=self._small(original.body, updated.body))
        return updated

    def _body(self, original: Block, updated_body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        groups = self._lines(original.body, updated_body)
        plan = self.blocks.get(id(original))
        if plan is not None:
            i, k = plan.index, plan.end
            inner = [s for g in groups[i + 1 : k] for s in g]
            creation = groups[i][-1]
            new: cst.BaseStatement
            if plan.kind == "with":
                assert isinstance(creation, cst.SimpleStatementLine)
                assign = creation.body[0]
                assert isinstance(assign, (cst.Assign, cst.AnnAssign)) and assign.value is not None
                new = cst.With(
                    items=[cst.WithItem(item=assign.value, asname=cst.AsName(name=cst.Name(plan.name)))],
                    body=cst.IndentedBlock(body=inner, header=creation.trailing_whitespace),
                    leading_lines=creation.leading_lines,
                )
                rest = [s for g in groups[k + 1 :] for s in g]
                # The comments of the dropped `close()` (above it, after it) go above what
                # follows the `with`, after a blank line that was there.
                dropped = groups[k][-1]
                assert isinstance(dropped, cst.SimpleStatementLine)
                closing = [*dropped.leading_lines, *_comments(dropped)[len([ln for ln in dropped.leading_lines if ln.comment]) :]]
                if rest and closing:
                    rest[0] = _with_lead(rest[0], (*closing, *_lead(rest[0])))
                return [s for g in groups[:i] for s in g] + [new] + rest
            # A blank line or comment before the stretch now goes before the `try`.
            lead = _lead(inner[0])
            inner[0] = _with_lead(inner[0], ())
            handler = cst.ExceptHandler(
                body=cst.IndentedBlock(
                    body=[cst.SimpleStatementLine([_close_call(plan.name)]), cst.SimpleStatementLine([cst.Raise()])]
                ),
                type=cst.Name("BaseException"),
            )
            new = cst.Try(body=cst.IndentedBlock(body=inner), handlers=[handler], leading_lines=lead)
            return [s for g in groups[: i + 1] for s in g] + [new] + [s for g in groups[k:] for s in g]
        return [s for g in groups for s in g]

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._body(original, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._body(original, updated.body))


def _rewrite(tree: _Tree, plans: Sequence[_Plan]) -> Optional[str]:
    try:
        return tree.module.visit(_Rewrite(plans)).code
    except Exception:  # noqa: BLE001 - a rewrite libcst refuses is simply not offered
        return None


# --- verification and the loop --------------------------------------------------------------


def _key(d: Diagnostic) -> tuple[str, str]:
    return d.code, re.sub(r"\d+", "N", d.message)


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fixed>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _verified(new_text: Optional[str], before: list[Diagnostic], gone: Sequence[tuple[int, str]], check: Check) -> Optional[list[Diagnostic]]:
    """The diagnostics of ``new_text`` when it parses, has no leak of the sockets ``gone`` (their
    creation lines stay where they were: no rewrite moves a creation), and no finding the old
    text did not have."""
    if new_text is None or not _parses(new_text):
        return None
    after = check(new_text)
    if any(d.code.startswith("SKL0") or d.code == "SKL900" for d in after):
        return None
    for d in after:
        c = _creation(d)
        if c is not None and (c[0], c[2]) in gone:
            return None
    if Counter(_key(d) for d in after) - Counter(_key(d) for d in before):
        return None
    return after


def _groups(diags: Iterable[Diagnostic]) -> dict[tuple[int, int, str], list[Diagnostic]]:
    out: dict[tuple[int, int, str], list[Diagnostic]] = {}
    for d in diags:
        c = _creation(d)
        if c is not None and d.code.startswith("SKL1"):
            out.setdefault(c, []).append(d)
    return out


def candidate_fixes(text: str, diags: list[Diagnostic], check: Check) -> list[SocketFix]:
    """Every socket's fix on ``text`` alone, verified; ``diags`` are ``check(text)``."""
    groups = {k: v for k, v in _groups(diags).items() if all(d.code in FIXABLE_CODES for d in v)}
    if not groups:
        return []
    tree = _parse(text)
    if tree is None:
        return []
    out: list[SocketFix] = []
    for (line, col, name), ds in sorted(groups.items()):
        plan = _safe_plan(tree, line, col, name, ds)
        if plan is None:
            continue
        new_text = _rewrite(tree, [plan])
        if _verified(new_text, diags, [(line, name)], check) is None or new_text is None:
            continue
        out.append(SocketFix(line, col, name, plan.kinds, not plan.unsafe, "; ".join(plan.unsafe), tuple(ds), new_text))
    return out


def _parse(text: str) -> Optional[_Tree]:
    try:
        return _Tree(cst.parse_module(text))
    except Exception:  # noqa: BLE001 - libcst rejects it (or nests too deep): no fixes
        return None


def fix_text(text: str, check: Check, *, unsafe: bool = False, max_rounds: int = MAX_ROUNDS) -> FixResult:
    """Apply fixes until none is left (or ``max_rounds``): each round plans every socket on the
    current text, applies together those that do not touch the same block, and verifies the
    result; when the combination fails, the first fix alone is applied."""
    result = FixResult(text, original=text)
    diags = check(text)
    for _ in range(max_rounds):
        fixes = [f for f in candidate_fixes(result.text, diags, check) if f.safe or unsafe]
        if not fixes:
            break
        tree = _parse(result.text)
        combined: Optional[list[Diagnostic]] = None
        chosen: list[SocketFix] = []
        if tree is not None and len(fixes) > 1:
            plans: list[_Plan] = []
            used: set[int] = set()
            for f in fixes:
                plan = _safe_plan(tree, f.line, f.column, f.name, list(f.diagnostics))
                if plan is None:
                    continue
                touched = {id(plan.block)} | {id(tree.parent.get(s)) for s in plan.inserts}
                if touched & used:
                    continue
                used |= touched
                plans.append(plan)
                chosen.append(f)
            new_text = _rewrite(tree, plans) if plans else None
            combined = _verified(new_text, diags, [(f.line, f.name) for f in chosen], check) if new_text else None
            if combined is not None and new_text is not None:
                result.text, diags = new_text, combined
                result.applied.extend(chosen)
                continue
        first = fixes[0]
        after = check(first.new_text)
        result.text, diags = first.new_text, after
        result.applied.append(first)
    return result


# --- bytes ---------------------------------------------------------------------------------


def encoding_of(data: bytes) -> Optional[str]:
    """The encoding ``data`` is decoded with, when text written back with it gives the same
    bytes (BOM included); None for anything else (no fix is written then)."""
    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        codecs.lookup(enc)
        if data.decode(enc).encode(enc) != data:
            return None
    except (SyntaxError, LookupError, UnicodeError):
        return None
    return enc


def fix_file(
    path: str, data: bytes, settings: Settings, *, unsafe: bool = False, view: Optional[ModuleView] = None
) -> tuple[Optional[bytes], FixResult]:
    """``fix_text`` on a file's bytes: the new bytes (None when nothing changed, or when the
    file's encoding cannot write its text back byte for byte)."""
    enc = encoding_of(data)
    if enc is None:
        return None, FixResult("")
    text = data.decode(enc)  # "utf-8-sig" drops the BOM here and writes it back below
    result = fix_text(text, checker(path, settings, view, enc), unsafe=unsafe)
    if not result.applied:
        return None, result
    try:
        return result.text.encode(enc), result
    except UnicodeError:
        return None, FixResult(text)


def checker(path: str, settings: Settings, view: Optional[ModuleView] = None, encoding: str = "utf-8") -> Check:
    """``check(text)``: the diagnostics socklint reports for ``text`` as the file ``path``
    (encoded as the file is, so that a coding cookie still reads it right)."""
    from socklint.api import check_source

    def check(text: str) -> list[Diagnostic]:
        try:
            data = text.encode(encoding)
        except UnicodeError:
            return [Diagnostic(path, 1, 1, 1, 1, "SKL002", "cannot encode the fixed text", CODES["SKL002"].severity)]
        return check_source(path, data, settings, view=view)

    return check


def unified_diff(path: str, old: str, new: str) -> str:
    import difflib
    import os

    path = os.path.normpath(path)  # "./a.py" as "a.py"
    # ruff's headers: the path on both lines (`patch -p0` and `git apply -p0` take it).
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=path, tofile=path)
    out = []
    for ln in lines:
        out.append(ln if ln.endswith(("\n", "\r")) else ln + "\n\\ No newline at end of file\n")
    return "".join(out)


def line_edit(old: str, new: str) -> tuple[int, int, str]:
    """The smallest replacement of whole lines that turns ``old`` into ``new``: (first line,
    end line exclusive, both 0-based in ``old``, replacement text)."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    pre = 0
    while pre < len(a) and pre < len(b) and a[pre] == b[pre]:
        pre += 1
    post = 0
    while post < len(a) - pre and post < len(b) - pre and a[len(a) - 1 - post] == b[len(b) - 1 - post]:
        post += 1
    return pre, len(a) - post, "".join(b[pre : len(b) - post])


# --- many files (the CLI) -------------------------------------------------------------------


@dataclass
class FileFix:
    """A file's fixed bytes, from the bytes ``old`` it was read with."""

    path: str
    old: bytes
    new: bytes
    result: FixResult


def files_with_fixable(diags: Iterable[Diagnostic]) -> list[str]:
    """The files (in first-seen order) with a finding some fix may remove."""
    return list(dict.fromkeys(d.path for d in diags if is_fixable(d)))


def fix_files(
    paths: Iterable[str], settings_for: Callable[[str], Settings], read: Callable[[str], Optional[bytes]], *, unsafe: bool = False
) -> list[FileFix]:
    """Fix each file alone (without its project's index: a finding only the index gives is left
    for the next run to report). Files that cannot be read or written back are skipped."""
    out: list[FileFix] = []
    for path in paths:
        data = read(path)
        if data is None:
            continue
        new, result = fix_file(path, data, settings_for(path), unsafe=unsafe)
        if new is not None and new != data:
            out.append(FileFix(path, data, new, result))
    return out


def fixable_findings(
    diags: Sequence[Diagnostic], settings_for: Callable[[str], Settings], read: Callable[[str], Optional[bytes]]
) -> dict[Diagnostic, bool]:
    """The findings of ``diags`` that a verified fix removes, each with whether that fix is
    safe: the text output marks them ``[*]``."""
    out: dict[Diagnostic, bool] = {}
    for path in files_with_fixable(diags):
        data = read(path)
        enc = encoding_of(data) if data is not None else None
        if data is None or enc is None:
            continue
        check = checker(path, settings_for(path), None, enc)
        text = data.decode(enc)
        mine = [d for d in diags if d.path == path]
        for f in candidate_fixes(text, check(text), check):
            keys = {(d.line, d.column, d.code) for d in f.diagnostics}
            out.update((d, f.safe) for d in mine if (d.line, d.column, d.code) in keys)
    return out
