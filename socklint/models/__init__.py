"""Library models as data: what the socket API and the libraries around it create, close, take
over, raise or cannot raise, as rows in the TOML files beside this module (``docs/models.md``).

``load.py`` reads and validates them; ``socklint.analysis.model`` builds the engine's tables
from the rows.
"""

from socklint.models.load import (
    HEURISTICS,
    KINDS,
    ModelError,
    Row,
    builtin_heuristics,
    builtin_rows,
    flat_rows,
    parse_rows_file,
    parse_user_models,
    rows_as_table,
    shorthand_rows,
)

__all__ = [
    "HEURISTICS",
    "KINDS",
    "ModelError",
    "Row",
    "builtin_heuristics",
    "builtin_rows",
    "flat_rows",
    "parse_rows_file",
    "parse_user_models",
    "rows_as_table",
    "shorthand_rows",
]
