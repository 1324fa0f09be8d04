"""Bytes to text, line tables, and the cheap text prefilter. Knows nothing about sockets' flow."""

from __future__ import annotations

import codecs
import io
import re
import tokenize

from socklint.analysis import model

_NEWLINE = re.compile(r"\r\n|\r|\n")


class DecodeError(Exception):
    pass


def decode(data: bytes) -> str:
    """Decode source bytes the way the interpreter does (BOM, PEP 263 coding cookie, UTF-8)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, LookupError) as exc:
        raise DecodeError(str(exc)) from exc
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise DecodeError(f"cannot decode as {encoding}: {exc}") from exc
    text = text.removeprefix("\ufeff")
    return text


def split_lines(text: str) -> list[str]:
    """Physical lines with their endings, split exactly where the tokenizer splits (not on \\f)."""
    lines: list[str] = []
    start = 0
    for m in _NEWLINE.finditer(text):
        lines.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


# The prefilter: a file that contains none of these byte strings cannot produce a finding
# from the built-in model rows (``triggers`` rows with ``where = "text"``). Configured factory
# names are added at call time.
TRIGGERS: tuple[bytes, ...] = model.TEXT_TRIGGERS


def may_contain_findings(data: bytes, extra: tuple[str, ...] = ()) -> bool:
    if any(t in data for t in TRIGGERS):
        return True
    return any(name.rsplit(".", 1)[-1].encode() in data for name in extra if name)
