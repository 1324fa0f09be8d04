"""``socklint check --fix / --diff / --unsafe-fixes``: the command line's side of
``socklint.fixes`` (which only computes text). Files are written atomically
(``fileio.atomic_write_bytes``), only regular files, and only when their bytes are still the
ones the fixes were computed from; the findings of a fixed file are computed again from its
new bytes (the result cache is keyed by content, so no entry of the old text can answer).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from socklint.config import Settings
from socklint.diagnostics import Diagnostic
from socklint.fixes import FileFix, files_with_fixable, fix_files, fixable_findings, unified_diff
from socklint.integrations.common import SettingsCache

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


@dataclass
class Outcome:
    diags: list[Diagnostic]  # the findings to report (those left after --fix)
    note: str  # "Fixed 3 findings in 2 files." for the report
    status: Optional[int] = None  # end the run now with this status (--diff, stdin)


def _reader(stdin: Optional[tuple[str, bytes]]) -> Callable[[str], Optional[bytes]]:
    def read(path: str) -> Optional[bytes]:
        if stdin is not None:
            return stdin[1] if path == stdin[0] else None
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    return read


def _settings_for(stdin: Optional[tuple[str, bytes]], settings: Settings, configs: SettingsCache) -> Callable[[str], Settings]:
    # Standard input is checked with the settings of --stdin-filename's folder, as `check` does.
    return (lambda _path: settings) if stdin is not None else configs.for_path


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('x') else 's'}"


def _summary(fixes: list[FileFix], verb: str) -> str:
    findings = sum(f.result.fixed_findings for f in fixes)
    unsafe = sum(1 for f in fixes for s in f.result.applied if not s.safe)
    extra = f" ({_plural(unsafe, 'unsafe fix')})" if unsafe else ""
    return f"{verb} {_plural(findings, 'finding')} in {_plural(len(fixes), 'file')}{extra}.\n"


def marked(diags: list[Diagnostic], stdin: Optional[tuple[str, bytes]], settings: Settings, configs: SettingsCache) -> dict[Diagnostic, bool]:
    """The findings a fix removes, with whether it is safe (for ``[*]`` in the text output)."""
    return fixable_findings(diags, _settings_for(stdin, settings, configs), _reader(stdin))


def fixable_line(fixable: dict[Diagnostic, bool], unsafe_shown: bool) -> str:
    safe = sum(1 for s in fixable.values() if s)
    unsafe = len(fixable) - safe
    if unsafe_shown:
        return f"[*] {safe + unsafe} fixable with `socklint check --fix --unsafe-fixes`.\n"
    hidden = f" ({unsafe} more with `--unsafe-fixes`)" if unsafe else ""
    if not safe:
        return f"No safe fixes; {_plural(unsafe, 'unsafe fix')} with `socklint check --fix --unsafe-fixes`.\n"
    return f"[*] {safe} fixable with `socklint check --fix`{hidden}.\n"


def apply(
    args: argparse.Namespace, diags: list[Diagnostic], stdin: Optional[tuple[str, bytes]], settings: Settings, configs: SettingsCache
) -> Outcome:
    settings_for = _settings_for(stdin, settings, configs)
    read = _reader(stdin)
    fixes = fix_files(files_with_fixable(diags), settings_for, read, unsafe=args.unsafe_fixes)
    if args.diff:
        from socklint.cli import write_stdout

        write_stdout("".join(unified_diff(f.path, f.result.original, f.result.text) for f in fixes))
        if not args.quiet:
            print(_summary(fixes, "Would fix").rstrip("\n"), file=sys.stderr)
        return Outcome(diags, "", EXIT_FINDINGS if fixes else EXIT_CLEAN)
    if stdin is not None:
        # As ruff does: the fixed source goes to stdout, in place of the report.
        out = fixes[0].new if fixes else stdin[1]
        sys.stdout.flush()
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
        if not args.quiet and fixes:
            print(_summary(fixes, "Fixed").rstrip("\n"), file=sys.stderr)
        from socklint.api import check_source

        left = check_source(stdin[0], out, settings)
        return Outcome(left, "", EXIT_FINDINGS if left and not args.exit_zero else EXIT_CLEAN)
    written: list[FileFix] = []
    for f in fixes:
        why = _write(f)
        if why is not None:
            print(f"socklint: warning: {f.path} not fixed: {why}", file=sys.stderr)
        else:
            written.append(f)
    if not written:
        return Outcome(diags, "")
    fixed = {f.path for f in written}
    kept = [d for d in diags if d.path not in fixed]
    again = _recheck(args, [f.path for f in written], configs)
    left = sorted(kept + again, key=Diagnostic.sort_key)
    return Outcome(left, _summary(written, "Fixed"))


def _write(f: FileFix) -> Optional[str]:
    """Write a fixed file atomically; why not, when it cannot be."""
    from socklint.fileio import atomic_write_bytes

    target = Path(os.path.realpath(f.path))  # a symlink stays; the file it points to is fixed
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if target.read_bytes() != f.old:
            return "it changed while socklint was checking it"
        if not os.access(target, os.W_OK):
            return "permission denied"
        atomic_write_bytes(target, f.new)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _recheck(args: argparse.Namespace, paths: list[str], configs: SettingsCache) -> list[Diagnostic]:
    """The findings of the fixed files, computed as `check` computes them (their project, the
    cache, which is keyed by content: the new bytes get a new entry)."""
    from socklint.api import iter_python_files
    from socklint.cache import Cache
    from socklint.runner import check_paths

    groups: dict[Settings, list[str]] = {}
    for p in paths:
        groups.setdefault(configs.for_path(p), []).append(p)
    out: list[Diagnostic] = []
    for group_settings, group in groups.items():
        cache = None if args.no_cache else Cache(args.cache_dir, group_settings, max_bytes=args.cache_max_size)
        project: list[str] = []
        if not args.no_project:
            from socklint.project import project_paths

            project = [
                p
                for p in project_paths(group, lambda where: iter_python_files(where, configs.for_folder))
                if configs.for_path(p) == group_settings
            ]
        out += check_paths(group, group_settings, jobs=args.jobs, cache=cache, project=project, index=not args.no_project)
    return out
