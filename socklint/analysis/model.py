"""What socklint knows about the socket API and the libraries around it.

The knowledge is data: rows in ``socklint/models/*.toml`` (documented in ``docs/models.md``),
read and validated once per process. This module turns rows into the engine's tables: a
``Model`` for one set of rows, ``BUILTIN`` for the shipped rows, and ``effective_model`` for
the shipped rows plus a user's ``[tool.socklint.models]`` rows. The module-level names
(``FACTORIES``, ``SOCKET_METHODS``, ...) are ``BUILTIN``'s tables, kept for the interpreter;
a ``Model`` has the same names as attributes.

Names are qualified through the file's imports (``import socket as so`` makes ``so.socket``
``socket.socket``).

The predicates keyed on how a name is spelt (``closes_by_name``, ``is_accessor``,
``is_logging_call``, ``is_test_assertion``) stay code; their word lists are the
``heuristics.toml`` data.
"""

from __future__ import annotations

import builtins
import functools
from dataclasses import dataclass
from typing import Optional

from socklint.heuristics import words
from socklint.models import Row, builtin_heuristics, builtin_rows
from socklint.models.load import FieldValue


@dataclass(frozen=True)
class SocketMethod:
    """A ``socket-methods`` row: what calling the method on a tracked socket does."""

    name: str
    raises: str  # "io" | "config" | "none"
    config: bool  # a configuration call: a failure is a plain OSError, never a timeout
    fails: str  # "in-operation" | "on-misuse" | "in-operation-unless-port-zero" (see Model.fails)
    touches: bool  # a use of the socket (an event; on a parameter, a socket call)
    closes: bool
    derives: bool  # the result keeps the socket alive (``makefile()``)
    returns_receiver: bool
    source: str


@dataclass(frozen=True)
class Factory:
    """A ``factories`` row: a call that returns a fresh socket (or a pair)."""

    name: str
    returns: str  # "socket" | "pair"
    takes_over_argument: bool
    source: str


@dataclass(frozen=True)
class TupleFactory:
    """A ``factories`` row whose call returns a pair with one new resource in it
    (``reader, writer = await asyncio.open_connection(...)``; ``conn, addr = await
    loop.sock_accept(sock)``): which element is the resource, what it is, what the other
    element is (``view``: the same connection, ``holder``: an object that holds it, ``data``)."""

    name: str
    index: int  # 0 or 1; -1: the awaited result itself is the resource (a server)
    resource: str  # load.RESOURCE_KINDS
    companion: str  # "data" | "view" | "holder"
    takes_over_argument: bool = False  # `loop.connect_accepted_socket(factory, sock)`


@dataclass(frozen=True)
class Handler:
    """A ``connection-handlers`` row: the callback given to ``name`` owns its parameter
    ``index`` (a ``resource``), and the other one is its ``companion``."""

    name: str
    index: int
    companion: str
    resource: str
    keyword: str


@dataclass(frozen=True)
class Ownership:
    """Who decides what a call does with a socket argument, and where that came from
    (``"config"`` for a user row, the file name for a built-in row, ``"heuristic:<id>"``)."""

    effect: str  # "closes" | "keeps" | "borrows"
    source: str


