"""Adopting socklint on existing code through the real CLI: baselines (--write-baseline,
--baseline, ``baseline =`` in [tool.socklint]) and --add-noqa (docs/adopting.md)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from frontend_sources import LEAK

from socklint.reporting import FINGERPRINT_KEY
from socklint.suppress import noqa_edit

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

# Two functions with three findings: SKL102 and SKL101 in fetch, SKL103 in probe.
SERVICE = LEAK + """

def probe(host):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect((host, 80))
    return True
"""

NEW_LEAK = """

def dial(host):
    conn = socket.socket()
    conn.connect((host, 7))
"""


def _cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--no-cache", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _concise(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """``path:line: CODE`` of each finding of a concise report."""
    return [":".join(line.split(":")[:2]) + " " + line.split(" ")[1] for line in proc.stdout.splitlines() if ": SKL" in line]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "service.py").write_text(SERVICE, encoding="utf-8")
    return tmp_path


def test_write_baseline_records_findings_and_then_passes(project: Path) -> None:
    before = _cli("--format", "concise", ".", cwd=project)
    assert before.returncode == 1 and len(_concise(before)) == 3, before.stdout
    wrote = _cli("--write-baseline", "socklint-baseline.json", ".", cwd=project)
    assert wrote.returncode == 0, wrote.stderr
    assert "socklint: wrote 3 findings to socklint-baseline.json" in wrote.stderr
    assert wrote.stdout == "All checks passed\n", wrote.stdout
    data = json.loads((project / "socklint-baseline.json").read_text(encoding="utf-8"))
    assert data["version"] == 1
    rows = data["findings"]
    assert [(r["path"], r["code"], r["function"]) for r in rows] == [
        ("service.py", "SKL101", "fetch"),
        ("service.py", "SKL102", "fetch"),
        ("service.py", "SKL103", "probe"),
    ]
    # No line numbers anywhere: the file does not churn when code moves.
    assert all("line 5" not in r["message"] and "created at line #" in r["message"] for r in rows[:2])
    # Deterministic: written again from another spelling of the same path, byte for byte.
    first = (project / "socklint-baseline.json").read_bytes()
    _cli("--write-baseline", str(project / "socklint-baseline.json"), str(project / "service.py"), cwd=project.parent)
    assert (project / "socklint-baseline.json").read_bytes() == first
    assert not [p for p in os.listdir(project) if p.endswith(".tmp")]

    passing = _cli("--baseline", "socklint-baseline.json", ".", cwd=project)
    assert passing.returncode == 0, passing.stdout
    assert passing.stdout == "All checks passed\n3 findings baselined, 0 baseline entries gone (fixed)\n"


def test_baseline_keys_are_the_sarif_fingerprints(project: Path) -> None:
    _cli("--write-baseline", "b.json", ".", cwd=project)
    sarif = json.loads(_cli("--format", "sarif", "service.py", cwd=project).stdout)
    prints = sorted((r["ruleId"], r["partialFingerprints"][FINGERPRINT_KEY]) for r in sarif["runs"][0]["results"])
    rows = json.loads((project / "b.json").read_text(encoding="utf-8"))["findings"]
    assert sorted((r["code"], r["fingerprint"]) for r in rows) == prints


def test_unrelated_edits_keep_findings_baselined(project: Path) -> None:
    _cli("--write-baseline", "b.json", ".", cwd=project)
    moved = SERVICE.replace("import socket\n", "import os\nimport socket\n\nTIMEOUT = 5\n\n\n", 1)
    # Another function edited, and one added above: every finding's line moves, and the
    # messages' "created at line N" with them.
    moved = moved.replace("    return True\n", "    print(os.getpid())\n    return True\n")
    moved = moved.replace("def fetch", "def helper(a):\n    return a + 1\n\n\ndef fetch")
    (project / "service.py").write_text(moved, encoding="utf-8")
    plain = _cli("--format", "concise", ".", cwd=project)
    assert len(_concise(plain)) == 3 and "service.py:5:" not in plain.stdout, plain.stdout
    kept = _cli("--baseline", "b.json", ".", cwd=project)
    assert kept.returncode == 0, kept.stdout
    assert "3 findings baselined, 0 baseline entries gone (fixed)" in kept.stdout


def test_a_new_finding_fails_and_a_fixed_one_is_gone(project: Path) -> None:
    _cli("--write-baseline", "b.json", ".", cwd=project)
    fixed = SERVICE.replace("    if not greeting:\n        return None\n", "")  # SKL101 fixed
    (project / "service.py").write_text(fixed + NEW_LEAK, encoding="utf-8")
    proc = _cli("--baseline", "b.json", "--format", "concise", ".", cwd=project)
    assert proc.returncode == 1
    assert _concise(proc) == ["./service.py:18 SKL103"], proc.stdout
    assert proc.stdout.endswith(
        "Found 1 finding in 1 file (1 checked)\n"
        "2 findings baselined, 1 baseline entry gone (fixed); write the baseline again (--write-baseline) to drop them\n"
    ), proc.stdout
    # Rewriting the baseline accepts the new finding and forgets the fixed one.
    assert _cli("--write-baseline", "b.json", ".", cwd=project).returncode == 0
    again = _cli("--baseline", "b.json", ".", cwd=project)
    assert again.returncode == 0 and "3 findings baselined, 0 baseline entries gone" in again.stdout


def test_a_second_identical_finding_is_new(tmp_path: Path) -> None:
    # The same finding twice in one function is told apart by its order (hash:1, hash:2).
    call = "    await loop.create_datagram_endpoint(proto, reuse_address=True)\n"
    (tmp_path / "udp.py").write_text("async def serve(loop, proto):\n" + call, encoding="utf-8")
    _cli("--write-baseline", "b.json", ".", cwd=tmp_path)
    (tmp_path / "udp.py").write_text("async def serve(loop, proto):\n" + call + call, encoding="utf-8")
    proc = _cli("--baseline", "b.json", "--format", "concise", ".", cwd=tmp_path)
    assert proc.returncode == 1 and _concise(proc) == ["./udp.py:3 SKL212"], proc.stdout
    assert "1 finding baselined, 0 baseline entries gone" in proc.stdout


def test_configured_baseline_is_relative_to_the_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.socklint]\nbaseline = "ci/socklint-baseline.json"\n', encoding="utf-8")
    pkg = project / "pkg"
    pkg.mkdir()
    (pkg / "client.py").write_text(SERVICE, encoding="utf-8")
    missing = _cli(".", cwd=pkg)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "no such file (create it with `socklint check --write-baseline" in missing.stderr, missing.stderr
    assert _cli("--write-baseline", "ci/socklint-baseline.json", ".", cwd=project).returncode == 0
    shown = json.loads(_cli("--show-settings", ".", cwd=pkg).stdout)
    assert shown["baseline"] == str(project / "ci" / "socklint-baseline.json")
    # From a subfolder, from the root, and with a path outside both: the same keys.
    for cwd, target in ((pkg, "."), (project, "."), (project.parent, str(project))):
        proc = _cli(target, cwd=cwd)
        assert proc.returncode == 0, (cwd, proc.stdout, proc.stderr)
        expected = "3 findings" if cwd == pkg else "6 findings"
        assert f"{expected} baselined, 0 baseline entries gone" in proc.stdout
    # --baseline on the command line wins over the configured one.
    (project / "empty.json").write_text('{"version": 1, "findings": []}\n', encoding="utf-8")
    assert _cli("--baseline", str(project / "empty.json"), ".", cwd=pkg).returncode == 1


def test_files_not_checked_are_not_gone(project: Path) -> None:
    (project / "other.py").write_text(SERVICE, encoding="utf-8")
    _cli("--write-baseline", "b.json", ".", cwd=project)
    one = _cli("--baseline", "b.json", "service.py", cwd=project)
    assert one.returncode == 0 and "3 findings baselined, 0 baseline entries gone" in one.stdout, one.stdout
    # Codes not selected in this run are not gone either.
    some = _cli("--baseline", "b.json", "--select", "SKL103", ".", cwd=project)
    assert "2 findings baselined, 0 baseline entries gone" in some.stdout, some.stdout
    # A deleted file's findings are gone, whichever files the run names.
    (project / "other.py").unlink()
    gone = _cli("--baseline", "b.json", "service.py", cwd=project)
    assert "3 findings baselined, 3 baseline entries gone (fixed)" in gone.stdout, gone.stdout


def test_machine_formats_keep_stdout_a_document(project: Path) -> None:
    _cli("--write-baseline", "b.json", ".", cwd=project)
    (project / "service.py").write_text(SERVICE + NEW_LEAK, encoding="utf-8")
    note = "socklint: 3 findings baselined, 0 baseline entries gone (fixed)\n"
    as_json = _cli("--baseline", "b.json", "--format", "json", ".", cwd=project)
    assert as_json.returncode == 1 and as_json.stderr == note
    assert [(d["code"], d["line"]) for d in json.loads(as_json.stdout)] == [("SKL103", 20)]
    sarif = _cli("--baseline", "b.json", "--format", "sarif", ".", cwd=project)
    assert sarif.returncode == 1 and sarif.stderr == note
    log = json.loads(sarif.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["SKL103"]
    github = _cli("--baseline", "b.json", "--format", "github", ".", cwd=project)
    assert github.stderr == note and github.stdout.count("::warning") == 1
    count = _cli("--baseline", "b.json", "--count", ".", cwd=project)
    assert count.stdout.splitlines()[-1] == "1" and count.stderr == note
    quiet = _cli("--baseline", "b.json", "-q", "--format", "concise", ".", cwd=project)
    assert quiet.stderr == "" and len(quiet.stdout.splitlines()) == 1
    # Standard input: keyed by --stdin-filename, relative to the baseline's folder.
    piped = _cli("--baseline", "b.json", "--stdin-filename", "service.py", cwd=project, stdin=SERVICE)
    assert piped.returncode == 0 and "3 findings baselined" in piped.stdout, piped.stdout + piped.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no such file"),
        ("{not json", "not a socklint baseline (invalid JSON"),
        ("[]", 'expected an object with "version" and "findings"'),
        ('{"version": 7, "findings": []}', "version 7 is not one this socklint reads (1)"),
        ('{"version": true, "findings": []}', "version True is not one"),
        ('{"version": 1, "findings": {}}', '"findings" must be a list'),
        ('{"version": 1, "findings": [{"path": "a.py"}]}', 'finding 1 needs the strings "path", "code" and "fingerprint"'),
        ("dir", "cannot read: Is a directory"),
    ],
)
def test_unusable_baselines_are_exit_2_without_traceback(project: Path, content: str | None, says: str) -> None:
    target = project / "b.json"
    if content == "dir":
        target.mkdir()
    elif content is not None:
        target.write_text(content, encoding="utf-8")
    proc = _cli("--baseline", "b.json", ".", cwd=project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("socklint: error: baseline b.json: ") and says in proc.stderr, proc.stderr


def test_write_baseline_never_replaces_what_is_not_a_file(project: Path) -> None:
    (project / "folder").mkdir()
    proc = _cli("--write-baseline", "folder", ".", cwd=project)
    assert proc.returncode == 2 and "cannot write folder" in proc.stderr and "Traceback" not in proc.stderr
    assert (project / "folder").is_dir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(project / "fifo")
        proc = _cli("--write-baseline", "fifo", ".", cwd=project)
        assert proc.returncode == 2 and "not a regular file" in proc.stderr
        assert (project / "fifo").is_fifo()
    # A symlinked baseline stays a link; the file it points to gets the baseline.
    (project / "real.json").write_text("", encoding="utf-8")
    (project / "link.json").symlink_to("real.json")
    assert _cli("--write-baseline", "link.json", ".", cwd=project).returncode == 0
    assert (project / "link.json").is_symlink()
    assert json.loads((project / "real.json").read_text(encoding="utf-8"))["version"] == 1


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--write-baseline", "a.json", "--baseline", "b.json", "."], "does not combine with --baseline"),
        (["--write-baseline", "a.json", "--add-noqa", "."], "choose one"),
        (["--add-noqa", "-"], "cannot take standard input"),
    ],
)
def test_conflicting_flags_are_usage_errors(project: Path, flags: list[str], says: str) -> None:
    proc = _cli(*flags, cwd=project, stdin=SERVICE)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert not (project / "a.json").exists()
    assert (project / "service.py").read_text(encoding="utf-8") == SERVICE


def test_tool_diagnostics_are_never_baselined(project: Path) -> None:
    (project / "broken.py").write_text("import socket\ndef f(:\n", encoding="utf-8")
    wrote = _cli("--write-baseline", "b.json", "--format", "concise", ".", cwd=project)
    assert wrote.returncode == 1 and _concise(wrote) == ["./broken.py:2 SKL001"], wrote.stdout
    assert {r["code"] for r in json.loads((project / "b.json").read_text(encoding="utf-8"))["findings"]} == {"SKL101", "SKL102", "SKL103"}


# --- --add-noqa ----------------------------------------------------------------------------

NOQA_CASES = """\
import socket


