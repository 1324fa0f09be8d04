"""Calls: what a call creates, closes, takes over, borrows or raises, decided from the API
model (``model``), the module's own summaries and the configuration, in a fixed order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from socklint.analysis import model
from socklint.analysis.cstutil import callee_text
from socklint.analysis.facts import FAIL_CONFIG, FAIL_IO
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.frames import EXC_ANY, EXC_NONOS, EXC_OS, EXC_OSCFG
from socklint.analysis.interp_core import InterpreterCore
from socklint.analysis.lattice import EMPTY, State, Val
from socklint.analysis.objects import ALL, ends_object

_MODULE_FACTORIES = frozenset({"socket", "create_connection", "create_server", "fromfd", "socketpair"})


def _socket_module_factory(qual: str) -> bool:
    parts = qual.split(".")
    return len(parts) >= 2 and parts[-1] in _MODULE_FACTORIES and "socket" in parts[-2].lower() and parts[-2] not in ("self", "cls")


def _looks_like_ssl_context(receiver: Optional[str]) -> bool:
    """``ctx.wrap_socket(...)``, ``self._ssl_context.wrap_socket(...)``: an SSLContext by name."""
    if not receiver:
        return False
    last = receiver.rsplit(".", 1)[-1].lower()
    return "context" in last or "ctx" in last


_LOOP_GETTERS = frozenset({"get_running_loop", "get_event_loop", "new_event_loop"})


def _looks_like_event_loop(call: cst.Call) -> bool:
    """Heuristic ``event-loop-by-name``: ``loop.create_connection(...)``,
    ``self._loop.sock_accept(s)``, ``asyncio.get_running_loop().create_datagram_endpoint(...)``:
    the receiver is an event loop by its name, not asyncssh's ``tunnel.create_connection()``."""
    f = call.func
    if not isinstance(f, cst.Attribute):
        return False
    recv = f.value
    if isinstance(recv, cst.Call):
        n = _name_of(recv.func)
        return n is not None and n.rsplit(".", 1)[-1] in _LOOP_GETTERS
    n = _name_of(recv)
    return n is not None and "loop" in n.rsplit(".", 1)[-1].lower()


@dataclass(frozen=True)
class CallSite:
    """A call with its callee and arguments evaluated: what every step of ``ev_call`` reads."""

    call: cst.Call
    name: Optional[str]  # the callee's dotted text (`sock.connect`, `self._helper`)
    qual: Optional[str]  # the same, qualified through the module's imports
    last: str  # its last part (`connect`)
    method: Optional[str]  # for `x.m(...)`: `m`
    receiver_text: Optional[str]  # for `x.m(...)`: the dotted text of `x`
    recv_val: Val  # for `x.m(...)`: the value of `x`
    arg_vals: list[tuple[cst.Arg, Val]]
    arg_rids: frozenset[int]  # every tracked socket an argument is or reaches
    local_name: Optional[str]  # `f(...)` / `self.f(...)`: the name a module summary may have
    via_self: bool = False  # `self.f(...)` / `cls.f(...)`: a method of the calling class (or a base)


