"""Witness paths: every finding's trace must be a path a reader can follow. These cases had a
finding at the right exit with an infeasible trace (evaluation round 6, impacket's smbserver),
because path facts of two joined paths were intersected; an obligation now keeps the facts of
each path apart (flow.Ob variants)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from socklint.api import check_source

ROOT = Path(__file__).resolve().parent.parent


def _findings(src: str) -> list[tuple[str, int, list[str]]]:
    diags = check_source("t.py", textwrap.dedent(src).encode())
    return [(d.code, d.line, [s.note for s in d.trace]) for d in diags if d.code.startswith("SKL1")]


def test_handler_path_is_the_witness_when_the_success_path_is_infeasible() -> None:
    # fixtures/engine/comparison_facts.py, `swallowed_failure`: connect() raising is caught,
    # `err` becomes DENIED and the return leaks `sock`. The success path (`fid == PIPE`) joins
    # there too; its variant is dropped at `if fid == PIPE`, so the witness is the handler's.
    path = ROOT / "fixtures" / "engine" / "comparison_facts.py"
    source = path.read_text()
    start = source.index("def swallowed_failure(")
    exit_line = source.count("\n", 0, source.index("return err  # expect: SKL101", start)) + 1
    diags = check_source(str(path), source.encode())
    found = [d for d in diags if d.code == "SKL101" and d.line == exit_line]
    assert len(found) == 1
    notes = [s.note for s in found[0].trace]
    assert "`connect()` raises" in notes
    assert "caught by `except Exception`" in notes
    assert "`if fid == PIPE` is false" not in notes


def test_each_variant_is_narrowed_on_its_own() -> None:
    # Two paths reach the join with `sock` open: one where `ready` is true, one where it is
    # false. `if ready: return sock` hands the first over; the second leaks at the raise, and
    # its witness must say `ready` was false, not take the first path's steps.
    found = _findings(
        """
        import socket

        def open_it(addr, fast):
            sock = socket.socket()
            if fast:
                ready = True
            else:
                ready = False
            if ready:
                return sock
            raise RuntimeError("not ready")
        """
    )
    assert [(c, ln) for c, ln, _ in found] == [("SKL101", 12)]
    notes = found[0][2]
    assert "`if fast` is false" in notes
    assert "`if ready` is false" in notes


def test_too_many_paths_still_report_once() -> None:
    # More joined paths than variants kept: the facts are intersected, the leak stays.
    branches = "\n".join(f"            if a{i}:\n                f{i} = True" for i in range(8))
    src = f"""
        import socket

        def many(addr, {", ".join(f"a{i}" for i in range(8))}):
            sock = socket.socket()
{branches}
            sock.connect(addr)
            sock.close()
        """
    found = _findings(src)
    connect_line = textwrap.dedent(src).splitlines().index("    sock.connect(addr)") + 1
    assert [(c, ln) for c, ln, _ in found] == [("SKL102", connect_line)]


def test_one_name_created_in_branches_is_one_finding_listing_every_creation() -> None:
    diags = check_source(
        "t.py",
        textwrap.dedent(
            """
            import socket

            def create(kind, addr, ctx):
                if kind == "tls":
                    sock = ctx.wrap_socket(socket.socket())
                elif kind == "unix":
                    sock = socket.socket(socket.AF_UNIX)
                else:
                    sock = socket.socket()
                sock.connect(addr)
                return sock
            """
        ).encode(),
    )
    found = [(d.code, d.line, d.message) for d in diags if d.code.startswith("SKL1")]
    assert len(found) == 1
    code, line, message = found[0]
    assert (code, line) == ("SKL102", 11)
    assert "(created at line 6, 8 or 10)" in message


def test_a_helper_that_always_raises_ends_the_path() -> None:
    # python-miio (hold-out corpus 4): the leak is real, but not through `_handle_error()`,
    # which raises on every path.
    found = _findings(
        """
        import socket

        class Protocol:
            def _handle_error(self, error):
                if "code" in error:
                    raise KeyError(error)
                raise ValueError(error)

            def send(self, m, parse):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(m, ("h", 1))
                payload = parse(s.recv(10))
                if "error" in payload:
                    self._handle_error(payload["error"])
                return payload["result"]
        """
    )
    assert [(c, ln) for c, ln, _ in found] == [("SKL103", 11)]
    notes = found[0][2]
    assert '`if "error" in payload` is false' in notes
    assert '`if "error" in payload` is true' not in notes


def test_string_building_is_not_the_witness() -> None:
    # fixtures/realworld/fp_string_method_cannot_fail.py (ipwhois): the bare `except` leaks `conn` when
    # something other than a socket error is raised. `query.encode()` of a string built here
    # cannot fail; decoding what the peer sent can, so that is the call the trace names.
    path = ROOT / "fixtures" / "realworld" / "fp_string_method_cannot_fail.py"
    source = path.read_text()
    exit_line = source.count("\n", 0, source.index('raise RuntimeError("ASN lookup failed.")')) + 1
    found = [d for d in check_source(str(path), source.encode()) if d.code == "SKL101" and d.line == exit_line]
    assert len(found) == 1
    notes = [s.note for s in found[0].trace]
    assert "`decode()` raises" in notes
    assert not any(n in notes for n in ("`encode()` raises", "`format()` raises"))


def test_flags_never_tested_again_do_not_crowd_out_a_mode_test() -> None:
    # hpilo's `_communicate` (hold-out corpus 9): `if self.read_response`, `if self.cookie` and
    # `if self.verbose` are tested once. Kept apart, they multiplied the variants past
    # MAX_VARIANTS, the mode fact was intersected away, and the witness took
    # `self.mode != LOCAL` true and then `self.mode == LOCAL` true. Facts about names never
    # mentioned again are dropped, and an overflow merges the closest variants first.
    found = _findings(
        """
        import socket

        LOCAL = 1

        class Client:
            def communicate(self, xml, protocol, save=True):
                sock = self.make_socket()
                if self.read_response:
                    protocol = self.detected
                if protocol == 2:
                    if self.cookie:
                        xml = b"cookie" + xml
                if self.verbose:
                    print("sending")
                if self.mode != LOCAL:
                    sock.sendall(b"<header/>")
                if self.save_request and save:
                    sock.close()
                    return None
                data = sock.recv(4096)
                if self.mode == LOCAL:
                    self.pipe.close()
                    return data
                sock.close()
                return data

            def make_socket(self):
                return socket.create_connection((self.host, self.port))
        """
    )
    leaks = [notes for code, line, notes in found if code == "SKL101" and line == 24]
    assert len(leaks) == 1
    assert "`if self.mode == LOCAL` is true" in leaks[0]
    assert "`if self.mode != LOCAL` is false" in leaks[0]
    assert "`if self.mode != LOCAL` is true" not in leaks[0]


def test_a_name_tested_by_the_loop_stays_live_through_its_last_if() -> None:
    # Regression (found on the 3.11 stdlib's test_ssl while adding fact liveness): the last
    # statement of a `while self.active:` body is an `if`. `self.active` is used by the loop
    # test, so its fact must outlive that `if`; dropping it let the path leave the loop while
    # `self.active` was known true, and reported `newconn` at the end of `run`.
    found = _findings(
        """
        import sys

        class Server:
            def run(self):
                self.active = True
                while self.active:
                    try:
                        newconn, connaddr = self.sock.accept()
                        if self.chatty:
                            sys.stdout.write("new connection")
                        handler = self.ConnectionHandler(self, newconn, connaddr)
                        handler.start()
                    except BaseException as e:
                        if self.chatty:
                            sys.stdout.write("failed: " + repr(e))
                self.close()
        """
    )
    assert [(c, ln) for c, ln, _ in found] == [("SKL104", 9)]  # the rebinding by accept()


# ---------------------------------------------------------------------- realistic witnesses
# Issue 17: when several calls can raise and leak the socket, the finding names the one that
# fails in normal operation (connect, recv, accept, a bind to a port that may be taken), not a
# configuration call before it; a leak only configuration calls can cause is SKL107.


def _leaks(src: str, *extend: str) -> list[tuple[str, int, list[str]]]:
    from socklint.config import Settings

    diags = check_source("t.py", textwrap.dedent(src).encode(), Settings(extend_select=extend))
    return [(d.code, d.line, [s.note for s in d.trace]) for d in diags if d.code.startswith("SKL1")]


_OPTIONS_THEN = """
    import socket

    def open_it(addr):
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(5)
        {call}
        return sock
    """


def test_the_connect_is_the_witness_not_the_option_before_it() -> None:
    found = _leaks(_OPTIONS_THEN.format(call="sock.connect(addr)"), "SKL107")
    assert [(c, ln) for c, ln, _ in found] == [("SKL102", 8)]
    assert found[0][2] == ["`sock` created by `socket()`", "`connect()` raises"]


def test_a_leak_only_an_option_can_cause_is_skl107_and_off_by_default() -> None:
    src = _OPTIONS_THEN.format(call="pass")
    assert _leaks(src) == []
    found = _leaks(src, "SKL107")
    assert [(c, ln) for c, ln, _ in found] == [("SKL107", 6)]
    assert found[0][2][-1] == "`setsockopt()` raises"


def test_a_bind_to_port_zero_is_configuration_and_to_a_given_port_is_not() -> None:
    zero = _leaks(_OPTIONS_THEN.format(call='sock.bind(("127.0.0.1", 0))'), "SKL107")
    assert [(c, ln) for c, ln, _ in zero] == [("SKL107", 6)]
    given = _leaks(_OPTIONS_THEN.format(call='sock.bind(("127.0.0.1", addr))'), "SKL107")
    assert [(c, ln) for c, ln, _ in given] == [("SKL102", 8)]


def test_a_handler_both_reach_takes_the_connect_path() -> None:
    # The `setsockopt()` raising is the earlier path into the handler; the `connect()` one is the
    # witness, and the leak stays SKL101 (not SKL107: a refused connection reaches it too).
    found = _leaks(
        """
        import socket

        def open_it(addr):
            sock = socket.socket()
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                sock.connect(addr)
            except OSError:
                return None
            return sock
        """,
        "SKL107",
    )
    assert [(c, ln) for c, ln, _ in found] == [("SKL101", 10)]
    assert "`connect()` raises" in found[0][2]
    assert "`setsockopt()` raises" not in found[0][2]


def test_a_path_with_fewer_facts_through_an_option_does_not_push_out_the_connect() -> None:
    # redis-py's _connect (fixtures/realworld/mut_redis_connect.py): the unconditional
    # `setsockopt()` path into the handler has fewer path facts than the `connect()` paths (which
    # went through `if keepalive`); it used to replace them as the witness.
    found = _leaks(
        """
        import socket

        def connect_any(addrs, keepalive):
            err = None
            for addr in addrs:
                sock = None
                try:
                    sock = socket.socket()
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if keepalive:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                    sock.connect(addr)
                    return sock
                except OSError as e:
                    err = e
            raise err
        """,
        "SKL107",
    )
    assert [(c, ln) for c, ln, _ in found] == [("SKL104", 7), ("SKL101", 17)]
    for _, _, notes in found:
        assert "`connect()` raises" in notes and "`setsockopt()` raises" not in notes


def test_a_handler_only_an_option_reaches_is_skl107() -> None:
    found = _leaks(
        """
        import socket

        def open_it(addr):
            sock = socket.socket()
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            except OSError as e:
                if e.errno != 92:
                    raise
            sock.connect(addr)
            return sock
        """,
        "SKL107",
    )
    assert [(c, ln) for c, ln, _ in found] == [("SKL107", 10), ("SKL102", 11)]


def test_each_leak_says_what_its_witness_needs_to_fail() -> None:
    from socklint.config import Settings

    src = textwrap.dedent(
        """
        import json
        import socket

        def refused(addr):
            s = socket.socket()
            s.connect(addr)                      # io-error: the call itself
            s.close()

        def bad_greeting(addr):
            s = socket.create_connection(addr)
            if s.recv(4) != b"OK":
                raise ValueError("bad greeting")  # protocol-raise: the code's own check
            s.close()

        def translated(addr):
            s = socket.socket()
            try:
                s.connect(addr)
            except OSError as e:
                raise RuntimeError("down") from e  # io-error: what the handler caught
            s.close()

        def option_only(addr):
            s = socket.create_connection(addr)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # configuration-call
            try:
                s.sendall(b"x")
            finally:
                s.close()

        def unrelated(addr, event):
            s = socket.create_connection(addr)
            payload = json.dumps(event)          # any-exception (SKL106)
            try:
                s.sendall(payload.encode())
            finally:
                s.close()

        def early(addr, ok):
            s = socket.create_connection(addr)
            if not ok:
                return None                      # none: no exception on this path
            s.close()

        def caught_check(addr):
            s = socket.create_connection(addr)
            try:
                if not s.recv(1):
                    raise EOFError
            except EOFError:
                return None                      # protocol-raise: the handler caught the code's raise
            s.close()
        """
    ).encode()
    diags = check_source("t.py", src, Settings(extend_select=("SKL106", "SKL107")))
    got = {(d.line, d.code, d.failure) for d in diags if d.code.startswith("SKL1")}
    assert {
        (7, "SKL102", "io-error"),
        (13, "SKL101", "protocol-raise"),
        (21, "SKL101", "io-error"),
        (26, "SKL107", "configuration-call"),
        (34, "SKL106", "any-exception"),
        (43, "SKL101", "none"),
        (52, "SKL101", "protocol-raise"),
    } <= got
    # Every leak finding carries one; nothing else does.
    assert all((d.failure is not None) == (d.code[:5] == "SKL10" and d.code != "SKL105") for d in diags)
