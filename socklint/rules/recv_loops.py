"""SKL105: a ``while`` loop that reads a stream socket and never looks at what ``recv``
returned. ``b''`` (or 0 from ``recv_into``) is the peer's FIN; a loop that ignores it spins
or never ends once the peer closes.

The interpreter records each ``while`` it enters with the names' sockets at that point
(``FunctionFacts.loop_entries``); this rule reads the loop's syntax against them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional

import libcst as cst

from socklint.analysis.cstutil import target_names, walk
from socklint.analysis.facts import Finding, FunctionFacts, LoopEntry, Resource
from socklint.rules.base import RuleContext

CODES = ("SKL105",)

# Calls that only collect what `recv` returned: the loop never looks at it.
_BUFFER_SINKS = frozenset({"append", "extend", "write", "join", "feed"})
# What a read returns once the peer has closed: b'' from `recv`, a count of 0 from `recv_into`.
_SOCKET_READS: Mapping[str, object] = {"recv": b"", "recv_into": 0}


class _EmptyRead:
    """What a reader's ``read()`` returns at end of stream: ``b''`` in binary mode
    (``makefile("rb")``), ``''`` in text mode (``makefile("r")``); the mode is not known."""

    def __eq__(self, other: object) -> bool:
        return other in (b"", "")

    def __hash__(self) -> int:
        return 0

    def __len__(self) -> int:
        return 0

    def __contains__(self, item: object) -> bool:
        return False


# The same for the reads of a reader made from a socket (`sock.makefile("rb")`): `read(n)`,
# `read1(n)` and `readline()` return b'' (or '') at end of stream, `readinto(b)` returns 0;
# none of them raises.
_READER_READS: Mapping[str, object] = {
    "read": _EmptyRead(),
    "read1": _EmptyRead(),
    "readline": _EmptyRead(),
    "readinto": 0,
    "readinto1": 0,
}


def check_recv_loops(ctx: RuleContext) -> Iterable[Finding]:
    for loop, call in find_recv_loops(ctx.facts):
        name = ctx.code_for(call.func)
        yield Finding(
            "SKL105",
            call,
            f"`{name}()` in this loop is never checked for end of stream (b'' / 0): once the peer closes, the loop spins or never ends",
            (),
            ((loop, "the loop"), (call, "the result is not tested for b''")),
        )


def find_recv_loops(facts: FunctionFacts) -> list[tuple[cst.While, cst.Call]]:
    """Each (loop, recv call) to report, once per call, in the order the loops were entered."""
    found: list[tuple[cst.While, cst.Call]] = []
    for entry in facts.loop_entries:
        _check_loop(entry, facts.resources, found)
    return found


def _peek(e: cst.BaseExpression, env: Mapping[str, frozenset[int]]) -> frozenset[int]:
    return env.get(e.value, frozenset()) if isinstance(e, cst.Name) else frozenset()


def _all_dgram(rids: frozenset[int], resources: Mapping[int, Resource]) -> bool:
    """Every tracked socket among ``rids`` is a datagram socket (and there is one)."""
    res = [resources[r] for r in rids if r in resources]
    return bool(res) and all(r.sock_type == "dgram" for r in res)


def _check_loop(entry: LoopEntry, resources: Mapping[int, Resource], found: list[tuple[cst.While, cst.Call]]) -> None:
    """A ``while`` loop that reads a stream socket must look at what ``recv`` returned:
    ``b''`` (or 0 from ``recv_into``) is the peer's FIN, and nothing else will end it.
    Reported only when the result provably goes nowhere but a buffer or a byte count:
    appended, added with ``+``/``+=``, measured with ``len()``, or assigned to names (and
    names computed from them) that are never tested, returned or passed on; the loop's own
    test counts only when it ends the loop on an empty read."""
    node = entry.node
    read = _stream_reads(entry, resources, found)
    if read is None:
        return
    parent, reads = read
    if not reads or _counted_loop(node) or _polled_loop(node, reads):
        return
    loop_names: set[str] = set()
    for t in walk(node.test):
        if isinstance(t, cst.Name):
            loop_names.add(t.value)
        if isinstance(t, cst.Call) and isinstance(t.func, cst.Attribute) and t.func.attr.value in _SOCKET_READS:
            return  # `while data := s.recv(n):` / `while s.recv_into(buf):`
    tested: set[str] = set()
    used: set[str] = set()
    # `size = len(chunk)`: names computed from others in the body (an update of the target
    # itself, `view = view[n:]`, `buf = buf + chunk`, is none).
    computed: list[tuple[list[str], cst.BaseExpression]] = []
    by_name: dict[str, list[int]] = {}  # name -> the computed entries whose value reads it
    for n in walk(node.body):
        if isinstance(n, (cst.If, cst.While, cst.Assert, cst.IfExp)):
            for t in walk(n.test):
                if isinstance(t, cst.Name):
                    tested.add(t.value)
        elif isinstance(n, (cst.Return, cst.Yield, cst.Raise)):
            for t in walk(n):
                if isinstance(t, cst.Name):
                    used.add(t.value)
        elif isinstance(n, (cst.Assign, cst.AnnAssign)) and n.value is not None:
            targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
            names = [nm for t in targets for nm in target_names(t)]
            mentioned = {t.value for t in walk(n.value) if isinstance(t, cst.Name)}
            if names and not mentioned & set(names):
                for nm in mentioned:
                    by_name.setdefault(nm, []).append(len(computed))
                computed.append((names, n.value))
        elif isinstance(n, cst.Call):
            f = n.func
            if (
                isinstance(f, cst.Attribute)
                and f.attr.value in _BUFFER_SINKS | _SOCKET_READS.keys()
                and not (isinstance(f.value, cst.Name) and f.value.value == "self")
            ):
                continue
            if isinstance(f, cst.Name) and f.value == "len":
                continue  # a length counts bytes: 0 at end of stream, and the count stalls
            for a in n.args:
                for t in walk(a.value):
                    if isinstance(t, cst.Name):
                        used.add(t.value)
    for call, empty in reads:
        if _leaves_loop_after(call, parent):
            continue  # `x = s.recv(n); break`: the loop cannot spin on this read
        p = parent.get(id(call))
        # Climb through harmless wrappers: `chunk + s.recv(n)`, `await f.read(n)`.
        climbed: list[cst.CSTNode] = []
        while isinstance(p, (cst.BinaryOperation, cst.Await)):
            climbed.append(p)
            p = parent.get(id(p))
        if isinstance(p, cst.Arg):
            outer = parent.get(id(p))
            if (
                isinstance(outer, cst.Call)
                and isinstance(outer.func, cst.Attribute)
                and outer.func.attr.value in _BUFFER_SINKS
                # `self.feed(data)`: the object's own parser, which sees b'' as end of
                # stream; a buffer is
                # `self.buf.append(data)` or `parser.feed(data)`.
                and not (isinstance(outer.func.value, cst.Name) and outer.func.value.value == "self")
            ):
                found.append((node, call))
                return
            continue  # handed to a function that may check it
        if isinstance(p, cst.AugAssign):
            found.append((node, call))
            return
        if isinstance(p, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in p.targets] if isinstance(p, cst.Assign) else [p.target]
            names = [nm for t in targets for nm in target_names(t)]
            if not names:
                continue
            if climbed and any(_mentions(b, set(names)) for b in climbed if isinstance(b, cst.BinaryOperation)):
                found.append((node, call))  # `buf = buf + s.recv(n)`: an accumulation
                return
            values: dict[str, object] = {nm: empty for nm in names} if not climbed and len(names) == 1 else {}
            if not _checked(names, values, (computed, by_name), tested, used, loop_names, node.test):
                found.append((node, call))
                return
        # Anything else (a test, a return, a comparison) looks at the data.


def _checked(
    names: list[str],
    values: dict[str, object],
    computed: tuple[list[tuple[list[str], cst.BaseExpression]], dict[str, list[int]]],
    tested: set[str],
    used: set[str],
    loop_names: set[str],
    loop_test: cst.BaseExpression,
) -> bool:
    """Whether the data bound to ``names`` (or a name the body computes from it whose value
    at end of stream is known, ``size = len(chunk)``) is tested, returned or passed on; in
    the loop's own test only when that test does not hold for an empty read
    (``while len(size) != 4`` holds at ``b''``: no check). ``computed``: the body's
    assignments ``targets = value`` and, per name, the entries whose value reads it."""
    seen = set(names)
    if seen & (tested | used):
        return True
    entries, by_name = computed
    todo = list(names)
    done: set[int] = set()
    while todo:
        for i in by_name.get(todo.pop(), ()):
            if i in done:
                continue
            done.add(i)
            targets, value = entries[i]
            v = _when_empty(value, values) if len(targets) == 1 else _UNKNOWN
            if v is _UNKNOWN:
                # `text = chunk.decode()`, `i = chunk.find(b"\n")`: what a test of it says
                # about b'' is unknown, and such tests (for a delimiter) are what this rule
                # is there to catch.
                continue
            t = targets[0]
            if t not in seen:
                seen.add(t)
                values[t] = v
                todo.append(t)
    if seen & (tested | used):
        return True
    if not seen & loop_names:
        return False
    return _truth(_when_empty(loop_test, {nm: values.get(nm, _UNKNOWN) for nm in seen})) is not True


def _mentions(node: cst.CSTNode, names: set[str]) -> bool:
    return any(isinstance(t, cst.Name) and t.value in names for t in walk(node))


class _Unknown:
    """A value the loop's test cannot be evaluated to."""


