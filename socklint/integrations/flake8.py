"""flake8 plugin: ``flake8 --select SKL`` reports what ``socklint check`` reports.

Division of labour: ``[tool.socklint]`` teaches the engine the project (socket factories,
closers, borrowers, exception sources, target-windows, opt-in rules); flake8's own
``select`` / ``ignore`` / ``per-file-ignores`` / ``# noqa`` decide what is shown. So socklint's
select/ignore/per-file-ignores/exclude keys are not applied here: flake8 users already have
flake8's, and applying both would make a code impossible to turn back on from flake8.

Opt-in codes (``default_enabled=False`` in codes.py) stay opt-in under flake8 too: they are
added to flake8's default ignore list, and the engine only produces them when they are chosen
explicitly by full code, in flake8's ``select`` / ``extend-select`` or in ``[tool.socklint]``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from socklint import __version__
from socklint.analysis.project import ModuleView
from socklint.api import check_source, iter_python_files
from socklint.codes import CODES, resolve
from socklint.config import Settings
from socklint.integrations.common import SettingsCache, encode_source
from socklint.project import ProjectViews
from socklint.source import DecodeError, decode, may_contain_findings

OPT_IN_CODES: tuple[str, ...] = tuple(c.code for c in CODES.values() if not c.default_enabled)


class Plugin:
    name = "flake8-socklint"
    version = __version__

    # Per process (flake8 -j forks workers that each build their own): settings per folder.
    _settings_cache: ClassVar[SettingsCache] = SettingsCache()
    # The project index of each package, built once per flake8 process (see socklint.project).
    _views: ClassVar[ProjectViews] = ProjectViews()
    # Opt-in codes the flake8 command line / config chose by full code.
    _flake8_opt_in: ClassVar[tuple[str, ...]] = ()

    def __init__(self, tree: ast.AST | None, filename: str, lines: Sequence[str]) -> None:
        # flake8 only treats a class as an AST plugin when it takes ``tree``. The engine reuses
        # it for its `ast` scan (flake8 parsed the very text the lines join to) and parses with
        # libcst only what the prefilter lets through.
        self.filename = filename
        self.lines = lines
        self.tree = tree if isinstance(tree, ast.Module) else None
        # Loaded here, not in run(): flake8 turns an exception from the constructor into its
        # clean "critical error" report (naming the bad key), instead of a traceback.
        self.settings = self._settings()

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.extend_default_ignore(list(OPT_IN_CODES))

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        chosen: list[str] = []
        for group in (getattr(options, "select", None), getattr(options, "extend_select", None)):
            for token in group or ():
                code = resolve(str(token).strip())
                if code in OPT_IN_CODES:
                    chosen.append(code)
        cls._flake8_opt_in = tuple(chosen)

    def _settings(self) -> Settings:
        # ConfigError propagates: flake8 then stops with the message naming the key, which is
        # better than silently checking with settings the user did not write.
        # flake8 names standard input "stdin" (or "-"): look for the config from the cwd.
        configured = self._settings_cache.for_path(
            self.filename if self.filename not in ("stdin", "-") else ""
        )
        self.configured = configured
        opt_in = tuple(c for c in OPT_IN_CODES if configured.is_enabled(c)) + self._flake8_opt_in
        return dataclasses.replace(
            configured,
            select=("SKL",),
            extend_select=opt_in,
            ignore=(),
            per_file_ignores=(),
            exclude=(),
        )

    def _view(self, text: bytes) -> ModuleView | None:
        """What the module sees of its package: the same project index the CLI builds
        (``text``: flake8's text of the file, whose tree it hands over)."""
        if self.filename in ("stdin", "-") or not os.path.isfile(self.filename):
            return None
        try:
            parsed = (text, self.tree) if self.tree is not None else None
            return self._views.view_for(
                self.filename, self.settings, lambda where: iter_python_files(where, self.configured), parsed=parsed
            )
        except Exception:  # noqa: BLE001 - without the index the file is still checked alone
            return None

    def _source_bytes(self, data: bytes, view: ModuleView | None) -> tuple[bytes, bool]:
        """The bytes to check (``data``: flake8's text), and whether they are the text flake8
        parsed (so its tree fits)."""
        if not may_contain_findings(data, self.settings.socket_factories + (view.trigger_names() if view else ())):
            return data, True  # the cheap path: check_source will skip it too
        # flake8 decodes a file it cannot decode as declared as latin-1 instead of failing;
        # socklint check reports such a file (SKL002). Hand over the bytes on disk then.
        if self.filename not in ("stdin", "-") and os.path.isfile(self.filename):
            try:
                with open(self.filename, "rb") as fh:
                    raw = fh.read()
                decode(raw)
            except DecodeError:
                return raw, False
            except OSError:
                pass
        return data, True

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        text = encode_source("".join(self.lines))
        view = self._view(text)
        data, same_text = self._source_bytes(text, view)
        # check_syntax=False: flake8 reports syntax errors itself (E999) and runs no plugin then.
        diags = check_source(
            self.filename,
            data,
            self.settings,
            apply_noqa=False,
            check_syntax=False,
            tree=self.tree if same_text else None,
            view=view,
        )
        for d in diags:
            # flake8 columns are 0-based; socklint's are 1-based.
            yield d.line, max(d.column - 1, 0), f"{d.code} {d.message}", type(self)
