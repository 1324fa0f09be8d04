"""The project index: what the functions and classes of every module of a project do with
sockets, so that a module's analysis knows its imports from the same project.

A module's **summary** (``ModuleSummary``) is computed from its own scan alone: for each
top-level function and each method of a top-level class, the facts its module-local summary
already has (returns a fresh socket, wraps / closes / keeps a parameter, what it can raise,
always raises, cannot raise), the classes with their bases, and the module's imports (relative
imports resolved). Summaries are plain data, keyed by the file's content and module name in the
cache, and cheap to ship to worker processes.

The **index** holds every summary of the run and answers, for one module, its **view**: every
spelling through which the module reaches a project function or class (``open_channel`` after
``from .transport import open_channel``, ``pkg.transport.open_channel`` after ``import
pkg.transport as t``), with the facts behind it, re-exports from ``__init__.py`` followed. The
view is what ``scan`` merges into the module's own summaries, so the interpreter treats an
imported helper exactly as it treats one of the module's own.

A class that derives from ``socket.socket`` (or from another such class, of this project or a
modelled one) is a **socket class**: constructing it creates a socket.

Nothing outside the paths being checked is read: the standard library and site-packages are
known only through the model (``socklint/models``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from socklint.analysis import model
from socklint.analysis.astutil import dotted_name

# Names the built-in model describes: the model's rows win over what a project module of that
# name says about itself (the standard library checked as a project defines `socket.socket`).
_MODELLED = frozenset(r.name for r in model.BUILTIN.rows)

# How many re-exports (`from .transport import open_channel` in `__init__.py`) a name may go
# through before resolution gives up: real packages use one or two.
MAX_REEXPORT_HOPS = 8


@dataclass(frozen=True)
class FunctionFacts:
    """What calling one function (or method) does, in its module's terms."""

    path: str
    line: int
    source: bool = False  # returns a fresh socket the caller owns
    wraps: tuple[int, ...] = ()  # parameters it takes over and returns wrapped
    closes: tuple[int, ...] = ()  # parameters it closes (on some path: cleanup on failure too)
    keeps: tuple[int, ...] = ()  # parameters it stores or hands to a longer-lived owner
    raises: str = "any"  # "any" | "os" (OSError only) | "oscfg" (configuration OSError) | "nonos"
    cannot_raise: bool = False
    always_raises: bool = False
    is_async: bool = False

    def owns(self) -> bool:
        """Facts about ownership: a fresh socket returned, an argument wrapped, closed, kept."""
        return bool(self.source or self.wraps or self.closes or self.keeps)

    def relevant(self) -> bool:
        """Facts that change what a caller's analysis does."""
        return bool(
            self.source or self.wraps or self.closes or self.keeps or self.raises != "any"
            or self.cannot_raise or self.always_raises or self.is_async
        )


@dataclass(frozen=True)
class ClassFacts:
    path: str
    line: int
    bases: tuple[str, ...]  # qualified through the module's imports
    methods: Mapping[str, FunctionFacts] = field(default_factory=dict)
    # A resource type: its `__init__` keeps a socket in an attribute that its `close()` (or
    # `__exit__`) closes. "creates": it makes the socket; "wraps": it takes its first argument.
    resource: str = ""
    # Constructing it cannot fail (its `__init__` only stores what it is given).
    trivial: bool = False
    # Attributes of self its `__init__` (or the module-local base `__init__` it runs) stores a
    # socket it makes in: a subclass elsewhere holds them once `super().__init__()` returns.
    init_stores: tuple[str, ...] = ()