class CallsMixin(InterpreterCore):

    def ev_call(self, call: cst.Call, st: State) -> Val:
        site = self._call_site(call, st)
        self._note_test_doubles(site, st)
        # The order is the precedence: the first step that claims the call decides it.
        for step in (
            self._call_creates,
            self._call_local_coroutine_or_source,
            self._call_builds_owner,
            self._call_rebinds_argument,
            self._call_socket_method,
            self._call_closes_self,
            self._call_known_function,
        ):
            val = step(site, st)
            if val is not None:
                break
        else:
            val = self._call_unknown(site, st)
        self._constructor_calls_base_init(site, st)
        return val

    def _call_site(self, call: cst.Call, st: State) -> CallSite:
        """Evaluate the callee and the arguments, in order, and name what is called."""
        f = call.func
        recv_val = EMPTY
        method: Optional[str] = None
        receiver_text: Optional[str] = None
        if isinstance(f, cst.Attribute):
            method = f.attr.value
            self._note_attribute_in_use(f, st)
            recv_val = self.ev(f.value, st)
            receiver_text = _name_of(f.value)
        else:
            self.ev(f, st)
        name = _name_of(f)
        qual = self.ctx.imports.qualify(name) if name else None
        last = (name or "").rsplit(".", 1)[-1]
        arg_vals: list[tuple[cst.Arg, Val]] = []
        for a in call.args:
            # `stack.callback(s.close)`, `self.addCleanup(s.close)`: a cleanup registered.
            if isinstance(a.value, cst.Attribute) and a.value.attr.value in self.ctx.model.CLOSE_METHODS:
                base = self.ev(a.value.value, st)
                if base.rids:
                    self._dispose(st, base.rids, call, "escape")
                elif self._is_owner_self(a.value.value) and base.reach:
                    # `stack.callback(self.close)`, `atexit.register(self.close)` in
                    # `__init__`: closing the object is registered.
                    self._dispose(st, base.reach, call, "escape")
                arg_vals.append((a, EMPTY))
                continue
            arg_vals.append((a, self.ev(a.value, st)))
        arg_rids = frozenset().union(*(v.rids | v.reach for _, v in arg_vals)) if arg_vals else frozenset()
        local_name = None
        via_self = name is not None and name.startswith(("self.", "cls."))
        if name is not None and (name == last or via_self):
            local_name = last
        if qual is not None and not via_self and (local_name is None or local_name not in self.ctx.summaries.defined) and qual in self.ctx.summaries.defined:
            # A helper of another module of the project, by the qualified name the module's
            # imports give it (`t.open_channel(...)` after `import pkg.transport as t`).
            local_name = qual
        return CallSite(call, name, qual, last, method, receiver_text, recv_val, arg_vals, arg_rids, local_name, via_self)

    def _note_test_doubles(self, site: CallSite, st: State) -> None:
        last, qual = site.last, site.qual
        if last in self.ctx.model.FAKE_FACTORY_INSTALLERS or last in self.ctx.summaries.fake_net or (
            qual is not None and qual in self.ctx.model.FAKE_NETWORK_CLASSES
        ):
            st.fake_net = True
        if qual is not None and qual in self.ctx.model.SOCKET_MODULE_PATCHERS:
            st.socket_patched = True

    # ------------------------------------------------------------------ sources
    def _call_creates(self, site: CallSite, st: State) -> Optional[Val]:
        """Factories, socket pairs, ssl wrapping, ``accept()`` and ``dup()``."""
        call, qual, name, method = site.call, site.qual, site.name, site.method
        recv_val, arg_rids = site.recv_val, site.arg_rids
        if qual is not None and qual in self.ctx.model.TUPLE_FACTORIES:
            # An asyncio factory by its qualified name (a user's row too, which also makes the
            # name a configured factory: the row's shape decides).
            return self._call_makes_async_resource(site, self.ctx.model.TUPLE_FACTORIES[qual], st)
        if (
            qual is not None
            and not (qual in self.ctx.model.FACTORIES or qual in self.ctx.factories)
            and "socket-module-by-name" in self.guesses
            and _socket_module_factory(qual)
            # After a custom socket factory is installed, `trio.socket.socket()` returns what
            # the factory makes (FakeNet's sockets have no descriptor).
            and not st.fake_net
            # `m_socket.socket()` where `m_socket` is a parameter: a stand-in handed to the
            # function (a mock.patch argument in tests), not a module we know.
            and qual.rsplit(".", 1)[0] not in self.callable_params - {"self", "cls"}
        ):
            # `gevent.socket.create_connection`, `trio.socket.socket`, `self.socket_module.socket`:
            # a socket-like module's factory.
            qual = "socket." + qual.rsplit(".", 1)[-1]
        if (
            qual is not None
            and (qual in self.ctx.model.FACTORIES or qual in self.ctx.factories or (name in self.ctx.factories))
            and not (st.socket_patched and qual.startswith("socket."))
        ):
            return self._create_from_factory(site, qual, st)
        if (
            method is not None
            and method in self.ctx.model.METHOD_TUPLE_FACTORIES
            # `loop.create_connection(...)`, not `connection.create_connection(...)` of an
            # imported module, nor a function of the project of that name.
            and (qual is None or qual == name)
            and (site.local_name is None or site.local_name not in self.ctx.summaries.defined)
            and "event-loop-by-name" in self.guesses
            and _looks_like_event_loop(site.call)
        ):
            return self._call_makes_async_resource(site, self.ctx.model.METHOD_TUPLE_FACTORIES[method], st)
        if qual is not None and qual in self.ctx.model.PAIR_FACTORIES:
            self.raise_point(st, call, frozenset(), EXC_OS)
            return Val(pair_call=call)
        if method is not None and method in self.ctx.model.WRAP_METHODS and (
            self._real_sockets(arg_rids) or ("ssl-context-by-name" in self.guesses and _looks_like_ssl_context(site.receiver_text))
        ):
            # `ctx.wrap_socket(sock)`: ownership moves to the SSL socket before anything can
            # fail (see _create_from_factory). Only a tracked socket argument makes this ssl's
            # method: a project's own `wrap_socket()` may return anything.
            self._dispose(st, arg_rids, call, "escape")
            # The TLS handshake: it fails in normal operation (a bad certificate, a reset).
            self.raise_point(st, call, frozenset(), EXC_ANY, FAIL_IO)
            rid = self._create(st, call, "wrap", callee_text(call), call)
            return Val.of(frozenset({rid}))
        if method is not None and method in self.ctx.model.ACCEPT_METHODS and not call.args:
            self.raise_point(st, call, recv_val.rids, EXC_OS)
            self._event("method", method, call, recv_val.rids, site.receiver_text)
            return Val(accept_call=call)
        if method is not None and method in self.ctx.model.DUP_METHODS and not call.args and (recv_val.rids or ("dup-receiver-name" in self.guesses and self._sockety(site.receiver_text))):
            self.raise_point(st, call, recv_val.rids, EXC_OS)
            self._event("method", method, call, recv_val.rids, site.receiver_text)
            rid = self._create(st, call, "dup", callee_text(call), call)
            return Val.of(frozenset({rid}))
        return None

    def _call_makes_async_resource(self, site: CallSite, tf: model.TupleFactory, st: State) -> Val:
        """asyncio's factories (``factories`` rows with a ``resource`` or ``call = "method"``):
        ``asyncio.open_connection(...)`` and ``loop.create_connection(...)`` build a coroutine
        whose awaited pair holds the new resource (made where the pair is unpacked or indexed:
        ``assign._make_tuple``); ``asyncio.start_server(...)`` one whose result is a server.
        Calling one only builds the coroutine: the ``await`` is where it fails. A socket given
        as ``sock=`` belongs to the new transport from the call on."""
        m = self.ctx.model
        if tf.companion == "holder" and self._factory_returns_self(site):
            # `loop.create_connection(lambda: self, ...)`: the object is the protocol, and its
            # `connection_made()` gets the transport: the object holds it.
            return EMPTY
        owned_kw = frozenset().union(
            *(v.rids | v.reach for a, v in site.arg_vals if a.keyword is not None and a.keyword.value in m.OWNING_KEYWORDS)
        )
        if tf.takes_over_argument:
            owned_kw = owned_kw | site.arg_rids
        self._dispose(st, owned_kw, site.call, "escape")
        # `loop.sock_accept(sock)` reads the listening socket: the await touches it.
        return Val(frozenset(), site.arg_rids - owned_kw, frozenset(), tuple_source=(site.call, tf, False))

    def _factory_returns_self(self, site: CallSite) -> bool:
        """The protocol factory (first positional argument) is ``lambda: self`` or
        ``lambda: self.<attr>``."""
        first = next((a.value for a, _ in site.arg_vals if a.keyword is None), None)
        if first is None:
            first = next((a.value for a, _ in site.arg_vals if a.keyword is not None and a.keyword.value == "protocol_factory"), None)
        if not isinstance(first, cst.Lambda):
            return False
        body = first.body
        while isinstance(body, cst.Attribute):
            body = body.value
        return isinstance(body, cst.Name) and self.self_name is not None and body.value == self.self_name

    def _create_from_factory(self, site: CallSite, qual: str, st: State) -> Val:
        call, arg_rids = site.call, site.arg_rids
        origin = qual.rsplit(".", 1)[-1] if qual.startswith(("socket.", "_socket.")) else ("wrap" if qual in self.ctx.model.WRAPPING_FACTORIES else "factory")
        if origin not in ("socket", "create_connection", "create_server", "fromfd", "fromshare", "SocketType"):
            origin = "wrap" if qual in self.ctx.model.WRAPPING_FACTORIES else "factory"
        if origin == "SocketType":
            origin = "socket"
        resource = self.ctx.summaries.resource_classes.get(site.name or "") or self.ctx.summaries.resource_classes.get(qual)
        if resource is not None:
            # A resource type of the project: "wraps" takes its argument over, as ssl does.
            origin = "wrap" if resource == "wraps" else "factory"
        if origin == "wrap":
            # ssl takes the socket over first: SSLSocket._create detaches it and closes
            # it itself if the handshake fails (ssl.py, 3.7 to 3.13).
            self._dispose(st, arg_rids, call, "escape")
            self.raise_point(st, call, frozenset(), EXC_ANY, FAIL_IO)
        else:
            # `socket.socket(family, type, fileno=fd)`: the new socket owns that descriptor.
            fd_rids = frozenset().union(
                *(v.rids for a, v in site.arg_vals if a.keyword is not None and a.keyword.value == "fileno")
            )
            self._dispose(st, fd_rids, call, "escape")
            self.raise_point(st, call, arg_rids - fd_rids, EXC_OS)
            self._dispose(st, self._fresh_only(st, arg_rids), call, "escape")
        rid = self._create(st, call, origin, callee_text(call), call)
        origins = self.ctx.summaries.origins
        self.facts.resources[rid].defined_at = origins.get(site.name or "") or origins.get(qual)
        return Val.of(frozenset({rid}))

    def _call_local_coroutine_or_source(self, site: CallSite, st: State) -> Optional[Val]:
        """A coroutine function of this module, or a helper of it that returns a fresh socket."""
        local_name, arg_vals, call = site.local_name, site.arg_vals, site.call
        if local_name is None:
            return None
        summaries = self.ctx.summaries
        if local_name in summaries.async_funcs and local_name not in summaries.sources:
            # Calling a coroutine function only builds the coroutine: it cannot fail, and
            # the coroutine holds the arguments until it is awaited or scheduled. One that
            # closes an argument (`async with sock:` in a server coroutine) owns it.
            closes = summaries.closers.get(local_name, set())
            by_coro: frozenset[int] = frozenset().union(
                *(v.rids for i, (a, v) in enumerate(arg_vals) if a.keyword is None and i in closes)
            ) if closes else frozenset()
            if by_coro:
                self._dispose(st, by_coro, call, "close")
            # One that hands an argument on (`Conn(reader, writer)`, stored on self) owns it too.
            keeps = summaries.keepers.get(local_name, set())
            # The argument itself, not what it reaches: `_wait(loop.sock_connect(sock, addr))`
            # keeps the coroutine, not the socket the coroutine uses.
            kept: frozenset[int] = frozenset().union(
                *(v.rids for i, (a, v) in enumerate(arg_vals) if a.keyword is None and i in keeps)
            ) if keeps else frozenset()
            if kept - by_coro:
                self._dispose(st, kept - by_coro, call, "escape")
                by_coro |= kept
            owned_kw = frozenset().union(
                *(v.rids | v.reach for a, v in arg_vals if a.keyword is not None and a.keyword.value in self.ctx.model.OWNING_KEYWORDS)
            )
            if owned_kw:
                # `await create_endpoint(sock=sock)`: the keyword hands the socket over, to a
                # coroutine of the project as to asyncio's own.
                self._dispose(st, owned_kw, call, "escape")
                by_coro |= owned_kw
            # `await self._connect()` in `__aenter__`: the coroutine uses what self holds.
            return Val(frozenset(), (site.arg_rids | self._self_reach(site, st)) - by_coro, frozenset())
        if summaries.is_source(local_name, site.via_self, self.cur_class):
            wrapped = summaries.wrappers.get(local_name, set())
            if wrapped and not any(
                v.rids for i, (a, v) in enumerate(arg_vals) if a.keyword is None and i in wrapped
            ):
                # A helper that wraps the socket it is given (`return ctx.wrap_socket(sock)`),
                # given no socket this function knows (a test's `Mock()`): what it returns
                # is whatever the argument was, not a socket this function made.
                return None
            taken = frozenset().union(
                *(v.rids for i, (a, v) in enumerate(arg_vals) if a.keyword is None and i in wrapped)
            ) if wrapped else frozenset()
            # `sock = _ssl_socket(sock)`: rebinding the argument's name hands it over too.
            taken |= self._moved_by_rebinding(call, arg_vals)
            # A helper returning `ctx.wrap_socket(param)` takes its argument over, as ssl does.
            self._dispose(st, taken, call, "escape")
            self.raise_point(st, call, site.arg_rids - taken, EXC_ANY)
            # `test_wrap_socket(socket.socket())`: a helper that returns a fresh socket owns
            # the fresh socket it was given (it wraps it).
            self._dispose(st, self._fresh_only(st, site.arg_rids), call, "escape")
            rid = self._create(st, call, "factory", callee_text(call), call)
            self.facts.resources[rid].defined_at = summaries.origins.get(local_name)
            return Val.of(frozenset({rid}))
        return None

    def _call_rebinds_argument(self, site: CallSite, st: State) -> Optional[Val]:
        call, method, recv_val = site.call, site.method, site.recv_val
        moved = self._moved_by_rebinding(call, site.arg_vals)
        if call is self.assignment.call:
            self.assignment.moved = moved
        if moved and not (method is not None and recv_val.rids and method in self.ctx.model.CLOSE_METHODS):
            # `sock = adapter.wrap(sock)`, `s, env = adapter.wrap(s)`, `sock = bind(sock, addr)`:
            # the caller replaces its socket with what the call returns, so the call takes the
            # socket over (the result is the socket itself or a wrapper that owns it), and
            # whoever took it over disposes of it if the call fails, as ssl's wrap_socket does.
            # The result is followed as the same socket, with its creation and path.
            exc = st.copy()
            for key in [k for k in exc.obs if k[0] in moved]:
                del exc.obs[key]
            self.raise_point(exc, call, (site.arg_rids | recv_val.rids) - moved, EXC_ANY)
            return Val(moved, moved)
        return None

    # ------------------------------------------------------------------ methods on a socket
    def _call_socket_method(self, site: CallSite, st: State) -> Optional[Val]:
        call, method, recv_val, receiver_text = site.call, site.method, site.recv_val, site.receiver_text
        if method is None:
            return None
        kinds = {self.facts.resources[r].kind for r in recv_val.rids if r in self.facts.resources}
        if kinds and "socket" not in kinds:
            return self._method_of_async_resource(site, method, min(kinds), st)
        owners = frozenset(r for r in recv_val.reach if r in self.facts.resources and self.facts.resources[r].kind != "socket")
        if not recv_val.rids and owners and method in self.ctx.model.SOCKET_METHODS:
            # `stream.socket.sendmsg(...)`, `stream._raw_socket.setsockopt(...)`: the socket
            # method, on the socket a stream or transport owns, fails as on a socket.
            if method not in self.ctx.model.NONRAISING_SOCKET_METHODS:
                cls = EXC_OSCFG if method in self.ctx.model.CONFIG_SOCKET_METHODS else EXC_OS
                self.raise_point(st, call, owners | site.arg_rids, cls, self._method_failure(method, call))
            return EMPTY
        f = call.func
        if method in self.ctx.model.SOCKET_METHODS or method in self.ctx.model.CLOSE_METHODS:
            self._event("method", method, call, recv_val.rids, receiver_text)
        if (
            method in self.ctx.model.CLOSE_METHODS
            and isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Attribute)
            and "wrapper-socket-attribute" in self.guesses
            and "sock" in f.value.attr.value.lower()
            and (inner := self.ev_peek(f.value.value, st))
        ):
            # `sock._socket.close()`: a socket-like wrapper closed through the socket it wraps.
            self._dispose(st, inner, call, "close")
            self._event("close", method, call, inner, receiver_text)
            return EMPTY
        if method in self.ctx.model.CLOSE_METHODS and recv_val.reach - recv_val.rids and not recv_val.rids and self._self_call_closes_exactly(site) is None:
            # `transport = make_transport(sock); ...; transport.close()`: the object built
            # around the socket owns it, and closing it closes the socket. (`self.close()` on
            # the object under construction whose close() the module shows closes what it
            # closes: `_call_closes_self`.)
            owned = recv_val.reach - recv_val.rids
            self._dispose(st, owned, call, "close")
            self._event("close", method, call, owned, receiver_text)
            return EMPTY
        if recv_val.rids and self._closes_object(recv_val.rids, method):
            self._dispose(st, recv_val.rids, call, "close")
            self._event("close", method, call, recv_val.rids, receiver_text)
            return EMPTY
        if recv_val.rids and (
            method in self.ctx.model.SOCKET_METHODS
            or method in self.ctx.model.CLOSE_METHODS
            or any(self.facts.resources[r].origin != "param" for r in recv_val.rids if r in self.facts.resources)
        ):
            # A method of a socket (parameters are tracked too, but a parameter's unknown
            # methods are just calls on some object).
            return self._method_of_tracked_socket(site, method, st)
        return None

    def _method_of_tracked_socket(self, site: CallSite, method: str, st: State) -> Val:
        call, recv_val = site.call, site.recv_val
        self._used_after_continue(st, recv_val.rids)
        if method in self.ctx.model.CLOSE_METHODS:
            # Everything the name may hold, or may own through a wrapper, is closed.
            self._dispose(st, recv_val.rids | recv_val.reach, call, "close")
            self._event("close", method, call, recv_val.rids, site.receiver_text)
            return EMPTY
        if method not in self.ctx.model.NONRAISING_SOCKET_METHODS and not ("accessor" in self.guesses and model.is_accessor(method)) and not self._local_pair_send(method, recv_val.rids):
            cls = (EXC_OSCFG if method in self.ctx.model.CONFIG_SOCKET_METHODS else EXC_OS) if method in self.ctx.model.SOCKET_METHODS else EXC_ANY
            if method == "connect" and self._all_dgram(recv_val.rids):
                # A datagram socket's connect() only records the peer (a route lookup): it
                # never blocks, so it fails at once with a plain OSError and never times out.
                cls = EXC_OSCFG
            self.raise_point(st, call, recv_val.rids | site.arg_rids, cls, self._method_failure(method, call))
        if method in self.ctx.model.DERIVING_METHODS:
            return Val(frozenset(), recv_val.rids, frozenset(), reader=True)
        if method in self.ctx.model.SELF_RETURNING_METHODS:
            return Val(recv_val.rids, recv_val.rids)
        self._after_borrow(st, call, site.arg_vals, site.qual, method)
        return EMPTY

    def _method_of_async_resource(self, site: CallSite, method: str, kind: str, st: State) -> Val:
        """A method of a stream writer, transport or server (its ``resource-methods`` row):
        closing it disposes of it, a method that cannot fail is no raise point, one that does
        I/O fails in operation, any other may raise anything. Only closing is recorded as an
        event (SKL112 asks whether a stored transport is closed anywhere); the option and
        shutdown rules are about the socket API."""
        call, recv_val = site.call, site.recv_val
        row = self.ctx.model.resource_method(kind, method)
        if row is not None and row.get("closes"):
            self._dispose(st, recv_val.rids | recv_val.reach, call, "close")
            self._event("close", method, call, recv_val.rids | recv_val.reach, site.receiver_text)
            return EMPTY
        self._used_after_continue(st, recv_val.rids)
        raises = str(row.get("raises")) if row is not None else "any"
        if raises == "io":
            self.raise_point(st, call, recv_val.rids | site.arg_rids, EXC_OS, FAIL_IO)
        elif raises == "config":
            # `stream.setsockopt(...)` on trio's SocketStream: the socket call, failing only
            # when misused (a bad option), as on a socket.
            self.raise_point(st, call, recv_val.rids | site.arg_rids, EXC_OSCFG, FAIL_CONFIG)
        elif raises == "any":
            self.raise_point(st, call, recv_val.rids | site.arg_rids, EXC_ANY)
        self._after_borrow(st, call, site.arg_vals, site.qual, method)
        return EMPTY

    def _method_failure(self, method: str, call: cst.Call) -> Optional[str]:
        """When a socket method fails, from its row (``fails``): in normal operation
        (FAIL_IO), or only on misuse (FAIL_CONFIG); None for a method of no row."""
        if method not in self.ctx.model.SOCKET_METHODS:
            return None
        fails = self.ctx.model.fails(method)
        if fails == "in-operation-unless-port-zero":
            fails = "on-misuse" if _port_zero(call) else "in-operation"
        return FAIL_IO if fails == "in-operation" else FAIL_CONFIG

    # ------------------------------------------------------------------ the object under construction
    def _is_owner_self(self, e: cst.BaseExpression) -> bool:
        """``e`` is ``self`` (or ``super()``) in a plain method of a class."""
        if self.self_name is None:
            return False
        if isinstance(e, cst.Name):
            return e.value == self.self_name
        return isinstance(e, cst.Call) and _name_of(e.func) == "super"

    def _self_reach(self, site: CallSite, st: State) -> frozenset[int]:
        """The sockets stored on ``self`` that a call of ``self.m()`` / ``super().m()`` may use."""
        f = site.call.func
        if self.owner_self is None or not isinstance(f, cst.Attribute) or not self._is_owner_self(f.value):
            return frozenset()
        return st.derived.get(self.owner_self, frozenset())

    def _note_attribute_in_use(self, f: cst.Attribute, st: State) -> None:
        """``self.sock.sendall(data)`` in a method other than ``__init__`` / ``__enter__``:
        ``self.sock`` holds an open socket on this path from here on. It is followed (origin
        ``attribute``) only to tell when the attribute is rebound or cleared while that socket
        is still open (SKL104): closing it, aliasing it, passing it on or leaving the method
        ends the interest. ``makefile()``, ``fileno()``, ``shutdown()`` and the like do not count."""
        recv = f.value
        if (
            self.owner_self is not None
            or self.cur_class is None
            or f.attr.value not in model.IN_USE_METHODS
            or not isinstance(recv, cst.Attribute)
            or not isinstance(recv.value, cst.Name)
            or not self._is_self_name(recv.value.value)
        ):
            return
        dotted = f"{recv.value.value}.{recv.attr.value}"
        if st.env.get(dotted):
            return
        rid = self._create(st, recv, "attribute", dotted)
        self.facts.disposed.add(rid)
        self._rebind(st, dotted, Val.of(frozenset({rid})), recv)

    def _call_builds_owner(self, site: CallSite, st: State) -> Optional[Val]:
        """``obj = cls(addr)`` in a classmethod (or ``Client(addr)`` in a static method of
        ``Client``) whose ``__init__`` stores a socket it makes: the new object is a resource
        of the factory until it is returned (origin ``object``). The constructor's own failure
        is SKL111 in ``__init__``; here the arguments go to the object as with any class."""
        if not self.factory_names or site.name not in self.factory_names or self.cur_class is None:
            return None
        if self.cur_class not in self.ctx.summaries.objects.socket_inits:
            return None
        self._dispose(st, site.arg_rids, site.call, "escape")
        self.raise_point(st, site.call, frozenset(), EXC_ANY)
        rid = self._create(st, site.call, "object", callee_text(site.call))
        return Val.of(frozenset({rid}))

    def _closes_object(self, rids: frozenset[int], method: str) -> bool:
        """``obj.disconnect()`` on an object a factory built (origin ``object``): a method that
        closes an attribute of its class (``ObjectSummary``), or one named for ending the object
        (heuristic ``object-method-closes-by-name``)."""
        res = [self.facts.resources.get(r) for r in rids]
        if not res or any(r is None or r.origin != "object" for r in res) or self.cur_class is None:
            return False
        if self.ctx.summaries.objects.closed_by(self.cur_class, method):
            return True
        return "object-method-closes-by-name" in self.guesses and ends_object(method)

    def _call_closes_self(self, site: CallSite, st: State) -> Optional[Val]:
        """``self.close()`` in ``__init__`` (in a handler, before re-raising): it closes the
        attributes the class's ``close()`` closes (``objects.ObjectSummary``). A method the
        module does not define is judged by its name (heuristic
        ``object-method-closes-by-name``): ``self.close()``, ``self.disconnect()`` of a base
        class elsewhere close everything the object holds."""
        f = site.call.func
        if self.self_name is None or site.method is None or not isinstance(f, cst.Attribute) or not self._is_owner_self(f.value):
            return None
        prefix = self.self_name + "."
        held = {n[len(prefix):]: r for n, r in st.env.items() if n.startswith(prefix) and r}
        if not held:
            return None
        method = site.method
        via_super = isinstance(f.value, cst.Call)
        objects = self.ctx.summaries.objects
        attrs: Optional[set[str]] = None
        exact = self._self_call_closes_exactly(site)
        if exact is not None:
            # The module shows all the method closes: what it does not close stays open
            # (`close()` that closes only the file).
            closed = frozenset().union(*(held[a] for a in exact if a in held)) if exact & set(held) else frozenset()
            if not closed:
                return None
            self._dispose(st, closed, site.call, "close")
            self._event("close", method, site.call, closed, site.receiver_text)
            return EMPTY
        if self.cur_class is not None:
            if via_super:
                found = [objects.closed_by(b, method) for b in objects.bases.get(self.cur_class, ())]
                attrs = set().union(*(a for a in found if a is not None)) if any(a is not None for a in found) else None
            else:
                attrs = objects.closed_by(self.cur_class, method)
        if (not attrs and "object-method-closes-by-name" in self.guesses and ends_object(method)) or (attrs and ALL in attrs):
            attrs = set(held)
        if not attrs:
            return None
        closed = frozenset().union(*(held[a] for a in attrs if a in held)) if attrs & set(held) else frozenset()
        if not closed:
            return None
        self._dispose(st, closed, site.call, "close")
        self._event("close", method, site.call, closed, site.receiver_text)
        return EMPTY

    def _self_call_closes_exactly(self, site: CallSite) -> Optional[set[str]]:
        """For ``self.m()`` / ``super().m()`` on the object under construction: the attributes
        ``m`` closes when the module shows all it closes (``ObjectSummary.closes_exactly``);
        None otherwise, or when the call is not one."""
        f = site.call.func
        if self.owner_self is None or self.cur_class is None or site.method is None or not isinstance(f, cst.Attribute) or not self._is_owner_self(f.value):
            return None
        return self.ctx.summaries.objects.closes_exactly(self.cur_class, site.method, via_super=isinstance(f.value, cst.Call))

    # ------------------------------------------------------------------ closing helpers, owners, borrowers
    def _call_known_function(self, site: CallSite, st: State) -> Optional[Val]:
        """Calls the model, the configuration or the module's summaries say something about."""
        call, qual, name, method, arg_vals, arg_rids = site.call, site.qual, site.name, site.method, site.arg_vals, site.arg_rids
        if (qual in self.ctx.model.NORETURN) or (name in self.ctx.model.NORETURN):
            return EMPTY
        if qual in self.ctx.model.PASS_THROUGH or site.last in ("closing", "nullcontext"):
            return Val(arg_rids, arg_rids)
        if qual in self.ctx.model.AWAITED_PASS_THROUGH and arg_vals and arg_vals[0][0].keyword is None:
            first = arg_vals[0][1]
            if first.tuple_source is not None or (first.rids and self._fresh_only(st, first.rids) == set(first.rids)):
                # `await asyncio.wait_for(asyncio.open_connection(h, p), 5)`: awaiting it gives
                # what awaiting the coroutine gives (the await is where either fails).
                return first
        if (
            method is not None
            and method in self.ctx.model.RUN_TO_COMPLETION
            and arg_vals
            and arg_vals[0][1].tuple_source is not None
            and "event-loop-by-name" in self.guesses
            and _looks_like_event_loop(call)
        ):
            # `reader, writer = loop.run_until_complete(asyncio.open_connection(h, p))`: running
            # the coroutine to completion gives what awaiting it gives, and fails where it would.
            first = arg_vals[0][1]
            self.raise_point(st, call, first.reach - first.rids, EXC_ANY)
            return self._awaited_value(st, first)
        if qual in self.ctx.model.SUPPRESS or qual in self.ctx.model.INERT_CONTEXT_MANAGERS:
            # `with contextlib.suppress(OSError):` only builds the context manager: nothing
            # to fail.
            return EMPTY
        closed = self._closed_by_call(site, st)
        if closed is not None:
            return closed
        if arg_rids:
            owned = self._owned_by_call(site, st)
            if owned is not None:
                return owned
        if method is not None and "test-assertion" in self.guesses and model.is_test_assertion(method) and site.receiver_text == "self" and id(call) not in self.cm_calls:
            # `self.assertNotEqual(s, None)`, `self.assertRaisesRegex(E, msg, s.connect, a)`:
            # a unittest assertion fails with AssertionError, a failed test like a failing
            # `assert` statement: handlers and `finally` see it, no finding is made of it.
            exc = st.copy()
            ei = self._exit("assert", call, cls="AssertionError")
            self._rekey(exc, ei)
            self.jump("raise", exc, "AssertionError")
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        # `time.time()`, `platform.system()` (`cannot-fail` rows, `when = "always"`) are no raise
        # point either, as inspectors. (`sorted(xs)`, `list(xs)` stay raise points here:
        # iterating their argument may run a generator that does I/O.)
        if (
            qual in self.ctx.model.INSPECTING_FUNCTIONS
            or name in self.ctx.model.INSPECTING_FUNCTIONS
            or qual in self.ctx.model.PURE_CALLS
            or ("logging-call" in self.guesses and model.is_logging_call(name, method))
        ):
            if qual in self.ctx.model.NON_OWNING_CALLS:
                # `ev = select.kevent(b, ...)` holds a descriptor number, not the socket: handing
                # `ev` on (`kq.control([ev])`) hands nothing on.
                return EMPTY
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        f = call.func
        if isinstance(f, cst.Attribute) and self.raises.str_method_cannot_fail(call, f):
            # `"whois -h {0}".format(server)`, `b"".join(parts)`, `query.encode()` where
            # `query = "...".format(...)`: a string method builds a string; it fails only for a
            # programming error (a bad format field), not at run time, so it is neither a raise
            # point nor a witness.
            return EMPTY
        if isinstance(f, cst.Attribute) and self.raises.container_method_cannot_fail(f):
            # `rtts.append(rtt)` on a list the function built: only memory can fail it. What
            # goes in is handed to the container as with any call.
            self._after_borrow(st, call, arg_vals, qual, method)
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        local_name = site.local_name
        if local_name is not None and self.ctx.summaries.nonraising_in(local_name, site.via_self, self.cur_class):
            # `set_nodelay(sock)` whose body is `with suppress(Exception): ...`, or
            # `self.debug_print(msg)` that only prints: cannot raise. A method counts only when
            # this class defines it (not one it may inherit from elsewhere).
            self._after_borrow(st, call, arg_vals, qual, method)
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        return None

    def _closed_by_call(self, site: CallSite, st: State) -> Optional[Val]:
        closer_params = self._closer_params(site.name, site.qual, site.local_name)
        if closer_params is None:
            return None
        closed: set[int] = set()
        for i, (a, v) in enumerate(site.arg_vals):
            if a.keyword is None and (i in closer_params or closer_params == {-1}):
                closed |= v.rids
        if not closed:
            return None
        self._dispose(st, closed, site.call, "close")
        self._event("close", site.last or "close", site.call, frozenset(closed), None)
        return EMPTY

    def _owned_by_call(self, site: CallSite, st: State) -> Optional[Val]:
        """The call takes the sockets it is given over (a keeper, a class, a container)."""
        call, arg_vals = site.call, site.arg_vals
        positions = self.ctx.summaries.keepers.get(site.local_name) if site.local_name is not None else None
        if positions and not self._keeps(site.name, site.qual, site.method, site.last, None, call) and not self._keeps_any_alternative(call):
            # A helper known to keep some of its parameters (`wrap(s, flags)` that builds
            # `Conn(s)`) takes over what is passed there, not every argument. (One passed by
            # keyword may be any parameter: taken over too.)
            kept = frozenset().union(
                *(v.rids | v.reach for i, (a, v) in enumerate(arg_vals) if a.keyword is not None or i in positions)
            )
            if kept:
                self._dispose(st, kept, call, "escape")
            return None  # the rest of the call as any other: what it raises, what it borrows
        if self._keeps(site.name, site.qual, site.method, site.last, site.local_name, call) or self._keeps_any_alternative(call):
            # The new owner has the socket before anything in the call can fail.
            self._dispose(st, site.arg_rids, call, "escape")
            if site.method not in self.ctx.model.NONRAISING_KEEPERS and self._local_class(site.name, site.last) not in self.ctx.summaries.trivial_init:
                self.raise_point(st, call, frozenset(), EXC_ANY)
            return EMPTY
        contained = frozenset().union(*(v.contained for _, v in arg_vals))
        if contained:
            # A container built around the socket and passed on: the callee keeps it.
            self._dispose(st, contained, call, "escape")
        owned_kw = frozenset().union(
            *(v.rids | v.reach for a, v in arg_vals if a.keyword is not None and a.keyword.value in self.ctx.model.OWNING_KEYWORDS)
        )
        if owned_kw:
            self._dispose(st, owned_kw, call, "escape")
        return None

    def _constructor_calls_setter(self, site: CallSite, st: State) -> None:
        """``self.connect()`` in ``__init__`` / ``__enter__``, where ``connect`` stores a socket
        it makes in ``self.sock`` (``Summaries.socket_setters``): from the call on, the object
        under construction holds that socket, as after ``self.sock = socket.socket()`` here.
        When the method then uses it and never closes it itself, the call can raise with the
        socket stored: the caller never gets the object (SKL111 at the call)."""
        if self.owner_self is None or self.cur_class is None or not site.via_self or site.local_name is None:
            return
        attrs = self.ctx.summaries.socket_setters.get(self.cur_class, {}).get(site.local_name)
        if not attrs:
            return
        made: set[int] = set()
        for attr in sorted(attrs):
            dotted = f"{self.owner_self}.{attr}"
            if st.env.get(dotted) or self._finalizer_closes(attr):
                # Already holds one; or `__del__` closes it, so a half-built object cleans up.
                continue
            rid = self._create(st, site.call, "factory", f"{site.name}()")
            self._hold_on_self(st, dotted, frozenset({rid}), Val.of(frozenset({rid})), site.call)
            made.add(rid)
        method = f"{self.cur_class}.{site.local_name}"
        if made and method in self.ctx.summaries.setters_raise:
            self.raise_point(st, site.call, frozenset(made), EXC_OS, FAIL_IO)
        elif made and method in self.ctx.summaries.setters_raise_config:
            self.raise_point(st, site.call, frozenset(made), EXC_OSCFG, FAIL_CONFIG)

    def _constructor_calls_base_init(self, site: CallSite, st: State) -> None:
        """``super().__init__(...)`` (or ``Base.__init__(self, ...)``) in ``__init__``, where
        the ``__init__`` it runs, of a class of this module, stores a socket it makes in
        ``self.X`` (``ObjectSummary.base_init_stores``): once the call returns, the object under
        construction holds that socket, as after ``self.X = socket.socket()`` here, and what
        fails afterwards leaves it open with no object to close it (SKL111). The base's own
        failure is not this call's: that ``__init__`` closes the socket itself
        (``socketserver.TCPServer``'s `except: self.server_close(); raise`) or is reported
        where it is."""
        f = site.call.func
        if (
            self.owner_self is None
            or self.cur_class is None
            or self.facts.owner_method != "__init__"
            or not isinstance(f, cst.Attribute)
            or f.attr.value != "__init__"
        ):
            return
        recv = f.value
        named: Optional[str] = None
        if isinstance(recv, cst.Call) and _name_of(recv.func) == "super":
            pass
        else:
            first = site.call.args[0].value if site.call.args else None
            if not (isinstance(first, cst.Name) and first.value == self.owner_self):
                return
            text = _name_of(recv)
            if text is None:
                return
            named = text if "." not in text else "?"
        attrs = self.ctx.summaries.objects.base_init_stores(self.cur_class, named)
        callee = f"{named or 'super()'}.__init__()"
        for attr in sorted(attrs):
            dotted = f"{self.owner_self}.{attr}"
            if st.env.get(dotted) or self._finalizer_closes(attr):
                continue
            rid = self._create(st, site.call, "factory", callee)
            self._hold_on_self(st, dotted, frozenset({rid}), Val.of(frozenset({rid})), site.call)

    def _call_unknown(self, site: CallSite, st: State) -> Val:
        """Any other call: it may raise, and it borrows what it is given."""
        call, qual, name, method, local_name, arg_rids = site.call, site.qual, site.name, site.method, site.local_name, site.arg_rids
        cls = EXC_ANY
        failure: Optional[str] = None
        if qual in self.ctx.model.OS_CONFIG_FUNCTIONS:
            # `fcntl.ioctl(s, SIOCGIFADDR, req)`: fails with a plain OSError, which
            # `except IOError:` catches; an interface without an address fails it every day.
            cls = EXC_OSCFG
            if qual in self.ctx.model.OS_CONFIG_FUNCTIONS_FAILING_IN_OPERATION:
                failure = FAIL_IO
        exposed: frozenset[int] = frozenset()
        if qual in self.ctx.model.NETWORK_FUNCTIONS:
            # `socket.gethostbyname(host)` fails in normal operation (a gaierror, an OSError):
            # every socket open across it is at risk as if its own I/O had failed.
            cls, failure = EXC_OS, FAIL_IO
            exposed = self._real_sockets(frozenset(ob.rid for ob in st.obs.values()))
        if local_name is not None and self.ctx.summaries.defines(local_name, site.via_self, self.cur_class):
            # A module function, or a method of the calling class (`self.update_timeout(s)`).
            if local_name in self.ctx.summaries.oscfg_only:
                cls = EXC_OSCFG
            elif local_name in self.ctx.summaries.os_only:
                cls = EXC_OS
            elif local_name in self.ctx.summaries.non_os:
                cls = EXC_NONOS
        # A fresh, unnamed socket belongs to the callee from the call on.
        self._after_borrow(st, call, site.arg_vals, qual, method)
        if method in self.ctx.model.ASYNC_LOOP_METHODS and "event-loop-by-name" in self.guesses and "loop" in (site.receiver_text or "").rsplit(".", 1)[-1].lower():
            # `f = self.loop.sock_recv(r, 1)`: a coroutine is built, nothing runs yet; it raises
            # where it is awaited or run, and it holds the socket until then.
            return Val(frozenset(), arg_rids, frozenset())
        if (
            qual not in self.ctx.model.NON_OWNING_CALLS
            and not (method or "").startswith("assert")
            and (local_name is None or local_name not in self.ctx.summaries.defined)
            and not (qual in self.ctx.borrowers or (name is not None and name in self.ctx.borrowers))
        ):
            # Passed to a call of another module: if the function never closes it, that call is
            # the likely owner (see check_leaks).
            for _, v in site.arg_vals:
                for rid in self._real_sockets(v.rids):
                    res = self.facts.resources[rid]
                    if res.lent is None:
                        res.lent = call
        # `self._handshake()`, `super().__init__()` in `__init__`: they use what self holds.
        # `f.readline()` on `f = sock.makefile()`: a method of an object that holds the socket
        # uses it (and fails when it does: a reset connection).
        held = site.recv_val.rids | site.recv_val.reach
        self.raise_point(st, call, arg_rids | self._self_reach(site, st) | exposed | held, cls, failure)
        self._constructor_calls_setter(site, st)
        # The call's result may hold what was passed in (a coroutine, a wrapper): it is
        # reachable from the result, which matters only if the result is handed off.
        return Val(frozenset(), arg_rids, frozenset())

    def _moved_by_rebinding(self, call: cst.Call, arg_vals: list[tuple[cst.Arg, Val]]) -> frozenset[int]:
        """Sockets that ``name = f(name, ...)`` passes in under the very name it rebinds."""
        if call is not self.assignment.call or not self.assignment.targets:
            return frozenset()
        out: set[int] = set()
        for a, v in arg_vals:
            if a.keyword is None and not a.star and isinstance(a.value, cst.Name) and a.value.value in self.assignment.targets:
                out |= self._real_sockets(v.rids)
        return frozenset(out)

    def _real_sockets(self, rids: frozenset[int]) -> frozenset[int]:
        return frozenset(r for r in rids if r in self.facts.resources and self.facts.resources[r].origin != "param")

    def _sockety(self, receiver: Optional[str]) -> bool:
        return bool(receiver) and ("sock" in receiver.lower() or "conn" in receiver.lower())  # type: ignore[union-attr]

    def _fresh_only(self, st: State, rids: frozenset[int]) -> set[int]:
        out: set[int] = set()
        for rid in rids:
            for (r, ei), ob in st.obs.items():
                if r == rid and ei is None and not ob.may:
                    out.add(rid)
        return out

    def _after_borrow(self, st: State, call: cst.Call, arg_vals: list[tuple[cst.Arg, Val]], qual: Optional[str], method: Optional[str]) -> None:
        """A fresh, unnamed socket passed to a call goes to the callee: nothing else could
        ever close it, so the callee must own it (``serve(socket.socket())``)."""
        fresh: set[int] = set()
        for _, v in arg_vals:
            fresh |= self._fresh_only(st, v.rids | v.reach)
        if fresh:
            self._dispose(st, fresh, call, "escape")

    def _closer_params(self, name: Optional[str], qual: Optional[str], local_name: Optional[str]) -> Optional[set[int]]:
        if name is None:
            return None
        if qual in self.ctx.borrowers or name in self.ctx.borrowers:
            # The user's word beats every guess below: a borrower never closes what it is given.
            return None
        if qual in self.ctx.closers or name in self.ctx.closers or (local_name and local_name in self.ctx.closers):
            return {0}
        if local_name is not None and local_name in self.ctx.summaries.closers:
            return self.ctx.summaries.closers[local_name]
        last = name.rsplit(".", 1)[-1]
        if last not in self.ctx.summaries.defined and "closes-by-name" in self.guesses and model.closes_by_name(last):
            # A function of another module named for closing (`close_socket(s)`): it closes
            # every socket given to it.
            return {-1}
        return None

    def _local_class(self, name: Optional[str], last: str) -> Optional[str]:
        """The class of this module that the call constructs (`_Client(...)`,
        `self._Client(...)`, `Server._Client(...)`), if it is one."""
        classes = self.ctx.summaries.local_classes
        if name is None or last not in classes:
            return None
        owner = name.rsplit(".", 1)[0] if "." in name else None
        if owner is None or owner in ("self", "cls") or owner in classes:
            return last
        return None

    def _keeps(self, name: Optional[str], qual: Optional[str], method: Optional[str], last: str, local_name: Optional[str], call: cst.Call) -> bool:
        if qual in self.ctx.borrowers or (name and name in self.ctx.borrowers):
            return False
        if qual in self.ctx.sinks or (name and name in self.ctx.sinks) or (last and last in self.ctx.sinks):
            return True
        if qual in self.ctx.model.KEEPING_FUNCTIONS:
            return True
        if method is not None and method in self.ctx.model.KEEPING_METHODS:
            return True
        if local_name is not None and local_name in self.ctx.summaries.keepers:
            return True
        # `callback(conn, addr)`: a callable handed to this function (a parameter, or a
        # parameter of an enclosing function) is where the connection is meant to go.
        if name is not None and name == last and name in self.callable_params:
            return True
        # A class: constructing an object around the socket hands it over (a wrapper owns it).
        bare = last.lstrip("_")
        if "class-call-takes-ownership" in self.guesses and bare and bare[0].isupper() and not bare.isupper():
            return True
        if self._local_class(name, last) is not None:
            return True
        # A class held in a variable or attribute (`self._jobClass(sock, addr)`, `handler_class`,
        # `conn_cls`): constructing it hands the socket over too.
        if (
            "class-variable-call-takes-ownership" in self.guesses
            and last
            and last.lower().endswith(("class", "_cls"))
            and not last.lower().startswith("sub")
        ):
            return True
        # `Base.__init__(self, sock)` / `super().__init__(sock)`: the base class stores it.
        if last == "__init__" or method == "__init__":
            return True
        return False

    def _keeps_any_alternative(self, call: cst.Call) -> bool:
        """``(packetizer_class or Packetizer)(sock)``, ``(cls if cls else Wrapper)(sock)``: a
        class picked by an expression takes the socket over if any of the classes it may pick
        would (paramiko's Transport.__init__, session 13)."""
        f = call.func
        if isinstance(f, cst.BooleanOperation):
            options: list[cst.BaseExpression] = [f.left, f.right]
        elif isinstance(f, cst.IfExp):
            options = [f.body, f.orelse]
        else:
            return False
        for o in options:
            name = _name_of(o)
            if name is None:
                continue
            last = name.rsplit(".", 1)[-1]
            local = last if (name == last or name.startswith(("self.", "cls."))) else None
            if self._keeps(name, self.ctx.imports.qualify(name), None, last, local, call):
                return True
        return False

    def _local_pair_send(self, method: str, rids: frozenset[int]) -> bool:
        """``a.send(data)`` on one end of a ``socketpair()`` whose other end this function has
        not closed: a write into a local buffer that the function's own peer holds open, which
        blocks when full but does not fail."""
        if method not in ("send", "sendall") or not rids:
            return False
        for rid in rids:
            partner = self.pair_partner.get(rid)
            if partner is None:
                return False
            if any(e.kind == "close" and partner in e.rids for e in self.facts.events):
                return False
        return True


def _port_zero(call: cst.Call) -> bool:
    """``s.bind((host, 0))``: the kernel picks a free port, so the bind fails only for a bad
    descriptor or argument, never because the port is taken."""
    if not call.args or call.args[0].keyword is not None:
        return False
    addr = call.args[0].value
    if not isinstance(addr, cst.Tuple) or len(addr.elements) < 2:
        return False
    port = addr.elements[1].value
    return isinstance(port, cst.Integer) and port.evaluated_value == 0
