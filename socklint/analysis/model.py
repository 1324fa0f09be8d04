"""What socklint knows about the socket API: data, not code.

Names are qualified through the file's imports (``import socket as so`` makes ``so.socket``
``socket.socket``). Users extend these tables through ``[tool.socklint]``.
"""

from __future__ import annotations

import builtins

# Calls that return a fresh socket the caller owns.
FACTORIES = frozenset(
    {
        "socket.socket",
        "socket.SocketType",
        "_socket.socket",
        "socket.create_connection",
        "socket.create_server",
        "socket.fromfd",
        "socket.fromshare",
        "ssl.wrap_socket",
        "ssl.SSLSocket",
    }
)
# Factories that return a pair of owned sockets.
PAIR_FACTORIES = frozenset({"socket.socketpair", "_socket.socketpair"})
# (Modules that re-export the socket API -- gevent.socket, eventlet.green.socket, trio.socket,
# `self.socket_module` -- are recognised by name in flow._socket_module_factory.)
# Factories that take over ownership of their first argument (``ssl.wrap_socket(s)``).
# `ssl.SSLSocket(sock=s)` (before Python 3.7 the public constructor) took `s` over the same way
# (riak's http transport, hold-out corpus 8).
WRAPPING_FACTORIES = frozenset({"ssl.wrap_socket", "ssl.SSLSocket"})
# Methods that return a fresh socket when called on anything: ``ctx.wrap_socket(s)`` (takes
# over ``s``), ``s.dup()``. ``accept()`` is a source only when its pair is unpacked or indexed.
WRAP_METHODS = frozenset({"wrap_socket"})
DUP_METHODS = frozenset({"dup"})
ACCEPT_METHODS = frozenset({"accept", "_accept"})

# Methods of a socket object. Calling one on a tracked socket is a "touching" call: it can
# raise OSError (or a subclass: timeout, SSLError, ConnectionResetError, ...).
CLOSE_METHODS = frozenset({"close", "detach"})
SOCKET_METHODS = frozenset(
    {
        "accept", "bind", "connect", "connect_ex", "listen", "send", "sendall", "sendto",
        "sendmsg", "sendfile", "recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg",
        "recvmsg_into", "setsockopt", "getsockopt", "settimeout", "setblocking", "makefile",
        "shutdown", "getpeername", "getsockname", "fileno", "do_handshake", "unwrap", "read",
        "write", "pending", "getpeercert", "selected_alpn_protocol", "version", "cipher",
        "ioctl", "share", "set_inheritable", "get_inheritable",
    }
)
# Configuration calls: they fail with a plain OSError (EBADF, EINVAL), never with the
# BlockingIOError / ConnectionError family that I/O raises.
CONFIG_SOCKET_METHODS = frozenset(
    {"setsockopt", "getsockopt", "settimeout", "setblocking", "getpeername", "getsockname",
     "set_inheritable", "ioctl", "bind", "listen",
     # shutdown() does not block: ENOTCONN, never a timeout (tcp_latency, hold-out corpus 7).
     "shutdown"}
)
# Socket methods that cannot raise in practice (no system call, or the result is cached).
# `settimeout()` on an open socket fails only for a bad argument (ValueError for a negative
# timeout, TypeError): a programming error, never OSError, so it is not a runtime exit
# (evaluation round 4: an `except OSError` path through it was infeasible; see the design doc).
NONRAISING_SOCKET_METHODS = frozenset(
    {"fileno", "gettimeout", "getblocking", "get_inheritable", "setblocking", "getsockname", "settimeout",
     # An SSL socket's record of its finished handshake: read from memory, no I/O (rpyc's and
     # thrift's `getpeercert()` after the server-side handshake, hold-out corpus).
     "getpeercert", "cipher", "version", "selected_alpn_protocol", "shared_ciphers", "compression", "pending",
     # curio's Socket.as_stream() only builds a wrapper object.
     "as_stream"}
)


