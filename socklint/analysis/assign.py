"""Binding: assignments, rebinding and deleting names, creating tracked sockets (with their
type and family), and nested scopes that capture a socket."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from socklint.analysis.cstutil import callee_text, target_names, walk
from socklint.analysis.facts import Resource, Step
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.frames import LoopFrame
from socklint.analysis.interp_core import InterpreterCore
from socklint.analysis.lattice import EMPTY, Obligation, State, Val
from socklint.analysis.model import TupleFactory
from socklint.analysis.objects import ALL


class AssignMixin(InterpreterCore):

    # ------------------------------------------------------------------ binding
    def _assign(self, st: State, target: cst.BaseExpression, val: Val, stmt: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            if self.module_level or target.value in self.global_names:
                # A global outlives the function: ownership handed off.
                self._dispose(st, val.reach | val.rids, stmt, "escape")
                st.env[target.value] = val.rids
                return
            if val.contained:
                self._dispose(st, val.contained, stmt, "escape")
            if target.value in self.closure_names and val.rids:
                # A closure defined earlier refers to this name: it gets what is bound here.
                self._rebind(st, target.value, val, stmt)
                self._dispose(st, val.rids | val.reach, stmt, "escape")
                return
            carried = (val.reach - val.rids) & st.env.get(target.value, frozenset())
            if carried:
                # `sock = self.bind_socket(sock, addr)`, `sock = adapter.wrap(sock)`: the call
                # returns the socket it was given, or a wrapper that owns it.
                val = Val(val.rids | carried, val.reach, val.contained, val.elems)
            self._rebind(st, target.value, val, stmt)
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            elts = [e for e in target.elements]
            if val.accept_call is not None and len(elts) >= 1 and not any(isinstance(e, cst.StarredElement) for e in elts):
                val = self._make_accept(st, val.accept_call)
            if val.pair_call is not None and len(elts) == 2:
                val = self._make_pair(st, val.pair_call)
            if (
                val.tuple_source is not None
                and val.tuple_source[1].index >= 0
                and val.tuple_source[2]
                and len(elts) == 2
                and not any(isinstance(e, cst.StarredElement) for e in elts)
            ):
                index = val.tuple_source[1].index
                owner = elts[index].value
                companion = val.tuple_source[1].companion
                view = companion == "view"
                if companion == "holder" and (
                    (isinstance(owner, cst.Name) and owner.value == "_") or not isinstance(elts[1 - index].value, cst.Name)
                ):
                    # `_, protocol = await loop.create_connection(...)`, `self.transport,
                    # self.protocol = ...`: the protocol, which got the transport in
                    # `connection_made()`, is kept as its owner.
                    for e in elts:
                        self._assign(st, e.value, EMPTY, stmt)
                    return
                val = self._make_tuple(st, val.tuple_source)
                if view and val.elems is not None and not isinstance(elts[1 - index].value, cst.Name):
                    # `self.reader, self.writer = ...`: the object keeps the writer; the reader
                    # stored beside it is no second resource to close.
                    val = Val(elems=(EMPTY, val.elems[1]) if index == 1 else (val.elems[0], EMPTY))
                if isinstance(owner, cst.Name) and val.elems is not None:
                    # `reader, writer = ...`: the writer is the resource, the reader a view of it.
                    for rid in val.elems[index].rids:
                        self.facts.resources[rid].name = owner.value
            if val.elems is not None and len(val.elems) == len(elts) and not any(isinstance(e, cst.StarredElement) for e in elts):
                for e, v in zip(elts, val.elems):
                    self._assign(st, e.value, v, stmt)
                return
            # Unknown shape: the sockets go somewhere we do not follow.
            self._dispose(st, val.reach | val.rids, stmt, "escape")
            for e in elts:
                for n in target_names(e.value):
                    self._rebind(st, n, EMPTY, stmt)
            return
        if isinstance(target, cst.StarredElement):
            self._assign(st, target.value, Val(reach=val.reach, contained=val.reach), stmt)
            return
        # Attribute or subscript store: the object now owns the socket.
        if isinstance(target, cst.Attribute):
            self.ev(target.value, st)
            dotted = _name_of(target)
            on_self = isinstance(target.value, cst.Name) and self.cur_class is not None and self._is_self_name(target.value.value)
            if on_self and dotted is not None:
                real = self._real_sockets(val.rids)
                if real and self.cur_class is not None and self.ctx.summaries.objects.keeps_unseen(self.cur_class, target.attr.value):
                    for rid in real:
                        if self.facts.resources[rid].origin != "wrap":
                            self.facts.attr_stores.append((self.cur_class, target.attr.value, rid, stmt))
                if self.owner_self is not None and real and not self._finalizer_closes(target.attr.value):
                    self._hold_on_self(st, dotted, real, val, stmt)
                    return
                if st.env.get(dotted):
                    # `self.sock = None` (or a new socket) while it holds an open socket: that
                    # name is lost; what is stored goes to the object, as any store.
                    self._dispose(st, val.reach | val.rids, stmt, "escape")
                    self._rebind(st, dotted, Val(const=val.const), stmt)
                    return
            if dotted is not None:
                self._set_fact(st, dotted, val.const if val.const is not None else ("truthy" if val.rids else None))
            if on_self and self.owner_self is not None:
                # `self.file = self.sock.makefile("rb")` in `__init__`: what reaches a socket
                # the object under construction holds already hands nothing over.
                held = st.derived.get(self.owner_self, frozenset())
                self._dispose(st, (val.reach | val.rids) - held, stmt, "escape")
                return
        elif isinstance(target, cst.Subscript):
            self.ev(target.value, st)
            # `self.peers[sock] = peer`: a socket used as the key is held by the mapping as
            # much as one stored as the value.
            for sub in target.slice:
                if isinstance(sub.slice, cst.Index):
                    key = self.ev(sub.slice.value, st)
                    self._dispose(st, key.reach | key.rids, stmt, "escape")
        self._dispose(st, val.reach | val.rids, stmt, "escape")

    def _finalizer_closes(self, attr: str) -> bool:
        """The class's ``__del__`` closes ``self.<attr>``: Python runs it for an object whose
        ``__init__`` raised too, so the half-built object cleans up when it is collected, by
        design (kafka-python's KafkaClient sets its wake-up sockets first "because they are used
        when __del__ method is called"). The store then hands the socket over, as elsewhere."""
        if self.cur_class is None:
            return False
        closes = self.ctx.summaries.objects.closed_by(self.cur_class, "__del__")
        return closes is not None and bool(closes) and (attr in closes or ALL in closes)

    def _hold_on_self(self, st: State, dotted: str, real: frozenset[int], val: Val, stmt: cst.CSTNode) -> None:
        """`self.sock = sock` in `__init__` / `__enter__`: the object holds the socket, and the
        object is the caller's only once the method returns. Until then the attribute is one
        more name of the socket (closing `self.sock` closes it; clearing it loses it), and
        `self` reaches it: handing `self` on hands the socket on."""
        assert self.owner_self is not None
        rest = (val.reach | val.rids) - real
        if rest:
            self._dispose(st, rest, stmt, "escape")
        # The normal exit hands it over: never "never closed" (SKL103).
        self.facts.disposed.update(real)
        self._rebind(st, dotted, Val(real, real), stmt)
        st.derived[self.owner_self] = st.derived.get(self.owner_self, frozenset()) | real

    def _rebind(self, st: State, name: str, val: Val, node: cst.CSTNode, deleted: bool = False) -> None:
        keep = val.rids
        if name in self.global_names or self.module_level:
            st.env[name] = val.rids
            return
        for key in list(st.obs):
            ob = st.obs[key]
            if name not in ob.may or ob.rid in keep:
                continue
            ob.may = ob.may - {name}
            ob.must = ob.must - {name}
            if not ob.may:
                del st.obs[key]
                rid, ei = key
                if ei is not None and self.exits[ei].kind == "continue":
                    self._record_leak(rid, ei, ob, "continue", self.exits[ei].node)
                else:
                    held = name if self.owner_self is not None and name.startswith(self.owner_self + ".") else None
                    self._record_leak(rid, ei, ob, "delete" if deleted else "rebind", node, held_by=held)
        st.env[name] = val.rids
        derived = val.reach - val.rids
        if derived:
            st.derived[name] = derived
        else:
            st.derived.pop(name, None)
        if val.reader:
            st.readers = st.readers | {name}
        elif name in st.readers:
            st.readers = st.readers - {name}
        kind = val.const
        if kind is None and val.rids:
            kind = "truthy"  # socket objects are always true
        self._set_fact(st, name, kind)
        definite = len(val.rids) == 1
        for ob in st.obs.values():
            if ob.rid in val.rids:
                ob.may = ob.may | {name}
                if definite:
                    ob.must = ob.must | {name}
        for rid in val.rids:
            res = self.facts.resources.get(rid)
            if res is not None and res.name is None:
                res.name = name

    # ------------------------------------------------------------------ resources
    def _create(self, st: State, node: cst.CSTNode, origin: str, callee: str, args: Optional[cst.Call] = None) -> int:
        rid = self._new_rid(node)
        if rid not in self.facts.resources:
            res = Resource(rid, node, origin, callee)
            if args is not None:
                self._classify(res, args)
            self.facts.resources[rid] = res
        for f in self.frames:
            if isinstance(f, LoopFrame):
                f.created.add(rid)
        # The same creation site seen again (next loop iteration): the previous socket is
        # lost unless something other than this statement's targets still holds it.
        for key in [k for k in st.obs if k[0] == rid]:
            ob = st.obs.pop(key)
            if ob.may - self.assignment.targets:
                continue
            ei = key[1]
            stmt = self.stmt_node or node
            if ei is not None and self.exits[ei].kind == "continue":
                self._record_leak(rid, ei, ob, "continue", self.exits[ei].node)
            else:
                self._record_leak(rid, ei, ob, "rebind", stmt)
        witness = Step(node, "created", None)
        st.obs[(rid, None)] = Obligation(rid, frozenset(), frozenset(), witness, st.truthy, st.falsy, st.nones)
        return rid

    def _classify(self, res: Resource, call: cst.Call) -> None:
        """Type and family from the creating call's arguments, where they are constants."""
        if res.origin in ("create_connection",):
            res.sock_type, res.role = "stream", "client"
            return
        if res.origin == "create_server":
            res.sock_type, res.role = "stream", "listener"
            return
        if res.origin == "accept":
            res.sock_type, res.role = "stream", "server-conn"
            return
        pos = [a for a in call.args if a.keyword is None and a.star == ""]
        kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        fam = kw.get("family", pos[0].value if len(pos) > 0 else None)
        typ = kw.get("type", pos[1].value if len(pos) > 1 else None)
        if res.origin in ("socket", "fromfd", "socketpair"):
            if res.origin == "fromfd":
                fam = kw.get("family", pos[1].value if len(pos) > 1 else None)
                typ = kw.get("type", pos[2].value if len(pos) > 2 else None)
            if typ is None and res.origin in ("socket", "socketpair") and not pos and not kw:
                res.sock_type = "stream"
            for node, attr, table in (
                (typ, "sock_type", {"SOCK_STREAM": "stream", "SOCK_DGRAM": "dgram", "SOCK_RAW": "raw", "SOCK_SEQPACKET": "seqpacket"}),
                (fam, "family", {"AF_INET": "inet", "AF_INET6": "inet6", "AF_UNIX": "unix"}),
            ):
                if node is not None:
                    n = _name_of(node)
                    if n:
                        last = n.rsplit(".", 1)[-1]
                        if last in table:
                            setattr(res, attr, table[last])
            if res.sock_type is None and typ is None and res.origin == "socket":
                res.sock_type = "stream"
            if fam is None and res.origin == "socket" and "fileno" not in kw:
                res.family = "inet"  # `socket.socket()`: AF_INET unless told otherwise

    def _make_accept(self, st: State, call: cst.Call) -> Val:
        rid = self._create(st, call, "accept", callee_text(call))
        return Val(elems=(Val.of(frozenset({rid})), EMPTY))

    def _make_tuple(self, st: State, source: tuple[cst.Call, TupleFactory, bool]) -> Val:
        """The awaited pair of an asyncio factory, unpacked or indexed: the element the row
        names is a new resource; the other is the same connection (``view``: the reader of
        ``open_connection``), an object holding it (``holder``: the protocol, which got the
        transport in ``connection_made``), or plain data (the address of ``sock_accept``)."""
        call, tf, _ = source
        origin = "accept" if tf.resource == "socket" else "factory"
        rid = self._create(st, call, origin, callee_text(call), call)
        res = self.facts.resources[rid]
        res.kind = tf.resource
        if tf.resource != "socket":
            res.sock_type = None
        own = Val.of(frozenset({rid}))
        if tf.index == -1:
            return own
        other = own if tf.companion == "view" else Val(frozenset(), frozenset({rid})) if tf.companion == "holder" else EMPTY
        return Val(elems=(own, other) if tf.index == 0 else (other, own))

    def _make_pair(self, st: State, call: cst.Call) -> Val:
        a = self._create(st, call, "socketpair", callee_text(call), call)
        # The second end needs its own identity: key it on the call's func node.
        b = self._create(st, call.func, "socketpair", callee_text(call), call)
        self.pair_partner[a], self.pair_partner[b] = b, a
        return Val(elems=(Val.of(frozenset({a})), Val.of(frozenset({b}))))

    def _capture(self, st: State, node: cst.CSTNode, scope: cst.CSTNode) -> None:
        """A nested def, class, lambda or generator refers to a local socket: it may outlive
        this call, so ownership is shared with it."""
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            # The whole definition: its parameters are its own names.
            self.closure_names |= _free_names(node)
        held = {n for n, r in st.env.items() if r}
        if not held:
            return
        rids: set[int] = set()
        for n in walk(scope):
            self._tick()
            if isinstance(n, cst.Name) and n.value in held:
                rids |= st.env[n.value]
        if rids:
            self._dispose(st, rids, node, "escape")


def _free_names(scope: cst.CSTNode) -> set[str]:
    """Names a nested function, class or lambda reads but does not bind itself (an
    approximation: its parameters and assignment targets are taken as its own)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    not_names: set[int] = set()  # `x.attr`'s attr, `f(kw=...)`'s kw: spellings, not reads
    for n in walk(scope):
        if isinstance(n, cst.Attribute):
            not_names.add(id(n.attr))
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            not_names.add(id(n.keyword))
    for n in walk(scope):
        if isinstance(n, cst.Name) and id(n) not in not_names:
            loaded.add(n.value)
        elif isinstance(n, cst.Param):
            bound.add(n.name.value)
        elif isinstance(n, cst.AssignTarget):
            bound.update(target_names(n.target))
        elif isinstance(n, (cst.AnnAssign, cst.AugAssign)):
            bound.update(target_names(n.target))
        elif isinstance(n, (cst.For, cst.CompFor)):
            bound.update(target_names(n.target))
        elif isinstance(n, cst.AsName) and isinstance(n.name, cst.Name):
            bound.add(n.name.value)
        elif isinstance(n, (cst.FunctionDef, cst.ClassDef)):
            bound.add(n.name.value)
    return loaded - bound
