"""Statements: the transfer functions of simple and compound statements (``if``, loops,
``try``/``except``/``finally``, ``with``, ``match``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Optional, Union

import libcst as cst

from socklint.analysis.compat import python3_constant, raises_on_python3
from socklint.analysis.cstutil import const_true, nonempty_iterable, outer_call, target_names, walk
from socklint.analysis.facts import FAIL_CONFIG, FAIL_IO, FAIL_PROTOCOL, Step
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.frames import (
    EXC_ANY,
    EXC_CANCEL,
    EXC_OS,
    EXC_OTHER,
    FinallyFrame,
    LoopFrame,
    TryFrame,
)
from socklint.analysis.interp_core import NO_ASSIGNMENT, Assignment, InterpreterCore
from socklint.analysis.lattice import EMPTY, Key, Obligation, State, Val, join, join_all, same_facts


class StatementsMixin(InterpreterCore):

    # ------------------------------------------------------------------ blocks
    def exec_block(self, stmts: Sequence[cst.CSTNode], st: Optional[State]) -> Optional[State]:
        for s in stmts:
            if st is None:
                return None
            st = self.exec_stmt(s, st)
        return st

    def exec_stmt(self, s: cst.CSTNode, st: State) -> Optional[State]:
        # A statement costs in proportion to the sockets alive across it (states are copied
        # and joined per socket): charge the budget the same way, so it bounds wall time.
        self._tick(1 + len(st.obs))
        if isinstance(s, cst.SimpleStatementLine):
            cur: Optional[State] = st
            for small in s.body:
                if cur is None:
                    return None
                self.stmt_node = s
                cur = self.exec_small(small, s, cur)
                if cur is not None:
                    self._drop_temporaries(cur, s)
            return cur
        if isinstance(s, cst.If):
            return self.exec_if(s, st)
        if isinstance(s, cst.For):
            return self.exec_for(s, st)
        if isinstance(s, cst.While):
            return self.exec_while(s, st)
        if isinstance(s, (cst.Try, cst.TryStar)):
            return self.exec_try(s, st)
        if isinstance(s, cst.With):
            return self.exec_with(s, st)
        if isinstance(s, cst.FunctionDef):
            self._capture(st, s, s.body)
            self._rebind(st, s.name.value, EMPTY, s)
            return st
        if isinstance(s, cst.ClassDef):
            self._capture(st, s, s.body)
            self._rebind(st, s.name.value, EMPTY, s)
            return st
        if isinstance(s, cst.Match):
            return self.exec_match(s, st)
        if isinstance(s, cst.SimpleStatementSuite):
            return self.exec_block(s.body, st)
        if isinstance(s, cst.BaseSmallStatement):
            # `if not data: return None`: the statements of a one-line suite run as they would
            # on lines of their own (a `return` there is an exit like any other).
            self.stmt_node = s
            after = self.exec_small(s, s, st)
            if after is not None:
                self._drop_temporaries(after, s)
            return after
        # Unknown statement: conservatively evaluate the expressions it contains.
        for child in s.children:
            if isinstance(child, cst.BaseExpression):
                self.ev(child, st)
        return st

    def _drop_temporaries(self, st: State, stmt: cst.CSTNode) -> None:
        dropped = [k for k, ob in st.obs.items() if k[1] is None and not ob.may]
        for k in dropped:
            ob = st.obs.pop(k)
            if self.expect_raise:
                # `with self.assertRaises(OSError): socket.create_connection(addr)`: the
                # statement is there to fail; its unused result is not a leak.
                continue
            self._record_leak(k[0], None, ob, "drop", stmt)

    # ------------------------------------------------------------------ small statements
    def exec_small(self, s: cst.BaseSmallStatement, line: cst.CSTNode, st: State) -> Optional[State]:
        if isinstance(s, cst.Expr):
            return self._exec_expr(s, st)
        if isinstance(s, cst.Assign):
            return self._exec_assignment([t.target for t in s.targets], s.value, s, st)
        if isinstance(s, cst.AnnAssign):
            return st if s.value is None else self._exec_assignment([s.target], s.value, s, st)
        if isinstance(s, cst.AugAssign):
            v = self.ev(s.value, st)
            self.ev(s.target, st)
            if v.contained:
                self._dispose(st, v.contained, s, "escape")  # `sockets += [a, b]`
            return st
        if isinstance(s, cst.Return):
            if s.value is not None:
                v = self.ev(s.value, st)
                self._dispose(st, v.reach | v.rids, s, "escape")
            ei = self._exit("return", s)
            self._rekey(st, ei)
            self.jump("return", st)
            return None
        if isinstance(s, cst.Raise):
            self._exec_raise(s, st)
            return None
        if isinstance(s, cst.Assert):
            return self._exec_assert(s, st)
        if isinstance(s, (cst.Break, cst.Continue)):
            self._exec_loop_jump(s, st)
            return None
        if isinstance(s, cst.Del):
            for n in target_names(s.target):
                self._rebind(st, n, EMPTY, s, deleted=True)
            for node in walk(s.target):
                if isinstance(node, (cst.Attribute, cst.Subscript)):
                    self.ev(node, st)
                    break
            return st
        if isinstance(s, (cst.Global, cst.Nonlocal)):
            for item in s.names:
                self.global_names.add(item.name.value)
            return st
        if isinstance(s, (cst.Import, cst.ImportFrom)):
            return self._exec_import(s, st)
        if isinstance(s, cst.Pass):
            return st
        # TypeAlias and future statements: evaluate what they contain.
        for child in s.children:
            if isinstance(child, cst.BaseExpression):
                self.ev(child, st)
        return st

    def _exec_expr(self, s: cst.Expr, st: State) -> Optional[State]:
        value = s.value
        if isinstance(value, cst.Call) and self.raises.is_noreturn(value):
            self.ev(value, st)
            return None
        if isinstance(value, cst.Call) and self.raises.always_raises(value):
            # `self._handle_error(payload["error"])`, a module-local function that raises on
            # every path: the call raises (a raise point, as any call) and never returns.
            self.ev(value, st)
            return None
        if isinstance(value, cst.Call) and self.raises.is_test_failure(value):
            # `self.fail("should have raised")`: the test fails like `assert False`.
            for a in value.args:
                self.ev(a.value, st)
            ei = self._exit("assert", s, cls="AssertionError")
            self._rekey(st, ei)
            self.jump("raise", st, "AssertionError")
            return None
        self.ev(value, st)
        return st

    def _exec_assignment(
        self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression, s: cst.BaseSmallStatement, st: State
    ) -> State:
        names = frozenset(n for t in targets for n in target_names(t))
        self.assignment = Assignment(names, outer_call(value))
        try:
            val = self.ev(value, st)
            for t in targets:
                self._assign(st, t, val, s)
                self._assign_atom(st, t, value)
        finally:
            self.assignment = NO_ASSIGNMENT
        return st

    def _exec_raise(self, s: cst.Raise, st: State) -> None:
        cls = EXC_ANY
        if isinstance(s.exc, cst.Call) and self._args_only_exception(s.exc):
            # `raise ConnectionError("no greeting from", sock)`: building the exception fails
            # nothing and takes nothing over; only what its arguments compute can raise. (An
            # exception class whose `__init__` stores the socket carries it to the handler.)
            self.ev(s.exc.func, st)
            for a in s.exc.args:
                self.ev(a.value, st)
        elif s.exc is not None:
            self.ev(s.exc, st)
        if s.exc is not None:
            cls = self.raises.raised_class(s.exc, self.caught_cls[-1] if self.caught_cls else None)
        elif self.caught_cls:
            cls = self.caught_cls[-1]
        if s.cause is not None:
            self.ev(s.cause.item, st)
        if s.exc is not None:
            self._exc_origin(st, False)
        # A `raise` of the code outside a handler is a validation or protocol check failing; in
        # a handler it re-raises or translates the failure being handled, which stays the
        # witness's failure.
        failure = FAIL_PROTOCOL if s.exc is not None and self.handler_depth == 0 else None
        ei = self._exit("raise", s, cls=cls, failure=failure)
        self._rekey(st, ei)
        self.jump("raise", st, cls)

    def _exc_failure(self, st: State) -> Optional[str]:
        """What failed to raise the exception ``st`` carries (the failure of the exit its
        obligations ride), if it is known."""
        for _, ei in st.obs:
            if ei is not None and self.exits[ei].kind in ("call", "raise"):
                return self.exits[ei].failure
        return None

    def _step_caught(self, st: State, handler: cst.CSTNode, note: str) -> None:
        """The handler's step on every path; a path that comes from a `raise` of the code
        records that failure on it (a raising call recorded its own at the call)."""
        for (_, ei), ob in st.obs.items():
            failure = self.exits[ei].failure if ei is not None and self.exits[ei].kind == "raise" else None
            ob.witness = Step(handler, note, ob.witness, failure)
            if ob.alts:
                ob.alts = tuple((t, f, n, Step(handler, note, w, failure)) for t, f, n, w in ob.alts)

    def _args_only_exception(self, call: cst.Call) -> bool:
        """The raised class keeps its arguments only in ``.args``: a builtin exception, or a
        class of this module that adds no constructor to one."""
        name = _name_of(call.func)
        if name is None:
            return False
        if self.ctx.model.exception_class(self.ctx.imports.qualify(name)) is not None:
            return True
        return name in self.ctx.summaries.args_only_exceptions

    def _exec_assert(self, s: cst.Assert, st: State) -> Optional[State]:
        self.ev(s.test, st)
        if const_true(s.test):
            return st
        if isinstance(s.test, cst.Name) and s.test.value == "False":
            ei = self._exit("assert", s)
            self._rekey(st, ei)
            self.jump("raise", st, "AssertionError")
            return None
        exc = st.copy()
        ei = self._exit("assert", s, cls="AssertionError")
        self._rekey(exc, ei)
        self.jump("raise", exc, "AssertionError")
        holds, _ = self.narrow(st, s.test)
        return holds

    def _exec_loop_jump(self, s: Union[cst.Break, cst.Continue], st: State) -> None:
        loop = self._innermost_loop()
        if loop is None:
            return
        self._forget_exc_origin(st)
        if isinstance(s, cst.Break):
            self.jump("break", st, target=loop)
            return
        # A socket created in this loop and still open is lost when the next iteration
        # rebinds its name: remember this exit on it.
        ei = self._exit("continue", s)
        new: dict[Key, Obligation] = {}
        for (rid, cur), ob in st.obs.items():
            key: Key = (rid, ei) if cur is None and rid in loop.created else (rid, cur)
            new[key] = ob
        st.obs = new
        self.jump("continue", st, target=loop)
        return

    def _exec_import(self, s: Union[cst.Import, cst.ImportFrom], st: State) -> State:
        # `import ssl` inside a function can fail: ImportError, the only place it comes from.
        self.raise_point(st, s, frozenset(), "ImportError")
        aliases = s.names if not isinstance(s.names, cst.ImportStar) else ()
        for alias in aliases:
            if alias.asname is not None:
                nm = _name_of(alias.asname.name)
            else:
                nm = _name_of(alias.name)
                nm = nm.split(".")[0] if nm else None
            if nm:
                self._rebind(st, nm, EMPTY, s)
        return st

    # ------------------------------------------------------------------ compound statements
    def exec_if(self, node: cst.If, st: State) -> Optional[State]:
        self.ev(node.test, st)
        if raises_on_python3(node.test):
            self.raise_point(st, node.test, frozenset(), EXC_OTHER)
            return None
        self.narrow_end = self._use_table()[1].get(id(node.test)) if self._has_facts(st) else None
        t, f = self.narrow(st, node.test)
        self.narrow_end = None
        on_py3 = python3_constant(node.test)
        if on_py3 is not None:
            # `if sys.version_info[0] < 3:` / `if six.PY2:`: the branch for Python 2 never runs.
            t, f = (t, None) if on_py3 else (None, f)
        if t is not None:
            self._step(t, node, "`if {code}` is true")
        self.guards.append(node.test)
        out1 = self.exec_block(self._body(node), t)
        self.guards.pop()
        if node.orelse is None:
            if f is not None:
                self._step(f, node, "`if {code}` is false")
            out2 = f
        elif isinstance(node.orelse, cst.If):
            if f is not None:
                self._step(f, node, "`if {code}` is false")
            # Events in elif/else branches carry the test too (Event.guards: enclosing tests).
            self.guards.append(node.test)
            out2 = self.exec_if(node.orelse, f) if f is not None else None
            self.guards.pop()
        else:
            if f is not None:
                self._step(f, node, "`if {code}` is false")
            self.guards.append(node.test)
            out2 = self.exec_block(self._body(node.orelse), f)
            self.guards.pop()
        if out1 is not None and out2 is not None and not same_facts(out1, out2):
            # Only where the branches join with different facts can dead ones add variants.
            self._forget_dead(out1, node)
            self._forget_dead(out2, node)
        return join(out1, out2)

    def _loop(
        self,
        node: Union[cst.For, cst.While],
        entry: State,
        before_body: Callable[[State], tuple[Optional[State], Optional[State]]],
        runs_once: bool = False,
    ) -> Optional[State]:
        head: State = entry
        frame = LoopFrame()
        exit_state: Optional[State] = None
        body_out: Optional[State] = None
        for _ in range(6):
            frame.breaks, frame.continues = [], []
            cur = head.copy()
            into, out = before_body(cur)
            exit_state = out
            self.frames.append(frame)
            self.regions.append((id(node), "loop"))
            try:
                body_out = self.exec_block(self._body(node), into)
            finally:
                self.frames.pop()
                self.regions.pop()
            new_head = join_all([entry, body_out, *frame.continues])
            assert new_head is not None
            if new_head.same(head):
                break
            head = new_head
        if runs_once:
            # `for m in (A, B):` runs its body at least once: the loop is left after an
            # iteration, never straight from the entry.
            exit_state = join_all([body_out, *frame.continues])
        if node.orelse is not None:
            exit_state = self.exec_block(self._body(node.orelse), exit_state)
        return join_all([exit_state, *frame.breaks])

    def exec_while(self, node: cst.While, st: State) -> Optional[State]:
        infinite = const_true(node.test)
        self._recv_loop_check(node, st)

        def before(cur: State) -> tuple[Optional[State], Optional[State]]:
            self.ev(node.test, cur)
            t, f = self.narrow(cur, node.test)
            return t, (None if infinite else f)

        return self._loop(node, st, before)

    def exec_for(self, node: cst.For, st: State) -> Optional[State]:
        it = self.ev(node.iter, st)
        read: frozenset[int] = frozenset()
        if node.asynchronous is not None:
            # `async for line in reader:` / `async for chunk in stream:` reads the connection
            # the function owns; it stays the function's to close.
            read = frozenset(r for r in it.rids if r in self.facts.resources and self.facts.resources[r].kind != "socket")
        if it.reach - read:
            # Iterating over a collection of sockets: we do not follow elements.
            self._dispose(st, it.reach - read, node, "escape")

        def before(cur: State) -> tuple[Optional[State], Optional[State]]:
            exit_state = cur.copy()
            body = cur
            for n in target_names(node.target):
                self._rebind(body, n, EMPTY, node)
            if node.asynchronous is not None:
                # Each step awaits `__anext__()`: a read that fails in operation when the
                # iterable is the connection, and a place where the task can be cancelled.
                if read:
                    self.raise_point(body, node, read, EXC_OS, FAIL_IO)
                else:
                    self.raise_point(body, node, frozenset(), EXC_ANY)
                self.raise_point(body, node, frozenset(), EXC_CANCEL)
            return body, exit_state

        return self._loop(node, st, before, runs_once=nonempty_iterable(node.iter) or self._addrinfo_list(node.iter))

    def _addrinfo_list(self, node: cst.BaseExpression) -> bool:
        """``socket.getaddrinfo(...)``, directly or through a name bound only to it: it raises
        ``gaierror`` rather than return an empty list, so a loop over it runs at least once."""
        if isinstance(node, cst.Name):
            value = self.bindings.single_value(node.value)
            if value is None:
                return False
            node = value
        if not isinstance(node, cst.Call):
            return False
        name = _name_of(node.func)
        return name is not None and self.ctx.imports.qualify(name) in ("socket.getaddrinfo", "_socket.getaddrinfo")

    def exec_try(self, node: Union[cst.Try, cst.TryStar], st: State) -> Optional[State]:
        fin: Optional[FinallyFrame] = FinallyFrame() if node.finalbody is not None else None
        if fin is not None:
            self.frames.append(fin)
        tf = TryFrame()
        self.frames.append(tf)
        catches_os = any(self.raises.catches(h, EXC_OS) == "yes" for h in node.handlers)
        self.regions.append((id(node), "try-os" if catches_os else "try"))
        try:
            body_out = self.exec_block(self._body(node), st)
        finally:
            self.frames.pop()
            self.regions.pop()
        outs: list[Optional[State]] = []
        if node.orelse is not None:
            self.regions.append((id(node), "else"))
            try:
                outs.append(self.exec_block(self._body(node.orelse), body_out))
            finally:
                self.regions.pop()
        else:
            outs.append(body_out)
        remaining = list(tf.exc)
        for h in node.handlers:
            incoming: list[State] = []
            rest: list[tuple[State, str]] = []
            caught: list[str] = []
            for exc_state, cls in remaining:
                m = self.raises.catches(h, cls)
                if m != "no":
                    incoming.append(exc_state)
                    caught.append(cls)
                if m != "yes":
                    rest.append((exc_state, cls))
            remaining = rest
            if not incoming:
                continue
            # A failure that happens in normal operation first: where a `connect()` and a
            # `setsockopt()` both reach this handler, the joined path is the `connect()`'s.
            incoming.sort(key=lambda s: self._exc_failure(s) == FAIL_CONFIG)
            hs = join_all(incoming)
            assert hs is not None
            self._step_caught(hs, h, "caught by `except{code}`")
            self._unkey(hs, ("call", "raise", "assert"))
            if h.name is not None:
                for n in target_names(h.name.name):
                    self._rebind(hs, n, EMPTY, h)
            else:
                self._forget_exc_origin(hs)  # no name: its errno is never looked at
            self.handler_depth += 1
            self.caught_cls.append(caught[0] if len(set(caught)) == 1 else EXC_ANY)
            self.regions.append((id(node), "except"))
            try:
                h_out = self.exec_block(self._body(h), hs)
                self._forget_exc_origin(h_out)
                outs.append(h_out)
            finally:
                self.handler_depth -= 1
                self.caught_cls.pop()
                self.regions.pop()
        for exc_state, cls in remaining:
            self.jump("raise", exc_state, cls)
        if fin is not None:
            self.frames.pop()
        normal = join_all(outs)
        if node.finalbody is None or fin is None:
            return normal
        self.regions.append((id(node), "finally"))
        try:
            return self._run_finally(node.finalbody, normal, fin)
        finally:
            self.regions.pop()

    def _run_finally(self, finalbody: cst.Finally, normal: Optional[State], fin: FinallyFrame) -> Optional[State]:
        groups: dict[tuple[str, str, int], tuple[str, str, Optional[LoopFrame], list[State]]] = {}
        for kind, s, cls, target in fin.pending:
            k = (kind, cls if kind == "raise" else "", id(target) if target is not None else 0)
            if k not in groups:
                groups[k] = (kind, cls, target, [])
            groups[k][3].append(s)
        result: Optional[State] = None
        if normal is not None:
            result = self.exec_block(self._body(finalbody), normal)
        for kind, cls, target, states in groups.values():
            joined = join_all(states)
            if joined is None:
                continue
            out = self.exec_block(self._body(finalbody), joined)
            if out is not None:
                self.jump(kind, out, cls, target)
        return result

    def exec_with(self, node: cst.With, st: State) -> Optional[State]:
        expecting = any(
            isinstance(item.item, cst.Call) and (_name_of(item.item.func) or "").rsplit(".", 1)[-1] in self.ctx.model.EXPECT_RAISES
            for item in node.items
        )
        if expecting:
            self.expect_raise += 1
            try:
                return self._exec_with(node, st)
            finally:
                self.expect_raise -= 1
        return self._exec_with(node, st)

    def _exec_with(self, node: cst.With, st: State) -> Optional[State]:
        shields = self._shields(node)
        if shields:
            self.shielded += 1
        try:
            out = self._exec_with_items(node, st)
        finally:
            if shields:
                self.shielded -= 1
        if node.asynchronous is not None and out is not None and any(self._cm_in(item.item, self.ctx.model.WAITING_EXITS) for item in node.items):
            # Leaving a task group or nursery awaits its children in `__aexit__()`: a
            # cancellation can arrive there. (Most `__aexit__()`s never suspend: a lock's, a
            # timeout's.)
            self.raise_point(out, node, frozenset(), EXC_CANCEL)
        return out

    def _cm_in(self, e: cst.BaseExpression, table: frozenset[str]) -> bool:
        """``e`` is a call of a context manager of ``table`` (by qualified name)."""
        if not isinstance(e, cst.Call):
            return False
        n = _name_of(e.func)
        return n is not None and (self.ctx.imports.qualify(n) in table or n in table)

    def _shields(self, node: cst.With) -> bool:
        """``with trio.CancelScope(shield=True):`` (a ``shields`` context-manager row with
        ``shield=True`` spelt out): no cancellation from outside reaches the body."""
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            n = _name_of(call.func)
            if n is None or self.ctx.imports.qualify(n) not in self.ctx.model.SHIELDING_CONTEXT_MANAGERS:
                continue
            if any(a.keyword is not None and a.keyword.value == "shield" and const_true(a.value) for a in call.args):
                return True
        return False

    def _exec_with_items(self, node: cst.With, st: State) -> Optional[State]:
        suppress_classes: list[str] = []
        for item in node.items:
            if isinstance(item.item, cst.Call):
                self.cm_calls.add(id(item.item))
            v = self.ev(item.item, st)
            managed = v.rids
            if isinstance(item.item, cst.Call):
                n = _name_of(item.item.func)
                if n and (self.ctx.imports.qualify(n) in self.ctx.model.SUPPRESS or n in self.ctx.model.SUPPRESS):
                    suppress_classes.extend(self.raises.names_of_args(item.item))
                elif n and n.rsplit(".", 1)[-1] in self.ctx.model.EXPECT_RAISES:
                    # `with self.assertRaises(TypeError): proactor.connect(sock, None)`: the
                    # body is there to raise and the test goes on after the block. Another
                    # exception would fail the test, a path not worth a finding.
                    suppress_classes.append("BaseException")
            if managed:
                for rid in managed:
                    res = self.facts.resources.get(rid)
                    if res is not None and res.node is item.item:
                        res.managed = True
                self._dispose(st, managed, node, "close")
                self._event("close", "__exit__", node, managed, _name_of(item.item))
            if node.asynchronous is not None:
                # `async with` awaits `__aenter__()`: it may fail, and the task may be
                # cancelled there unless it never suspends (a timeout, a task group).
                self.raise_point(st, node, frozenset(), EXC_ANY)
                if not self._cm_in(item.item, self.ctx.model.NONWAITING_ENTRIES):
                    self.raise_point(st, node, frozenset(), EXC_CANCEL)
            if item.asname is not None:
                tgt = item.asname.name
                if isinstance(tgt, cst.Name):
                    st.env[tgt.value] = managed
                    if not managed:
                        # `with sock.makefile("rb") as f:`: a file object's `__enter__`
                        # returns the file itself.
                        self._rebind(st, tgt.value, Val(reader=True) if v.reader else EMPTY, node)
                    else:
                        for rid in managed:
                            res = self.facts.resources.get(rid)
                            if res is not None and res.name is None:
                                res.name = tgt.value
                else:
                    self._assign(st, tgt, Val(managed, managed), node)
        if suppress_classes:
            tf = TryFrame()
            self.frames.append(tf)
            self.regions.append((id(node), "suppress"))
            try:
                out = self.exec_block(self._body(node), st)
            finally:
                self.frames.pop()
                self.regions.pop()
            outs = [out]
            for exc_state, cls in tf.exc:
                if self.raises.suppressed(cls, suppress_classes):
                    self._unkey(exc_state, ("call", "raise", "assert"))
                    outs.append(exc_state)
                else:
                    self.jump("raise", exc_state, cls)
            return join_all(outs)
        return self.exec_block(self._body(node), st)

    def exec_match(self, node: cst.Match, st: State) -> Optional[State]:
        self.ev(node.subject, st)
        outs: list[Optional[State]] = []
        irrefutable = False
        for case in node.cases:
            cs = st.copy()
            if case.guard is not None:
                self.ev(case.guard, cs)
            pat = case.pattern
            if isinstance(pat, cst.MatchAs) and pat.pattern is None and case.guard is None:
                irrefutable = True
            for n in walk(pat):
                if isinstance(n, cst.MatchAs) and n.name is not None:
                    self._rebind(cs, n.name.value, EMPTY, case)
            outs.append(self.exec_block(self._body(case), cs))
        if not irrefutable:
            outs.append(st)
        return join_all(outs)
