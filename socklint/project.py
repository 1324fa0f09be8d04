"""Building the project index for a run: which files make up the project, and the rounds that
bring every module's view of its imports to a fixed point.

The project of a run is every file being checked plus, for each of them that sits in a package
(a directory with ``__init__.py``), every module of its outermost package: the pre-commit hook
passes only the staged files, and their imports still resolve. Nothing outside is read.

Summaries are computed bottom-up by rounds: round 1 summarises every module alone; each later
round re-summarises only the modules whose view (what their imports reach) changed, until none
changes or ``MAX_ROUNDS`` is reached (an import cycle that keeps feeding itself); a module whose
view still moved is then analysed once more with the final view, without feeding it back. The
CLI, the flake8 plugin and the language server all go through ``converge``, so they agree on
every module's view, whatever the order of the files and the number of workers.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Optional, TypeVar

from socklint.analysis.objects import released_attributes
from socklint.analysis.project import ModuleSummary, ModuleView, ProjectIndex, module_name
from socklint.api import check_module
from socklint.config import Settings

# Rounds of re-summarising before the views are taken as final (a chain of helpers returning
# each other's sockets across modules needs one round per module on the chain).
MAX_ROUNDS = 4

T = TypeVar("T")


@dataclass(frozen=True)
class ProjectFile:
    path: str
    data: bytes
    module: str
    is_package: bool

    def empty_view(self) -> ModuleView:
        return ModuleView(self.module, self.is_package)


def project_file(path: str, data: bytes) -> ProjectFile:
    name, is_package = module_name(path)
    return ProjectFile(path, data, name, is_package)


def outermost_package(path: str) -> Optional[str]:
    """The directory of the outermost package around ``path`` (None for a module outside any
    package)."""
    directory = os.path.dirname(os.path.abspath(path))
    found: Optional[str] = None
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        found = directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return found


def project_paths(
    paths: Sequence[str], iter_files: Callable[[Iterable[str]], Iterable[str]], walked: Sequence[str] = ()
) -> list[str]:
    """Files of the project around ``paths`` that are not in ``paths`` themselves: the other
    modules of the packages the given files belong to (``iter_files`` lists a directory's
    Python files, honouring the exclusions). ``walked``: folders already listed with the same
    exclusions, whose every file is among the files checked: a package inside one adds none."""
    given = {os.path.abspath(p) for p in paths}
    inside = tuple(os.path.join(os.path.abspath(w), "") for w in walked)
    # Spelt like the given paths (relative ones stay relative): traces name these files.
    relative = not any(os.path.isabs(p) for p in paths)
    packages = sorted(
        {os.path.relpath(pkg) if relative else pkg for p in paths if (pkg := outermost_package(p)) is not None}
    )
    extra: list[str] = []
    seen: set[str] = set()
    for pkg in packages:
        if os.path.join(os.path.abspath(pkg), "").startswith(inside) and inside:
            continue
        for f in iter_files([pkg]):
            full = os.path.abspath(f)
            if full not in given and full not in seen and f.endswith(".py"):
                seen.add(full)
                extra.append(os.path.normpath(f))
    return extra


# What the package says about attributes: "Class.attr" asked -> those another module lets go of.
Releases = Callable[[str, tuple[str, ...]], frozenset[str]]


class PackageReleases:
    """Which attributes other modules of a package let go of, for SKL112 (``released_in``).

    An object often owns its socket in one module and is shut down from another:
    ``server.srv_sck.close()`` in ``__main__.py``, which imports the class's module, not the
    reverse, so the import-following views never carry it. A module whose classes keep a socket
    in an attribute nothing in the module closes (``ModuleSummary.kept_attrs``) asks the rest of
    its outermost package: every module there, imported or not, is searched for the attribute's
    name, and those that mention it are parsed and read the way the module reads itself
    (``objects.released_attributes``): ``X.attr`` closed, passed on, returned or stored through
    any object but ``self`` (the same name-based answer as inside one module), or ``self.attr``
    let go of in a class whose bases name the class. Only modules with such attributes ask
    (rare), and only files that mention the name are parsed. The CLI and the one-file front
    ends list the same package files and so give the same answer."""

    def __init__(self, package_files: Callable[[str], list[str]], read: Callable[[str], Optional[bytes]]) -> None:
        """``package_files(pkg)``: the Python files of the package folder ``pkg``, with the run's
        exclusions; ``read(path)``: a file's bytes (None when unreadable)."""
        self._package_files = package_files
        self._read = read
        self._files: dict[str, list[str]] = {}
        self._parsed: dict[str, Optional[tuple[set[str], dict[str, set[str]], dict[str, set[str]]]]] = {}
        self._data: dict[str, Optional[bytes]] = {}
        self.read_paths: set[str] = set()

    def released_in(self, path: str, kept: tuple[str, ...]) -> frozenset[str]:
        pkg = outermost_package(path)
        if pkg is None or not kept:
            return frozenset()
        files = self._files.get(pkg)
        if files is None:
            files = self._files[pkg] = sorted(os.path.abspath(p) for p in self._package_files(pkg) if p.endswith(".py"))
        me = os.path.abspath(path)
        wanted = {k.rsplit(".", 1)[-1] for k in kept}
        out: set[str] = set()
        for other in files:
            if other == me:
                continue
            facts = self._facts(other, wanted)
            if facts is None:
                continue
            elsewhere, by_class, bases = facts
            data = self._data.get(other) or b""
            for k in kept:
                cls, attr = k.rsplit(".", 1)
                if not re.search(rb"\b" + re.escape(cls.encode()) + rb"\b", data):
                    # A module that never names the class does not hold its objects: its
                    # `r.sock` is another class's attribute of the same name.
                    continue
                if attr in elsewhere or any(attr in attrs and cls in bases.get(c, ()) for c, attrs in by_class.items()):
                    out.add(k)
        return frozenset(out)

    def _facts(self, path: str, wanted: set[str]) -> Optional[tuple[set[str], dict[str, set[str]], dict[str, set[str]]]]:
        if path in self._parsed:
            return self._parsed[path]
        if path not in self._data:
            # Read once per run: every module asking searches the same files.
            self._data[path] = self._read(path)
            self.read_paths.add(path)
        data = self._data[path]
        if data is None or not any(b"." + w.encode() in data for w in wanted):
            return None  # not parsed (nor memoised: another attribute name may be in it)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(data)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            self._parsed[path] = None
            return None
        elsewhere, by_class = released_attributes(tree)
        bases = {
            n.name: {b.attr if isinstance(b, ast.Attribute) else b.id for b in n.bases if isinstance(b, (ast.Attribute, ast.Name))}
            for n in ast.walk(tree)
            if isinstance(n, ast.ClassDef)
        }
        self._parsed[path] = (elsewhere, by_class, bases)
        return self._parsed[path]


