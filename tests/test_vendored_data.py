"""Data kept in the repository so a clone tests itself offline (tests/data/README.md) is the
official file, unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def test_sarif_schema_is_the_official_errata_01() -> None:
    raw = (DATA / "sarif-schema-2.1.0.json").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    assert digest in (DATA / "README.md").read_text(encoding="utf-8")  # the recorded hash
    assert digest == "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
    schema = json.loads(raw)
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
