"""A cheap pass over the stdlib ``ast``: imports, module-local summaries, and which functions
can produce a finding at all. Only those functions are handed to libcst (about ten times
the cost of ``ast.parse`` per line), so files and functions without socket code cost little.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator, Union

from socklint.analysis import model

FuncNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# Attribute calls that make a function worth analysing.
TRIGGER_METHODS = frozenset(
    {"accept", "_accept", "dup", "wrap_socket", "setsockopt", "shutdown", "recv", "recv_into",
     "create_datagram_endpoint", "create_server", "detach", "socketpair", "create_connection",
     "fromfd", "makefile", "bind", "listen"}
)
TRIGGER_ATTRIBUTES = frozenset({"allow_reuse_address", "allow_reuse_port"})


class ImportTable:
    """Local name -> qualified name, from every import in the file (flow-insensitive)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.star_modules: set[str] = set()

    def add(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self.names[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    self.names.setdefault(top, top)
        else:
            if node.level or not node.module:
                return
            for a in node.names:
                if a.name == "*":
                    self.star_modules.add(node.module)
                else:
                    self.names[a.asname or a.name] = f"{node.module}.{a.name}"

    def qualify(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        q = self.names.get(head)
        if q is None:
            for mod in ("socket", "ssl", "contextlib"):
                if mod in self.star_modules and not rest:
                    cand = f"{mod}.{head}"
                    if cand in model.FACTORIES or cand in model.PAIR_FACTORIES or cand in model.OSERROR_ALIASES:
                        return cand
            return dotted
        return f"{q}.{rest}" if rest else q


def dotted_name(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


@dataclass
class Summaries:
    """Module-local facts about helpers, by bare function name and by method name."""

    sources: set[str] = field(default_factory=set)
    closers: dict[str, set[int]] = field(default_factory=dict)
    keepers: dict[str, set[int]] = field(default_factory=dict)
    async_funcs: set[str] = field(default_factory=set)


@dataclass
class Snippet:
    """A top-level-or-nested region handed to libcst: one maximal candidate function, or one
    module-level statement."""

    start: int  # first line (1-based, decorators included)
    end: int  # last line
    indented: bool
    functions: list[tuple[FuncNode, bool]]  # preorder, with "is a candidate"
    module_level: bool = False


@dataclass
class ScanResult:
    imports: ImportTable
    summaries: Summaries
    snippets: list[Snippet]
    classes: list[ast.ClassDef]
    tree: ast.Module


def _iter_nodes(root: ast.AST) -> Iterator[ast.AST]:
    # Iterative: deeply nested input must not hit the recursion limit here.
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _params(fn: FuncNode) -> list[str]:
    a = fn.args
    names = [p.arg for p in getattr(a, "posonlyargs", [])] + [p.arg for p in a.args]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return names


def _summarize(fns: list[FuncNode], imports: ImportTable, factories: frozenset[str], extra_closers: frozenset[str]) -> Summaries:
    s = Summaries()
    # Closers and keepers: a parameter closed, or stored somewhere that outlives the call.
    for fn in fns:
        params = _params(fn)
        if not params:
            continue
        index = {p: i for i, p in enumerate(params)}
        for node in _iter_nodes(fn):
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in index:
                    if f.attr in model.CLOSE_METHODS:
                        s.closers.setdefault(fn.name, set()).add(index[f.value.id])
                elif isinstance(f, ast.Attribute) and f.attr in model.KEEPING_METHODS:
                    for arg in node.args:
                        if isinstance(arg, ast.Name) and arg.id in index:
                            s.keepers.setdefault(fn.name, set()).add(index[arg.id])
                name = dotted_name(f)
                if name and imports.qualify(name) in extra_closers:
                    for arg in node.args[:1]:
                        if isinstance(arg, ast.Name) and arg.id in index:
                            s.closers.setdefault(fn.name, set()).add(index[arg.id])
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in index:
                if any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets):
                    s.keepers.setdefault(fn.name, set()).add(index[node.value.id])
    # Sources: a function that returns a fresh socket (directly, or through a local name);
    # iterate so that a helper returning another helper's socket is a source too.
    changed = True
    rounds = 0
    while changed and rounds < 5:
        changed = False
        rounds += 1
        for fn in fns:
            if fn.name in s.sources:
                continue
            if _returns_fresh(fn, imports, factories, s.sources):
                s.sources.add(fn.name)
                changed = True
    return s


def _is_source_call(node: ast.AST, imports: ImportTable, factories: frozenset[str], local_sources: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = dotted_name(node.func)
    if name is not None:
        q = imports.qualify(name)
        if q in model.FACTORIES or q in factories:
            return True
        last = name.rsplit(".", 1)[-1]
        if (name == last or name.startswith(("self.", "cls."))) and last in local_sources:
            return True
    if isinstance(node.func, ast.Attribute) and node.func.attr in model.WRAP_METHODS:
        return True
    return False


def _returns_fresh(fn: FuncNode, imports: ImportTable, factories: frozenset[str], local_sources: set[str]) -> bool:
    fresh_names: set[str] = set()
    returns: list[ast.expr] = []
    for node in _iter_nodes(fn):
        if node is not fn and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Assign) and _is_source_call(node.value, imports, factories, local_sources):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    fresh_names.add(t.id)
        elif isinstance(node, ast.Return) and node.value is not None:
            returns.append(node.value)
    for r in returns:
        if _is_source_call(r, imports, factories, local_sources):
            return True
        if isinstance(r, ast.Name) and r.id in fresh_names:
            return True
    return False


def scan(tree: ast.Module, factories: frozenset[str] = frozenset(), closers: frozenset[str] = frozenset()) -> ScanResult:
    imports = ImportTable()
    fns: list[FuncNode] = []
    classes: list[ast.ClassDef] = []
    for node in _iter_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.add(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fns.append(node)
        elif isinstance(node, ast.ClassDef):
            classes.append(node)
    summaries = _summarize(fns, imports, factories, closers)
    summaries.async_funcs = {f.name for f in fns if isinstance(f, ast.AsyncFunctionDef)}
    trigger_names = {n.rsplit(".", 1)[-1] for n in factories} | summaries.sources

    def is_trigger(node: ast.AST) -> bool:
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute):
                if f.attr in TRIGGER_METHODS or f.attr in trigger_names:
                    return True
            name = dotted_name(f)
            if name is not None:
                q = imports.qualify(name)
                if q in model.FACTORIES or q in model.PAIR_FACTORIES or q in factories:
                    return True
                if name in trigger_names:
                    return True
            for kw in node.keywords:
                if kw.arg in ("reuse_address", "reuse_port"):
                    return True
        elif isinstance(node, ast.Attribute) and node.attr in TRIGGER_ATTRIBUTES:
            return True
        return False

    snippets: list[Snippet] = []

    def visit_function(fn: FuncNode) -> tuple[list[tuple[FuncNode, bool]], bool]:
        """Preorder list of (function, candidate) inside ``fn``; whether any is a candidate."""
        own = False
        nested: list[tuple[FuncNode, bool]] = []
        stack: list[ast.AST] = list(ast.iter_child_nodes(fn))
        inner: list[FuncNode] = []
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner.append(node)
                continue
            if not own and is_trigger(node):
                own = True
            stack.extend(ast.iter_child_nodes(node))
        inner.sort(key=lambda n: (n.lineno, n.col_offset))
        any_candidate = own
        for sub in inner:
            sub_list, sub_any = visit_function(sub)
            nested.extend(sub_list)
            any_candidate = any_candidate or sub_any
        return [(fn, own), *nested], any_candidate

    def start_line(fn: FuncNode) -> int:
        return min([fn.lineno, *(d.lineno for d in fn.decorator_list)])

    # Walk statements (not expressions) to find maximal candidate functions and module code.
    def walk_body(body: list[ast.stmt], module_level: bool) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                fl, anyc = visit_function(stmt)
                if anyc:
                    end = stmt.end_lineno or stmt.lineno
                    snippets.append(Snippet(start_line(stmt), end, stmt.col_offset > 0, fl))
            elif isinstance(stmt, ast.ClassDef):
                walk_body(stmt.body, False)
            elif module_level:
                if any(is_trigger(n) for n in _iter_nodes(stmt)):
                    if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)) and _contains_def(stmt):
                        # ``if __name__ == "__main__":`` blocks and guarded defs: analyse the
                        # statement whole; its functions are found inside it.
                        pass
                    end = stmt.end_lineno or stmt.lineno
                    fl = []
                    for n in _iter_nodes(stmt):
                        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                            fl.append(n)
                    fl.sort(key=lambda n: (n.lineno, n.col_offset))
                    flat: list[tuple[FuncNode, bool]] = []
                    for f in fl:
                        flat.append((f, True))
                    snippets.append(Snippet(stmt.lineno, end, False, flat, module_level=True))
                else:
                    # Functions defined inside module-level compound statements.
                    for child in ast.iter_child_nodes(stmt):
                        if isinstance(child, ast.stmt):
                            pass
                    inner_body: list[ast.stmt] = []
                    for attr in ("body", "orelse", "finalbody"):
                        inner_body.extend(getattr(stmt, attr, []) or [])
                    for h in getattr(stmt, "handlers", []) or []:
                        inner_body.extend(h.body)
                    walk_body([s for s in inner_body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))], False)

    walk_body(tree.body, True)
    return ScanResult(imports, summaries, snippets, classes, tree)


def _contains_def(stmt: ast.stmt) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in _iter_nodes(stmt))
