"""``socklint check --add-noqa``: a suppression comment on the line of every current finding.

socklint reads a suppression on the line a finding is reported at (its first line, for a
finding on a statement that spans several; ``api.finalize``), so that is where the comment
goes, written as the language server's quick fix writes it (``suppress.noqa_edit``): an
existing ``# socklint: ignore[...]`` or ``# noqa: ...`` on that line gets the codes added,
keeping the codes already there (another tool's too); otherwise ``  # noqa: SKL101`` is
appended to the line. A line that cannot end in a comment (it ends inside a string literal that
goes on to the next line, or with a backslash continuation) is left alone and its finding stays
reported.

Nothing else in the file changes: the file is written back in its own encoding and line
endings, only after checking that the new text parses to the same syntax tree (comments aside)
and that every finding is now suppressed on its line; then atomically, and never over something
that is not a regular file.
"""

from __future__ import annotations

import ast
import io
import os
import stat
import tokenize
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from socklint.codes import TOOL_CODES
from socklint.diagnostics import Diagnostic
from socklint.source import split_lines
from socklint.suppress import commentable_lines, is_suppressed, noqa_edit


@dataclass
class Outcome:
    added: int = 0  # findings suppressed by a comment written now
    files: int = 0  # files rewritten
    left: list[Diagnostic] = field(default_factory=list)  # still reported
    warnings: list[str] = field(default_factory=list)


def add_noqa(diags: Sequence[Diagnostic]) -> Outcome:
    """Add suppression comments for ``diags`` (tool diagnostics are left reported)."""
    out = Outcome()
    by_file: dict[str, list[Diagnostic]] = defaultdict(list)
    for d in diags:
        if d.code in TOOL_CODES:
            out.left.append(d)
        else:
            by_file[d.path].append(d)
    for path, found in by_file.items():
        done, reason = _rewrite(path, found)
        if reason is not None:
            out.warnings.append(f"{path}: no noqa comment added: {reason}")
        out.left += [d for d in found if d not in done]
        if done:
            out.added += len(done)
            out.files += 1
    out.left.sort(key=Diagnostic.sort_key)
    return out


def _rewrite(path: str, found: list[Diagnostic]) -> tuple[set[Diagnostic], str | None]:
    """The findings of ``path`` suppressed by the rewrite, and why some were not (or None)."""
    target = os.path.realpath(path)  # a symlink stays a symlink; its target gets the comments
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            return set(), "not a regular file"
        data = Path(target).read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (OSError, SyntaxError, LookupError, UnicodeDecodeError) as exc:
        return set(), f"cannot read it: {getattr(exc, 'strerror', None) or exc}"
    if text.encode(encoding) != data:
        return set(), f"its bytes do not survive decoding as {encoding}"
    lines = split_lines(text)
    try:
        before = ast.dump(ast.parse(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return set(), f"cannot parse it ({type(exc).__name__})"
    ok_lines = commentable_lines(text)
    if ok_lines is None:
        return set(), "cannot tokenize it"
    by_line: dict[int, list[Diagnostic]] = defaultdict(list)
    for d in found:
        by_line[d.line].append(d)
    done: set[Diagnostic] = set()
    skipped: list[int] = []
    for n, here in sorted(by_line.items()):
        if not 0 < n <= len(lines) or n not in ok_lines:
            skipped.append(n)
            continue
        codes = sorted({d.code for d in here})
        body = lines[n - 1].rstrip("\r\n")
        ending = lines[n - 1][len(body) :]
        for code in codes:
            edit = noqa_edit(body, code)
            if edit is not None:
                start, end, insert = edit
                body = body[:start] + insert + body[end:]
        if not all(is_suppressed(body, c) for c in codes):
            skipped.append(n)
            continue
        lines[n - 1] = body + ending
        done.update(here)
    reason = f"line {', '.join(map(str, skipped))} cannot end in a comment" if skipped else None
    if not done:
        return done, reason
    new_text = "".join(lines)
    try:
        same = ast.dump(ast.parse(new_text)) == before
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        same = False
    if not same:
        return set(), "the comments would change the code (please report it with the file)"
    try:
        from socklint.fileio import atomic_write_bytes

        atomic_write_bytes(Path(target), new_text.encode(encoding))
    except OSError as exc:
        return set(), f"cannot write it: {exc.strerror or exc}"
    return done, reason

