"""An internal error on one file never ends the run: that file gets SKL900, the others are still
checked, and the exit status (3) says socklint itself failed.

No real input is known to crash the engine (that is what test_hard_inputs and test_fuzz are
for), so the crash is forced: analyze_text raises for one path. This is the only stand-in in the
suite; everything around it (file walking, the CLI, the reporters) is the real program.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import socklint.engine
from socklint.api import check_source
from socklint.cli import main

LEAKY = b"""import socket


def leaky(addr):
    s = socket.socket()
    s.connect(addr)
    data = s.recv(1024)
    if not data:
        return None
    s.close()
    return data
"""


# The failure is injected in this process: no worker processes, and no cached result may stand
# in for the analysis.
IN_PROCESS = ["--jobs", "1", "--no-cache"]


@pytest.fixture
def crash_on_b(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    real = socklint.engine.analyze_text
    seen: list[str] = []

    def analyze_text(path, text, settings, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(Path(path).name)
        if Path(path).name == "b.py":
            raise ValueError("no state for node 'sock'\nsecond line is dropped")
        return real(path, text, settings, **kwargs)

    monkeypatch.setattr(socklint.engine, "analyze_text", analyze_text)
    return seen


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "src"
    tree.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (tree / name).write_bytes(LEAKY)
    return tree


def test_skl900_for_the_failing_file_and_the_others_are_checked(
    tmp_path: Path, crash_on_b: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _tree(tmp_path)
    status = main(["check", str(tree), "--format", "json", *IN_PROCESS])
    out, err = capsys.readouterr()
    assert status == 3
    assert "Traceback" not in err
    assert crash_on_b == ["a.py", "b.py", "c.py"]  # c.py after the failure is still analysed
    report = json.loads(out)
    by_file: dict[str, list[dict[str, object]]] = {}
    for item in report:
        by_file.setdefault(Path(str(item["path"])).name, []).append(item)

    [failure] = by_file["b.py"]
    assert failure["code"] == "SKL900"
    assert failure["severity"] == "error"
    assert (failure["line"], failure["column"]) == (1, 1)
    message = str(failure["message"])
    # The exception's type and first line, and a request to report it; not the traceback.
    assert "ValueError" in message and "no state for node 'sock'" in message
    assert "second line" not in message
    assert "report" in message

    # a.py and c.py get exactly what they get without any failure elsewhere.
    for name in ("a.py", "c.py"):
        alone = [d.to_json() for d in check_source(str(tree / name), LEAKY)]
        assert by_file.get(name, []) == alone


def test_internal_error_wins_over_findings_and_exit_zero(
    tmp_path: Path, crash_on_b: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _tree(tmp_path)
    assert main(["check", str(tree), "--exit-zero", *IN_PROCESS]) == 3
    text = capsys.readouterr().out
    assert "b.py:1:1: SKL900 internal error" in text


def test_without_the_failing_file_the_status_is_about_findings(
    tmp_path: Path, crash_on_b: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _tree(tmp_path)
    (tree / "b.py").unlink()
    status = main(["check", str(tree), "--format", "json", *IN_PROCESS])
    report = json.loads(capsys.readouterr().out)
    assert status == (1 if report else 0)
    assert all(item["code"] != "SKL900" for item in report)
