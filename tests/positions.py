"""Shared checks for robustness tests: every position a diagnostic carries lies inside its file."""

from __future__ import annotations

from collections.abc import Sequence

from socklint.diagnostics import Diagnostic
from socklint.source import DecodeError, decode, split_lines


def line_lengths(data: bytes) -> list[int] | None:
    """Length in characters of each physical line without its ending, or None if undecodable."""
    try:
        text = decode(data)
    except DecodeError:
        return None
    return [len(line.rstrip("\r\n")) for line in split_lines(text)]


def _inside(lengths: list[int], line: int, column: int) -> bool:
    if not lengths:
        # An empty file has no line, but a tool diagnostic must still point somewhere: 1:1.
        return line == 1 and column == 1
    if not 1 <= line <= len(lengths):
        return False
    # A column may sit one past the last character (the end of the line, an exclusive end).
    return 1 <= column <= lengths[line - 1] + 1


def position_errors(data: bytes, diags: Sequence[Diagnostic]) -> list[str]:
    """Human-readable problems; empty when every position is inside the file."""
    lengths = line_lengths(data)
    problems: list[str] = []
    for d in diags:
        if lengths is None:
            # Undecodable: the only honest position is the start of the file.
            if (d.line, d.column) != (1, 1):
                problems.append(f"{d.code} at {d.line}:{d.column} in an undecodable file")
            continue
        if not _inside(lengths, d.line, d.column):
            problems.append(f"{d.code} start {d.line}:{d.column} outside the file ({len(lengths)} lines)")
        if not _inside(lengths, d.end_line, d.end_column):
            problems.append(f"{d.code} end {d.end_line}:{d.end_column} outside the file")
        if (d.end_line, d.end_column) < (d.line, d.column):
            problems.append(f"{d.code} ends before it starts: {d.line}:{d.column}-{d.end_line}:{d.end_column}")
        for step in d.trace:
            if not _inside(lengths, step.line, step.column):
                problems.append(f"{d.code} trace step {step.line}:{step.column} ({step.note}) outside the file")
    return problems