@dataclass
class ModuleSummary:
    name: str
    path: str
    is_package: bool
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    # Local name -> qualified name for every import of the module (re-exports).
    imports: dict[str, str] = field(default_factory=dict)
    # Last names called where the deep analysis looks (ScanResult.analysed_calls); None: not
    # scanned (no socket code of its own).
    calls: Optional[tuple[str, ...]] = None
    # "Class.attr" its classes fill with a socket that nothing in the module closes or lets go
    # of (``scan.Summaries.kept_attributes``): the package is asked whether another module does.
    kept_attrs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def fn(f: FunctionFacts) -> dict[str, Any]:
            return {k: (list(v) if isinstance(v, tuple) else v) for k, v in f.__dict__.items()}

        return {
            "name": self.name,
            "path": self.path,
            "is_package": self.is_package,
            "functions": {k: fn(v) for k, v in sorted(self.functions.items())},
            "classes": {
                k: {
                    "path": c.path, "line": c.line, "bases": list(c.bases), "methods": {m: fn(f) for m, f in sorted(c.methods.items())},
                    "resource": c.resource, "trivial": c.trivial, "init_stores": list(c.init_stores),
                }
                for k, c in sorted(self.classes.items())
            },
            "imports": dict(sorted(self.imports.items())),
            "calls": list(self.calls) if self.calls is not None else None,
            "kept_attrs": list(self.kept_attrs),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ModuleSummary:
        def fn(d: dict[str, Any]) -> FunctionFacts:
            return FunctionFacts(
                str(d["path"]), int(d["line"]), bool(d["source"]), tuple(int(i) for i in d["wraps"]),
                tuple(int(i) for i in d["closes"]), tuple(int(i) for i in d["keeps"]), str(d["raises"]),
                bool(d["cannot_raise"]), bool(d["always_raises"]), bool(d["is_async"]),
            )

        return cls(
            str(obj["name"]),
            str(obj["path"]),
            bool(obj["is_package"]),
            {str(k): fn(v) for k, v in obj["functions"].items()},
            {
                str(k): ClassFacts(
                    str(c["path"]), int(c["line"]), tuple(str(b) for b in c["bases"]),
                    {str(m): fn(f) for m, f in c["methods"].items()}, str(c["resource"]), bool(c["trivial"]),
                    tuple(str(a) for a in c.get("init_stores", ())),
                )
                for k, c in obj["classes"].items()
            },
            {str(k): str(v) for k, v in obj["imports"].items()},
            tuple(str(c) for c in obj["calls"]) if obj.get("calls") is not None else None,
            tuple(str(a) for a in obj.get("kept_attrs", ())),
        )

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


def module_name(path: str) -> tuple[str, bool]:
    """The dotted module name of a file, from the packages around it (each directory with an
    ``__init__.py`` is a package), and whether the file is a package's ``__init__``: the
    way the import system names it when the outermost package's parent is on ``sys.path``."""
    full = os.path.abspath(path)
    directory, filename = os.path.split(full)
    stem = filename.rsplit(".", 1)[0]
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")) or os.path.isfile(os.path.join(directory, "__init__.pyi")):
        directory, pkg = os.path.split(directory)
        parts.append(pkg)
        if not pkg:
            break
    parts.reverse()
    return ".".join(p for p in parts if p) or stem, is_package


def resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> Optional[str]:
    """``from ..x import y`` inside ``module``: the absolute name of ``..x`` (None when the
    dots climb above the top package)."""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        if level - 1 > len(parts):
            return None
        parts = parts[: len(parts) - (level - 1)]
    if target:
        parts.append(target)
    return ".".join(parts) or None


@dataclass
class ModuleView:
    """What one module sees of the project through its imports: spellings (local names and
    qualified names) -> facts, and the spellings that construct a socket class. Empty for a
    module that imports nothing the project summarises."""

    module: str
    is_package: bool
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    socket_classes: dict[str, ClassFacts] = field(default_factory=dict)
    # The module's own classes -> the methods they inherit from project classes of other
    # modules (or of this one), which `self.method()` reaches.
    inherited: dict[str, dict[str, FunctionFacts]] = field(default_factory=dict)
    # Spellings of resource types of other modules (ClassFacts.resource).
    resource_classes: dict[str, ClassFacts] = field(default_factory=dict)
    # Other classes of the project, by the spelling a `from` import gives them: constructing
    # one around a socket hands the socket to the new object.
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    # "Class.attr" of the module's ``kept_attrs`` that another module of its package lets go of
    # (``socklint.project.released_in_package``): no SKL112 for them.
    released_elsewhere: frozenset[str] = frozenset()
    # The module's own classes whose first base is a class of another module of the project
    # that stores sockets on self in its `__init__` (ClassFacts.init_stores): those attributes.
    base_inits: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.functions or self.socket_classes or self.inherited or self.resource_classes or self.classes
            or self.released_elsewhere or self.base_inits
        )

    def digest(self) -> str:
        payload = {
            "module": self.module,
            "package": self.is_package,
            "functions": {k: [v.path, v.line, v.source, v.wraps, v.closes, v.keeps, v.raises, v.cannot_raise, v.always_raises, v.is_async] for k, v in sorted(self.functions.items())},
            "socket_classes": sorted(self.socket_classes),
            "resource_classes": {k: [c.path, c.line, c.resource] for k, c in sorted(self.resource_classes.items())},
            "classes": {k: [c.path, c.line, c.trivial] for k, c in sorted(self.classes.items())},
            "inherited": {c: {m: [f.path, f.line, f.source, f.wraps, f.closes, f.keeps, f.cannot_raise] for m, f in sorted(ms.items())} for c, ms in sorted(self.inherited.items())},
        }
        if self.released_elsewhere:
            payload["released_elsewhere"] = sorted(self.released_elsewhere)
        if self.base_inits:
            payload["base_inits"] = {k: list(v) for k, v in sorted(self.base_inits.items())}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def analysis_digest(self, calls: Optional[tuple[str, ...]]) -> str:
        """The digest of what the module's own findings can depend on, given the names its
        analysed code calls (``ModuleSummary.calls``): sources and classes (they can make code
        a candidate), and the other facts only of helpers that code calls. Its summary may
        depend on more (a local closer that calls an imported one), its findings not."""
        if calls is None:
            return self.digest()
        called = set(calls)
        narrowed = ModuleView(
            self.module,
            self.is_package,
            {k: f for k, f in self.functions.items() if f.source or k.rsplit(".", 1)[-1] in called},
            self.socket_classes,
            {c: kept for c, ms in self.inherited.items() if (kept := {m: f for m, f in ms.items() if f.source or m in called})},
            self.resource_classes,
            self.classes,
            self.released_elsewhere,
            self.base_inits,
        )
        return narrowed.digest()

    def trigger_names(self) -> tuple[str, ...]:
        """Names whose mention makes a file worth the deep analysis (the prefilter)."""
        # `super().__init__()` of a base that stores a socket: the subclass's `__init__` is
        # socket code even when its own text names no socket.
        inits = {"__init__"} if self.base_inits else set()
        return tuple(sorted({k for k, f in self.functions.items() if f.source} | set(self.socket_classes) | set(self.resource_classes) | inits))


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary]) -> None:
        self.modules: dict[str, ModuleSummary] = {}
        for s in sorted(summaries, key=lambda s: (s.name, s.path)):
            # Two files claiming one module name (scripts side by side in folders without
            # `__init__.py`): the first in path order wins, so the answer does not depend on
            # the order the files were given.
            self.modules.setdefault(s.name, s)
        self._socket_class_memo: dict[str, bool] = {}

    # ------------------------------------------------------------------ resolution
    def resolve(self, qual: str, hops: int = 0) -> Optional[FunctionFacts | ClassFacts]:
        """The function or class a qualified name denotes, through re-exports."""
        if hops > MAX_REEXPORT_HOPS:
            return None
        mod, _, name = qual.rpartition(".")
        if mod:
            s = self.modules.get(mod)
            if s is not None:
                if name in s.functions:
                    return s.functions[name]
                if name in s.classes:
                    return s.classes[name]
                target = s.imports.get(name)
                if target is not None and target != qual:
                    return self.resolve(target, hops + 1)
                return None
            # `pkg.mod.Class.method`
            owner = self.resolve(mod, hops + 1)
            if isinstance(owner, ClassFacts):
                return owner.methods.get(name)
        return None

    def resolve_name(self, qual: str, hops: int = 0) -> Optional[str]:
        """The qualified name of the definition ``qual`` reaches through re-exports."""
        if hops > MAX_REEXPORT_HOPS:
            return None
        mod, _, name = qual.rpartition(".")
        s = self.modules.get(mod) if mod else None
        if s is None:
            return None
        if name in s.functions or name in s.classes:
            return qual
        target = s.imports.get(name)
        if target is not None and target != qual:
            return self.resolve_name(target, hops + 1)
        return None

    def is_socket_class(self, qual: str, depth: int = 0) -> bool:
        memo = self._socket_class_memo.get(qual)
        if memo is not None:
            return memo
        if depth > 20:
            return False
        self._socket_class_memo[qual] = False  # cycles in the bases
        facts = self.resolve(qual)
        ok = isinstance(facts, ClassFacts) and any(
            b in model.SOCKET_CLASSES or self.is_socket_class(self.resolve_name(b) or b, depth + 1) for b in facts.bases
        )
        self._socket_class_memo[qual] = ok
        return ok

    # ------------------------------------------------------------------ views
    def view(self, summary: ModuleSummary) -> ModuleView:
        v = self._view(summary)
        if summary.calls is None:
            # A module without socket code of its own: only what could give it some (a helper
            # returning a socket, a socket or resource class) can change its analysis, and its
            # summary (imports and classes) does not depend on the view.
            v.functions = {k: f for k, f in v.functions.items() if f.source}
            v.inherited = {}
            v.classes = {}
        else:
            # What a helper raises matters only where the deep analysis calls it; what it does
            # with sockets (returns one, closes or keeps its argument) may make code a candidate
            # or change the module's own summary, so it always goes.
            called = set(summary.calls)
            v.functions = {k: f for k, f in v.functions.items() if f.owns() or k.rsplit(".", 1)[-1] in called}
            v.inherited = {c: kept for c, ms in v.inherited.items() if (kept := {m: f for m, f in ms.items() if f.owns() or m in called})}
            # A plain class of the project matters where it is constructed around a socket.
            v.classes = {k: c for k, c in v.classes.items() if k.rsplit(".", 1)[-1] in called}
        return v

    def _view(self, summary: ModuleSummary) -> ModuleView:
        v = ModuleView(summary.name, summary.is_package)
        own_classes = {f"{summary.name}.{c}": c for c in summary.classes}
        for qual, local in own_classes.items():
            if self.is_socket_class(qual):
                v.socket_classes[local] = summary.classes[local]
            inherited = self._inherited(summary.classes[local])
            if inherited:
                v.inherited[local] = inherited
            stores = self._base_init(summary, summary.classes[local])
            if stores:
                v.base_inits[local] = stores
        for local, qual in sorted(summary.imports.items()):
            if qual in self.modules:
                # `import pkg.transport as t`: every function and class of the module, by its
                # qualified spelling (`t.open_channel` qualifies to `pkg.transport.open_channel`).
                self._add_module(v, qual, self.modules[qual])
                continue
            facts = self.resolve(qual)
            if facts is not None:
                self._add(v, local, qual, facts)
        return v

    def _base_init(self, summary: ModuleSummary, c: ClassFacts) -> tuple[str, ...]:
        """What the first base's `__init__` stores a socket in, when that base is a class of
        another module of the project (a base of the module itself is the module's own
        business: ``ObjectSummary.base_init_stores``)."""
        if not c.bases:
            return ()
        qual = self.resolve_name(c.bases[0]) or c.bases[0]
        if qual.rpartition(".")[0] == summary.name or qual in _MODELLED:
            return ()
        facts = self.resolve(qual)
        return facts.init_stores if isinstance(facts, ClassFacts) else ()

    def _inherited(self, c: ClassFacts) -> dict[str, FunctionFacts]:
        """Methods a class gets from its project bases (depth first, left to right, as far as a
        method is not defined nearer), keeping those whose facts matter to a caller."""
        out: dict[str, FunctionFacts] = {}
        own = set(c.methods)
        stack = list(reversed(c.bases))
        seen: set[str] = set()
        while stack and len(seen) < 50:
            base = stack.pop()
            qual = self.resolve_name(base) or base
            if qual in seen or qual in _MODELLED:
                continue
            seen.add(qual)
            facts = self.resolve(qual)
            if not isinstance(facts, ClassFacts):
                continue
            for m, f in facts.methods.items():
                if m not in own and m not in out:
                    out[m] = f
            stack.extend(reversed(facts.bases))
        return {m: f for m, f in out.items() if f.source or f.wraps or f.closes or f.keeps or f.cannot_raise}

    def _add(self, v: ModuleView, local: str, qual: str, facts: FunctionFacts | ClassFacts) -> None:
        if qual in _MODELLED:
            return  # the model has its word on it (the standard library's own `socket.py`)
        if isinstance(facts, FunctionFacts):
            if facts.relevant():
                v.functions[local] = facts
                v.functions[qual] = facts
        elif self.is_socket_class(self.resolve_name(qual) or qual):
            v.socket_classes[local] = facts
            v.socket_classes[qual] = facts
        elif facts.resource:
            v.resource_classes[local] = facts
            v.resource_classes[qual] = facts
        else:
            v.classes[local] = facts

    def _add_module(self, v: ModuleView, qual: str, s: ModuleSummary) -> None:
        for name, f in s.functions.items():
            if f.relevant() and f"{qual}.{name}" not in _MODELLED:
                v.functions[f"{qual}.{name}"] = f
        for name, c in s.classes.items():
            if self.is_socket_class(f"{s.name}.{name}") and f"{qual}.{name}" not in _MODELLED:
                v.socket_classes[f"{qual}.{name}"] = c
            elif c.resource:
                v.resource_classes[f"{qual}.{name}"] = c


