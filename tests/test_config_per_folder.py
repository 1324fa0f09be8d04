"""Configuration per folder through the real CLI (issue 18 item 4): each file is governed by the
nearest pyproject.toml with [tool.socklint], its globs anchored at that file's folder, whatever
the working directory; git-ignored files are skipped by folder walks; ``--force-exclude``
applies the exclusions to paths named on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from frontend_sources import LEAK, NEVER_CLOSED


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def found(*args: str, cwd: Path) -> set[tuple[str, str]]:
    """(path as reported, code) of every finding of ``socklint check ARGS`` run in ``cwd``."""
    # SKL102 (the recv in LEAK may raise) is left out: each source stands for one finding.
    proc = run("check", "--no-cache", "--ignore", "SKL102", "--output-format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return {(Path(d["path"]).as_posix(), d["code"]) for d in json.loads(proc.stdout)}


def listed(*args: str, cwd: Path) -> list[str]:
    proc = run("check", "--show-files", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return sorted(Path(p).as_posix() for p in proc.stdout.splitlines())


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Two projects in one git work tree, with different settings:

    a/: SKL103 off; SKL101 off for its tests/ (the README's tip, "tests/*").
    b/: everything on; vendor/ excluded; .gitignore not respected.
    """
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / ".gitignore", "generated/\nscratch_*.py\n!generated/keep.py\n")
    write(
        tmp_path / "a" / "pyproject.toml",
        '[tool.socklint]\nignore = ["SKL103"]\n\n[tool.socklint.per-file-ignores]\n"tests/*" = ["SKL101"]\n',
    )
    write(tmp_path / "a" / "never.py", NEVER_CLOSED)
    write(tmp_path / "a" / "leak.py", LEAK)
    write(tmp_path / "a" / "tests" / "test_x.py", LEAK)
    write(tmp_path / "a" / "generated" / "g.py", LEAK)
    write(tmp_path / "a" / "generated" / "keep.py", LEAK)
    write(tmp_path / "a" / "scratch_1.py", LEAK)
    write(tmp_path / "a" / ".gitignore", "!scratch_keep.py\n")
    write(tmp_path / "a" / "scratch_keep.py", LEAK)
    write(tmp_path / "b" / "pyproject.toml", '[tool.socklint]\nexclude = ["vendor"]\nrespect-gitignore = false\n')
    write(tmp_path / "b" / "never.py", NEVER_CLOSED)
    write(tmp_path / "b" / "tests" / "test_x.py", LEAK)
    write(tmp_path / "b" / "vendor" / "v.py", LEAK)
    write(tmp_path / "b" / "scratch_2.py", LEAK)
    return tmp_path


B_FINDINGS = {("b/never.py", "SKL103"), ("b/tests/test_x.py", "SKL101"), ("b/scratch_2.py", "SKL101")}
A_FINDINGS = {("a/leak.py", "SKL101"), ("a/scratch_keep.py", "SKL101")}


def test_each_path_gets_its_own_configuration_in_either_order(tree: Path) -> None:
    # Before: the first path's pyproject.toml governed both, so `check a b` lost b's SKL103
    # and `check b a` reported a's.
    assert found("a", "b", cwd=tree) == A_FINDINGS | B_FINDINGS
    assert found("b", "a", cwd=tree) == A_FINDINGS | B_FINDINGS
    assert found(".", cwd=tree) == A_FINDINGS | B_FINDINGS


def test_globs_are_anchored_at_the_config_folder_not_the_working_directory(tree: Path) -> None:
    # The README's tip "tests/*" = [...] still applies when run from inside tests/.
    assert found(".", cwd=tree / "a" / "tests") == set()
    assert found("test_x.py", cwd=tree / "a" / "tests") == set()
    assert found(".", cwd=tree / "b" / "tests") == {("test_x.py", "SKL101")}
    # From another project's folder: each file still answers to its own configuration.
    assert found("../a/tests", "../b/tests", cwd=tree / "b") == {("../b/tests/test_x.py", "SKL101")}
    # exclude = ["vendor"] is b's: the walk skips b/vendor from anywhere.
    assert "b/vendor/v.py" not in listed(".", cwd=tree)
    assert listed(".", cwd=tree / "b" / "vendor") == []