class Model:
    """The tables of one set of rows. Later rows win where a table is a mapping
    (``exception-aliases``), so user rows, appended last, override built-in ones."""

    def __init__(self, rows: tuple[Row, ...]) -> None:
        self.rows = rows
        self._by_kind: dict[str, list[Row]] = {}
        for r in rows:
            self._by_kind.setdefault(r.kind, []).append(r)
        self._build_sockets()
        self._build_ownership()
        self._build_raising()
        self._build_names()

    def names(self, kind: str, **where: FieldValue) -> frozenset[str]:
        """The names of the rows of ``kind`` whose fields have the given values
        (``names("factories", returns="pair")``; underscores stand for dashes)."""
        want = [(k.replace("_", "-"), v) for k, v in where.items()]
        return frozenset(r.name for r in self._by_kind.get(kind, ()) if all(r.get(k) == v for k, v in want))

    def user(self, kind: str) -> frozenset[str]:
        """The names of the user's rows of ``kind`` (``source == "config"``)."""
        return frozenset(r.name for r in self._by_kind.get(kind, ()) if r.source == "config")

    def _build_sockets(self) -> None:
        n = self.names
        self.FACTORIES = n("factories", returns="socket", resource="socket", call="function")
        self.PAIR_FACTORIES = n("factories", returns="pair")
        self.WRAPPING_FACTORIES = n("factories", takes_over_argument=True)
        # Classes: a class derived from one is a socket class (constructing it makes a socket).
        self.SOCKET_CLASSES = n("factories", is_class=True)
        self.WRAP_METHODS = n("method-factories", how="wrap")
        self.DUP_METHODS = n("method-factories", how="dup")
        self.ACCEPT_METHODS = n("method-factories", how="accept")
        # Factories of the asyncio resources: by qualified name, or as a method of any receiver.
        self.TUPLE_FACTORIES: dict[str, TupleFactory] = {}
        self.METHOD_TUPLE_FACTORIES: dict[str, TupleFactory] = {}

        for r in self._by_kind.get("factories", ()):
            returns, resource, method = str(r.get("returns")), str(r.get("resource")), r.get("call") == "method"
            if returns in ("first-of-pair", "second-of-pair"):
                tf = TupleFactory(
                    r.name, 0 if returns == "first-of-pair" else 1, resource, str(r.get("companion")),
                    bool(r.get("takes-over-argument")),
                )
                (self.METHOD_TUPLE_FACTORIES if method else self.TUPLE_FACTORIES)[r.name] = tf
            elif resource != "socket" or method:
                # `server = await asyncio.start_server(...)`: the awaited result is the resource.
                tf = TupleFactory(r.name, -1, resource, "data", bool(r.get("takes-over-argument")))
                (self.METHOD_TUPLE_FACTORIES if method else self.TUPLE_FACTORIES)[r.name] = tf
        # What a method of each asyncio resource does: (resource, method) -> row.
        self.RESOURCE_METHODS: dict[tuple[str, str], Row] = {
            (str(r.get("resource")), r.name): r for r in self._by_kind.get("resource-methods", ())
        }
        self.HANDLERS: dict[str, Handler] = {
            r.name: Handler(
                r.name, 0 if r.get("owned-parameter") == "first" else 1, str(r.get("companion")), str(r.get("resource")),
                str(r.get("keyword")),
            )
            for r in self._by_kind.get("connection-handlers", ())
        }
        self.AWAITED_PASS_THROUGH = n("pass-throughs", passes="awaited-result")
        # Event-loop methods (matched by method name) that run their first argument to
        # completion: `loop.run_until_complete(coro)` gives what `await coro` gives.
        self.RUN_TO_COMPLETION = n("pass-throughs", passes="run-to-completion")
        self.CLOSE_METHODS = n("socket-methods", closes=True)
        self.SOCKET_METHODS = n("socket-methods", touches=True, closes=False)
        self.CONFIG_SOCKET_METHODS = n("socket-methods", raises="config") | n("socket-methods", config=True)
        self.NONRAISING_SOCKET_METHODS = n("socket-methods", raises="none")
        # When each method fails (a later row wins): its failure makes a realistic witness of a
        # leak ("in-operation") or only a configuration-call one ("on-misuse").
        self._fails: dict[str, str] = {}
        for r in self._by_kind.get("socket-methods", ()):
            self._fails[r.name] = str(r.get("fails")) or ("in-operation" if r.get("raises") == "io" else "on-misuse")
        self.DERIVING_METHODS = n("socket-methods", derives=True)
        self.SELF_RETURNING_METHODS = n("socket-methods", returns_receiver=True)
        self.OWNING_KEYWORDS = n("owning-keywords")
        self.IO_ONLY_ERRNOS = n("io-only-errnos")
        self.SOCKET_ATTRIBUTES_ON_EVERY_PYTHON3 = n("socket-attributes")
        self.TRIGGER_METHODS = n("triggers", where="method")
        self.TRIGGER_ATTRIBUTES = n("triggers", where="attribute")
        self.TRIGGER_KEYWORDS = n("triggers", where="keyword")
        # In file order: the prefilter tries the most frequent strings first.
        self.TEXT_TRIGGERS = tuple(
            r.name.encode() for r in self._by_kind.get("triggers", ()) if r.get("where") == "text"
        )

    def _build_ownership(self) -> None:
        n = self.names
        self.KEEPING_METHODS = n("keepers", call="method")
        self.NONRAISING_KEEPERS = n("keepers", call="method", raises="none")
        self.KEEPING_FUNCTIONS = n("keepers", call="function")
        self.KEEPING_ANY = n("keepers", call="any")
        self.CLOSING_FUNCTIONS = n("closers")
        self.NON_OWNING_CALLS = n("borrowers")
        self.PASS_THROUGH = n("pass-throughs", passes="argument")
        self.FAKE_FACTORY_INSTALLERS = n("test-doubles", effect="installs-socket-factory")
        self.SOCKET_MODULE_PATCHERS = n("test-doubles", effect="patches-socket-module")
        self.SOCKET_MODULE_PATCHING_DECORATORS = n("test-doubles", effect="patching-decorator")
        self.FAKE_NETWORK_CLASSES = n("test-doubles", effect="fake-network-class")

    def _build_raising(self) -> None:
        n = self.names
        self.NORETURN = n("noreturn")
        self.ARG_PARSERS = n("exiting-parsers")
        self.TEST_FAILURE_METHODS = n("test-failure-methods")
        self.EXPECT_RAISES = n("context-managers", effect="expects-raise")
        self.SUPPRESS = n("context-managers", effect="suppresses")
        self.INERT_CONTEXT_MANAGERS = n("context-managers", effect="inert")
        self.SHIELDING_CONTEXT_MANAGERS = n("context-managers", effect="shields")
        self.NONWAITING_ENTRIES = n("context-managers", effect="enters-at-once")
        self.WAITING_EXITS = n("context-managers", effect="waits-on-exit")
        self.INSPECTING_FUNCTIONS = n("inspectors")
        self.PURE_CALLS = n("cannot-fail", when="always")
        self.PURE_BUILTINS = n("cannot-fail", when="unless-misused")
        self.CONSTANT_CONVERSIONS = n("cannot-fail", when="constant-arguments")
        self.STR_BUILDING_METHODS = n("string-methods")
        self.CONTAINER_METHODS = n("container-methods")
        self.LENIENT_CODEC_ERRORS = n("lenient-codec-errors")
        self.ASYNC_LOOP_METHODS = n("coroutine-methods")
        self.ASYNC_LOOP_IO_METHODS = n("coroutine-methods", fails="in-operation")
        self.OS_CONFIG_FUNCTIONS = n("config-functions")
        self.OS_CONFIG_FUNCTIONS_FAILING_IN_OPERATION = n("config-functions", fails="in-operation")
        self.NETWORK_FUNCTIONS = n("network-functions")
        self.OSERROR_FUNCTIONS = n("oserror-functions")
        self.CLOSED_TEST_CALLS = n("closed-tests", form="call")
        self.CLOSED_TEST_ATTRIBUTES = n("closed-tests", form="attribute")
        self.OSERROR_ALIASES: dict[str, str] = {
            r.name: str(r.get("means")) for r in self._by_kind.get("exception-aliases", ())
        }

    def _build_names(self) -> None:
        n = self.names
        self.OSERROR_CATCHERS = n("exception-names", role="catches-oserror")
        self.OS_EXCEPTIONS = n("exception-names", role="is-oserror")
        self.CATCH_ALL = n("exception-names", role="catch-all")
        # Qualified names of the exception that cancels an asyncio task at an `await`.
        self.CANCELLATION_EXCEPTIONS = n("exception-names", role="cancellation")
        self.REPORT_CALLS = n("report-calls")
        self.TEXT_BUILTINS = n("text-builtins")
        self.PYTHON2_TYPES = n("python2-names")
        self.PYTHON3_FLAGS: dict[str, bool] = {
            r.name: bool(r.get("on-python3")) for r in self._by_kind.get("python-version-flags", ())
        }

    # ------------------------------------------------------------------ typed lookups
    def socket_method(self, name: str) -> Optional[SocketMethod]:
        for r in reversed(self._by_kind.get("socket-methods", ())):
            if r.name == name:
                f = dict(r.fields)
                return SocketMethod(
                    name, str(f["raises"]), bool(f["config"]), self.fails(name), bool(f["touches"]), bool(f["closes"]),
                    bool(f["derives"]), bool(f["returns-receiver"]), r.source,
                )
        return None

    def fails(self, method: str) -> str:
        """When the socket method fails: ``"in-operation"`` (a refused, reset or timed-out
        connection, a taken port: what happens in normal operation), ``"on-misuse"`` (a bad
        descriptor, argument or option, memory: EBADF, EINVAL, ENOPROTOOPT, ENOMEM), or
        ``"in-operation-unless-port-zero"`` (``bind``). The ``fails`` field of its row, else what
        ``raises`` says (``io``: in operation; ``config``/``none``: on misuse)."""
        return self._fails.get(method, "in-operation")

    def resource_method(self, resource: str, method: str) -> Optional[Row]:
        """The ``resource-methods`` row for ``method`` of an asyncio ``resource``, if any."""
        return self.RESOURCE_METHODS.get((resource, method))

    def factory(self, qual: str) -> Optional[Factory]:
        for r in reversed(self._by_kind.get("factories", ())):
            if r.name == qual and r.get("returns") in ("socket", "pair") and r.get("call") == "function":
                return Factory(qual, str(r.get("returns")), bool(r.get("takes-over-argument")), r.source)
        return None

    def exception_class(self, name: str) -> type[BaseException] | None:
        """The builtin exception class a (qualified) name denotes, if any, through this
        model's ``exception-aliases``."""
        name = self.OSERROR_ALIASES.get(name, name)
        if name == "OSErrorSubclass":
            return OSErrorSubclass
        obj = getattr(builtins, name, None)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return obj
        return None

    def rows_for(self, name: str, kind: Optional[str] = None) -> tuple[Row, ...]:
        """Every row naming ``name`` (of one kind, if given): what the model says about it."""
        return tuple(r for r in self.rows if r.name == name and (kind is None or r.kind == kind))

    def call_ownership(self, qual: Optional[str], name: Optional[str], last: Optional[str]) -> Optional[Ownership]:
        """What the rows say a call does with its socket arguments, in precedence order: the
        user's rows (closers, then borrowers, then keepers, as the flat keys always worked),
        then built-in rows (function keepers, borrowers), then the ``closes-by-name``
        heuristic for ``last``. A user row matches the qualified name or the name as written
        (a ``keepers`` row with ``call = "any"``: its last part too)."""
        spelt = {s for s in (qual, name) if s}
        for kind, effect in (("closers", "closes"), ("borrowers", "borrows"), ("keepers", "keeps")):
            mine = self.user(kind)
            if spelt & mine or (kind == "keepers" and last and last in self.KEEPING_ANY & mine):
                return Ownership(effect, "config")
        for kind, effect, table in (("keepers", "keeps", self.KEEPING_FUNCTIONS), ("borrowers", "borrows", self.NON_OWNING_CALLS)):
            if qual is not None and qual in table:
                return Ownership(effect, self.rows_for(qual, kind)[0].source)
        if last is not None and closes_by_name(last):
            return Ownership("closes", "heuristic:closes-by-name")
        return None