@dataclass
class Converged(Generic[T]):
    index: ProjectIndex
    views: dict[str, ModuleView]  # by path
    results: dict[str, T]  # by path: what ``work`` returned with the final view
    rounds: int


# The work of a round: each module with its view (None: analysed alone, without a project).
Work = Callable[[list[tuple[ProjectFile, Optional[ModuleView]]]], list[tuple[Optional[ModuleSummary], T]]]


class ModuleFinder:
    """The modules of a project that the analysed files may import: module name -> path, for
    every Python file of the given packages (listing folders only; nothing is read until a
    module is imported by a file being analysed, see ``converge``'s ``discover``)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.by_name: dict[str, str] = {}
        for p in sorted(paths):
            name, _ = module_name(p)
            self.by_name.setdefault(name, p)

    def needed(self, summaries: Iterable[ModuleSummary], have: set[str]) -> list[str]:
        """Paths of modules the summaries' imports name (`pkg.transport.open_channel` names
        `pkg.transport` and `pkg`) that are not in ``have`` (paths) yet."""
        out: list[str] = []
        for s in summaries:
            for qual in s.imports.values():
                parts = qual.split(".")
                for i in range(len(parts), 0, -1):
                    path = self.by_name.get(".".join(parts[:i]))
                    if path is not None and path not in have:
                        have.add(path)
                        out.append(path)
        return sorted(out)


# Summaries a front end keeps in memory before starting over.
MAX_KEPT_SUMMARIES = 50_000

# Rounds that only bring in newly imported modules, at most (an import chain that long).
MAX_DISCOVERY_ROUNDS = 12


def converge(
    files: Sequence[ProjectFile],
    work: Work[T],
    max_rounds: int = MAX_ROUNDS,
    discover: Optional[Callable[[list[ModuleSummary]], list[ProjectFile]]] = None,
    releases: Optional[Releases] = None,
) -> Converged[T]:
    """Run ``work`` (summarise, and whatever else the caller does with a module and its view)
    round by round until every module has been handled with its final view. ``discover``:
    more modules of the project to summarise, given the summaries just made (the modules
    they import); those join the next round. ``releases``: which of a module's kept attributes
    other modules of its package let go of (``PackageReleases.released_in``), put in its view."""
    files = list(files)
    summaries: dict[str, Optional[ModuleSummary]] = {}
    handled: dict[str, str] = {}
    results: dict[str, T] = {}
    views = {f.path: f.empty_view() for f in files}
    todo = list(files)
    rounds = settled = 0
    final = False
    index = ProjectIndex(())
    while todo:
        rounds += 1
        batch: list[tuple[ProjectFile, Optional[ModuleView]]] = [(f, views[f.path]) for f in todo]
        made: list[ModuleSummary] = []
        for f, (summary, result) in zip(todo, work(batch)):
            summaries[f.path] = summary
            results[f.path] = result
            handled[f.path] = views[f.path].digest()
            if summary is not None:
                made.append(summary)
        if final:
            break  # the final pass, with the views as they stood: not fed back
        new = discover(made) if discover is not None and rounds <= MAX_DISCOVERY_ROUNDS else []
        for f in new:
            files.append(f)
            views[f.path] = f.empty_view()
        index = ProjectIndex(s for s in summaries.values() if s is not None)
        for f in files:
            s = summaries.get(f.path)
            views[f.path] = index.view(s) if s is not None else f.empty_view()
            if s is not None and s.kept_attrs and releases is not None:
                views[f.path].released_elsewhere = releases(f.path, s.kept_attrs)
        todo = [f for f in files if f.path not in handled or views[f.path].digest() != handled[f.path]]
        if not new:
            settled += 1
            final = settled >= max_rounds
    return Converged(index, views, results, rounds)


class ProjectViews:
    """Views for front ends that see one file at a time (the flake8 plugin, the language
    server): a file's project is the modules of its outermost package that it imports, directly
    or through them, summarised on first need and reused until one of them changes on disk
    (or, for the editor, in an unsaved buffer). A module outside any package is analysed alone,
    as the CLI does when it is given alone. The package's listing is kept until ``clear()``
    (the language server clears it when a file is saved)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finders: dict[str, ModuleFinder] = {}
        # (path, settings) -> (stamps of the modules it used, converged)
        self._memo: dict[tuple[str, str], tuple[tuple[tuple[str, int, int], ...], Converged[None]]] = {}
        # (path, its stamp, the view it was summarised with, settings) -> summary: each module
        # is summarised once per view however many files import it.
        self._summaries: dict[tuple[tuple[str, int, int], str, str], Optional[ModuleSummary]] = {}

    def view_for(
        self,
        path: str,
        settings: Settings,
        iter_files: Callable[[Iterable[str]], Iterable[str]],
        overrides: Optional[dict[str, bytes]] = None,
        parsed: Optional[tuple[bytes, ast.Module]] = None,
    ) -> Optional[ModuleView]:
        """``overrides``: texts that differ from the disk (unsaved editor buffers), by path.
        ``parsed``: the file's text and its ``ast``, when the caller has them (flake8 parsed
        the file): its summary is made from that tree when the text is what the index reads."""
        pkg = outermost_package(path)
        if pkg is None:
            return None
        path = os.path.abspath(path)
        overrides = {os.path.abspath(p): d for p, d in (overrides or {}).items()}
        with self._lock:
            finder = self._finders.get(pkg)
        if finder is None:
            finder = ModuleFinder(os.path.abspath(p) for p in iter_files([pkg]) if p.endswith(".py"))
            with self._lock:
                self._finders[pkg] = finder
        key = (path, settings.cache_key())
        with self._lock:
            memo = self._memo.get(key)
        if memo is not None and memo[0] == tuple(_stamp(p, overrides) for p, _, _ in memo[0]):
            return memo[1].views.get(path)

        def read(p: str) -> Optional[ProjectFile]:
            data = overrides.get(p)
            if data is None:
                try:
                    with open(p, "rb") as fh:
                        data = fh.read()
                except OSError:
                    return None
            return project_file(p, data)

        first = read(path)
        if first is None:
            return None
        have = {path}

        def read_bytes(p: str) -> Optional[bytes]:
            f = read(p)
            return f.data if f is not None else None

        package = PackageReleases(lambda where: list(finder.by_name.values()) if where == pkg else list(iter_files([where])), read_bytes)

        def discover(made: list[ModuleSummary]) -> list[ProjectFile]:
            return [f for p in finder.needed(made, have) if (f := read(p)) is not None]

        settings_key = settings.cache_key()

        def work(batch: list[tuple[ProjectFile, Optional[ModuleView]]]) -> list[tuple[Optional[ModuleSummary], None]]:
            out: list[tuple[Optional[ModuleSummary], None]] = []
            for f, v in batch:
                k = (_stamp(f.path, overrides), v.digest() if v is not None else "", settings_key)
                with self._lock:
                    hit = k in self._summaries
                    summary = self._summaries.get(k)
                if not hit:
                    tree = parsed[1] if parsed is not None and f.path == path and f.data == parsed[0] else None
                    summary = check_module(f.path, f.data, settings, view=v, scan_only=True, tree=tree)[1]
                    with self._lock:
                        if len(self._summaries) > MAX_KEPT_SUMMARIES:
                            self._summaries.clear()  # an editor running for days: start over
                        self._summaries[k] = summary
                out.append((summary, None))
            return out

        converged = converge([first], work, discover=discover, releases=package.released_in)
        # The modules searched for attributes let go of count too: an edit there changes SKL112.
        stamps = tuple(_stamp(p, overrides) for p in sorted(set(converged.views) | package.read_paths))
        with self._lock:
            self._memo[key] = (stamps, converged)
        return converged.views.get(path)

    def clear(self) -> None:
        with self._lock:
            self._memo.clear()
            self._finders.clear()
            self._summaries.clear()


def _stamp(path: str, overrides: dict[str, bytes]) -> tuple[str, int, int]:
    if path in overrides:
        # An unsaved buffer: its content, not its length (an edit may keep the length).
        return (path, -1, int(_digest(overrides[path])[:15], 16))
    try:
        st = os.stat(path)
    except OSError:
        return (path, -2, 0)
    return (path, st.st_mtime_ns, st.st_size)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
