"""The per-function flow analysis.

An abstract interpreter over libcst statements. It is equivalent to a forward may-analysis over
a control-flow graph with exception edges, but the graph is never materialised: structured
control flow (if/match/loops/try/with) is interpreted in place, and *jumps* (return, raise,
break, continue, a call that raises) are routed through a stack of frames (enclosing loops,
``try`` handlers and ``finally`` blocks), the way the CPython compiler inlines ``finally`` for
each kind of exit. States merge where branches join, so the cost is close to linear in the
size of the function; loops iterate to a fixed point (the lattice is finite).

The state tracks *obligations*: a socket this function owns and has not yet closed or handed
off. Each obligation knows which local names may hold it and which must hold it (for narrowing
on ``if sock is not None``), and one witness path (a persistent linked list of steps) that
explains how control got here. An obligation that reaches the function's exit, or loses its
last name, is a leak fact; rules decide how to report it.

Obligations are keyed by ``(rid, exit)``: ``exit`` is ``None`` on the normal path, and an index
into ``self.exits`` once the obligation rides on a jump (the return statement, the call that
raised, ...). Keeping the key means a ``finally`` block can run once for all pending returns
and still tell, afterwards, which return leaked which socket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import libcst as cst

from socklint.analysis import model
from socklint.analysis.assign import AssignMixin
from socklint.analysis.calls import CallsMixin
from socklint.analysis.context import ModuleContext
from socklint.analysis.cstutil import walk
from socklint.analysis.facts import FAIL_IO, FunctionFacts, Resource
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.frames import EXC_ANY, EXC_CANCEL, EXC_OS
from socklint.analysis.lattice import EMPTY, BudgetExceeded, State, Val
from socklint.analysis.narrowing import NarrowingMixin
from socklint.analysis.recv_loops import RecvLoopMixin
from socklint.analysis.statements import StatementsMixin

__all__ = ["FunctionAnalyzer", "ModuleContext"]



class FunctionAnalyzer(StatementsMixin, CallsMixin, AssignMixin, NarrowingMixin, RecvLoopMixin):

    # ------------------------------------------------------------------ entry
    def run(self) -> FunctionFacts:
        st = State()
        if isinstance(self.func, cst.FunctionDef):
            self._bind_params(self.func, st)
            for d in self.func.decorators:
                dec = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                name = _name_of(dec)
                if name is not None and self.ctx.imports.qualify(name) in self.ctx.model.SOCKET_MODULE_PATCHING_DECORATORS:
                    st.socket_patched = True
        try:
            out = self.exec_block(self.body, st)
            if out is not None:
                last = self._last_stmt(self.body)
                self.facts.last_line_node = last
                ei = self._exit("end", last)
                self._rekey(out, ei)
                self._at_function_exit(out)
        except (BudgetExceeded, RecursionError):
            # Too big or too deeply nested to analyse within budget: say so, never hang.
            self.facts.budget_exceeded = True
            self.facts.leaks.clear()
        return self.facts

    def _last_stmt(self, body: Sequence[cst.CSTNode]) -> cst.CSTNode:
        node = body[-1]
        # The last *line* of the function body: descend into the last compound statement.
        while True:
            if isinstance(node, cst.SimpleStatementLine):
                return node
            inner = getattr(node, "orelse", None) or getattr(node, "finalbody", None) or getattr(node, "body", None)
            if isinstance(node, cst.Try) and node.finalbody is not None:
                inner = node.finalbody
            elif isinstance(node, (cst.If, cst.For, cst.While, cst.Try)) and getattr(node, "orelse", None) is not None:
                inner = node.orelse
            elif isinstance(node, cst.Try) and node.handlers:
                inner = node.handlers[-1]
            if inner is None:
                return node
            blk = getattr(inner, "body", inner)
            if isinstance(blk, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                seq = blk.body
            elif isinstance(blk, Sequence) and not isinstance(blk, (str, bytes)):
                seq = blk
            else:
                return node
            if not seq:
                return node
            nxt = seq[-1]
            if isinstance(node, cst.SimpleStatementSuite):
                return node
            node = nxt
            if not isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement, cst.BaseSmallStatement)):
                return node

    def _bind_params(self, fn: cst.FunctionDef, st: State) -> None:
        params = fn.params
        own = [*params.posonly_params, *params.params, *params.kwonly_params]
        self.callable_params = self.callable_params | {p.name.value for p in own}
        positional = [*params.posonly_params, *params.params]
        if positional and positional[0].name.value in ("self", "cls"):
            positional = positional[1:]
        dgram = {positional[i] for i in self.ctx.summaries.dgram_params.get(fn.name.value, ()) if i < len(positional)}
        found = self.ctx.summaries.handlers.get(fn.name.value) if fn.asynchronous is not None else None
        # A module-level coroutine function, or a method (not a nested function of that name
        # inside a method: pproxy's `handler` given to its own `start_server`).
        handler = found[0] if found is not None and found[1] == (self.cur_class is not None) else None
        if handler is not None and handler.index < len(positional) and len(positional) == 2:
            self._bind_handler_params(handler, positional, st)
            own = [p for p in own if all(p is not q for q in positional)]
        for p in own:
            name = p.name.value
            if name in ("self", "cls"):
                continue
            rid = self._new_rid(p)
            res = Resource(rid, p, "param", name, name=name, reportable=False)
            if p in dgram:
                res.sock_type = "dgram"  # every caller in the module passes a datagram socket
            self.facts.resources[rid] = res
            st.env[name] = frozenset({rid})

    def _bind_handler_params(self, handler: model.Handler, positional: list[cst.Param], st: State) -> None:
        """``async def handle(reader, writer)`` given to ``asyncio.start_server``: the handler
        owns the connection (the writer; the reader is the same connection), and asyncio never
        closes it for the handler: every exit must close it or hand it on."""
        owned = positional[handler.index]
        other = positional[1 - handler.index]
        rid = self._create(st, owned, "handler", f"{handler.name}()")
        res = self.facts.resources[rid]
        res.kind, res.role = handler.resource, "server-conn"
        self._rebind(st, owned.name.value, Val.of(frozenset({rid})), owned)
        res.name = owned.name.value
        if handler.companion == "view":
            self._rebind(st, other.name.value, Val.of(frozenset({rid})), other)
        elif handler.companion == "holder":
            self._rebind(st, other.name.value, Val(frozenset(), frozenset({rid})), other)

    # ------------------------------------------------------------------ expressions
    def ev(self, e: cst.BaseExpression, st: State) -> Val:
        self._tick()
        if isinstance(e, cst.Name):
            if e.value in ("None", "False", "True"):
                return Val(const="none" if e.value == "None" else ("falsy" if e.value == "False" else "truthy"))
            rids = self._holders(st, e.value)
            return Val(rids, rids | st.derived.get(e.value, frozenset()))
        if isinstance(e, cst.Call):
            return self.ev_call(e, st)
        if isinstance(e, cst.Attribute):
            if isinstance(e.value, cst.Name) and (e.value.value == self.owner_self or (self.cur_class is not None and self._is_self_name(e.value.value))):
                held = st.env.get(f"{e.value.value}.{e.attr.value}")
                if held:
                    # `self.sock` in `__init__`, where the method still owns what it stored.
                    return Val(held, held)
            base = self.ev(e.value, st)
            if base.rids and any(
                self.facts.resources[r].origin == "object" or self.facts.resources[r].kind != "socket" for r in base.rids if r in self.facts.resources
            ):
                # `obj.sock` of an object a factory built, `stream.socket` of a trio stream,
                # `writer.transport`: closing it closes what the object holds, and giving it
                # away gives the connection away (jeepney's `DBusConnection(sock.socket)`).
                return Val(frozenset(), base.rids)
            if e.attr.value in self.ctx.model.CLOSE_METHODS and base.rids:
                # `return port, sock.close`: whoever gets the bound `close` is to close it
                # (tornado's `refusing_port()` returns it as the cleanup function).
                return Val(frozenset(), base.rids)
            return EMPTY
        if isinstance(e, cst.Await):
            v = self.ev(e.expression, st)
            fresh = self._fresh_only(st, v.rids)
            if e.expression is self.assignment.call and self.assignment.moved:
                # `sock = await upgrade(sock)`: the coroutine took the socket over (see ev_call).
                fresh = set(self.assignment.moved)
            if fresh:
                # `sock = await self._connect_sock(...)`: the socket exists only once the
                # await completes, so it cannot leak if the await raises.
                hidden = {k: o for k, o in st.obs.items() if k[0] in fresh}
                for k in hidden:
                    del st.obs[k]
                self.raise_point(st, e, v.reach - v.rids, EXC_ANY)
                self.raise_point(st, e, frozenset(), EXC_CANCEL)
                st.obs.update(hidden)
            else:
                inner = e.expression
                if (
                    isinstance(inner, cst.Call)
                    and isinstance(inner.func, cst.Attribute)
                    and inner.func.attr.value in self.ctx.model.ASYNC_LOOP_IO_METHODS
                    and self._real_sockets(v.reach)
                ):
                    # `await loop.sock_recv(conn, n)`: socket I/O on `conn`, failing in operation.
                    self.raise_point(st, e, v.reach, EXC_OS, FAIL_IO)
                else:
                    self.raise_point(st, e, v.reach, EXC_ANY)
                # The task can be cancelled at every `await` (SKL108): after the ordinary
                # failure, so a leak both show at this await is the ordinary one.
                self.raise_point(st, e, frozenset(), EXC_CANCEL)
            return self._awaited_value(st, v)
        return self._ev_structure(e, st)

    def _awaited_value(self, st: State, v: Val) -> Val:
        """What awaiting (or running to completion) a value gives: an asyncio factory's
        coroutine gives its resource, or the pair to be unpacked."""
        if v.tuple_source is not None and v.tuple_source[1].index == -1:
            # `server = await asyncio.start_server(...)`: the server exists once the await
            # has completed.
            return self._make_tuple(st, v.tuple_source)
        if v.tuple_source is not None:
            return dataclasses.replace(v, tuple_source=(v.tuple_source[0], v.tuple_source[1], True))
        return v

    def _ev_structure(self, e: cst.BaseExpression, st: State) -> Val:
        """Containers, conditional expressions, boolean operators and ``:=``: what they hold."""
        if isinstance(e, (cst.Tuple, cst.List, cst.Set)):
            vals = [self.ev(el.value, st) for el in e.elements]
            reach = frozenset().union(*(v.reach | v.rids for v in vals)) if vals else frozenset()
            elems = tuple(vals) if isinstance(e, (cst.Tuple, cst.List)) and not any(isinstance(el, cst.StarredElement) for el in e.elements) else None
            return Val(frozenset(), reach, reach, elems)
        if isinstance(e, cst.Dict):
            dreach: frozenset[int] = frozenset()
            for item in e.elements:
                if isinstance(item, cst.DictElement):
                    self.ev(item.key, st)
                dv = self.ev(item.value, st)
                dreach = dreach | dv.reach | dv.rids
            return Val(frozenset(), dreach, dreach)
        if isinstance(e, cst.IfExp):
            self.ev(e.test, st)
            a = self.ev(e.body, st)
            b = self.ev(e.orelse, st)
            return Val(a.rids | b.rids, a.reach | b.reach, a.contained | b.contained)
        if isinstance(e, cst.BooleanOperation):
            a = self.ev(e.left, st)
            b = self.ev(e.right, st)
            return Val(a.rids | b.rids, a.reach | b.reach)
        if isinstance(e, cst.NamedExpr):
            v = self.ev(e.value, st)
            if isinstance(e.target, cst.Name):
                self._assign(st, e.target, v, self.stmt_node or e)
            return v
        return self._ev_access_and_operators(e, st)

    def _ev_access_and_operators(self, e: cst.BaseExpression, st: State) -> Val:
        """Subscripts, nested scopes, comprehensions, ``yield``, operators and literals."""
        if isinstance(e, cst.Subscript):
            v = self.ev(e.value, st)
            for sub in e.slice:
                if isinstance(sub.slice, cst.Index):
                    self.ev(sub.slice.value, st)
            if len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Index):
                idx = e.slice[0].slice.value
                if isinstance(idx, cst.Integer) and idx.value in ("0", "1") and v.tuple_source is not None and v.tuple_source[1].index >= 0 and v.tuple_source[2]:
                    # `(await asyncio.open_connection(h, p))[1]`: the writer.
                    v = self._make_tuple(st, v.tuple_source)
                    return v.elems[int(idx.value)] if v.elems else EMPTY
                if isinstance(idx, cst.Integer) and idx.value == "0":
                    if v.accept_call is not None:
                        v = self._make_accept(st, v.accept_call)
                    if v.elems:
                        return v.elems[0]
            return EMPTY
        if isinstance(e, (cst.Lambda, cst.GeneratorExp)):
            self._capture(st, e, e)
            return EMPTY
        if isinstance(e, (cst.ListComp, cst.SetComp, cst.DictComp)):
            # Evaluated at once: uses inside borrow. Evaluate the pieces for their calls.
            if e.for_in.asynchronous is None:
                # `[SSLListener(l, ctx) for l in listeners]` over a tracked collection (trio's
                # list of listeners): its elements go on, as in a `for` statement.
                held = self.ev_peek(e.for_in.iter, st)
                if held:
                    self._dispose(st, held, e, "escape")
            for child in walk(e):
                if isinstance(child, cst.Call):
                    self._tick()
            return EMPTY
        if isinstance(e, cst.Yield):
            if e.value is not None:
                inner: cst.BaseExpression = e.value.item if isinstance(e.value, cst.From) else e.value
                v = self.ev(inner, st)
                self._dispose(st, v.reach | v.rids, e, "escape")
            return EMPTY
        if isinstance(e, (cst.UnaryOperation,)):
            self.ev(e.expression, st)
            return EMPTY
        if isinstance(e, cst.BinaryOperation):
            self.ev(e.left, st)
            self.ev(e.right, st)
            return EMPTY
        if isinstance(e, cst.Comparison):
            self.ev(e.left, st)
            for c in e.comparisons:
                self.ev(c.comparator, st)
            return EMPTY
        if isinstance(e, cst.StarredElement):
            v = self.ev(e.value, st)
            return Val(frozenset(), v.reach | v.rids, v.reach | v.rids)
        if isinstance(e, (cst.FormattedString, cst.ConcatenatedString)):
            for child in walk(e):
                if isinstance(child, cst.FormattedStringExpression):
                    self.ev(child.expression, st)
            return EMPTY
        # Literals and anything else: evaluate sub-expressions for their effects.
        if isinstance(e, cst.Integer):
            return Val(const="falsy" if e.value.strip("0xXoObB_") == "" else "truthy")
        if isinstance(e, cst.SimpleString):
            return Val(const="falsy" if len(e.raw_value) == 0 else "truthy")
        if isinstance(e, (cst.Float, cst.Imaginary, cst.Ellipsis)):
            return EMPTY
        for child in e.children:
            if isinstance(child, cst.BaseExpression):
                self.ev(child, st)
        return EMPTY
