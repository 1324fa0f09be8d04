"""What the flake8 plugin and the language server share: settings per folder, and text to bytes.

Both front ends receive already-decoded text, while :func:`socklint.api.check_source` takes
bytes and decodes them itself (BOM, PEP 263 cookie). Re-encoding with the file's declared
encoding keeps columns identical to ``socklint check`` on the same file.
"""

from __future__ import annotations

import codecs
import os
import re
import threading
from pathlib import Path

from socklint.config import Settings, find_pyproject, read_config_file

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
    """``[tool.socklint]`` settings per folder, found by walking up from the file.

    A file's folder maps to the nearest configured pyproject.toml; the parsed result is reused
    until that pyproject.toml changes on disk (editors keep running for days).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_dir: dict[str, Path | None] = {}
        self._by_file: dict[Path | None, tuple[float, Settings]] = {}

    def clear(self) -> None:
        with self._lock:
            self._by_dir.clear()
            self._by_file.clear()

    def config_file(self, path: str) -> Path | None:
        """The pyproject.toml whose [tool.socklint] governs ``path`` (None: defaults)."""
        folder = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        if not os.path.isdir(folder):
            folder = os.getcwd()
        with self._lock:
            if folder in self._by_dir:
                return self._by_dir[folder]
        pyproject = find_pyproject(Path(folder))
        with self._lock:
            self._by_dir[folder] = pyproject
        return pyproject

    def for_path(self, path: str) -> Settings:
        """Settings for a file; raises ConfigError for a bad [tool.socklint]."""
        pyproject = self.config_file(path)
        mtime = _mtime(pyproject)
        with self._lock:
            cached = self._by_file.get(pyproject)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        settings = read_config_file(pyproject) if pyproject is not None else Settings()
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
