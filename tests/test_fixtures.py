"""Every fixture's inline markers are checked exactly, both ways."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from fixture_markers import parse

from socklint.api import check_module, check_source
from socklint.project import PackageReleases, converge, outermost_package, project_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))


def _annotate(path: Path, expected: Counter[tuple[int, str]], actual: Counter[tuple[int, str]]) -> str:
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        exp = sorted(c for (ln, c) in expected if ln == i)
        act = sorted(c for (ln, c) in actual if ln == i)
        flag = "  " if exp == act else "!!"
        out.append(f"{flag}{i:4} {line}    [expected {','.join(exp) or '-'} | got {','.join(act) or '-'}]" if exp or act else f"  {i:4} {line}")
    return "\n".join(out)


_PROJECTS: dict[str, dict[str, list]] = {}


def _project_diagnostics(package: str, path: Path, exp_settings: object) -> list:
    """A fixture inside a package (`fixtures/project/netpkg/`) is checked as part of its
    project: every module of the package is indexed, as the CLI does."""
    if package not in _PROJECTS:
        files = [project_file(str(p), p.read_bytes()) for p in sorted(Path(package).rglob("*.py"))]
        settings = parse(Path(files[0].path)).settings

        def work(batch: list) -> list:
            out = []
            for f, view in batch:
                diags, summary = check_module(f.path, f.data, settings, view=view)
                out.append((summary, diags))
            return out

        # Other modules of the package are asked about attributes, as the CLI does (SKL112).
        releases = PackageReleases(lambda pkg: [f.path for f in files], lambda p: Path(p).read_bytes())
        _PROJECTS[package] = {p: d for p, d in converge(files, work, releases=releases.released_in).results.items()}
    return _PROJECTS[package][str(path)]


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT / "fixtures")) for p in FIXTURES])
def test_fixture(path: Path) -> None:
    exp = parse(path)
    package = outermost_package(str(path))
    if package is not None:
        diags = _project_diagnostics(package, path, exp.settings)
    else:
        diags = check_source(str(path), path.read_bytes(), exp.settings, apply_noqa=True)
    actual = Counter((d.line, d.code) for d in diags)
    for key in exp.missing:
        assert key not in actual, f"{key} is marked expect-missing but is now reported: update the marker\n" + _annotate(path, exp.expected, actual)
    assert actual == exp.expected, "\n" + _annotate(path, exp.expected, actual)


def test_enough_fixtures() -> None:
    assert len(FIXTURES) >= 1
