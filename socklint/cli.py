"""The ``socklint`` command. It only adapts the library: parse flags, load settings, format.

Exit status: 0 no findings; 1 findings; 2 usage or configuration error; 3 socklint itself
failed on at least one file (an SKL900 internal error), whatever else was found; 130
interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from socklint import __version__
from socklint.api import check_source, iter_python_files
from socklint.cache import DEFAULT_CACHE_DIR, DEFAULT_MAX_BYTES
from socklint.codes import CODES, TOOL_CODES
from socklint.config import ConfigError, Settings, load_settings, settings_as_dict
from socklint.diagnostics import Diagnostic
from socklint.integrations.common import SettingsCache
from socklint.reporting import FORMATTERS, TEXT_FORMATS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _size(value: str) -> int | None:
    """A size like 64M, 500K, 2G or a number of bytes; 0 means no bound (None)."""
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _SIZE_UNITS else ""
    try:
        n = float(text[: len(text) - len(unit)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 64M, 1G or 0 (no bound), got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a size such as 64M, 1G or 0 (no bound), got {value!r}")
    return int(n * _SIZE_UNITS[unit]) or None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="socklint",
        description="Find socket lifecycle bugs: leaks on error paths, risky SO_LINGER / "
        "SO_REUSEADDR, missing shutdown. Reads code, never runs it.",
        epilog="Exit status: 0 clean, 1 findings, 2 usage or configuration error, "
        "3 internal error on some file. Docs: socklint rule CODE.",
    )
    p.add_argument("--version", action="version", version=f"socklint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="check files and folders", description="Check Python files for socket lifecycle bugs.")
    c.add_argument("paths", nargs="*", default=None, help="files or folders (default: .); - reads stdin")
    c.add_argument("--select", type=_csv, help="codes or prefixes to report (e.g. SKL1,SKL201); replaces the configured list")
    c.add_argument("--extend-select", type=_csv, default=[], help="codes or prefixes to add to the selection (opt-in rules)")
    c.add_argument("--ignore", type=_csv, default=[], help="codes or prefixes not to report")
    c.add_argument("--exclude", type=_csv, default=[], help="glob patterns of paths to skip")
    c.add_argument(
        "--output-format", "--format", dest="format", choices=sorted(FORMATTERS), default="text", metavar="FORMAT",
        help="text (default: finding, source line, trace), concise (one line per finding), "
        "json (docs/json-output.md), sarif (code scanning), github (Actions annotations)",
    )
    c.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    c.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the text formats: auto (default) colours a terminal unless NO_COLOR is set "
        "(FORCE_COLOR colours anything)",
    )
    c.add_argument("--quiet", "-q", action="store_true", help="print the findings only: no summary line, no warnings, no progress")
    c.add_argument("--statistics", action="store_true", help="print how many findings each code has instead of the findings (text, concise, json)")
    c.add_argument("--count", action="store_true", help="print the number of findings on the last line, in place of the summary (text, concise)")
    c.add_argument("--show-files", action="store_true", help="print the files that would be checked and exit")
    c.add_argument("--stdin-filename", metavar="PATH", help="read the source from stdin and report it as PATH (implies -)")
    c.add_argument(
        "--config", metavar="PYPROJECT",
        help="use this pyproject.toml for every file (its globs anchored at the working directory) "
        "instead of the nearest one above each file",
    )
    c.add_argument(
        "--no-respect-gitignore", action="store_true",
        help="also check files git ignores (.gitignore, .git/info/exclude), which folder walks skip by default",
    )
    c.add_argument(
        "--force-exclude", action="store_true",
        help="apply exclude and .gitignore to paths named on the command line too (for pre-commit, which names files)",
    )
    c.add_argument("--show-settings", action="store_true", help="print the effective settings and exit")
    c.add_argument("--no-source", action="store_true", help="text format: do not print the offending source line")
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    _add_adoption_arguments(c)
    c.add_argument("--fix", action="store_true", help="rewrite the files to close leaked sockets, with the safe fixes (docs/fixes.md); report what is left")
    c.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff, apply the unsafe fixes too; alone, mark them [*] as well")
    c.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and write nothing (exit 1 when there is a diff)")
    c.add_argument(
        "--show-fixable",
        action="store_true",
        help="text formats: mark [*] the findings --fix removes (each fix is verified: a second analysis of every file with a leak)",
    )
    c.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N", help="processes to use (default and upper bound: the number of CPUs this process may use)")
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    c.add_argument(
        "--no-project",
        action="store_true",
        help="analyse each file alone: do not index the other modules of its package (see docs/design/project-index.md)",
    )
    c.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, metavar="DIR", help=f"where to keep the result cache (default: {DEFAULT_CACHE_DIR} in the current folder)")
    c.add_argument(
        "--cache-max-size",
        type=_size,
        default=DEFAULT_MAX_BYTES,
        metavar="SIZE",
        help=f"bound on the cache folder's disk usage, least recently used entries evicted first (default: {DEFAULT_MAX_BYTES // 1024**2}M; 0: no bound)",
    )

    cl = sub.add_parser(
        "clean",
        help="delete the result cache",
        description="Delete the result cache folder, and only what socklint wrote into it. A folder "
        "without socklint's CACHEDIR.TAG is left alone (exit 2).",
    )
    cl.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, metavar="DIR", help=f"the cache folder (default: {DEFAULT_CACHE_DIR} in the current folder)")

    r = sub.add_parser("rule", help="print the documentation of a rule")
    r.add_argument("code", help="a code (SKL101) or name (socket-leak-on-early-exit)")
    rs = sub.add_parser("rules", help="list every rule")
    rs.add_argument(
        "--output-format", "--format", dest="format", choices=("text", "json"), default="text", metavar="FORMAT",
        help="text (default) or json: code, name, summary, severity, default_enabled, status, docs_url",
    )
    h = sub.add_parser(
        "heuristics",
        help="list the named heuristics and whether they apply here",
        description="List every named heuristic: id, default, effective state under the "
        "[tool.socklint.heuristics] table of the pyproject.toml found from PATH, and what it guesses.",
    )
    h.add_argument("path", nargs="?", default=".", help="where to look for pyproject.toml (default: .)")
    h.add_argument("--config", metavar="PYPROJECT", help="use this pyproject.toml instead of searching upwards")
    sub.add_parser("lsp", help="start the language server on stdio (needs the 'lsp' extra)")
    return p


def _settings_for(args: argparse.Namespace) -> tuple[SettingsCache, Settings, Path | None]:
    """The configurations of the run, and the settings and pyproject.toml of its first path.

    Every file is governed by the nearest pyproject.toml with a [tool.socklint] table above it
    (ruff's rule), its ``exclude`` and ``per-file-ignores`` globs anchored at that file's
    folder; ``--config`` names one file for all, its globs anchored at the working directory.
    Stdin is governed from --stdin-filename's folder.

    Precedence: flags > [tool.socklint] > defaults, applied over each configuration.
    --select starts the selection over: the file's select, extend-select and ignore are dropped
    (as in ruff), so the command line gets exactly the codes it names (minus its own --ignore);
    per-file-ignores still apply. Without --select, the lists extend the file's.
    """
    from socklint.config import validate_codes

    for option, values in (("--select", args.select), ("--extend-select", args.extend_select), ("--ignore", args.ignore)):
        validate_codes(option, tuple(values or ()))

    def adjust(settings: Settings) -> Settings:
        overrides: dict[str, object] = {}
        if args.select is not None:
            overrides["select"] = tuple(args.select)
            overrides["extend_select"] = tuple(args.extend_select)
            overrides["ignore"] = tuple(args.ignore)
        else:
            if args.extend_select:
                overrides["extend_select"] = settings.extend_select + tuple(args.extend_select)
            if args.ignore:
                overrides["ignore"] = settings.ignore + tuple(args.ignore)
        if args.exclude:
            overrides["exclude"] = settings.exclude + tuple(args.exclude)
        if args.no_respect_gitignore:
            overrides["respect_gitignore"] = False
        if args.force_exclude:
            overrides["force_exclude"] = True
        return dataclasses.replace(settings, **overrides) if overrides else settings  # type: ignore[arg-type]

    if args.config:
        from socklint.config import read_config_file

        read_config_file(Path(args.config))  # a missing or bad file is an error even with no files
    configs = SettingsCache(Path(args.config).absolute() if args.config else None, adjust)
    first = args.paths[0]
    start = Path(args.stdin_filename or "<stdin>").parent if first == "-" else Path(first)
    if not start.exists():
        start = Path(".")
    folder = str(start) if start.is_dir() else os.path.dirname(os.path.abspath(start))
    return configs, configs.for_folder(folder), configs.config_for_folder(folder)


def _usage_conflict(args: argparse.Namespace) -> str | None:
    """Flags that cannot apply to the chosen format, worded for the user."""
    if args.count and args.format not in TEXT_FORMATS:
        return f"--count prints a line of text; it does not combine with --output-format {args.format}"
    if args.statistics and args.format not in (*TEXT_FORMATS, "json"):
        return f"--statistics is printed as text or json; it does not combine with --output-format {args.format}"
    return None


def _report(
    args: argparse.Namespace, diags: list[Diagnostic], sources: dict[str, str], checked: int, fixable: dict[Diagnostic, bool] | None = None
) -> str:
    """The whole report: findings (or statistics), then, on the text formats, the count or the
    summary line. Colour only on the text formats, and only when ``--color`` allows it.
    ``fixable``: findings a fix removes (marked ``[*]``), with whether that fix is safe."""
    from socklint import reporting

    text = args.format in TEXT_FORMATS
    color = text and reporting.use_color(args.color, None if args.output else sys.stdout)
    if args.statistics:
        if args.format == "json":
            return reporting.format_statistics_json(diags)
        body = reporting.format_statistics(diags, color=color)
    elif args.format in TEXT_FORMATS:
        # Marked: what `--fix` would remove (and, with --unsafe-fixes, the unsafe ones too).
        marked = {d for d, safe in (fixable or {}).items() if safe or args.unsafe_fixes}
        if args.format == "text":
            body = reporting.format_text(diags, sources, show_source=not args.no_source, color=color, fixable=marked)
        else:
            body = reporting.format_concise(diags, color=color, fixable=marked)
    else:
        return FORMATTERS[args.format](diags, sources)
    if args.count:
        return body + f"{len(diags)}\n"
    if args.quiet:
        return body
    hint = ""
    if fixable:
        from socklint.fixcli import fixable_line

        hint = fixable_line(fixable, args.unsafe_fixes)
    return body + reporting.summary_line(diags, checked, color=color) + hint


def _read_sources(paths: list[str], diags: list[Diagnostic], stdin: tuple[str, bytes] | None) -> dict[str, str]:
    """The text of every file with a finding, for the source lines of ``text`` and the
    function names in SARIF fingerprints. Decoration only: an unreadable file gets ""."""
    from socklint.source import decode

    known = set(paths)
    sources: dict[str, str] = {}
    for d in diags:
        if d.path in sources:
            continue
        try:
            if stdin is not None and d.path == stdin[0]:
                sources[d.path] = decode(stdin[1])
            else:
                sources[d.path] = decode(Path(d.path).read_bytes()) if d.path in known else ""
        except Exception:  # noqa: BLE001 - source lines are decoration only
            sources[d.path] = ""
    return sources


def _group_by_settings(paths: list[str], configs: SettingsCache) -> list[tuple[Settings, list[str]]]:
    """``paths`` split by the settings that govern them, in order of first appearance."""
    groups: dict[Settings, list[str]] = {}
    for path in paths:
        groups.setdefault(configs.for_path(path), []).append(path)
    return list(groups.items())


def _shifted(update: Callable[[int], None], before: int) -> Callable[[int], None]:
    """A group's progress as the whole run's: the files of the groups before it are done."""
    return lambda done: update(before + done)


def _cmd_check(args: argparse.Namespace) -> int:
    conflict = _usage_conflict(args)
    if conflict:
        print(f"socklint: error: {conflict}", file=sys.stderr)
        return EXIT_USAGE
    if args.stdin_filename is not None:
        # As ruff does: --stdin-filename means the source comes from stdin, with or without -.
        for ignored in [p for p in args.paths or () if p != "-"]:
            print(f"socklint: warning: ignoring {ignored}: --stdin-filename reads standard input", file=sys.stderr)
        args.paths = ["-"]
    elif not args.paths:
        args.paths = ["."]
    try:
        configs, settings, config_file = _settings_for(args)
    except ConfigError as exc:
        print(f"socklint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.show_settings and (unusable := _adoption_unusable(args, settings)) is not None:
        return unusable
    if args.show_settings:
        shown = {
            "config-file": str(config_file) if config_file else None,
            "config-root": settings.root,
            **settings_as_dict(settings),
        }
        print(json.dumps(shown, indent=2, sort_keys=True))
        return EXIT_CLEAN
    diags: list[Diagnostic] = []
    stdin: tuple[str, bytes] | None = None
    if args.paths == ["-"]:
        if args.show_files:
            write_stdout((args.stdin_filename or "<stdin>") + "\n")
            return EXIT_CLEAN
        data = sys.stdin.buffer.read()
        stdin = (args.stdin_filename or "<stdin>", data)
        diags = check_source(args.stdin_filename or "<stdin>", data, settings)
        paths: list[str] = []
        checked = 1
    else:
        # lexists: a dangling symlink or a symlink loop is a file socklint cannot read (SKL002),
        # not a missing argument.
        missing = [p for p in args.paths if not os.path.lexists(p)]
        if missing:
            print(f"socklint: error: no such file or directory: {missing[0]}", file=sys.stderr)
            return EXIT_USAGE
        unreadable: list[tuple[str, str]] = []
        try:
            paths = list(iter_python_files(args.paths, configs.for_folder, unreadable))
            groups = _group_by_settings(paths, configs)
        except ConfigError as exc:  # a bad pyproject.toml in a folder below the first
            print(f"socklint: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if args.show_files:
            write_stdout("".join(p + "\n" for p in paths))
            return EXIT_CLEAN
        if not paths and not unreadable and not args.quiet:
            print(f"socklint: warning: no Python files found under {' '.join(args.paths)}", file=sys.stderr)
        checked = len(paths)
        # Folders given on the command line were listed whole: their packages' modules are all
        # among ``paths`` already (the project index need not list them again).
        walked = [p for p in args.paths if p != "-" and os.path.isdir(p)]
        from socklint.api import finalize, tool_diagnostic
        from socklint.cache import Cache
        from socklint.reporting import Progress
        from socklint.runner import check_paths

        # Progress only on a terminal: a CI log or a pipe would keep every redraw.
        progress = Progress(sys.stderr, len(paths)) if not args.quiet and sys.stderr.isatty() else None
        cache = None
        done_before = 0
        try:
            # One run per configuration: each file with its own settings, and the project index
            # of each kept within its configuration (another pyproject.toml is another project).
            for group_settings, group in groups:
                cache = None if args.no_cache else Cache(args.cache_dir, group_settings, max_bytes=args.cache_max_size)
                project: list[str] = []
                if not args.no_project:
                    from socklint.project import project_paths

                    project = [
                        f
                        for f in project_paths(
                            group, lambda where: iter_python_files(where, configs.for_folder), walked=walked
                        )
                        if configs.for_path(f) == group_settings
                    ]
                diags += check_paths(
                    group, group_settings, jobs=args.jobs, cache=cache, project=project, index=not args.no_project,
                    progress=_shifted(progress.update, done_before) if progress else None,
                )
                done_before += len(group)
        finally:
            if progress is not None:
                progress.close()
        if cache is not None:
            cache.prune()  # one bound over the whole folder, whichever configuration wrote
        for folder, reason in unreadable:
            # A folder socklint could not list hides files it should have checked: an SKL002
            # like an unreadable file, so the run cannot pass silently.
            message = f"cannot read the folder: {reason}; the files in it were not checked"
            diags += finalize(folder, [tool_diagnostic(folder, "SKL002", message)], None, configs.for_path(folder), apply_noqa=False)
    diags.sort(key=Diagnostic.sort_key)
    fixed_note = ""
    if args.fix or args.diff:
        from socklint import fixcli

        outcome = fixcli.apply(args, diags, stdin, settings, configs)
        if outcome.status is not None:
            return outcome.status
        diags, fixed_note = outcome.diags, outcome.note
    adopted = _adopt(args, diags, paths, stdin, configs, settings)
    if isinstance(adopted, int):
        return adopted
    diags, sources, baseline_note = adopted
    if sources is None:
        sources = _read_sources(paths, diags, stdin) if args.format in ("text", "sarif") else {}
    fixable = None
    if args.format in TEXT_FORMATS and not args.statistics and (args.show_fixable or args.unsafe_fixes):
        # Verified marks cost a second analysis of every file with a leak finding (three times
        # a cold run on the standard library), so they are asked for.
        from socklint import fixcli

        fixable = fixcli.marked(diags, stdin, settings, configs)
    report = _report(args, diags, sources, checked, fixable)
    if fixed_note and not args.quiet:
        report += fixed_note
    if baseline_note and not args.quiet:
        if args.format in TEXT_FORMATS and not args.count:
            report += baseline_note + "\n"  # beside the summary line it qualifies
        else:
            print(f"socklint: {baseline_note}", file=sys.stderr)  # stdout is a document
    if any(d.code == "SKL900" for d in diags):
        status = EXIT_INTERNAL
    elif diags and not args.exit_zero:
        status = EXIT_FINDINGS
    else:
        status = EXIT_CLEAN
    if args.output:
        from socklint.fileio import write_output

        try:
            write_output(Path(args.output), report)
        except OSError as exc:
            print(f"socklint: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        write_stdout(report)
    return status


def _add_adoption_arguments(c: argparse.ArgumentParser) -> None:
    """Flags for adopting socklint on existing code (docs/adopting.md)."""
    c.add_argument(
        "--baseline", metavar="FILE",
        help="report (and fail on) only the findings FILE does not record; overrides `baseline` in "
        "[tool.socklint]. A missing or broken FILE is exit status 2",
    )
    c.add_argument(
        "--write-baseline", metavar="FILE",
        help="record every current finding in FILE (a baseline for --baseline), then report what "
        "it cannot hold (files that were not analysed)",
    )
    c.add_argument(
        "--add-noqa", action="store_true",
        help="add a `# noqa: CODE` comment on the line of every current finding (merged into an "
        "existing noqa or socklint: ignore comment), and print how many",
    )


def _adoption_unusable(args: argparse.Namespace, settings: Settings) -> int | None:
    """Exit status 2, before any file is checked, for adoption flags that cannot work together
    and for a baseline file (the command line's, or the first path's configured one) that
    cannot be read. Baselines configured further down are read after the run."""
    from socklint import baseline as bl

    problem = None
    if args.write_baseline and args.baseline:
        problem = "--write-baseline writes a new baseline; it does not combine with --baseline"
    elif args.add_noqa and args.write_baseline:
        problem = "--add-noqa and --write-baseline are two ways to accept the findings; choose one"
    elif args.add_noqa and args.paths == ["-"]:
        problem = "--add-noqa rewrites files; it cannot take standard input"
    file: str | None = args.baseline or settings.baseline
    if problem is None and not args.write_baseline and file:
        try:
            bl.load(file)
        except bl.BaselineError as exc:
            problem = str(exc)
    if problem is None:
        return None
    print(f"socklint: error: {problem}", file=sys.stderr)
    return EXIT_USAGE


def _adopt(
    args: argparse.Namespace,
    diags: list[Diagnostic],
    paths: list[str],
    stdin: tuple[str, bytes] | None,
    configs: SettingsCache,
    settings: Settings,
) -> int | tuple[list[Diagnostic], dict[str, str] | None, str | None]:
    """Baseline and --add-noqa over a run's sorted findings: the findings left to report, the
    files' texts when they had to be read (None otherwise), and the baseline's line for the
    report. An exit status instead when a baseline cannot be read or written."""
    from socklint import baseline as bl

    by_folder: dict[str, Settings] = {}

    def settings_of(path: str) -> Settings:
        # One lookup per folder: a run without any baseline asks for every checked file.
        if stdin is not None:
            return settings
        folder = os.path.dirname(path)
        if folder not in by_folder:
            by_folder[folder] = configs.for_path(path)
        return by_folder[folder]

    checked = [stdin[0]] if stdin is not None else paths
    loaded: dict[str, bl.Baseline] = {}

    def baseline_of(path: str) -> bl.Baseline | None:
        file = args.baseline or settings_of(path).baseline
        if file is None:
            return None
        if file not in loaded:
            loaded[file] = bl.load(file)
        return loaded[file]

    sources: dict[str, str] | None = None
    note: str | None = None
    if args.write_baseline:
        sources = _read_sources(paths, diags, stdin)
        found = bl.entries(diags, sources, os.path.dirname(os.path.abspath(args.write_baseline)))
        try:
            bl.write(Path(args.write_baseline), found)
        except OSError as exc:
            print(f"socklint: error: cannot write {args.write_baseline}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        if not args.quiet:
            print(f"socklint: wrote {len(found)} finding{'' if len(found) == 1 else 's'} to {args.write_baseline}", file=sys.stderr)
        diags = [d for d in diags if d.code in TOOL_CODES]  # all the baseline cannot hold
    else:
        try:
            if args.baseline or any(settings_of(p).baseline for p in checked):
                sources = _read_sources(paths, diags, stdin)
                outcome = bl.apply(diags, sources, checked, baseline_of, lambda code, p: settings_of(p).is_enabled(code, p))
                diags = outcome.kept
                note = (
                    f"{outcome.baselined} finding{'' if outcome.baselined == 1 else 's'} baselined, "
                    f"{outcome.gone} baseline entr{'y' if outcome.gone == 1 else 'ies'} gone (fixed)"
                )
                if outcome.gone:
                    note += "; write the baseline again (--write-baseline) to drop them"
        except bl.BaselineError as exc:
            print(f"socklint: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.add_noqa:
        from socklint.addnoqa import add_noqa

        done = add_noqa(diags)
        if not args.quiet:
            for warning in done.warnings:
                print(f"socklint: warning: {warning}", file=sys.stderr)
            comments = "comment" if done.added == 1 else "comments"
            print(f"socklint: added {done.added} noqa {comments} to {done.files} file{'' if done.files == 1 else 's'}", file=sys.stderr)
        diags = done.left
    return diags, sources, note


def write_stdout(text: str) -> None:
    """Write to stdout whatever its encoding: file names that are not valid UTF-8 arrive as lone
    surrogates (os.fsdecode) and go out as their original bytes; a reader that went away
    (``socklint check | head``) ends the output quietly."""
    buffer = getattr(sys.stdout, "buffer", None)
    try:
        if buffer is None:  # replaced by a text-only stream (tests, IDEs)
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        encoding = sys.stdout.encoding or "utf-8"
        try:
            data = text.encode(encoding, "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode(encoding, "backslashreplace")
        sys.stdout.flush()
        buffer.write(data)
        buffer.flush()
    except BrokenPipeError:
        # Python would print a second BrokenPipeError when it flushes stdout at exit: point
        # stdout at /dev/null so that flush has nowhere to fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _cmd_clean(args: argparse.Namespace) -> int:
    from socklint.cache import NotACache, clean

    try:
        done = clean(args.cache_dir)
    except NotACache as exc:
        print(f"socklint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"socklint: error: cannot clean {args.cache_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if done.removed_files == 0 and not done.removed_folder and not done.kept:
        print(f"socklint: no cache at {args.cache_dir}")
        return EXIT_CLEAN
    mib = done.removed_bytes / 1024**2
    files = "file" if done.removed_files == 1 else "files"
    print(f"socklint: removed {done.removed_files} {files} ({mib:.1f} MiB) from {args.cache_dir}")
    if done.kept:
        listed = ", ".join(done.kept[:5]) + (", ..." if len(done.kept) > 5 else "")
        print(f"socklint: kept {len(done.kept)} files socklint did not write: {listed}", file=sys.stderr)
    return EXIT_CLEAN


def _cmd_rule(code: str) -> int:
    from socklint.codes import resolve
    from socklint.docs import rule_doc

    c = resolve(code)
    if c not in CODES:
        print(f"socklint: error: unknown rule {code!r}", file=sys.stderr)
        return EXIT_USAGE
    write_stdout(rule_doc(c))
    return EXIT_CLEAN


def _cmd_rules(fmt: str) -> int:
    if fmt == "json":
        rows = [
            {
                "code": c.code,
                "name": c.name,
                "summary": c.summary,
                "severity": c.severity.value,
                "default_enabled": c.default_enabled,
                "status": c.status,
                "docs_url": c.docs_url,
            }
            for c in CODES.values()
        ]
        write_stdout(json.dumps(rows, indent=2) + "\n")
        return EXIT_CLEAN
    lines = []
    for c in CODES.values():
        state = "on " if c.default_enabled else "off"
        lines.append(f"{c.code}  {state}  {c.severity.value:<7}  {c.name:<36}  {c.summary}\n")
    write_stdout("".join(lines))
    return EXIT_CLEAN


def _cmd_heuristics(args: argparse.Namespace) -> int:
    from socklint.config import read_config_file
    from socklint.heuristics import HEURISTICS, enabled

    try:
        if args.config:
            settings = read_config_file(Path(args.config))
        else:
            start = Path(args.path)
            settings, _ = load_settings(start if start.exists() else Path("."))
    except ConfigError as exc:
        print(f"socklint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    width = max(len(hid) for hid in HEURISTICS)
    lines = [f"{'id':<{width}}  default  effective  what it guesses"]
    for hid in sorted(HEURISTICS):
        h = HEURISTICS[hid]
        default = "on" if h.default else "off"
        state = "on" if enabled(settings, hid) else "off"
        lines.append(f"{hid:<{width}}  {default:<7}  {state:<9}  {h.summary}")
    write_stdout("\n".join(lines) + "\n")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C: stop quietly. Whatever was being written is whole or absent (atomic writes);
        # the pool's workers were stopped where the interrupt caught the parent (runner.py).
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not traceback here
        print("socklint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    if args.command == "check":
        return _cmd_check(args)
    if args.command == "clean":
        return _cmd_clean(args)
    if args.command == "rule":
        return _cmd_rule(args.code)
    if args.command == "rules":
        return _cmd_rules(args.format)
    if args.command == "heuristics":
        return _cmd_heuristics(args)
    if args.command == "lsp":
        try:
            from socklint.integrations.lsp import serve
        except ImportError as exc:
            # pygls is the whole 'lsp' extra; naming it works whichever way socklint was installed.
            print(f"socklint: error: the language server needs pygls (socklint's 'lsp' extra): pip install 'pygls>=2.0' ({exc})", file=sys.stderr)
            return EXIT_USAGE
        serve()
        return EXIT_CLEAN
    parser.print_help()
    return EXIT_USAGE