# ---------------------------------------------------------------------- summaries from a scan
def summarise_module(tree: Optional[ast.Module], result: Any, path: str, view: ModuleView) -> Optional[ModuleSummary]:
    """The summary of a module for the index: from its scan, or, for a module the prefilter
    ruled out (no socket code of its own), only its imports (it may re-export helpers)."""
    if result is not None:
        return summarise(result, view.module, path, view.is_package)
    if tree is None:
        return None
    from socklint.analysis.scan import ImportTable  # scan imports this module

    table = ImportTable(view.module, view.is_package)
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            table.add(stmt)
        elif isinstance(stmt, (ast.If, ast.Try)):
            # `try: from .fast import open_channel except ImportError: ...` at module level.
            stack.extend(stmt.body)
            stack.extend(stmt.orelse)
            stack.extend(getattr(stmt, "finalbody", []))
            for h in getattr(stmt, "handlers", []):
                stack.extend(h.body)
    out = ModuleSummary(view.module, path, view.is_package, imports=dict(table.names))
    for dotted in table.dotted_modules:
        out.imports.setdefault(dotted, dotted)
    _add_classes(out, tree, table)
    return out


def _add_classes(out: ModuleSummary, tree: ast.Module, imports: Any) -> None:
    """Top-level classes with their bases qualified: through the imports, or as this module's
    own class (`class RetryingSocket(TracedSocket)` next to `TracedSocket`)."""
    own = {stmt.name for stmt in _module_statements(tree) if isinstance(stmt, ast.ClassDef)}
    for stmt in _module_statements(tree):
        if isinstance(stmt, ast.ClassDef) and stmt.name not in out.classes:
            bases: list[str] = []
            for b in (dotted_name(x) for x in stmt.bases):
                if b is None:
                    continue
                head = b.split(".", 1)[0]
                bases.append(f"{out.name}.{b}" if head in own and head not in imports.names else imports.qualify(b))
            out.classes[stmt.name] = ClassFacts(out.path, stmt.lineno, tuple(bases), {})


