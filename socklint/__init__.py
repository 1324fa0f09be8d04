"""socklint: find socket lifecycle bugs in Python source before they reach production."""

from socklint._version import __version__
from socklint.api import check_file, check_source
from socklint.config import Settings
from socklint.diagnostics import Diagnostic, Severity, TraceStep

__all__ = ["Diagnostic", "Settings", "Severity", "TraceStep", "__version__", "check_file", "check_source"]
