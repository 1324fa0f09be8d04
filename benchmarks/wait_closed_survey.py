"""How often real code closes an asyncio stream writer without awaiting ``wait_closed()``.

Issue 16 asks whether ``writer.close()`` with no ``await writer.wait_closed()`` is worth a rule.
This counts, per input, the functions that call ``close()`` on a stream writer and whether the
same function also waits for it (``await w.wait_closed()``, or
``loop.run_until_complete(w.wait_closed())``). A stream writer is a name bound as the second
element of ``open_connection`` / ``open_unix_connection`` (awaited, through ``wait_for``, or
run with ``run_until_complete``), or any receiver whose last part is spelt ``*writer*``
(``writer``, ``self._writer``, the second parameter of a ``start_server`` callback as it is
almost always named). A syntactic count, not the analyzer: it is the size of the question.

    python benchmarks/wait_closed_survey.py [-v] DIR [DIR ...]

prints one line per DIR: files, closes, closes in a function that also waits, and the share
(``-v``: each close without a wait, as ``path:line: function``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

_FACTORIES = {"open_connection", "open_unix_connection"}


def _text(node: ast.expr) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001 - an odd node is just not a receiver we know
        return ""


def _opened_writers(fn: ast.AST) -> set[str]:
    """Names bound as the writer of ``reader, writer = await asyncio.open_connection(...)``."""
    out: set[str] = set()
    for n in ast.walk(fn):
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        if not (isinstance(t, ast.Tuple) and len(t.elts) == 2):
            continue
        if any(isinstance(c, ast.Call) and _text(c.func).rsplit(".", 1)[-1] in _FACTORIES for c in ast.walk(n.value)):
            out.add(_text(t.elts[1]))
    return out


def _survey_function(fn: ast.AST, sites: list[int]) -> tuple[int, int]:
    """(closes of a writer, those in a function that also waits for that writer); the lines
    of the closes without a wait go to ``sites``."""
    writers = _opened_writers(fn)
    closed: list[tuple[str, int]] = []
    waited: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and not n.args:
            recv = _text(n.func.value)
            is_writer = recv in writers or "writer" in recv.rsplit(".", 1)[-1].lower()
            if n.func.attr == "close" and is_writer:
                closed.append((recv, n.lineno))
            elif n.func.attr == "wait_closed" and is_writer:
                waited.add(recv)
    sites.extend(line for r, line in closed if r not in waited)
    return len(closed), sum(1 for r, _ in closed if r in waited)


def survey(root: Path, verbose: bool = False) -> tuple[int, int, int]:
    files = closes = paired = 0
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        files += 1
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # Each function on its own: nested functions are counted in their own right.
                body = ast.Module(body=[s for s in fn.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))], type_ignores=[])
                sites: list[int] = []
                c, p = _survey_function(body, sites)
                closes += c
                paired += p
                if verbose:
                    for line in sites:
                        print(f"  {path}:{line}: {fn.name}")
    return files, closes, paired


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    for arg in (a for a in argv if a != "-v"):
        files, closes, paired = survey(Path(arg), verbose)
        share = f"{100 * (closes - paired) / closes:.0f} %" if closes else "-"
        print(f"{arg}: {files} files, {closes} writer closes, {paired} waited in the same function, {closes - paired} not ({share})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