def _words(heuristic: str, key: str) -> tuple[str, ...]:
    return builtin_heuristics()[heuristic][key]


BUILTIN = Model(builtin_rows())


@functools.lru_cache(maxsize=32)
def effective_model(user_rows: tuple[Row, ...] = ()) -> Model:
    """The built-in rows plus a user's rows (``socklint.models.parse_user_models`` and
    ``shorthand_rows``), appended last so that they win; one Model per distinct rows."""
    if not user_rows:
        return BUILTIN
    return Model(builtin_rows() + user_rows)


# ---------------------------------------------------------------------- the built-in tables
# Calls that return a fresh socket the caller owns; factories of a pair of owned sockets;
# factories that take over ownership of their first argument (``ssl.wrap_socket(s)``).
# (Modules that re-export the socket API under their own name, and `self.socket_module`, are
# recognised by name in flow._socket_module_factory, not by rows.)
FACTORIES = BUILTIN.FACTORIES
PAIR_FACTORIES = BUILTIN.PAIR_FACTORIES
WRAPPING_FACTORIES = BUILTIN.WRAPPING_FACTORIES
SOCKET_CLASSES = BUILTIN.SOCKET_CLASSES
# Methods that return a fresh socket when called on anything: ``ctx.wrap_socket(s)`` (takes
# over ``s``), ``s.dup()``. ``accept()`` is a source only when its pair is unpacked or indexed.
WRAP_METHODS = BUILTIN.WRAP_METHODS
DUP_METHODS = BUILTIN.DUP_METHODS
ACCEPT_METHODS = BUILTIN.ACCEPT_METHODS
# Methods of a socket object. Calling one on a tracked socket is a "touching" call: it can
# raise OSError (or a subclass: timeout, SSLError, ConnectionResetError, ...).
CLOSE_METHODS = BUILTIN.CLOSE_METHODS
SOCKET_METHODS = BUILTIN.SOCKET_METHODS
# Configuration calls: they fail with a plain OSError (EBADF, EINVAL), never with the
# BlockingIOError / ConnectionError family that I/O raises.
CONFIG_SOCKET_METHODS = BUILTIN.CONFIG_SOCKET_METHODS
# Socket methods that cannot raise in practice (no system call, or the result is cached).
NONRAISING_SOCKET_METHODS = BUILTIN.NONRAISING_SOCKET_METHODS
# A method on a socket whose result keeps the socket alive (the file object holds a reference).
DERIVING_METHODS = BUILTIN.DERIVING_METHODS
# Methods that return their receiver (``SSLSocket.unwrap()`` returns the same socket object).
SELF_RETURNING_METHODS = BUILTIN.SELF_RETURNING_METHODS
# Methods that store their argument in a container or hand it to a longer-lived owner; the
# subset that cannot raise for lack of the socket (container stores); plain functions
# (qualified or bare) that take ownership of a socket argument.
KEEPING_METHODS = BUILTIN.KEEPING_METHODS
NONRAISING_KEEPERS = BUILTIN.NONRAISING_KEEPERS
KEEPING_FUNCTIONS = BUILTIN.KEEPING_FUNCTIONS
# Calls that never return normally (the process ends or SystemExit unwinds it).
NORETURN = BUILTIN.NORETURN
# Methods of str/bytes that build another string and fail only for a programming error.
STR_BUILDING_METHODS = BUILTIN.STR_BUILDING_METHODS
NETWORK_FUNCTIONS = BUILTIN.NETWORK_FUNCTIONS
OSERROR_FUNCTIONS = BUILTIN.OSERROR_FUNCTIONS
# Codec error handlers that never raise (`b.decode("ascii", "ignore")`).
LENIENT_CODEC_ERRORS = BUILTIN.LENIENT_CODEC_ERRORS
# Command-line parsers whose `error()` / `exit()` methods end the program (SystemExit).
ARG_PARSERS = BUILTIN.ARG_PARSERS
# Functions that only look at their argument and cannot meaningfully raise: not raise points,
# and never owners.
INSPECTING_FUNCTIONS = BUILTIN.INSPECTING_FUNCTIONS
# Event loop methods that are coroutine functions: calling one only builds the coroutine.
ASYNC_LOOP_METHODS = BUILTIN.ASYNC_LOOP_METHODS
# Test doubles: calls that install a custom socket factory (after one, a socket-like module's
# factories are not sources), calls and decorators after which `socket.socket` makes fakes,
# and fake network classes.
FAKE_FACTORY_INSTALLERS = BUILTIN.FAKE_FACTORY_INSTALLERS
SOCKET_MODULE_PATCHERS = BUILTIN.SOCKET_MODULE_PATCHERS
SOCKET_MODULE_PATCHING_DECORATORS = BUILTIN.SOCKET_MODULE_PATCHING_DECORATORS
FAKE_NETWORK_CLASSES = BUILTIN.FAKE_NETWORK_CLASSES
# Calls that cannot fail: always; when every argument is a constant; unless misused.
PURE_CALLS = BUILTIN.PURE_CALLS
CONSTANT_CONVERSIONS = BUILTIN.CONSTANT_CONVERSIONS
PURE_BUILTINS = BUILTIN.PURE_BUILTINS
# Calls that look at a socket without ever owning it: passing a socket to them is not a sign
# that ownership went elsewhere (see Resource.lent).
NON_OWNING_CALLS = BUILTIN.NON_OWNING_CALLS
# Method names that only log or record (they swallow their own errors), and plain functions
# that only log (narrower: a bare `error(...)` or `fatal(...)` may well raise or exit).
LOGGING_METHODS = frozenset(_words("logging-call", "methods"))
LOGGING_FUNCTIONS = frozenset(_words("logging-call", "functions"))
# `hasattr(socket, NAME)` is true for these on every Python 3 socklint supports and every
# platform: a branch for their absence is a fallback for Python 2.
SOCKET_ATTRIBUTES_ON_EVERY_PYTHON3 = BUILTIN.SOCKET_ATTRIBUTES_ON_EVERY_PYTHON3
# Names of the `types` module that Python 3 removed.
PYTHON2_TYPES = BUILTIN.PYTHON2_TYPES
# Calls that wrap without taking ownership; the value passes through (``closing(s)``).
PASS_THROUGH = BUILTIN.PASS_THROUGH
# ``with self.assertRaises(E):`` / ``with pytest.raises(E):``: the body is expected to fail.
EXPECT_RAISES = BUILTIN.EXPECT_RAISES
# ``self.fail(msg)`` in a unittest.TestCase: the test fails here (AssertionError).
TEST_FAILURE_METHODS = BUILTIN.TEST_FAILURE_METHODS
# ``with suppress(E):`` swallows E raised in its body.
SUPPRESS = BUILTIN.SUPPRESS
# Context managers whose construction cannot fail (the `with` statement's body is what runs).
INERT_CONTEXT_MANAGERS = BUILTIN.INERT_CONTEXT_MANAGERS
# Keyword names that hand a socket to its new owner (asyncio's ``sock=``; socketserver's).
OWNING_KEYWORDS = BUILTIN.OWNING_KEYWORDS
# Module functions that configure a descriptor: plain OSError (EBADF, EINVAL), never a timeout.
OS_CONFIG_FUNCTIONS = BUILTIN.OS_CONFIG_FUNCTIONS
# Those whose failure is an everyday one (a lock held, an interface gone): a realistic witness.
OS_CONFIG_FUNCTIONS_FAILING_IN_OPERATION = BUILTIN.OS_CONFIG_FUNCTIONS_FAILING_IN_OPERATION
# errno values only I/O produces: a configuration call's OSError never carries one.
IO_ONLY_ERRNOS = BUILTIN.IO_ONLY_ERRNOS
# Qualified exception names and the builtin exception they are.
OSERROR_ALIASES = BUILTIN.OSERROR_ALIASES
# Exception names as spelt in a handler (the module scan does not resolve imports there):
# handlers that catch OSError, exceptions that are OSErrors, catch-all classes.
OSERROR_CATCHERS = BUILTIN.OSERROR_CATCHERS
OS_EXCEPTIONS = BUILTIN.OS_EXCEPTIONS
CATCH_ALL = BUILTIN.CATCH_ALL
# Calls a print/log helper may make (console output), and the builtins that format its message.
REPORT_CALLS = BUILTIN.REPORT_CALLS
TEXT_BUILTINS = BUILTIN.TEXT_BUILTINS
# Names whose value is a constant on every Python 3 (``six.PY2``): name -> value.
PYTHON3_FLAGS = BUILTIN.PYTHON3_FLAGS
# What makes a function worth the deep analysis (called names, attributes, keywords), and the
# prefilter's byte strings: a file with none of them cannot produce a finding.
TRIGGER_METHODS = BUILTIN.TRIGGER_METHODS
TRIGGER_ATTRIBUTES = BUILTIN.TRIGGER_ATTRIBUTES
TRIGGER_KEYWORDS = BUILTIN.TRIGGER_KEYWORDS
TEXT_TRIGGERS = BUILTIN.TEXT_TRIGGERS