def summarise(result: Any, name: str, path: str, is_package: bool) -> ModuleSummary:
    """The exported summary of one scanned module (``scan.ScanResult``)."""
    s = result.summaries
    out = ModuleSummary(
        name, path, is_package, imports=dict(result.imports.names), calls=tuple(sorted(result.analysed_calls)), kept_attrs=s.kept_attributes
    )
    for dotted in result.imports.dotted_modules:
        out.imports.setdefault(dotted, dotted)
    _add_classes(out, result.tree, result.imports)
    for cname, c in list(out.classes.items()):
        kind = result.summaries.resource_classes.get(cname, "")
        stores = tuple(sorted(s.objects.init_attrs(cname)))
        out.classes[cname] = ClassFacts(c.path, c.line, c.bases, c.methods, kind, cname in result.summaries.trivial_init, stores)
    for fnode, cls in _top_level_functions(result.tree):
        n = fnode.name
        if cls is None:
            if n in out.functions:
                continue
            out.functions[n] = _facts(s, n, path, fnode.lineno, n in s.function_sources, n in s.nonraising)
            continue
        owner = out.classes.get(cls)
        if owner is not None and n not in owner.methods:
            methods = dict(owner.methods)
            methods[n] = _facts(
                s, n, path, fnode.lineno, cls in s.method_sources.get(n, ()), cls in s.nonraising_methods.get(n, ())
            )
            out.classes[cls] = ClassFacts(owner.path, owner.line, owner.bases, methods, owner.resource, owner.trivial, owner.init_stores)
    return out