_UNKNOWN = _Unknown()

_COMPARE: dict[type[cst.BaseCompOp], Callable[[Any, Any], Any]] = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
    cst.Is: operator.is_,
    cst.IsNot: operator.is_not,
    cst.In: lambda a, b: operator.contains(b, a),
    cst.NotIn: lambda a, b: not operator.contains(b, a),
}
_ARITH: dict[type[cst.BaseBinaryOp], Callable[[Any, Any], Any]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
}


def _truth(v: object) -> Optional[bool]:
    return None if v is _UNKNOWN else bool(v)


def _when_empty(e: cst.BaseExpression, values: Mapping[str, object]) -> object:
    """The value of ``e`` when the names in ``values`` hold what an empty read gave them
    (``b''``, ``0``, ``len(b'')``); ``_UNKNOWN`` where anything else decides it. Only
    literals, ``len()``, ``not``, ``and``/``or``, comparisons, ``+`` and ``-``."""
    try:
        return _eval(e, values)
    except Exception:  # noqa: BLE001 - `b'' < 4`, `0 in b''`: a TypeError decides nothing
        return _UNKNOWN


def _eval(e: cst.BaseExpression, values: Mapping[str, object]) -> object:
    if isinstance(e, cst.Name):
        if e.value in values:
            return values[e.value]
        return {"None": None, "True": True, "False": False}.get(e.value, _UNKNOWN)
    if isinstance(e, (cst.Integer, cst.SimpleString, cst.ConcatenatedString)):
        return e.evaluated_value
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value == "len" and len(e.args) == 1:
        v = _eval(e.args[0].value, values)
        return _UNKNOWN if v is _UNKNOWN or not isinstance(v, (bytes, str, _EmptyRead)) else len(v)
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
        t = _truth(_eval(e.expression, values))
        return _UNKNOWN if t is None else not t
    if isinstance(e, cst.BooleanOperation):
        sides = (_truth(_eval(e.left, values)), _truth(_eval(e.right, values)))
        if isinstance(e.operator, cst.And):
            return False if False in sides else (_UNKNOWN if None in sides else True)
        return True if True in sides else (_UNKNOWN if None in sides else False)
    if isinstance(e, cst.BinaryOperation) and type(e.operator) in _ARITH:
        a, b = _eval(e.left, values), _eval(e.right, values)
        return _UNKNOWN if a is _UNKNOWN or b is _UNKNOWN else _ARITH[type(e.operator)](a, b)
    if isinstance(e, cst.Comparison):
        left = _eval(e.left, values)
        result: object = True
        for target in e.comparisons:
            right = _eval(target.comparator, values)
            op = _COMPARE.get(type(target.operator))
            if op is None or left is _UNKNOWN or right is _UNKNOWN:
                result = _UNKNOWN
            elif not op(left, right):
                return False
            left = right
        return result
    return _UNKNOWN


