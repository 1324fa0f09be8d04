"""Inline suppression: ``# noqa``, ``# noqa: SKL101,SKL102`` and ``# socklint: ignore[SKL101]``."""

from __future__ import annotations

import io
import re
import tokenize

from socklint.codes import resolve

_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Za-z0-9\-]+(?:[,\s]+[A-Za-z0-9\-]+)*))?", re.IGNORECASE)
_OWN = re.compile(r"#\s*socklint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)


def suppressed_codes(line: str) -> frozenset[str] | None:
    """Codes suppressed on a physical line: None for none, an empty set for all codes."""
    if "#" not in line:
        return None
    found: set[str] = set()
    any_match = False
    for rx in (_NOQA, _OWN):
        for m in rx.finditer(line):
            any_match = True
            codes = m.group("codes")
            if not codes:
                return frozenset()
            found.update(resolve(c) for c in re.split(r"[,\s]+", codes.strip()) if c)
    return frozenset(found) if any_match else None


def is_suppressed(line: str, code: str) -> bool:
    codes = suppressed_codes(line)
    if codes is None:
        return False
    return not codes or any(code.startswith(c) for c in codes)



# --- writing a suppression: the language server's quick fix and `check --add-noqa` ----------

# An existing suppression list such as "noqa: A1, B2" (codes only, so a trailing explanation
# after the codes is not swallowed).
_NOQA_LIST = re.compile(
    r"#\s*noqa:\s?(?:[A-Za-z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?:[,\s]+(?:[A-Z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+))*",
    re.IGNORECASE,
)
_NOQA_BARE = re.compile(r"#\s*noqa(?!:)\b", re.IGNORECASE)


def commentable_lines(text: str) -> set[int] | None:
    """1-based lines whose end can take a comment (not inside a string, not after ``\\``).

    None when the text does not tokenize (mid-edit): the caller then falls back to a
    line-local check.
    """
    out: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                out.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return out


def noqa_edit(line_text: str, code: str) -> tuple[int, int, str] | None:
    """How to suppress ``code`` on this line: (start, end, replacement) in code points.

    Extends an existing ``# socklint: ignore[...]`` list (the project's own spelling), else an
    existing ``# noqa: ...`` list, keeping the codes already there (another tool's too);
    otherwise appends ``  # noqa: CODE``. None when the line already suppresses the code (or
    everything).
    """
    body = line_text.rstrip("\r\n")
    own = _OWN.search(body)
    if own is not None:
        listed = own.group("codes")
        if listed is None or not listed.strip():
            return None  # `# socklint: ignore` alone suppresses everything
        if code in {resolve(c) for c in re.split(r"[,\s]+", listed.strip()) if c}:
            return None
        end = own.end("codes")
        return end, end, f", {code}"
    m = _NOQA_LIST.search(body)
    if m:
        codes = {c.upper() for c in re.split(r"[,\s]+", m.group(0).split(":", 1)[1].strip()) if c}
        if code in codes:
            return None
        return m.end(), m.end(), f", {code}"
    if _NOQA_BARE.search(body):
        return None
    stripped = body.rstrip()
    return len(stripped), len(body), f"  # noqa: {code}"