def is_accessor(method: str) -> bool:
    """A getter of a socket-like object that is not a socket method (``ws.getsubprotocol()``,
    ``conn.getstatus()``): it reads a stored value and is not a raise point. The socket's own
    getters that make a system call (``getpeername``, ``getsockopt``, ``getpeercert``) are
    socket methods and still raise."""
    return method.startswith("get") and method not in SOCKET_METHODS


# A method on a socket whose result keeps the socket alive (the file object holds a reference).
DERIVING_METHODS = frozenset({"makefile", "as_stream"})  # curio's Socket.as_stream() wraps the socket
# Methods that return their receiver (``SSLSocket.unwrap()`` returns the same socket object).
SELF_RETURNING_METHODS = frozenset({"unwrap"})

# Methods that store their argument in a container or hand it to a longer-lived owner.
KEEPING_METHODS = frozenset(
    {
        "append", "appendleft", "add", "insert", "extend", "put", "put_nowait", "push",
        "setdefault", "update", "register", "modify", "enter_context", "enter_async_context",
        "callback", "push_async_callback", "submit", "map", "apply_async", "create_task",
        "ensure_future", "run_in_executor", "run_coroutine_threadsafe", "call_soon",
        "call_soon_threadsafe", "call_later", "call_at", "add_reader", "add_writer",
        "start_new_thread", "spawn", "spawn_n", "start_soon", "start", "addCleanup",
        "enterContext", "set_socket", "add_socket", "connect_accepted_socket",
        "create_connection", "create_server", "create_unix_connection", "create_unix_server",
        "create_datagram_endpoint", "start_server", "open_connection", "start_unix_server",
        "open_unix_connection", "sock_accept", "set", "send_handle", "reduce_handle",
        "finalize", "addfinalizer", "add_done_callback", "attach", "adopt", "set_result",
        "put_item", "setitem", "__setitem__",
    }
)
# Keeping methods that cannot raise for lack of the socket: container stores.
NONRAISING_KEEPERS = frozenset(
    {"append", "appendleft", "add", "insert", "extend", "setdefault", "update", "put_nowait",
     "set_result", "__setitem__", "callback", "push", "addCleanup", "enter_context"}
)
# Plain functions (qualified or bare) that take ownership of a socket argument.
KEEPING_FUNCTIONS = frozenset(
    {
        "atexit.register", "weakref.finalize", "_thread.start_new_thread",
        "thread.start_new_thread", "asyncio.ensure_future", "asyncio.create_task",
        "asyncio.open_connection", "asyncio.start_server", "asyncio.open_unix_connection",
        "asyncio.start_unix_server", "asyncio.run_coroutine_threadsafe", "setattr",
        "os.fdopen", "socket.socket", "socket.fromfd", "ssl.wrap_socket", "selectors.register",
        "multiprocessing.reduction.send_handle", "copy.copy",
    }
)
# Calls that never return normally (the process ends or SystemExit unwinds it).
NORETURN = frozenset(
    {"sys.exit", "os._exit", "os.abort", "exit", "quit", "os.execv", "os.execve", "os.execl",
     "os.execvp", "os.execlp", "os.execvpe", "os.execle", "os.execlpe", "pytest.fail",
     "pytest.skip", "unittest.SkipTest"}
)
# Methods of str/bytes that build another string and fail only for a programming error (a bad
# format field): on a string built in the function they are not raise points. Not `index`
# (ValueError when absent) nor `encode` with a codec other than UTF-8 (UnicodeEncodeError).
STR_BUILDING_METHODS = frozenset(
    {"format", "join", "strip", "lstrip", "rstrip", "lower", "upper", "replace", "split", "rsplit",
     "splitlines", "ljust", "rjust", "center", "zfill", "startswith", "endswith", "find", "rfind",
     "count", "capitalize", "title", "expandtabs", "partition", "rpartition", "encode", "decode"}
)
# Codec error handlers that never raise (`b.decode("ascii", "ignore")`).
LENIENT_CODEC_ERRORS = frozenset({"ignore", "replace", "backslashreplace", "surrogateescape", "xmlcharrefreplace", "namereplace"})
# Command-line parsers whose `error()` / `exit()` methods end the program (SystemExit).
ARG_PARSERS = frozenset({"argparse.ArgumentParser", "optparse.OptionParser"})
# Builtins and functions that only look at their argument and cannot meaningfully raise:
# not raise points, and never owners.
INSPECTING_FUNCTIONS = frozenset(
    {"isinstance", "issubclass", "len", "id", "type", "repr", "str", "hasattr", "getattr",
     "callable", "bool", "print", "hash", "vars", "dir", "format", "super", "iter", "next",
     # Copying a buffer (`bytes(self._buffer)`) fails only for a programming error (ssh-mitm's
     # broadcast buffer, hold-out corpus 14).
     "bytes", "bytearray",
     # A weak reference to a socket (sockets support them) neither fails nor keeps it alive.
     "weakref.ref", "weakref.proxy",
     # `select.kevent(sock, filter, flags)` only builds a struct from `sock.fileno()`.
     "select.kevent"}
)
# asyncio event loop methods that are coroutine functions: calling one only builds the
# coroutine (it cannot fail); awaiting it, or running it, is where it raises.
ASYNC_LOOP_METHODS = frozenset(
    {"sock_recv", "sock_recv_into", "sock_recvfrom", "sock_recvfrom_into", "sock_sendall", "sock_sendto",
     "sock_connect", "sock_accept", "sock_sendfile", "sendfile", "start_tls", "getaddrinfo", "getnameinfo",
     "create_connection", "create_server", "create_unix_connection", "create_unix_server",
     "create_datagram_endpoint", "connect_accepted_socket", "connect_read_pipe", "connect_write_pipe",
     "shutdown_asyncgens", "shutdown_default_executor"}
)
# Installing a custom socket factory makes a socket-like module's `socket()` return whatever the
# factory builds (trio's `set_custom_socket_factory`; its testing `FakeNet().enable()` installs
# sockets without a descriptor). After such a call, those factories are not sources.
FAKE_FACTORY_INSTALLERS = frozenset({"set_custom_socket_factory"})
# Calls after which the standard `socket.socket` (and `create_connection`) is a test double
# (`socket.socket = fakesock.socket`): httpretty's and mocket's switches, also as context
# managers. A socket made after one is the library's fake (httpretty's unit tests, hold-out
# corpus 13, gave ten findings on fakes whose real socket the test had replaced by a mock).
SOCKET_MODULE_PATCHERS = frozenset(
    {"httpretty.enable", "httpretty.HTTPretty.enable", "httpretty.httpretty.enable", "httpretty.core.httpretty.enable",
     "httpretty.enabled", "httpretty.httprettized", "httpretty.core.httprettized",
     "mocket.Mocket.enable", "mocket.mocket.Mocket.enable", "mocket.Mocketizer", "mocket.mocketizer.Mocketizer"}
)
# Decorators that do the same for the whole function.
SOCKET_MODULE_PATCHING_DECORATORS = frozenset(
    {"httpretty.activate", "httpretty.httprettified", "httpretty.core.httprettified",
     "mocket.mocketize", "mocket.async_mocketize", "mocket.mocketizer.mocketize", "mocket.mocketizer.async_mocketize"}
)
FAKE_NETWORK_CLASSES = frozenset({"trio.testing._fake_net.FakeNet", "trio.testing.FakeNet"})
# Clock reads: they cannot fail (pymonetdb's `update_socket_timeout` reads `time.time()` before
# its `settimeout()`, hold-out corpus 13).
PURE_CALLS = frozenset(
    {"time.time", "time.monotonic", "time.perf_counter", "time.time_ns", "time.monotonic_ns",
     # Facts about the running system, read from memory (exabgp's `md5()` starts with one).
     "platform.system", "platform.machine", "platform.release", "os.getpid"}
)
# Conversions that cannot fail when every argument is a constant (`float('inf')`).
CONSTANT_CONVERSIONS = frozenset({"float", "int", "str", "bytes", "bool"})
# Builtins that fail only when misused (a TypeError, an empty `min()`): an OS-only helper may
# call them (pymongo's `_set_keepalive_times` computes `min(...)` before its `ioctl()`).
PURE_BUILTINS = frozenset(
    {"min", "max", "abs", "round", "sum", "any", "all", "sorted", "reversed", "enumerate", "zip", "range",
     "tuple", "list", "dict", "set", "frozenset"}
)
# Calls that look at a socket without ever owning it: passing a socket to them is not a sign
# that ownership went elsewhere (see Resource.lent).
NON_OWNING_CALLS = frozenset(
    {"weakref.ref", "weakref.proxy", "select.select", "select.poll", "os.fstat", "select.kevent"}
)
# Method names that only log or record: they swallow their own errors.
LOGGING_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal",
     "assertIsInstance", "assertIsNotNone", "assertTrue", "assertFalse", "assertEqual"}
)
# Plain functions that only log: `debug1(...)`, `log(...)` (sshuttle's helpers). Narrower than
# the methods: a bare `error(...)` or `fatal(...)` may well raise or exit.
LOGGING_FUNCTIONS = frozenset({"debug", "info", "log", "trace"})