def commented(host):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # noqa: E501
    sock.connect((host, 80))


def own_spelling(host):
    sock = socket.socket()  # socklint: ignore[SKL201] the option is set elsewhere
    sock.connect((host, 80))


def other_comment(host):
    sock = socket.socket()  # type: ignore[call-arg]
    sock.connect((host, 80))


def inside_a_string(host):
    sock = socket.create_connection((host, 25))
    sock.sendall(b\"\"\"HELO
\"\"\")
    sock.close()


def continued(host):
    sock = socket.socket(socket.AF_INET, \\
                         socket.SOCK_STREAM)
    sock.connect((host, 80))


def multi_line(host, port):
    sock = socket.create_connection(
        (host, port),
    )
    return sock.recv(1)


def inner_line(host):
    sock = socket.create_connection((host, 80))
    size = len(
        sock.recv(1),
    )
    sock.close()
    return size
"""


def test_add_noqa_merges_comments_and_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "cases.py"
    original = NOQA_CASES.replace("\n", "\r\n").encode("utf-8")  # CRLF kept
    path.write_bytes(original)
    before = _cli("--format", "concise", ".", cwd=tmp_path)
    assert before.returncode == 1
    proc = _cli("--add-noqa", "--format", "concise", ".", cwd=tmp_path)
    # The two lines that cannot end in a comment keep their findings, and say why.
    assert proc.returncode == 1
    assert _concise(proc) == ["./cases.py:21 SKL102", "./cases.py:27 SKL103"], proc.stdout
    assert "socklint: warning: ./cases.py: no noqa comment added: line 21, 27 cannot end in a comment" in proc.stderr
    added = len(_concise(before)) - 2
    assert f"socklint: added {added} noqa comments to 1 file" in proc.stderr, proc.stderr
    data = path.read_bytes()
    assert data.count(b"\r\n") == original.count(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("utf-8").replace("\r\n", "\n")
    lines = text.splitlines()
    assert lines[4] == "    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # noqa: E501, SKL103"
    assert lines[9] == "    sock = socket.socket()  # socklint: ignore[SKL201, SKL103] the option is set elsewhere"
    assert lines[14] == "    sock = socket.socket()  # type: ignore[call-arg]  # noqa: SKL103"
    assert lines[32] == "    sock = socket.create_connection(  # noqa: SKL103"  # the reported line
    assert lines[41] == "        sock.recv(1),  # noqa: SKL102"  # not the statement's first line
    assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(NOQA_CASES))
    # Only the two lines that could not take a comment are still reported; a second run adds nothing.
    after = _cli("--format", "concise", ".", cwd=tmp_path)
    assert _concise(after) == _concise(proc)
    again = _cli("--add-noqa", ".", cwd=tmp_path)
    assert "socklint: added 0 noqa comments to 0 files" in again.stderr
    assert path.read_bytes() == data


def test_add_noqa_after_a_baseline_only_comments_new_findings(project: Path) -> None:
    _cli("--write-baseline", "b.json", ".", cwd=project)
    (project / "service.py").write_text(SERVICE + NEW_LEAK, encoding="utf-8")
    proc = _cli("--baseline", "b.json", "--add-noqa", ".", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "added 1 noqa comment to 1 file" in proc.stderr
    text = (project / "service.py").read_text(encoding="utf-8")
    assert text.count("# noqa") == 1 and "    conn = socket.socket()  # noqa: SKL103\n" in text


def test_add_noqa_keeps_a_symlink_and_the_files_mode(project: Path) -> None:
    target = project / "service.py"
    target.chmod(0o640)
    (project / "link.py").symlink_to("service.py")
    proc = _cli("--add-noqa", "link.py", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert (project / "link.py").is_symlink() and (target.stat().st_mode & 0o777) == 0o640
    assert target.read_text(encoding="utf-8").count("# noqa: SKL") == 3


def _edited(line: str, code: str) -> str | None:
    edit = noqa_edit(line, code)
    return None if edit is None else line[: edit[0]] + edit[2] + line[edit[1] :]


def test_noqa_edit_extends_the_projects_own_spelling_first() -> None:
    # The language server's quick fix and --add-noqa write the same edit (test_lsp.py has the
    # other cases): socklint's own `ignore[...]` list is extended before a noqa list.
    assert _edited("x = f()  # socklint: ignore[SKL201] why", "SKL103") == "x = f()  # socklint: ignore[SKL201, SKL103] why"
    assert _edited("x = f()  # socklint: ignore[SKL201]  # noqa: E501", "SKL101") == "x = f()  # socklint: ignore[SKL201, SKL101]  # noqa: E501"
    assert _edited("x = f()  # socklint: ignore[socket-never-closed]", "SKL103") is None
    assert _edited("x = f()  # socklint: ignore", "SKL103") is None
    assert _edited("x = f()  # NOQA:E501,W291  # why", "SKL101") == "x = f()  # NOQA:E501,W291, SKL101  # why"


def test_adopting_page_examples_work(tmp_path: Path) -> None:
    # docs/adopting.md as written: its [tool.socklint] with `baseline`, and its sample file.
    page = (Path(__file__).resolve().parent.parent / "docs" / "adopting.md").read_text(encoding="utf-8")
    toml = next(b.split("```", 1)[0] for b in page.split("```toml\n")[1:] if "baseline =" in b)
    sample = page.split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    (tmp_path / ".socklint-baseline.json").write_text(sample, encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "client.py").write_text(SERVICE, encoding="utf-8")
    proc = _cli("--format", "concise", ".", cwd=tmp_path)
    # The sample's fingerprint was taken from another file: the three findings are new, and its
    # one entry, for a file this run checked, is gone.
    assert proc.returncode == 1 and len(_concise(proc)) == 3, proc.stdout + proc.stderr
    assert "0 findings baselined, 1 baseline entry gone (fixed)" in proc.stdout
    assert _cli("--write-baseline", ".socklint-baseline.json", ".", cwd=tmp_path).returncode == 0
    assert _cli(".", cwd=tmp_path).returncode == 0


def test_odd_file_names_and_a_bom_round_trip(tmp_path: Path) -> None:
    # A file name that is not UTF-8 reaches socklint as lone surrogates; the baseline stays
    # valid UTF-8 (ASCII with escapes) and still matches it. An editor's BOM is accepted.
    if sys.platform == "darwin" or os.name == "nt":
        pytest.skip("needs a file system that takes any bytes in a name")
    os.makedirs(tmp_path / "café", exist_ok=True)
    (tmp_path / "café" / "svc.py").write_text(SERVICE, encoding="utf-8")
    (Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.py"))).write_text(SERVICE, encoding="utf-8")
    assert _cli("--write-baseline", "b.json", ".", cwd=tmp_path).returncode == 0
    raw = (tmp_path / "b.json").read_bytes()
    text = raw.decode("ascii")  # raises if it is not
    assert "caf\\udce9.py" in text and "caf\\u00e9/svc.py" in text
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf" + raw)
    proc = _cli("--baseline", "b.json", ".", cwd=tmp_path)
    assert proc.returncode == 0 and "6 findings baselined, 0 baseline entries gone" in proc.stdout, proc.stdout + proc.stderr
