"""Worst-case function shapes for the flow engine, timed at sizes n, 2n and 4n.

    python benchmarks/worst_shapes.py            # the default sizes, a table of timings
    python benchmarks/worst_shapes.py --scale 4  # four times larger
    python benchmarks/worst_shapes.py --json     # machine-readable
    python benchmarks/worst_shapes.py --file-lines 25000  # a 25,000- and a 50,000-line module

Each shape is one function that opens a socket and then has ``n`` of something the engine must
follow: branches, exits, handlers, loop bodies, live sockets. The analysis of one function has a
budget (``Settings.max_function_steps``); within it, time must grow about linearly with ``n``, and
beyond it the function gets SKL003 instead of a hang. ``tests/test_worst_shapes.py`` asserts
both with smaller sizes.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from socklint import engine
from socklint.api import check_source
from socklint.config import Settings

HEAD = "import socket\n\n\ndef shape(addr, x, items):\n    s = socket.socket()\n"


def if_chain(n: int) -> str:
    """n independent ifs, each an early return that leaks the socket (n SKL101)."""
    body = "".join(f"    if x == {i}:\n        s.send(b'{i}')\n        return {i}\n" for i in range(n))
    return HEAD + "    s.connect(addr)\n" + body + "    s.close()\n"


def if_chain_closed(n: int) -> str:
    """n ifs with returns inside try/finally: every exit runs through the finally."""
    body = "".join(f"        if x == {i}:\n            s.send(b'{i}')\n            return {i}\n" for i in range(n))
    return HEAD + "    try:\n        s.connect(addr)\n" + body + "    finally:\n        s.close()\n"


def elif_returns(n: int) -> str:
    """An elif chain of n branches with returns (a syntax tree n levels deep)."""
    body = "".join(f"    {'el' if i else ''}if x == {i}:\n        return s.recv({i})\n" for i in range(n))
    return HEAD + "    s.connect(addr)\n" + body + "    s.close()\n"


def try_ladder(n: int) -> str:
    """n consecutive try/except blocks around socket calls, some handlers returning."""
    body = "".join(
        f"    try:\n        s.send(b'{i}')\n    except OSError:\n        {'return None' if i % 2 else 'pass'}\n"
        for i in range(n)
    )
    return HEAD + body + "    s.close()\n"


def nested_try_finally(n: int) -> str:
    """try/finally nested n deep, with a return in every body: exits route through n finallys."""
    out = [HEAD]
    for i in range(n):
        ind = "    " * (i + 1)
        out.append(f"{ind}try:\n{ind}    if x == {i}:\n{ind}        return s.recv({i})\n")
    ind = "    " * (n + 1)
    out.append(f"{ind}s.send(b'x')\n")
    for i in reversed(range(n)):
        ind = "    " * (i + 1)
        out.append(f"{ind}finally:\n{ind}    x = x + {i}\n")
    out.append("    s.close()\n")
    return "".join(out)


def deep_nesting(n: int) -> str:
    """if / for / with / try nested n deep around socket calls (n <= 96: CPython's limit)."""
    out = [HEAD]
    for i in range(n):
        ind = "    " * (i + 1)
        kind = i % 4
        if kind == 0:
            out.append(f"{ind}if x > {i}:\n")
        elif kind == 1:
            out.append(f"{ind}for i{i} in items:\n")
        elif kind == 2:
            out.append(f"{ind}while x < {i}:\n")
        else:
            out.append(f"{ind}try:\n{ind}    s.send(b'{i}')\n{ind}except OSError:\n{ind}    break\n{ind}else:\n")
    ind = "    " * (n + 1)
    out.append(f"{ind}if s.recv(1) == b'':\n{ind}    return None\n")
    out.append("    s.close()\n")
    return "".join(out)


def huge_loop(n: int) -> str:
    """One while loop with n statements, breaks and continues: a fixpoint over a long body."""
    body = "".join(
        f"        d{i} = s.recv({i})\n        if not d{i}:\n            {'break' if i % 3 == 0 else 'continue' if i % 3 == 1 else 'return None'}\n"
        for i in range(n)
    )
    return HEAD + "    s.connect(addr)\n    while True:\n" + body + "    s.close()\n"


def many_sockets(n: int) -> str:
    """n sockets open at once, each used, all closed at the end: the state holds n sockets."""
    opens = "".join(f"    s{i} = socket.socket()\n    s{i}.connect(addr)\n" for i in range(n))
    closes = "".join(f"    s{i}.close()\n" for i in range(n))
    return "import socket\n\n\ndef shape(addr, x, items):\n" + opens + "    if x:\n        return None\n" + closes


def many_sockets_loop(n: int) -> str:
    """n sockets created and closed inside a loop with exits: state changes on every iteration."""
    body = "".join(
        f"        c{i} = socket.create_connection(addr)\n        if c{i}.recv(1) == b'':\n            continue\n        c{i}.close()\n"
        for i in range(n)
    )
    return "import socket\n\n\ndef shape(addr, x, items):\n    for item in items:\n" + body


# --- whole files: the time per function must not depend on the size of the file ----------------

_FILE_SOCKET_FN = """

def fetch_{i}(host, payload):
    with socket.create_connection((host, {i})) as sock:
        sock.sendall(payload)
"""

_FILE_LEAKY_FN = """

def probe_{i}(host):
    sock = socket.create_connection((host, {i}))
    sock.sendall(b"PING")
    sock.close()
"""

_FILE_PLAIN_FN = """

def compute_{i}(value):
    return value * {i}
"""


def many_functions(lines: int) -> str:
    """A module of about ``lines`` lines of small functions: socket functions (one in five
    leaks when a call raises) alternating with plain ones, so the number of snippets and of
    top-level statements both grow with the file. Small, so that any per-function cost that
    depends on the size of the file shows: analysing one function must cost the same in a
    file of any size."""
    parts = ["import socket\n"]
    size, i = 1, 0
    while size < lines:
        for chunk in (
            (_FILE_LEAKY_FN if i % 5 == 4 else _FILE_SOCKET_FN).format(i=i),
            _FILE_PLAIN_FN.format(i=i),
        ):
            parts.append(chunk)
            size += chunk.count("\n")
        i += 1
    return "".join(parts)


def padded_functions(n: int, filler: int = 20) -> str:
    """``n`` small socket functions, each followed by ``filler`` module-level assignments: many
    top-level statements per snippet, so that work done per snippet *per top-level statement*
    dominates early (the test counts work instead of timing it)."""
    parts = ["import socket\n"]
    for i in range(n):
        parts.append((_FILE_LEAKY_FN if i % 5 == 4 else _FILE_SOCKET_FN).format(i=i))
        parts.append("\n" + "".join(f"VALUE_{i}_{k} = {k}\n" for k in range(filler)))
    return "".join(parts)


def file_growth(lines: int, repeat: int = 3) -> dict[str, object]:
    """Best-of-``repeat`` times for a module of ``lines`` and of ``2 * lines`` lines."""
    rows = []
    for n in (lines, 2 * lines):
        src = many_functions(n)
        secs, codes = time_check(src, repeat=repeat)
        rows.append({"lines": src.count("\n"), "seconds": secs, "findings": len(codes)})
    return {"rows": rows, "ratio_2n_n": float(rows[1]["seconds"]) / max(float(rows[0]["seconds"]), 1e-4)}  # type: ignore[arg-type]


SHAPES: dict[str, tuple[Callable[[int], str], int]] = {
    # name: (generator, default n); sizes n, 2n, 4n are timed.
    "if_chain": (if_chain, 200),
    "if_chain_closed": (if_chain_closed, 200),
    "elif_returns": (elif_returns, 100),
    "try_ladder": (try_ladder, 200),
    "nested_try_finally": (nested_try_finally, 10),
    "deep_nesting": (deep_nesting, 20),
    "huge_loop": (huge_loop, 100),
    "many_sockets": (many_sockets, 50),
    "many_sockets_loop": (many_sockets_loop, 50),
}


def time_check(source: str, settings: Settings | None = None, repeat: int = 3) -> tuple[float, list[str]]:
    """Best of ``repeat`` wall times (the least disturbed by other load) and the codes found.
    Each run starts without the engine's cross-call caches: the point is the analysis."""
    data = source.encode()
    best = float("inf")
    codes: list[str] = []
    for _ in range(repeat):
        engine.clear_caches()
        gc.collect()
        start = time.perf_counter()
        diags = check_source("shape.py", data, settings)
        best = min(best, time.perf_counter() - start)
        codes = sorted(d.code for d in diags)
    return best, codes


def measure(name: str, n: int, settings: Settings | None = None, repeat: int = 3) -> dict[str, object]:
    gen = SHAPES[name][0]
    time_check(gen(n), settings, repeat=1)  # warm-up: imports, caches
    rows = []
    for k in (1, 2, 4):
        src = gen(n * k)
        secs, codes = time_check(src, settings, repeat)
        rows.append({"n": n * k, "lines": src.count("\n"), "seconds": secs, "codes": {c: codes.count(c) for c in sorted(set(codes))}})
    base = max(float(rows[0]["seconds"]), 1e-4)  # type: ignore[arg-type]
    return {"shape": name, "rows": rows, "ratio_4n_n": float(rows[2]["seconds"]) / base}  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every default n")
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these shapes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--file-lines", type=int, metavar="N",
                    help="instead of the shapes: time a generated module of N and of 2N lines")
    args = ap.parse_args(argv)
    if args.file_lines:
        growth = file_growth(args.file_lines, repeat=args.repeat)
        if args.json:
            print(json.dumps(growth, indent=2))
        else:
            for row in growth["rows"]:  # type: ignore[attr-defined]
                print(f"{row['lines']:>7} lines {row['seconds']:8.2f} s {row['findings']} findings")
            print(f"2N/N = {growth['ratio_2n_n']:.2f}")
        return 0
    results = []
    for name in args.shape or list(SHAPES):
        n = max(1, int(SHAPES[name][1] * args.scale))
        if name in ("deep_nesting",):
            n = min(n, 24)  # 4n levels must stay under CPython's 100 indentation levels
        if name == "nested_try_finally":
            n = min(n, 12)  # two levels per try: 4n * 2 < 100
        r = measure(name, n, repeat=args.repeat)
        results.append(r)
        if not args.json:
            cells = "  ".join(
                f"n={row['n']:<5} {row['lines']:>6} lines {row['seconds'] * 1000:8.1f} ms {row['codes']}"  # type: ignore[index]
                for row in r["rows"]  # type: ignore[attr-defined]
            )
            print(f"{name:<20} 4n/n = {r['ratio_4n_n']:5.1f}   {cells}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