def _stream_reads(
    entry: LoopEntry, resources: Mapping[int, Resource], found: list[tuple[cst.While, cst.Call]]
) -> Optional[tuple[dict[int, cst.CSTNode], list[tuple[cst.Call, object]]]]:
    """The reads of the loop's body that return ``b''`` (or 0) at end of stream, each with that
    value: ``recv(n)`` / ``recv_into(buf)`` on a socket that may be a stream one, and the
    reads of a reader made from a socket (``f = sock.makefile("rb")``); with each node's
    parent; None when the body holds a nested scope."""
    parent: dict[int, cst.CSTNode] = {}
    reads: list[tuple[cst.Call, object]] = []
    stack: list[cst.CSTNode] = [entry.node.body]
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return None
        for c in n.children:
            parent[id(c)] = n
            stack.append(c)
        if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)) or any(c is n for _, c in found):
            continue  # nested loops: report once
        method, receiver = n.func.attr.value, n.func.value
        if isinstance(receiver, cst.Name) and receiver.value in entry.readers and method in _READER_READS:
            reads.append((n, _READER_READS[method]))
        elif (
            method in _SOCKET_READS
            and n.args  # socket.recv(bufsize); multiprocessing's Connection.recv() takes none
            and not any(a.keyword is not None for a in n.args)  # socket.recv takes no keywords
            and not (isinstance(receiver, cst.Name) and receiver.value in ("self", "cls"))
        ):
            if _all_dgram(_peek(receiver, entry.env), resources):
                continue  # an empty datagram is a valid datagram
            reads.append((n, _SOCKET_READS[method]))
    return parent, reads


