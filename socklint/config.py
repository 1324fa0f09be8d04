"""Settings: defaults, ``[tool.socklint]`` in pyproject.toml, and code selection.

Precedence: command-line flags > ``[tool.socklint]`` > defaults. Every key is validated, so no
option is ever documented but silently ignored.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional

from socklint.codes import CODES, resolve
from socklint.heuristics import HEURISTICS
from socklint.models import ModelError, Row, parse_user_models, rows_as_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


class ConfigError(Exception):
    """A configuration problem the user must fix (exit status 2)."""


DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    ".socklint_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("SKL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Teach the engine a project's own socket API (dotted or bare names).
    socket_factories: tuple[str, ...] = ()
    closers: tuple[str, ...] = ()
    ownership_sinks: tuple[str, ...] = ()
    borrowers: tuple[str, ...] = ()
    # "socket-calls": SKL102 only for calls that touch the socket; "any-call" also reports SKL106
    # (read by is_enabled: SKL106 then counts as a default code).
    exception_sources: str = "socket-calls"
    target_windows: bool = False
    max_function_steps: int = 200_000
    # Named heuristics switched away from their default: (id, on), sorted by id. A tuple, so
    # that Settings stays hashable and its repr (the cache key) is deterministic.
    heuristics: tuple[tuple[str, bool], ...] = ()
    # [tool.socklint.models]: the user's model rows (docs/models.md), validated and hashable.
    models: tuple[Row, ...] = ()
    # Files ignored by git (.gitignore, .git/info/exclude) are skipped when walking folders.
    respect_gitignore: bool = True
    # Apply exclude (and .gitignore) to files named explicitly too (pre-commit names them).
    force_exclude: bool = False
    # The folder ``exclude`` and ``per-file-ignores`` globs are anchored at: the folder of the
    # pyproject.toml they came from (None: paths are matched as given, relative to the working
    # directory). Part of the cache key: the same path can match differently from elsewhere.
    root: Optional[str] = None
    # The baseline file (docs/adopting.md), absolute when it came from a pyproject.toml (written
    # relative to that file's folder). Only the command line reads it; it changes no finding,
    # so it is left out of the repr that keys the result cache.
    baseline: Optional[str] = field(default=None, repr=False)

    def cache_key(self) -> str:
        return repr(self)

    def is_enabled(self, code: str, path: str | None = None) -> bool:
        entry = CODES.get(code)
        if entry is None:
            return False
        selectors = self.select + self.extend_select
        sel = _longest_match(code, selectors)
        ign = _longest_match(code, self.ignore + self._file_ignores(path))
        if sel < 0 or ign >= sel:
            return False
        if not entry.default_enabled:
            # Opt-in codes need an explicit choice: the full code, or a setting that turns them
            # on like a default code (SKL213 via target-windows; SKL106, leaks through calls
            # that do not touch the socket, via exception-sources = "any-call").
            if code == "SKL213" and self.target_windows:
                return True
            if code == "SKL106" and self.exception_sources == "any-call":
                return True
            return any(resolve(s) == code or s.upper() == "ALL" for s in selectors)
        return True

    def _file_ignores(self, path: str | None) -> tuple[str, ...]:
        if path is None or not self.per_file_ignores:
            return ()
        norm = self.anchored(path)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if _path_matches(norm, pattern):
                out.extend(codes)
        return tuple(out)

    def anchored(self, path: str) -> str:
        """``path`` as the globs see it: relative to ``root``, with ``/`` separators. A file
        outside the root keeps its absolute path, so no folder above the project (``~/build``)
        is taken for one of the project's own."""
        if self.root is not None:
            full = os.path.normpath(os.path.join(os.getcwd(), path))
            try:
                rel = os.path.relpath(full, self.root)
            except ValueError:  # another drive on Windows
                rel = full
            path = full if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel
        return path.replace(os.sep, "/")

    def is_excluded(self, path: str) -> bool:
        norm = self.anchored(path)
        return _path_matches(norm, DEFAULT_EXCLUDE + self.exclude)


def _path_matches(norm_path: str, patterns: str | tuple[str, ...]) -> bool:
    """``fnmatch`` of the whole path, of any trailing part of it, or of one of its folder or
    file names, against any of ``patterns``; they are compiled once, into one expression
    (discovery matches every path of a tree against every exclude pattern)."""
    whole, nested = _matchers((patterns,) if isinstance(patterns, str) else patterns)
    path = os.path.normcase(norm_path)
    return bool(whole(path) or nested(path) or any(whole(part) for part in path.split("/")))


@functools.lru_cache(maxsize=512)
def _matchers(patterns: tuple[str, ...]) -> tuple[Callable[[str], object], Callable[[str], object]]:
    pats = [os.path.normcase(p) for p in patterns]
    whole = "|".join(f"(?:{fnmatch.translate(p)})" for p in pats)
    nested = "|".join(f"(?:{fnmatch.translate('*/' + p)})" for p in pats)
    return re.compile(whole).match, re.compile(nested).match


def _longest_match(code: str, selectors: tuple[str, ...]) -> int:
    best = -1
    for raw in selectors:
        s = resolve(raw)
        if s == "ALL":
            best = max(best, 0)
        elif code.startswith(s):
            best = max(best, len(s))
    return best


_LIST_KEYS = {
    "select": "select",
    "extend-select": "extend_select",
    "ignore": "ignore",
    "exclude": "exclude",
    "socket-factories": "socket_factories",
    "closers": "closers",
    "ownership-sinks": "ownership_sinks",
    "borrowers": "borrowers",
}


