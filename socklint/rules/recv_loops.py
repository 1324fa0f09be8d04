"""SKL105: a ``while`` loop that reads a stream socket and never looks at what ``recv``
returned. ``b''`` (or 0 from ``recv_into``) is the peer's FIN; a loop that ignores it spins
or never ends once the peer closes.

The interpreter records each ``while`` it enters with the names' sockets at that point
(``FunctionFacts.loop_entries``); this rule reads the loop's syntax against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Optional

import libcst as cst

from socklint.analysis.cstutil import target_names, walk
from socklint.analysis.facts import Finding, FunctionFacts, Resource
from socklint.rules.base import RuleContext

CODES = ("SKL105",)

# Calls that only collect what `recv` returned: the loop never looks at it.
_BUFFER_SINKS = frozenset({"append", "extend", "write", "join", "feed"})


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
    for node, env in facts.loop_entries:
        _check_loop(node, env, facts.resources, found)
    return found


def _peek(e: cst.BaseExpression, env: Mapping[str, frozenset[int]]) -> frozenset[int]:
    return env.get(e.value, frozenset()) if isinstance(e, cst.Name) else frozenset()


def _all_dgram(rids: frozenset[int], resources: Mapping[int, Resource]) -> bool:
    """Every tracked socket among ``rids`` is a datagram socket (and there is one)."""
    res = [resources[r] for r in rids if r in resources]
    return bool(res) and all(r.sock_type == "dgram" for r in res)


def _check_loop(
    node: cst.While, env: Mapping[str, frozenset[int]], resources: Mapping[int, Resource], found: list[tuple[cst.While, cst.Call]]
) -> None:
    """A ``while`` loop that reads a stream socket must look at what ``recv`` returned:
    ``b''`` (or 0 from ``recv_into``) is the peer's FIN, and nothing else will end it.
    Reported only when the result provably goes nowhere but a buffer: appended, added
    with ``+``/``+=``, or assigned to names never tested, returned or passed on."""
    read = _stream_reads(node, env, resources, found)
    if read is None:
        return
    parent, recvs = read
    if not recvs or _counted_loop(node):
        return
    tested: set[str] = set()
    used: set[str] = set()
    for t in walk(node.test):
        if isinstance(t, cst.Name):
            tested.add(t.value)
        if isinstance(t, cst.Call) and isinstance(t.func, cst.Attribute) and t.func.attr.value in ("recv", "recv_into"):
            return  # `while data := s.recv(n):` / `while s.recv_into(buf):`
    for n in walk(node.body):
        if isinstance(n, (cst.If, cst.While, cst.Assert, cst.IfExp)):
            for t in walk(n.test):
                if isinstance(t, cst.Name):
                    tested.add(t.value)
        elif isinstance(n, (cst.Return, cst.Yield, cst.Raise)):
            for t in walk(n):
                if isinstance(t, cst.Name):
                    used.add(t.value)
        elif isinstance(n, cst.Call):
            f = n.func
            if (
                isinstance(f, cst.Attribute)
                and f.attr.value in _BUFFER_SINKS | {"recv", "recv_into"}
                and not (isinstance(f.value, cst.Name) and f.value.value == "self")
            ):
                continue
            for a in n.args:
                for t in walk(a.value):
                    if isinstance(t, cst.Name):
                        used.add(t.value)
    for call in recvs:
        if _leaves_loop_after(call, parent):
            continue  # `x = s.recv(n); break`: the loop cannot spin on this read
        p = parent.get(id(call))
        # Climb through harmless wrappers: `chunk + s.recv(n)`, `(s.recv(n))`.
        while isinstance(p, (cst.BinaryOperation,)):
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
            if names and not any(nm in tested or nm in used for nm in names):
                found.append((node, call))
                return
        # Anything else (a test, a return, a comparison) looks at the data.

def _stream_reads(
    node: cst.While, env: Mapping[str, frozenset[int]], resources: Mapping[int, Resource], found: list[tuple[cst.While, cst.Call]]
) -> Optional[tuple[dict[int, cst.CSTNode], list[cst.Call]]]:
    """The ``recv(n)`` / ``recv_into(buf)`` calls of the loop's body on a socket that may be a
    stream one, with each node's parent; None when the body holds a nested scope."""
    parent: dict[int, cst.CSTNode] = {}
    recvs: list[cst.Call] = []
    stack: list[cst.CSTNode] = [node.body]
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return None
        for c in n.children:
            parent[id(c)] = n
            stack.append(c)
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value in ("recv", "recv_into")
            and n.args  # socket.recv(bufsize); multiprocessing's Connection.recv() takes none
            and not any(a.keyword is not None for a in n.args)  # socket.recv takes no keywords
            and not (isinstance(n.func.value, cst.Name) and n.func.value.value in ("self", "cls"))
            and not any(c is n for _, c in found)  # nested loops: report once
        ):
            if _all_dgram(_peek(n.func.value, env), resources):
                continue  # an empty datagram is a valid datagram
            recvs.append(n)
    return parent, recvs


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