def _counted_loop(node: cst.While) -> bool:
    """``while count:`` whose body always steps ``count`` by a constant (``count -= 1``):
    at most so many passes, whatever ``recv`` returns. ``remaining -= len(data)`` is no bound:
    it stalls on ``b''``."""
    names = {t.value for t in walk(node.test) if isinstance(t, cst.Name)}
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.AugAssign)
                and isinstance(small.target, cst.Name)
                and small.target.value in names
                and isinstance(small.operator, (cst.AddAssign, cst.SubtractAssign))
                and isinstance(small.value, cst.Integer)
                and small.value.value not in ("0", "00")
            ):
                return True
    return False

def _polled_loop(node: cst.While, reads: list[tuple[cst.Call, object]]) -> bool:
    """``while remaining:`` whose body sets every name of the test, unconditionally, from
    another call on the object it reads (``remaining = sslsock.pending()``): the object says
    how much is left, and at end of stream nothing is, so the loop ends without looking at
    the data."""
    names = {t.value for t in walk(node.test) if isinstance(t, cst.Name)}
    if not names or any(isinstance(t, cst.Call) for t in walk(node.test)):
        return False
    receivers = [call.func.value for call, _ in reads if isinstance(call.func, cst.Attribute)]
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    polled: set[str] = set()
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and isinstance(small.value, cst.Call)
                and isinstance(small.value.func, cst.Attribute)
                and small.value.func.attr.value not in _SOCKET_READS
                and small.value.func.attr.value not in _READER_READS
                and not any(small.value is call for call, _ in reads)
                and any(small.value.func.value.deep_equals(r) for r in receivers)
            ):
                polled.add(small.targets[0].target.value)
    return names <= polled


def _leaves_loop_after(call: cst.CSTNode, parent: dict[int, cst.CSTNode]) -> bool:
    """The statement holding ``call`` is followed, in its block, by a plain break/return."""
    stmt: Optional[cst.CSTNode] = call
    while stmt is not None and not isinstance(stmt, cst.SimpleStatementLine):
        stmt = parent.get(id(stmt))
    block = parent.get(id(stmt)) if stmt is not None else None
    if stmt is None or not isinstance(block, cst.IndentedBlock):
        return False
    after = False
    for sibling in block.body:
        if sibling is stmt:
            after = True
            continue
        if after and isinstance(sibling, cst.SimpleStatementLine):
            if any(isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in sibling.body):
                return True
    # `try: data = s.recv(n)` / `except OSError: retry` / `else: break`: a read that
    # returns, b'' included, leaves the loop.
    holder = parent.get(id(block))
    if isinstance(holder, cst.Try) and holder.body is block and holder.orelse is not None:
        body = holder.orelse.body
        if isinstance(body, cst.IndentedBlock):
            for sibling in body.body:
                if isinstance(sibling, cst.SimpleStatementLine) and any(
                    isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in sibling.body
                ):
                    return True
    return False
