"""The library entry point: bytes and settings in, diagnostics out.

The CLI, the flake8 plugin and the language server only adapt :func:`check_source`.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from socklint.analysis.project import ModuleSummary, ModuleView, summarise_module
from socklint.codes import CODES
from socklint.config import Settings
from socklint.diagnostics import Diagnostic
from socklint.source import DecodeError, decode, may_contain_findings, split_lines
from socklint.suppress import is_suppressed

if TYPE_CHECKING:  # the scan imports libcst, which a file without socket code never needs
    from socklint.analysis.scan import ScanResult


def tool_diagnostic(path: str, code: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(path, line, column, line, column, code, message, CODES[code].severity)


def check_source(
    path: str,
    data: bytes,
    settings: Settings | None = None,
    *,
    apply_noqa: bool = True,
    check_syntax: bool = True,
    prefilter: bool = True,
    tree: ast.Module | None = None,
    view: ModuleView | None = None,
) -> list[Diagnostic]:
    """Analyse one file's bytes (see ``check_module``): its diagnostics."""
    return check_module(path, data, settings, apply_noqa=apply_noqa, check_syntax=check_syntax, prefilter=prefilter, tree=tree, view=view)[0]


def check_module(
    path: str,
    data: bytes,
    settings: Settings | None = None,
    *,
    apply_noqa: bool = True,
    check_syntax: bool = True,
    prefilter: bool = True,
    tree: ast.Module | None = None,
    view: ModuleView | None = None,
    scan_only: bool = False,
) -> tuple[list[Diagnostic], ModuleSummary | None]:
    """Analyse one file's bytes. Never raises for any input: failures become SKL00x/SKL900.

    A file whose bytes contain no trigger token cannot produce a socket finding; it is still
    decoded and parsed with ``ast`` (cheap) so that syntax errors are reported, unless
    ``check_syntax`` is false (the flake8 plugin: flake8 reports E999 itself).

    ``prefilter=False`` runs the deep analysis even when the text prefilter says the file
    cannot yield a finding: only the tests and the benchmark use it, to prove the prefilter
    drops nothing.

    ``tree``: the ``ast`` of exactly the text ``data`` decodes to, when the caller has one (the
    flake8 plugin gets flake8's); it saves parsing the file again.

    ``view``: what this module sees of the rest of its project through its imports
    (``socklint.project.ProjectIndex.view``); without one, the module is analysed alone.
    """
    settings = settings or Settings()
    text: str | None = None
    summary: list[ModuleSummary] = []

    def on_scan(tree: ast.Module | None, result: ScanResult | None) -> None:
        # A module's summary for the project index (only when the caller gave its name).
        if view is not None:
            made = summarise_module(tree, result, path, view)
            if made is not None:
                summary.append(made)

    try:
        # A user's `factories` rows are sources too: a file calling one is worth reading.
        user_factories = tuple(r.name for r in settings.models if r.kind in ("factories", "connection-handlers"))
        extra = settings.socket_factories + user_factories + (view.trigger_names() if view else ())
        deep = not prefilter or may_contain_findings(data, extra)
        if not deep and not check_syntax:
            return [], None
        try:
            text = decode(data)
        except DecodeError as exc:
            diags = [tool_diagnostic(path, "SKL002", f"cannot decode the file: {exc}")]
        else:
            from socklint.engine import analyze_text

            diags = analyze_text(path, text, settings, deep=deep, tree=tree, view=view, on_scan=on_scan, scan_only=scan_only)
    except RecursionError:
        diags = [tool_diagnostic(path, "SKL003", "analysis budget exceeded: the file nests too deeply to analyse")]
    except Exception as exc:  # noqa: BLE001 - the one boundary that turns a bug into a diagnostic
        what = f"{type(exc).__name__}: {exc}".splitlines()[0][:200] if str(exc) else type(exc).__name__
        diags = [
            tool_diagnostic(
                path,
                "SKL900",
                f"internal error while analysing this file ({what}); please report it with the file",
            )
        ]
    return finalize(path, diags, text, settings, apply_noqa=apply_noqa), (summary[0] if summary else None)


def finalize(
    path: str, diags: list[Diagnostic], text: str | None, settings: Settings, *, apply_noqa: bool
) -> list[Diagnostic]:
    out = [d for d in diags if settings.is_enabled(d.code, path)]
    if apply_noqa and out and text is not None:
        lines = split_lines(text)
        out = [
            d
            for d in out
            if not (0 < d.line <= len(lines) and is_suppressed(lines[d.line - 1], d.code))
        ]
    # Deterministic: one order, whatever the traversal did.
    return sorted(set(out), key=Diagnostic.sort_key)


