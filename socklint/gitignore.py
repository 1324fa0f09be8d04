"""Which paths git ignores: ``.gitignore`` files and ``.git/info/exclude``, git's own rules.

The patterns are matched by the ``pathspec`` library (its ``GitIgnoreSpec`` follows git's
wildmatch, negation and directory-only rules). What this module adds is where git looks: only
inside a work tree (a folder with ``.git`` above the path), each ``.gitignore`` matching paths
relative to its own folder, a deeper file's decision overriding a shallower one's, and
``.git/info/exclude`` below every ``.gitignore``. A file inside an ignored folder stays ignored
whatever a negation says (git does not look inside an ignored folder); callers that walk prune
ignored folders, and :meth:`GitIgnore.ignored_with_parents` checks them for a named path.
The global excludes file (``core.excludesFile``) is not read: it is one user's, not the project's.
"""

from __future__ import annotations

import os
import threading
from typing import Optional

import pathspec

from socklint.fileio import find_upwards


class GitIgnore:
    """Memoised per folder: a walk asks about every file, and folders rarely hold a .gitignore."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repo: dict[str, Optional[str]] = {}
        self._specs: dict[str, Optional[pathspec.GitIgnoreSpec]] = {}

    def repo_root(self, folder: str) -> Optional[str]:
        """The work tree ``folder`` belongs to (``.git`` is a folder, or a file in a worktree or
        a submodule), or None outside git."""
        return find_upwards(
            folder, self._repo, self._lock, lambda f: f if os.path.lexists(os.path.join(f, ".git")) else None, None
        )

    def _spec(self, path: str) -> Optional[pathspec.GitIgnoreSpec]:
        with self._lock:
            if path in self._specs:
                return self._specs[path]
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                spec: Optional[pathspec.GitIgnoreSpec] = pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
        except (OSError, ValueError):
            spec = None  # no file there (the usual case), or one git would not read either
        with self._lock:
            self._specs[path] = spec
        return spec

    def ignored(self, path: str, is_dir: bool, floor: Optional[str] = None) -> bool:
        """Whether git ignores ``path`` itself, its folders taken as not ignored.

        ``floor``: an absolute folder above ``path`` whose own ignore files are the last read
        (those above it, and ``.git/info/exclude``, are not): the walk of a folder named on the
        command line that git ignores as a whole, which the user asked for all the same."""
        full = os.path.abspath(path)
        parent = os.path.dirname(full)
        root = self.repo_root(parent)
        if root is None or full == root:
            return False
        suffix = "/" if is_dir else ""
        folder = parent
        while True:
            spec = self._spec(os.path.join(folder, ".gitignore"))
            if spec is not None:
                decided = spec.check_file(os.path.relpath(full, folder).replace(os.sep, "/") + suffix).include
                if decided is not None:
                    return decided
            if folder in (root, floor):
                break
            folder = os.path.dirname(folder)
        if floor is not None and not (root == floor or root.startswith(floor + os.sep)):
            return False  # the work tree's own exclude file is above the floor
        info = self._spec(os.path.join(root, ".git", "info", "exclude"))
        if info is not None:
            return bool(info.check_file(os.path.relpath(full, root).replace(os.sep, "/") + suffix).include)
        return False

    def ignored_with_parents(self, path: str, is_dir: bool) -> bool:
        """Whether git ignores ``path`` or any folder between it and its work tree's root."""
        full = os.path.abspath(path)
        if self.ignored(full, is_dir):
            return True
        folder = os.path.dirname(full)
        root = self.repo_root(folder)
        while root is not None and folder != root and folder.startswith(root):
            if self.ignored(folder, True):
                return True
            folder = os.path.dirname(folder)
        return False