# ---------------------------------------------------------------------- spelling heuristics
def is_accessor(method: str) -> bool:
    """Heuristic (``accessor``): a getter of a socket-like object that is not a socket method
    (``ws.getsubprotocol()``, ``conn.getstatus()``) reads a stored value and is not a raise
    point. The socket's own getters that make a system call (``getpeername``, ``getsockopt``,
    ``getpeercert``) are socket methods and still raise."""
    return method.startswith(_ACCESSOR_PREFIXES) and method not in SOCKET_METHODS


_ACCESSOR_PREFIXES = _words("accessor", "prefix")
_DIGITS = "0123456789"


def is_logging_call(name: str | None, method: str | None) -> bool:
    """Heuristic (``logging-call``): a call that only logs, by its spelling: a logging method
    (``log.debug``, ``self._debug``, a per-class logger) or a module's own logging function
    (``debug2``)."""
    if method is not None:
        return method.lstrip("_") in LOGGING_METHODS
    if name is not None and "." not in name:
        return name.lstrip("_").rstrip(_DIGITS) in LOGGING_FUNCTIONS
    return False


_ASSERTION_PREFIXES = _words("test-assertion", "prefix")


def is_test_assertion(method: str) -> bool:
    """Heuristic (``test-assertion``): a unittest.TestCase method that fails the test with
    AssertionError (``assertEqual``, ``assertRaisesRegex``, ``fail``, the old
    ``failUnless``/``failIf`` aliases)."""
    return method.startswith(_ASSERTION_PREFIXES) or method in TEST_FAILURE_METHODS