def is_logging_call(name: str | None, method: str | None) -> bool:
    """A call that only logs: a logging method (``log.debug``, ``self._debug``, bacpypes'
    per-class loggers, hold-out corpus 3) or a module's own logging function (``debug2``)."""
    if method is not None:
        return method.lstrip("_") in LOGGING_METHODS
    if name is not None and "." not in name:
        return name.lstrip("_").rstrip("0123456789") in LOGGING_FUNCTIONS
    return False


# `hasattr(socket, NAME)` is true for these on every Python 3 socklint supports (3.9+) and
# every platform: a branch for their absence is a fallback for Python 2 (flup's
# `if not hasattr(socket, 'socketpair'):`, hold-out corpus 5).
SOCKET_ATTRIBUTES_ON_EVERY_PYTHON3 = frozenset(
    {"socketpair", "create_connection", "create_server", "SHUT_RD", "SHUT_WR", "SHUT_RDWR", "socket",
     "getaddrinfo", "error", "timeout", "gaierror", "herror", "SOL_SOCKET", "SO_REUSEADDR", "AF_INET",
     "SOCK_STREAM", "SOCK_DGRAM", "inet_pton", "inet_ntop", "has_ipv6"}
)
# Names of the `types` module that Python 3 removed: `isinstance(x, types.StringTypes)` only
# ever runs (and is true) on Python 2.
PYTHON2_TYPES = frozenset(
    {"types.StringTypes", "types.StringType", "types.UnicodeType", "types.ClassType", "types.InstanceType",
     "types.IntType", "types.LongType", "types.TupleType", "types.ListType", "types.DictType",
     "types.FileType", "types.BufferType"}
)
# Calls that wrap without taking ownership; value passes through (``closing(s)``).
# `typing.cast(socket.socket, sock)` returns its argument unchanged (zeroconf, hold-out corpus).
PASS_THROUGH = frozenset({"contextlib.closing", "closing", "contextlib.nullcontext", "nullcontext", "typing.cast"})
# ``with self.assertRaises(E):`` / ``with pytest.raises(E):``: the body is expected to fail.
EXPECT_RAISES = frozenset({"assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "raises", "assertWarns"})
# ``self.fail(msg)`` in a unittest.TestCase: the test fails here (AssertionError). Like a failing
# ``assert``, the path is a failed test, not a leak worth a finding (see the design doc).
TEST_FAILURE_METHODS = frozenset({"fail"})


def is_test_assertion(method: str) -> bool:
    """A unittest.TestCase method that fails the test with AssertionError (``assertEqual``,
    ``assertRaisesRegex``, ``fail``, the old ``failUnless``/``failIf`` aliases)."""
    return method.startswith(("assert", "failUnless", "failIf")) or method in TEST_FAILURE_METHODS
# ``with suppress(E):`` swallows E raised in its body.
SUPPRESS = frozenset({"contextlib.suppress", "suppress"})
# Context managers whose construction cannot fail (the `with` statement's body is what runs).
INERT_CONTEXT_MANAGERS = frozenset({"contextlib.nullcontext", "contextlib.ExitStack", "contextlib.AsyncExitStack"})


def closes_by_name(name: str) -> bool:
    """A function of another module whose name says it closes what it is given
    (``close_socket(s)``, ``safe_close(s)``, ``self._close_on_teardown(s)``). Names that ask
    whether something *is* closed (``is_closed``, ``wait_closed``) do not close it, nor does
    setting the close-on-exec flag (``close_on_exec(fd)``: gunicorn's ``util``, an ``fcntl``)."""
    low = name.lower()
    return "close" in low and "closed" not in low and "exec" not in low and not low.startswith(("is", "on"))


# Keyword names that hand a socket to its new owner (asyncio's ``sock=``; socketserver's).
OWNING_KEYWORDS = frozenset({"sock", "socket", "fileobj", "conn", "connection", "request", "fileno"})

# Exception names: what socket I/O raises is OSError or a subclass of it.
class OSErrorSubclass(OSError):
    """Stands for a specific OSError subclass of a module (socket.gaierror, ssl.SSLError)."""


# Module functions that configure a descriptor: they fail with plain OSError (EBADF, EINVAL),
# never with a timeout or a socket error of their own.
OS_CONFIG_FUNCTIONS = frozenset(
    {"fcntl.fcntl", "fcntl.ioctl", "fcntl.flock", "fcntl.lockf", "os.set_inheritable", "os.get_inheritable",
     "os.set_blocking", "os.get_blocking", "os.fstat", "os.dup2"}
)
# errno values only I/O produces (would-block, in progress, interrupted, timed out, the peer
# or the route gone): a configuration call's OSError (EBADF, EINVAL, ENOPROTOOPT, EADDRINUSE...)
# never carries one.
IO_ONLY_ERRNOS = frozenset(
    {"EAGAIN", "EWOULDBLOCK", "EINPROGRESS", "EALREADY", "EINTR", "ETIMEDOUT", "ECONNRESET", "ECONNREFUSED",
     "ECONNABORTED", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EHOSTDOWN", "ESHUTDOWN"}
)
OSERROR_ALIASES = {
    "socket.error": "OSError",
    "socket.timeout": "TimeoutError",
    "socket.gaierror": "OSErrorSubclass",
    "socket.herror": "OSErrorSubclass",
    "select.error": "OSError",
    "ssl.SSLError": "OSErrorSubclass",
    "ssl.SSLZeroReturnError": "OSErrorSubclass",
    "ssl.SSLWantReadError": "OSErrorSubclass",
    "ssl.SSLWantWriteError": "OSErrorSubclass",
    "ssl.SSLSyscallError": "OSErrorSubclass",
    "ssl.SSLEOFError": "OSErrorSubclass",
    "ssl.SSLCertVerificationError": "OSErrorSubclass",
    "ssl.CertificateError": "ValueError",
    "IOError": "OSError",
    "EnvironmentError": "OSError",
    "WindowsError": "OSError",
    "asyncio.TimeoutError": "TimeoutError",
    "asyncio.CancelledError": "BaseException",
    "concurrent.futures.TimeoutError": "TimeoutError",
}


def builtin_exception(name: str) -> type[BaseException] | None:
    """The builtin exception class a (qualified) name denotes, if any."""
    name = OSERROR_ALIASES.get(name, name)
    if name == "OSErrorSubclass":
        return OSErrorSubclass
    obj = getattr(builtins, name, None)
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return obj
    return None