def _validate_codes(key: str, values: tuple[str, ...], where: str = "") -> None:
    for v in values:
        r = resolve(v)
        if r == "ALL":
            continue
        if not r or not any(c.startswith(r) for c in CODES):
            raise ConfigError(f"{key}{where}: {v!r} matches no socklint code (codes look like SKL101)")


def settings_from_mapping(table: Mapping[str, Any], base: Settings | None = None, source: str = "") -> Settings:
    """Validate a ``[tool.socklint]`` table and apply it over ``base``."""
    where = f" in {source}" if source else ""
    s = base or Settings()
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"[tool.socklint] {key}{where}: expected a list of strings")
            changes[_LIST_KEYS[key]] = tuple(value)
            if key in ("select", "extend-select", "ignore"):
                _validate_codes(f"[tool.socklint] {key}", tuple(value), where)
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
                for k, v in value.items()
            ):
                raise ConfigError(
                    f"[tool.socklint] per-file-ignores{where}: expected a table of glob = [codes]"
                )
            for pattern, v in value.items():
                _validate_codes(f"[tool.socklint] per-file-ignores {pattern!r}", tuple(v), where)
            changes["per_file_ignores"] = tuple(sorted((k, tuple(v)) for k, v in value.items()))
        elif key == "exception-sources":
            if value not in ("socket-calls", "any-call"):
                raise ConfigError(
                    f"[tool.socklint] exception-sources{where}: expected \"socket-calls\" or \"any-call\""
                )
            changes["exception_sources"] = value
        elif key in ("respect-gitignore", "force-exclude"):
            if not isinstance(value, bool):
                raise ConfigError(f"[tool.socklint] {key}{where}: expected true or false")
            changes[key.replace("-", "_")] = value
        elif key == "target-windows":
            if not isinstance(value, bool):
                raise ConfigError(f"[tool.socklint] target-windows{where}: expected true or false")
            changes["target_windows"] = value
        elif key == "heuristics":
            changes["heuristics"] = _heuristics(value, where)
        elif key == "models":
            try:
                changes["models"] = parse_user_models(value, f"[tool.socklint.models]{where}")
            except ModelError as exc:
                raise ConfigError(str(exc)) from exc
        elif key == "baseline":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"[tool.socklint] baseline{where}: expected the path of a baseline file")
            # Relative to the folder of the pyproject.toml it is written in, wherever socklint runs.
            changes["baseline"] = os.path.join(os.path.dirname(os.path.abspath(source)), value) if source else value
        elif key == "max-function-steps":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1000:
                raise ConfigError(f"[tool.socklint] max-function-steps{where}: expected an integer >= 1000")
            changes["max_function_steps"] = value
        else:
            known = sorted([*list(_LIST_KEYS), "per-file-ignores", "exception-sources", "target-windows", "max-function-steps", "respect-gitignore", "force-exclude", "heuristics", "models", "baseline"])
            raise ConfigError(f"[tool.socklint] unknown key {key!r}{where} (known keys: {', '.join(known)})")
    return replace(s, **changes)


def _heuristics(value: Any, where: str) -> tuple[tuple[str, bool], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f'[tool.socklint.heuristics]{where}: expected a table of "<id>" = true/false')
    out: list[tuple[str, bool]] = []
    for hid, on in value.items():
        if hid not in HEURISTICS:
            raise ConfigError(
                f"[tool.socklint.heuristics]{where}: unknown heuristic {hid!r} "
                f"(`socklint heuristics` lists them: {', '.join(sorted(HEURISTICS))})"
            )
        if not isinstance(on, bool):
            raise ConfigError(f"[tool.socklint.heuristics] {hid}{where}: expected true or false, got {on!r}")
        if on != HEURISTICS[hid].default:
            out.append((hid, on))
    return tuple(sorted(out))


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.socklint] table, walking up from ``start``."""
    cur = start.resolve()
    if cur.is_file():
        cur = cur.parent
    for d in (cur, *cur.parents):
        candidate = d / "pyproject.toml"
        if configures_socklint(candidate):
            return candidate
    return None


def configures_socklint(candidate: Path) -> bool:
    """Whether ``candidate`` is a pyproject.toml with a [tool.socklint] table (False when there
    is no such file; a file that cannot be read or parsed is a ConfigError)."""
    if not candidate.is_file():
        return False
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{candidate}: cannot read: {exc}") from exc
    return isinstance(data.get("tool"), dict) and "socklint" in data["tool"]


def load_settings(start: Path, base: Settings | None = None) -> tuple[Settings, Path | None]:
    path = find_pyproject(start)
    if path is None:
        return base or Settings(), None
    return read_config_file(path, base), path


def read_config_file(path: Path, base: Settings | None = None) -> Settings:
    """Settings from one named pyproject.toml (``--config``, or the one discovery found).

    A file without a [tool.socklint] table gives the defaults; a missing or unparsable file is
    a ConfigError (exit 2), never a traceback.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{path}: cannot read: {reason}") from exc
    tool = data.get("tool", {})
    table = tool.get("socklint", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.socklint] must be a table")
    return settings_from_mapping(table, base, str(path))


def validate_codes(option: str, values: tuple[str, ...]) -> None:
    """Check command-line code lists with the rules the file's lists follow."""
    _validate_codes(option, values)


def settings_as_dict(s: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(s):
        v = getattr(s, f.name)
        if f.name == "root":
            continue  # shown as "config-root" by --show-settings
        if f.name == "per_file_ignores":
            v = {k: list(c) for k, c in v}
        elif f.name == "heuristics":
            v = dict(v)
        elif f.name == "models":
            v = rows_as_table(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name.replace("_", "-")] = v
    return out