# Socket methods whose call on `self.sock` outside `__init__` shows an open socket in use there
# (SKL104 for attributes): I/O and configuration that fail on a closed socket. Not the ones
# that share the descriptor or give it up (`makefile`, `fileno`, `detach`), nor `shutdown()`.
IN_USE_METHODS = frozenset(
    {"send", "sendall", "sendto", "sendmsg", "sendfile", "recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg",
     "recvmsg_into", "connect", "connect_ex", "bind", "listen", "accept", "setsockopt", "getsockopt", "getpeername"}
)

# Heuristic ``object-method-closes-by-name`` (analysis/calls.py, `_call_closes_self`).
OBJECT_ENDING_WORDS = frozenset(_words("object-method-closes-by-name", "words"))

_CLOSE_WORDS = _words("closes-by-name", "contains")
_NOT_CLOSE_WORDS = _words("closes-by-name", "unless-contains")
_NOT_CLOSE_PREFIXES = _words("closes-by-name", "unless-prefix")


@functools.lru_cache(maxsize=8192)  # a pure function of the name, asked once per call site
def closes_by_name(name: str) -> bool:
    """Heuristic (``closes-by-name``): a function of another module whose name says it closes
    what it is given (``close_socket(s)``, ``safe_close(s)``, ``self._close_on_teardown(s)``).
    Names that ask whether something *is* closed (``is_closed``, ``wait_closed``) do not close
    it, nor does setting the close-on-exec flag (``close_on_exec(fd)``)."""
    # Whole words of the name (snake_case and camelCase parts): `enclose_in_brackets` is no
    # closer, `closeSocket` is.
    parts = words(name)
    return (
        any(w in parts for w in _CLOSE_WORDS)
        and not any(w in parts for w in _NOT_CLOSE_WORDS)
        and bool(parts)
        and parts[0] not in _NOT_CLOSE_PREFIXES
    )


_LOGGER_NAMES = frozenset(_words("logger-receiver", "names"))
_LOGGER_SUFFIXES = _words("logger-receiver", "suffixes")


def is_logger_name(receiver: Optional[str]) -> bool:
    """Heuristic (``logger-receiver``): a name for a logger (``log``, ``logger``, ``vlog``,
    ``self._log``, ``LOG``, ``access_logger``); not ``self.log_file``."""
    if receiver is None:
        return False
    last = receiver.rsplit(".", 1)[-1].lower().lstrip("_")
    return last in _LOGGER_NAMES or last.endswith(_LOGGER_SUFFIXES)


# ---------------------------------------------------------------------- exception classes
# Exception names: what socket I/O raises is OSError or a subclass of it.
class OSErrorSubclass(OSError):
    """Stands for a specific OSError subclass of a module (socket.gaierror, ssl.SSLError)."""


def builtin_exception(name: str) -> type[BaseException] | None:
    """The builtin exception class a (qualified) name denotes, if any."""
    return BUILTIN.exception_class(name)

