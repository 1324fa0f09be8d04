"""The pre-commit hook through real ``pre-commit try-repo`` in a throwaway git repository.

try-repo builds the hook from this checkout (including uncommitted changes to tracked files)
into a fresh virtualenv, so it needs PyPI for socklint's dependencies: marked ``network``. The
``.pre-commit-config.yaml`` snippets of the README and docs/integrations.md run as written, with
only the clone's path and commit filled in.
CI runs it (the marker only lets someone offline deselect it with ``-m 'not network'``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from frontend_sources import CLEAN, NEVER_CLOSED

from socklint.api import check_source

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Hermetic: no user or system git configuration or hooks, a private pre-commit home.
    empty = tmp_path / "gitconfig"
    empty.write_text("", encoding="utf-8")
    env.update(
        GIT_CONFIG_GLOBAL=str(empty),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="socklint tests",
        GIT_AUTHOR_EMAIL="tests@example.invalid",
        GIT_COMMITTER_NAME="socklint tests",
        GIT_COMMITTER_EMAIL="tests@example.invalid",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        PRE_COMMIT_COLOR="never",
    )
    env.pop("PRE_COMMIT", None)
    env.pop("SKIP", None)
    return env


def _git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def user_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of socklint")
    env = _env(tmp_path)
    repo = tmp_path / "user-project"
    repo.mkdir()
    _git("init", "-q", ".", cwd=repo, env=env)
    (repo / "leak.py").write_text(NEVER_CLOSED, encoding="utf-8")
    (repo / "clean.py").write_text(CLEAN, encoding="utf-8")
    (repo / "notes.txt").write_text(
        "socket.socket() mentioned in prose, not Python\n", encoding="utf-8"
    )
    _git("add", ".", cwd=repo, env=env)
    return repo, env


def _try_repo(repo: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "socklint", "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_hook_definition() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "socklint"
    assert hook["entry"] == "socklint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    # socklint has its own process pool; pre-commit's parallel batches would multiply it.
    assert hook["require_serial"] is True


@pytest.mark.network
def test_hook_fails_on_a_leak_and_passes_on_clean_code(
    user_repo: tuple[Path, dict[str, str]],
) -> None:
    repo, env = user_repo
    expected = check_source("leak.py", NEVER_CLOSED.encode("utf-8"))
    assert expected and not check_source("clean.py", CLEAN.encode("utf-8"))

    failing = _try_repo(repo, env, "leak.py", "clean.py", "notes.txt")
    out = failing.stdout + failing.stderr
    assert failing.returncode == 1, out
    assert "socklint" in out and "Failed" in out
    for d in expected:
        assert f"leak.py:{d.line}:{d.column}: {d.code}" in out
    assert "clean.py:" not in out and "notes.txt:" not in out  # types: [python]

    passing = _try_repo(repo, env, "clean.py", "notes.txt")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


DOCS = ("README.md", "docs/integrations.md")
CLONE = "/path/to/socklint"
REV = "0" * 40


def _documented_configs() -> dict[str, str]:
    """Each distinct .pre-commit-config.yaml snippet of the docs, by the repo it names."""
    found: dict[str, str] = {}
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
        configs = [b for b in blocks if b.startswith("repos:")]
        assert {yaml.safe_load(b)["repos"][0]["repo"] for b in configs} == {CLONE, "local"}, doc
        for b in configs:
            repo = yaml.safe_load(b)["repos"][0]["repo"]
            assert found.setdefault(repo, b) == b, f"{doc} shows another {repo} snippet than {DOCS[0]}"
    return found


def test_no_instruction_installs_what_is_not_published() -> None:
    # flake8-socklint is the distribution's name but nothing is on PyPI: every pip command in
    # the docs and in the program's own messages names a clone, or pygls itself.
    offenders = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "socklint").rglob("*.py"))]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "pip install" in line and "flake8-socklint" in line:
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders


def test_documented_hook_definition_matches() -> None:
    configs = _documented_configs()
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (repo,) = yaml.safe_load(configs[CLONE])["repos"]
    assert [h["id"] for h in repo["hooks"]] == [hook["id"]]
    # The local hook is the same hook, spelled out.
    (local,) = yaml.safe_load(configs["local"])["repos"][0]["hooks"]
    for key in ("id", "entry", "types", "require_serial"):
        assert local[key] == hook[key], key


def _run_documented(repo: Path, env: dict[str, str], config: str) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(config.replace(CLONE, str(ROOT)).replace(REV, head), encoding="utf-8")
    # socklint on PATH for the local hook, as in a shell where it is installed.
    env = {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}
    run = [sys.executable, "-m", "pre_commit", "run", "--files"]
    failing = subprocess.run([*run, "leak.py", "clean.py", "notes.txt"], cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    out = failing.stdout + failing.stderr
    assert failing.returncode == 1, out
    assert "leak.py:" in out and "SKL103" in out and "clean.py:" not in out, out
    passing = subprocess.run([*run, "clean.py", "notes.txt"], cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert passing.returncode == 0 and "Passed" in passing.stdout, passing.stdout + passing.stderr


def test_documented_local_hook_works_as_written(user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    _run_documented(repo, env, _documented_configs()["local"])


@pytest.mark.network
def test_documented_clone_hook_works_as_written(user_repo: tuple[Path, dict[str, str]]) -> None:
    # The committed HEAD of this checkout, built by pre-commit as a user's clone would be.
    repo, env = user_repo
    _run_documented(repo, env, _documented_configs()[CLONE])


def test_documented_local_hook_honours_the_projects_exclude(user_repo: tuple[Path, dict[str, str]]) -> None:
    # pre-commit names each staged file; the hook's --force-exclude lets [tool.socklint]
    # exclude skip a vendored one, as `socklint check .` would, and still checks the others.
    repo, env = user_repo
    (repo / "pyproject.toml").write_text('[tool.socklint]\nexclude = ["vendor"]\n', encoding="utf-8")
    (repo / "vendor").mkdir()
    (repo / "vendor" / "third.py").write_text(NEVER_CLOSED, encoding="utf-8")
    _git("add", ".", cwd=repo, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    config = _documented_configs()["local"].replace(CLONE, str(ROOT)).replace(REV, head)
    (repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    env = {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}
    run = [sys.executable, "-m", "pre_commit", "run", "--files"]
    vendored = subprocess.run([*run, "vendor/third.py", "clean.py"], cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert vendored.returncode == 0 and "Passed" in vendored.stdout, vendored.stdout + vendored.stderr
    both = subprocess.run([*run, "vendor/third.py", "leak.py"], cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    out = both.stdout + both.stderr
    assert both.returncode == 1 and "leak.py:" in out and "third.py" not in out, out


def test_documented_local_hook_fails_only_on_findings_not_in_the_baseline(user_repo: tuple[Path, dict[str, str]]) -> None:
    # docs/adopting.md: `baseline = ...` in [tool.socklint] is what the hook (which takes no
    # --baseline of its own) reads. Lines inserted above a baselined finding keep it baselined;
    # a new finding in the same file fails the commit, and only it is reported.
    repo, env = user_repo
    (repo / "pyproject.toml").write_text('[tool.socklint]\nbaseline = ".socklint-baseline.json"\n', encoding="utf-8")
    wrote = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--no-cache", "--write-baseline", ".socklint-baseline.json"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert wrote.returncode == 0 and "wrote 1 finding to .socklint-baseline.json" in wrote.stderr, wrote.stderr
    _git("add", ".", cwd=repo, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    config = _documented_configs()["local"].replace(CLONE, str(ROOT)).replace(REV, head)
    (repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    env = {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}

    def hook(*files: str) -> tuple[int, str]:
        _git("add", ".", cwd=repo, env=env)
        run = subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--files", *files],
            cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False,
        )
        return run.returncode, run.stdout + run.stderr

    status, out = hook("leak.py", "clean.py")
    assert status == 0 and "Passed" in out, out
    (repo / "leak.py").write_text("import os\n\nPORT = 80\n\n" + NEVER_CLOSED, encoding="utf-8")
    status, out = hook("leak.py")
    assert status == 0 and "Passed" in out, out
    (repo / "leak.py").write_text(
        "import os\n\nPORT = 80\n\n" + NEVER_CLOSED + "\n\ndef dial(host):\n    conn = socket.socket()\n    conn.connect((host, PORT))\n",
        encoding="utf-8",
    )
    status, out = hook("leak.py")
    assert status == 1 and "Failed" in out, out
    assert "leak.py:15:12: SKL103" in out and "leak.py:9:" not in out, out
    assert "1 finding baselined, 0 baseline entries gone (fixed)" in out, out