def check_file(path: str | os.PathLike[str], settings: Settings | None = None) -> list[Diagnostic]:
    p = str(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        settings = settings or Settings()
        return finalize(p, [tool_diagnostic(p, "SKL002", f"cannot read the file: {exc.strerror or exc}")], None, settings, apply_noqa=False)
    return check_source(p, data, settings)


def iter_python_files(
    paths: Iterable[str],
    settings: Settings | Callable[[str], Settings],
    unreadable: list[tuple[str, str]] | None = None,
) -> Iterator[str]:
    """Files to check, in a deterministic order.

    ``settings``: one Settings for every file, or a function giving the settings that govern
    the files of a folder (``SettingsCache.for_folder``: the nearest configuration, its globs
    anchored at its own folder). A folder's entries are filtered by that folder's settings:
    ``exclude`` (with the default exclusions) and, unless ``respect-gitignore`` is off, what
    git ignores. A path named in ``paths`` is always taken (walked, or checked) unless its
    governing settings have ``force-exclude`` on: then the same filters apply to it and to its
    folders up to the configuration's (pre-commit names files one by one).

    A file reached twice (``check a.py a.py``, ``check src src/a.py``, a path through a
    symlinked folder) is yielded once, under the first spelling met: the same file resolves to
    the same real path. Folders that cannot be listed are appended to ``unreadable`` as
    ``(path, reason)``; the walk goes on with the rest. A bad pyproject.toml met on the way
    raises ConfigError.
    """
    from socklint.gitignore import GitIgnore

    settings_of: Callable[[str], Settings] = (lambda _folder: settings) if isinstance(settings, Settings) else settings
    git = GitIgnore()
    seen: set[str] = set()

    def first_time(*keys: str) -> bool:
        if any(k in seen for k in keys):
            return False
        seen.update(keys)
        return True

    def onerror(exc: OSError) -> None:
        if unreadable is not None:
            unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    def skipped(here: Settings, path: str, is_dir: bool, floor: str | None) -> bool:
        return here.is_excluded(path) or (here.respect_gitignore and git.ignored(path, is_dir, floor))

    def force_excluded(path: str, is_dir: bool) -> bool:
        here = settings_of(os.path.dirname(os.path.abspath(path)))
        if not here.force_exclude:
            return False
        if here.respect_gitignore and git.ignored_with_parents(path, is_dir):
            return True
        # The path and its folders, up to the configuration's own folder (or the working
        # directory): ``exclude = ["tests"]`` leaves out tests/unit/test_a.py named alone.
        full = os.path.abspath(path)
        stop = here.root or os.getcwd()
        while True:
            # Without a configuration, relative to the working directory, as a walk from it
            # would see the path: folders above it (~/build/...) are not the project's.
            if here.is_excluded(full if here.root is not None else os.path.relpath(full, stop)):
                return True
            parent = os.path.dirname(full)
            if parent == full or full == stop or not parent.startswith(stop):
                return False
            full = parent

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if force_excluded(raw, True):
                continue
            # A named folder that git ignores as a whole (a virtualenv's site-packages inside
            # a work tree) is walked all the same, by the ignore files inside it only.
            floor = os.path.abspath(raw) if git.ignored_with_parents(raw, True) else None
            for root, dirs, files in os.walk(p, onerror=onerror):
                here = settings_of(root)
                dirs[:] = sorted(d for d in dirs if not skipped(here, os.path.join(root, d), True, floor))
                # One realpath per folder, not per file: os.walk does not follow symlinked
                # folders, so a file's real path is its folder's plus its name (a symlinked
                # file is checked under its own name, as a distinct entry).
                real_root = os.path.realpath(root)
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if (
                        name.endswith((".py", ".pyi"))
                        and not skipped(here, full, False, floor)
                        and first_time(os.path.join(real_root, name))
                    ):
                        yield full
        # A file named on the command line: its own real path (a symlink to a file is that
        # file), and the key a walk would give it (its folder's real path and its name).
        elif not force_excluded(raw, False) and first_time(os.path.realpath(p), os.path.join(os.path.realpath(p.parent), p.name)):
            yield str(p)
