"""What the flake8 plugin and the language server share: settings per folder, and text to bytes.

Both front ends receive already-decoded text, while :func:`socklint.api.check_source` takes
bytes and decodes them itself (BOM, PEP 263 cookie). Re-encoding with the file's declared
encoding keeps columns identical to ``socklint check`` on the same file.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

from socklint.config import Settings, configures_socklint, read_config_file
from socklint.fileio import find_upwards

# PEP 263: the cookie is only honoured on the first two lines.
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)


def encode_source(text: str) -> bytes:
    """Bytes that :func:`socklint.source.decode` turns back into ``text``."""
    encoding = "utf-8"
    for line in text.splitlines()[:2]:
        m = _COOKIE.match(line)
        if m:
            encoding = m.group(1)
            break
        if line.strip() and not line.lstrip().startswith("#"):
            break  # a code line ends the cookie area
    try:
        codecs.lookup(encoding)
    except LookupError:
        # An unknown cookie: check_source reports it (SKL002), exactly as the CLI would.
        return text.encode("utf-8", errors="surrogatepass")
    # "replace" keeps one character per character, so columns still line up if an editor
    # buffer holds something the declared encoding cannot represent.
    return text.encode(encoding, errors="replace")


class SettingsCache:
    """``[tool.socklint]`` settings per folder: the nearest configured pyproject.toml above a
    file governs it, with its globs anchored at that file's folder (``Settings.root``).

    A folder maps to its configuration once (a walk asks for every folder it enters, so each
    folder looks at its own pyproject.toml and defers to its parent's answer); the parsed result
    is reused until that pyproject.toml changes on disk (editors keep running for days).

    ``config``: one pyproject.toml for every file (``--config``), its globs anchored at the
    working directory, as ruff does. ``adjust``: applied to every configuration's settings (the
    command line's flags over the file's).
    """

    def __init__(
        self, config: Path | None = None, adjust: Callable[[Settings], Settings] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._fixed = config
        self._adjust = adjust
        self._by_dir: dict[str, Path | None] = {}
        self._by_file: dict[Path | None, tuple[float, Settings]] = {}

    def clear(self) -> None:
        with self._lock:
            self._by_dir.clear()
            self._by_file.clear()

    def config_file(self, path: str) -> Path | None:
        """The pyproject.toml whose [tool.socklint] governs the file ``path`` (None: defaults)."""
        folder = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        if not os.path.isdir(folder):
            folder = os.getcwd()
        return self.config_for_folder(folder)

    def config_for_folder(self, folder: str) -> Path | None:
        """The pyproject.toml governing the files of ``folder``; raises ConfigError."""
        if self._fixed is not None:
            return self._fixed
        return find_upwards(
            os.path.abspath(folder), self._by_dir, self._lock,
            lambda f: candidate if configures_socklint(candidate := Path(f, "pyproject.toml")) else None, None,
        )

    def for_path(self, path: str) -> Settings:
        """Settings for a file; raises ConfigError for a bad [tool.socklint]."""
        return self._settings(self.config_file(path))

    def for_folder(self, folder: str) -> Settings:
        """Settings for the files directly in ``folder``; raises ConfigError."""
        return self._settings(self.config_for_folder(folder))

    def _settings(self, pyproject: Path | None) -> Settings:
        mtime = _mtime(pyproject)
        with self._lock:
            cached = self._by_file.get(pyproject)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        if pyproject is None:
            settings = Settings()
        else:
            settings = read_config_file(pyproject)
            root = os.getcwd() if self._fixed is not None else str(pyproject.parent.absolute())
            settings = dataclasses.replace(settings, root=root)
        if self._adjust is not None:
            settings = self._adjust(settings)
        with self._lock:
            self._by_file[pyproject] = (mtime, settings)
        return settings


def _mtime(path: Path | None) -> float:
    if path is None:
        return 0.0
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0
