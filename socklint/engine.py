"""Orchestration: text -> ast scan -> libcst per candidate function -> facts -> rules -> diagnostics."""

from __future__ import annotations

from socklint.config import Settings
from socklint.diagnostics import Diagnostic


def analyze_text(path: str, text: str, settings: Settings) -> list[Diagnostic]:
    return []