def test_show_settings_names_the_configuration_of_the_first_path(tree: Path) -> None:
    proc = run("check", "--show-settings", "b/tests", cwd=tree)
    shown = json.loads(proc.stdout)
    assert Path(shown["config-file"]) == (tree / "b" / "pyproject.toml").resolve()
    assert Path(shown["config-root"]) == (tree / "b").resolve()
    assert shown["exclude"] == ["vendor"] and shown["respect-gitignore"] is False


def test_git_ignored_files_are_skipped_unless_switched_off(tree: Path) -> None:
    files = listed("a", cwd=tree)
    # generated/ is ignored as a folder: the negation cannot bring keep.py back (git's rule).
    # scratch_1.py is ignored by the root .gitignore; a/.gitignore's negation re-includes
    # scratch_keep.py (a deeper .gitignore decides first).
    assert files == ["a/leak.py", "a/never.py", "a/scratch_keep.py", "a/tests/test_x.py"]
    assert found("a", cwd=tree) == A_FINDINGS
    # The switch on the command line...
    assert listed("--no-respect-gitignore", "a", cwd=tree) == sorted(
        [*files, "a/generated/g.py", "a/generated/keep.py", "a/scratch_1.py"]
    )
    # ...and in the configuration: b sets respect-gitignore = false, so scratch_2.py is checked.
    assert "b/scratch_2.py" in listed("b", cwd=tree)


def test_a_named_folder_that_git_ignores_is_walked(tree: Path) -> None:
    # Named on the command line, generated/ is checked (the ignore rules above it do not hide
    # its files), as ruff and ripgrep do; --force-exclude leaves it out.
    write(tree / "a" / "generated" / ".gitignore", "g.py\n")
    assert listed("a/generated", cwd=tree) == ["a/generated/keep.py"]
    assert listed("--force-exclude", "a/generated", cwd=tree) == []


def test_gitignore_applies_only_inside_a_work_tree(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.py\n")
    write(tmp_path / "m.py", LEAK)
    assert listed(".", cwd=tmp_path) == ["m.py"]


def test_explicit_paths_are_checked_unless_force_exclude(tree: Path) -> None:
    # pre-commit names each staged file: without --force-exclude a named file is checked even
    # when excluded or git-ignored.
    assert found("b/vendor/v.py", cwd=tree) == {("b/vendor/v.py", "SKL101")}
    assert found("a/scratch_1.py", cwd=tree) == {("a/scratch_1.py", "SKL101")}
    assert found("--force-exclude", "b/vendor/v.py", "a/scratch_1.py", "a/generated/keep.py", cwd=tree) == set()
    # Anchored at b/ from inside the excluded folder too; a named excluded folder is skipped.
    assert found("--force-exclude", "v.py", cwd=tree / "b" / "vendor") == set()
    assert found("--force-exclude", "b/vendor", cwd=tree) == set()
    # Files that are not excluded are still checked.
    assert found("--force-exclude", "b/never.py", "b/vendor/v.py", cwd=tree) == {("b/never.py", "SKL103")}


def test_force_exclude_in_the_configuration(tree: Path) -> None:
    (tree / "b" / "pyproject.toml").write_text(
        '[tool.socklint]\nexclude = ["vendor"]\nforce-exclude = true\n', encoding="utf-8"
    )
    assert found("b/vendor/v.py", cwd=tree) == set()
    proc = run("check", "b/vendor/v.py", cwd=tree)
    assert proc.returncode == 0 and "no Python files found" in proc.stderr


def test_config_flag_governs_every_file_anchored_at_the_working_directory(tree: Path) -> None:
    # --config names one file for all: a's ignore applies to b, and "tests/*" is anchored at
    # the working directory (ruff's rule), so from b/ it matches b's tests.
    # a's exclude list is empty (vendor/ is checked) and git-ignored scratch_2.py is skipped.
    assert found("--config", "../a/pyproject.toml", ".", cwd=tree / "b") == {("vendor/v.py", "SKL101")}


def test_a_bad_configuration_below_the_first_path_is_an_error_not_a_traceback(tree: Path) -> None:
    write(tree / "b" / "sub" / "pyproject.toml", "[tool.socklint]\nselect = 3\n")
    write(tree / "b" / "sub" / "m.py", LEAK)
    proc = run("check", ".", cwd=tree)
    assert proc.returncode == 2
    assert "sub" in proc.stderr and "select" in proc.stderr and "Traceback" not in proc.stderr