def _top_level_functions(tree: ast.Module) -> Iterable[tuple[ast.FunctionDef | ast.AsyncFunctionDef, Optional[str]]]:
    """Module-level functions and methods of module-level classes, also those defined under a
    module-level `if` or `try` (`if HUB_TYPE == "eventlet": def spawn(...)`): the first
    definition of a name wins, as the summary by name does in the module itself."""
    for stmt in _module_statements(tree):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield stmt, None
        elif isinstance(stmt, ast.ClassDef):
            for sub in stmt.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield sub, stmt.name


def _module_statements(tree: ast.Module) -> Iterable[ast.stmt]:
    """The module's statements, those inside module-level `if` / `try` blocks included."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try)):
            inner: list[ast.stmt] = [*stmt.body, *stmt.orelse]
            if isinstance(stmt, ast.Try):
                for h in stmt.handlers:
                    inner.extend(h.body)
                inner.extend(stmt.finalbody)
            stack.extend(reversed(inner))


def _facts(s: Any, n: str, path: str, line: int, source: bool, cannot_raise: bool) -> FunctionFacts:
    raises = "oscfg" if n in s.oscfg_only else "os" if n in s.os_only else "nonos" if n in s.non_os else "any"
    return FunctionFacts(
        path,
        line,
        source=source,
        wraps=tuple(sorted(s.wrappers.get(n, ()))),
        closes=tuple(sorted(s.closers.get(n, ()))),
        keeps=tuple(sorted(s.keepers.get(n, ()))),
        raises=raises,
        cannot_raise=cannot_raise,
        always_raises=n in s.always_raise,
        is_async=n in s.async_funcs,
    )
