"""Data that leaves the engine: diagnostics and their witness paths.

Lines are 1-based. Columns are 1-based too (as every editor and ruff/flake8 print them);
``end_column`` is exclusive. The flake8 adapter converts to flake8's 0-based plugin columns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class TraceStep:
    line: int
    column: int
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "note": self.note}


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    severity: Severity
    trace: tuple[TraceStep, ...] = field(default=())
    # Leak findings: what their witness needs to fail ("io-error", "protocol-raise",
    # "configuration-call", "any-exception", "none", "cancellation"; docs/json-output.md). None for the others.
    failure: str | None = None

    @property
    def name(self) -> str:
        from socklint.codes import CODES

        return CODES[self.code].name

    def sort_key(self) -> tuple[str, int, int, str, str, tuple[tuple[int, int, str], ...]]:
        # The trace is part of the key: two findings may differ only in their path, and the
        # output must not depend on hash order.
        return (self.path, self.line, self.column, self.code, self.message, tuple((t.line, t.column, t.note) for t in self.trace))

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "severity": self.severity.value,
            **({"failure": self.failure} if self.failure is not None else {}),
            "trace": [step.to_json() for step in self.trace],
        }
