"""Reading and validating model rows: the built-in TOML files and a user's
``[tool.socklint.models]`` table share one schema (``KINDS``), so a user row is exactly a
built-in row with ``source = "config"``.

A file holds arrays of tables, one array per row kind::

    [[socket-methods]]
    names = ["setsockopt", "getsockopt"]
    raises = "config"
    why = "configuration fails with a plain OSError (EBADF, EINVAL), never a timeout"

``name = "x"`` or ``names = [...]`` (a group sharing every other field) is required; ``why``
(the reason, in the code's terms) and ``fixture`` (the fixture file that pins the row) are
optional. A group is expanded into one ``Row`` per name. Anything else is checked against the
kind's fields: an unknown kind or key, a wrong type or a value outside the allowed choices is
a ``ModelError`` naming the file, the kind and the row.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

FieldValue = Union[str, bool]

# The built-in files, in load order. Order matters only for `exception-aliases`, a mapping,
# where a later row for the same name would be an error anyway.
BUILTIN_FILES = ("socket.toml", "ssl.toml", "stdlib.toml", "async.toml", "testing.toml")
HEURISTICS_FILE = "heuristics.toml"
_DATA_DIR = Path(__file__).resolve().parent


class ModelError(ValueError):
    """A model row that does not fit the schema (a built-in file or the user's configuration)."""


@dataclass(frozen=True)
class Field:
    """One key of a row kind: its type (``str`` or ``bool``), the allowed values of a string
    field (empty: any string), and the default (None: the key is required)."""

    type: type
    choices: tuple[str, ...] = ()
    default: FieldValue | None = None


@dataclass(frozen=True)
class Kind:
    doc: str
    fields: Mapping[str, Field]
    # Fields that make two rows of one name different rows (`cannot-fail` lists `str` both as
    # an inspector of constants and as a conversion): a name may repeat only with other values.
    key: tuple[str, ...] = ()


def _choice(*values: str, default: str | None = None) -> Field:
    return Field(str, values, default)


_NONE: Mapping[str, Field] = {}

# The kinds of resource a factory can return: a socket, or an asyncio object that owns one.
# trio's and anyio's byte streams and listeners (`stream`, `listener`) are closed by
# `await x.aclose()`.
RESOURCE_KINDS = ("socket", "stream-writer", "transport", "server", "stream", "listener")

KINDS: Mapping[str, Kind] = {
    "factories": Kind(
        "Calls (qualified names) that return a fresh socket the caller owns.",
        {
            "returns": _choice("socket", "pair", "first-of-pair", "second-of-pair", default="socket"),
            "takes-over-argument": Field(bool, default=False),
            "is-class": Field(bool, default=False),
            # What the new resource is: a socket, or an asyncio object that owns one.
            "resource": _choice(*RESOURCE_KINDS, default="socket"),
            # `function`: matched by qualified name; `method`: on any receiver (`loop.X(...)`).
            "call": _choice("function", "method", default="function"),
            # For `first-of-pair` / `second-of-pair`: what the other element is.
            "companion": _choice("data", "view", "holder", default="data"),
        },
    ),
    "method-factories": Kind(
        "Methods, on any receiver, that return a fresh socket: `wrap` (takes its first argument "
        "over), `dup`, `accept` (a source only when its pair is unpacked or indexed).",
        {"how": _choice("wrap", "dup", "accept")},
    ),
    "socket-methods": Kind(
        "Methods of a socket object and what a call on a tracked socket does.",
        {
            "raises": _choice("io", "config", "none", default="io"),
            "config": Field(bool, default=False),
            # When a failure happens: "" means as `raises` says (io: in operation; config: on
            # misuse). See docs/models.md and the realistic witness of a leak (rules/lifecycle.py).
            "fails": _choice("in-operation", "on-misuse", "in-operation-unless-port-zero", default=""),
            "touches": Field(bool, default=True),
            "closes": Field(bool, default=False),
            "derives": Field(bool, default=False),
            "returns-receiver": Field(bool, default=False),
        },
    ),
    "keepers": Kind(
        "Calls that take a socket argument over (store it, hand it to a longer-lived owner).",
        {"call": _choice("function", "method", "any"), "raises": _choice("maybe", "none", default="maybe")},
        key=("call",),
    ),
    "closers": Kind("Functions that close the socket passed as their first argument.", _NONE),
    "borrowers": Kind("Calls that look at a socket without ever owning it.", _NONE),
    "pass-throughs": Kind(
        "Calls that return their argument, owned as before (`closing(s)`); `awaited-result`: "
        "awaiting the call gives what awaiting its first argument gives (`asyncio.wait_for`); "
        "`run-to-completion`: an event loop's method (by method name) whose result is what awaiting "
        "its first argument gives (`loop.run_until_complete(coro)`).",
        {"passes": _choice("argument", "awaited-result", "run-to-completion", default="argument")},
    ),
    "resource-methods": Kind(
        "Methods of the async resources (stream writers, transports, servers, byte streams, "
        "listeners): whether a call "
        "closes the resource, cannot fail, or fails in operation.",
        {
            "resource": _choice(*RESOURCE_KINDS[1:]),
            "raises": _choice("io", "config", "none", "any", default="any"),
            "closes": Field(bool, default=False),
        },
        key=("resource",),
    ),
    "connection-handlers": Kind(
        "Calls that register a callback run once per accepted connection (`asyncio.start_server("
        "cb, ...)`): the callback owns one of its parameters (the connection's resource).",
        {
            "owned-parameter": _choice("first", "second", default="second"),
            "companion": _choice("data", "view", "holder", default="data"),
            "resource": _choice(*RESOURCE_KINDS, default="socket"),
            "keyword": Field(str, default=""),
        },
    ),
    "context-managers": Kind(
        "Context managers by effect: `suppresses` the exceptions named in its arguments, "
        "`expects-raise` (the body is expected to fail), `inert` (construction cannot fail), "
        "`shields` (with `shield=True`, no cancellation from outside arrives in the body), "
        "`enters-at-once` (`__aenter__()` never suspends: no cancellation arrives on entry), "
        "`waits-on-exit` (`__aexit__()` waits for child tasks: a cancellation can arrive on leaving).",
        {"effect": _choice("suppresses", "expects-raise", "inert", "shields", "enters-at-once", "waits-on-exit")},
        key=("effect",),
    ),
    "noreturn": Kind("Calls that never return normally.", _NONE),
    "exiting-parsers": Kind("Command-line parser classes whose `error()`/`exit()` end the program.", _NONE),
    "test-failure-methods": Kind("`self.<method>()` calls that fail the running test.", _NONE),
    "inspectors": Kind("Functions that only look at their arguments: never raise points, never owners.", _NONE),
    "cannot-fail": Kind(
        "Calls that fail only when misused: `always`, `unless-misused` (a TypeError, an empty "
        "`min()`), `constant-arguments` (when every argument is a constant).",
        {"when": _choice("always", "unless-misused", "constant-arguments")},
        key=("when",),
    ),
    "string-methods": Kind("str/bytes methods that build a string and fail only when misused.", _NONE),
    "lenient-codec-errors": Kind("Codec error handlers that never raise.", _NONE),
    "container-methods": Kind(
        "Methods of a list, dict or set built in the function (`rtts = []`) that cannot fail: "
        "no raise point.",
        _NONE,
    ),
    "coroutine-methods": Kind(
        "Event-loop methods that only build a coroutine when called; `fails = \"in-operation\"`: "
        "awaiting it is socket I/O (an OSError in normal operation: a refused connect, a reset).",
        {"fails": _choice("in-operation", default="")},
    ),
    "config-functions": Kind(
        "Module functions that configure a descriptor: plain OSError only; `fails` says whether "
        "that happens in normal operation (a lock held, an interface gone) or only on misuse.",
        {"fails": _choice("in-operation", "on-misuse", default="on-misuse")},
    ),
    "network-functions": Kind(
        "Module functions that do network I/O of their own and fail in normal operation (name "
        "resolution): a socket open across one leaks as surely as when its own `connect()` fails.",
        _NONE,
    ),
    "oserror-functions": Kind(
        "Module functions that fail only with OSError, and only on bad input (an address string "
        "that is not one: `socket.inet_aton`): a helper calling them raises nothing else.",
        _NONE,
    ),
    "closed-tests": Kind(
        "Methods (called with no argument) and attributes whose truth says the object is closed or "
        "closing (`writer.is_closing()`): on the branch where one holds, nothing is left to close.",
        {"form": _choice("call", "attribute")},
        key=("form",),
    ),
    "io-only-errnos": Kind("errno names only I/O produces, never a configuration call.", _NONE),
    "exception-aliases": Kind(
        "Qualified exception names and the builtin class they are (`OSErrorSubclass`: some "
        "subclass of OSError).",
        {"means": Field(str)},
    ),
    "exception-names": Kind(
        "Exception names as spelt in a handler, for the module scan (no import resolution): "
        "`catches-oserror`, `is-oserror`, `catch-all`, `cancellation` (a handler for the exception "
        "that cancels a task at an `await`).",
        {"role": _choice("catches-oserror", "is-oserror", "catch-all", "cancellation")},
        key=("role",),
    ),
    "report-calls": Kind("Calls a print/log helper may make: console or log output only.", _NONE),
    "text-builtins": Kind("Builtins that turn values into text for a message.", _NONE),
    "owning-keywords": Kind("Keyword argument names that hand a socket to its new owner.", _NONE),
    "test-doubles": Kind(
        "Test doubles of the network: `installs-socket-factory` (socket-like modules' factories "
        "make fakes afterwards), `patches-socket-module` (`socket.socket` is a fake afterwards, "
        "also as a context manager), `patching-decorator` (the same for a whole function), "
        "`fake-network-class` (its `enable()` installs a socket factory).",
        {"effect": _choice("installs-socket-factory", "patches-socket-module", "patching-decorator", "fake-network-class")},
        key=("effect",),
    ),
    "socket-attributes": Kind("`socket` module attributes present on every Python 3 and platform.", _NONE),
    "python2-names": Kind("Names Python 3 removed: a test using one raises, so neither branch runs.", _NONE),
    "python-version-flags": Kind(
        "Names whose value is a constant on every Python 3 (`six.PY2`).", {"on-python3": Field(bool)}
    ),
    "triggers": Kind(
        "What makes a file or function worth the deep analysis: a called `method` (or function) "
        "name, an `attribute`, a `keyword` argument, or `text` anywhere in the file (prefilter).",
        {"where": _choice("method", "attribute", "keyword", "text")},
        key=("where",),
    ),
}

# Word lists of the predicates keyed on spelling (heuristics): one table each in
# heuristics.toml, every key a list of strings. Only these ids and keys are accepted.
HEURISTICS: Mapping[str, tuple[str, ...]] = {
    "closes-by-name": ("contains", "unless-contains", "unless-prefix"),
    "accessor": ("prefix",),
    "logging-call": ("methods", "functions"),
    "logger-receiver": ("names", "suffixes"),
    "test-assertion": ("prefix",),
    "object-method-closes-by-name": ("words",),
}

_COMMON = ("name", "names", "why", "fixture")


@dataclass(frozen=True)
class Row:
    """One model row for one name. ``fields`` holds every field of the kind, defaults filled
    in, sorted by key (hashable, so a tuple of rows can sit in the frozen Settings)."""

    kind: str
    name: str
    fields: tuple[tuple[str, FieldValue], ...] = ()
    why: str = ""
    fixture: str = ""
    source: str = ""

    def get(self, key: str) -> FieldValue:
        for k, v in self.fields:
            if k == key:
                return v
        raise KeyError(f"{self.kind} rows have no field {key!r}")


def _where(source: str, kind: str, index: int, raw: Mapping[str, Any]) -> str:
    label = raw.get("name") if isinstance(raw.get("name"), str) else None
    if label is None and isinstance(raw.get("names"), list) and raw["names"]:
        label = str(raw["names"][0]) + (", ..." if len(raw["names"]) > 1 else "")
    return f"{source}: [[{kind}]] row {index + 1}" + (f" ({label})" if label else "")


def _row_names(where: str, raw: Mapping[str, Any]) -> list[str]:
    if ("name" in raw) == ("names" in raw):
        raise ModelError(f"{where}: give exactly one of 'name' (a string) or 'names' (a list of strings)")
    names = [raw["name"]] if "name" in raw else raw["names"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ModelError(f"{where}: 'name' must be a non-empty string, 'names' a non-empty list of them")
    return names


def _row_fields(where: str, kind: Kind, raw: Mapping[str, Any]) -> tuple[tuple[str, FieldValue], ...]:
    unknown = sorted(set(raw) - set(kind.fields) - set(_COMMON))
    if unknown:
        known = ", ".join([*_COMMON, *kind.fields])
        raise ModelError(f"{where}: unknown key {unknown[0]!r} (known keys: {known})")
    for key in ("why", "fixture"):
        if key in raw and not isinstance(raw[key], str):
            raise ModelError(f"{where}: {key!r} must be a string")
    out: list[tuple[str, FieldValue]] = []
    for key, spec in sorted(kind.fields.items()):
        if key not in raw:
            if spec.default is None:
                raise ModelError(f"{where}: missing required key {key!r}")
            out.append((key, spec.default))
            continue
        value = raw[key]
        if not isinstance(value, (str, bool)) or type(value) is not spec.type:
            raise ModelError(f"{where}: {key!r} must be a {'string' if spec.type is str else 'boolean'}, not {value!r}")
        if spec.choices and value not in spec.choices:
            raise ModelError(f"{where}: {key!r} is {value!r}; expected one of {', '.join(spec.choices)}")
        out.append((key, value))
    return tuple(out)


def parse_rows(data: Mapping[str, Any], source: str, *, user: bool = False) -> tuple[Row, ...]:
    """Validate a file's (or the user table's) arrays of rows and expand them, one row per name."""
    rows: list[Row] = []
    seen: dict[tuple[Any, ...], int] = {}
    for kind_name, entries in data.items():
        kind = KINDS.get(kind_name)
        if kind is None:
            raise ModelError(f"{source}: unknown row kind {kind_name!r} (known kinds: {', '.join(KINDS)})")
        if user and isinstance(entries, list) and all(isinstance(e, str) for e in entries):
            entries = [{"name": e} for e in entries]  # the shorthand `closers = ["a.b"]`
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            what = "a list of names or of row tables" if user else "an array of tables ([[kind]])"
            raise ModelError(f"{source}: {kind_name!r} must be {what}")
        for index, raw in enumerate(entries):
            where = _where(source, kind_name, index, raw)
            fields = _row_fields(where, kind, raw)
            values = dict(fields)
            for name in _row_names(where, raw):
                dup = (kind_name, name, *(values[k] for k in kind.key))
                if dup in seen:
                    if user:
                        continue  # a name listed twice in a configuration is harmless
                    raise ModelError(f"{where}: {name!r} is already a {kind_name} row (row {seen[dup] + 1})")
                seen[dup] = index
                rows.append(Row(kind_name, name, fields, raw.get("why", ""), raw.get("fixture", ""), source))
    return tuple(rows)


def parse_rows_file(path: Path) -> tuple[Row, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path.name}: cannot read: {exc}") from exc
    return parse_rows(data, path.name)


@functools.cache
def builtin_rows() -> tuple[Row, ...]:
    """Every built-in row, read and validated once per process."""
    rows: list[Row] = []
    for name in BUILTIN_FILES:
        rows.extend(parse_rows_file(_DATA_DIR / name))
    seen: dict[tuple[FieldValue, ...], Row] = {}
    for r in rows:  # the same row in two files (each file checked itself already)
        key = (r.kind, r.name, *(r.get(k) for k in KINDS[r.kind].key))
        if key in seen:
            raise ModelError(f"{r.source}: [[{r.kind}]] {r.name!r} is also a row of {seen[key].source}")
        seen[key] = r
    return tuple(rows)


@functools.cache
def builtin_heuristics() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """The word lists of the spelling heuristics (``heuristics.toml``), validated."""
    path = _DATA_DIR / HEURISTICS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path.name}: cannot read: {exc}") from exc
    return parse_heuristics(data, path.name)


def parse_heuristics(data: Mapping[str, Any], source: str) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    table = data.get("heuristics")
    if set(data) != {"heuristics"} or not isinstance(table, dict):
        raise ModelError(f"{source}: expected only [heuristics.<id>] tables")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for hid, keys in HEURISTICS.items():
        entry = table.get(hid)
        if not isinstance(entry, dict):
            raise ModelError(f"{source}: missing [heuristics.{hid}]")
        unknown = sorted(set(entry) - set(keys) - {"why"})
        if unknown:
            raise ModelError(f"{source}: [heuristics.{hid}]: unknown key {unknown[0]!r} (known keys: why, {', '.join(keys)})")
        out[hid] = {}
        for key in keys:
            value = entry.get(key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ModelError(f"{source}: [heuristics.{hid}]: {key!r} must be a list of strings")
            out[hid][key] = tuple(value)
    extra = sorted(set(table) - set(HEURISTICS))
    if extra:
        raise ModelError(f"{source}: unknown heuristic {extra[0]!r} (known: {', '.join(HEURISTICS)})")
    return out


# The flat `[tool.socklint]` keys that predate `[tool.socklint.models]`: each is a list of
# names, the shorthand of user rows of one kind.
FLAT_KEYS: Mapping[str, tuple[str, Mapping[str, FieldValue]]] = {
    "socket-factories": ("factories", {}),
    "closers": ("closers", {}),
    # The flat key always matched the qualified name, the name as written, or its last part.
    "ownership-sinks": ("keepers", {"call": "any"}),
    "borrowers": ("borrowers", {}),
}


def shorthand_rows(flat: Mapping[str, tuple[str, ...]], source: str = "[tool.socklint]") -> tuple[Row, ...]:
    """User rows for the flat keys (``{"closers": ("a.close_all",), ...}``)."""
    data: dict[str, list[dict[str, Any]]] = {}
    for key, names in flat.items():
        if key not in FLAT_KEYS:
            raise ModelError(f"{source}: {key!r} is not a shorthand of model rows (known: {', '.join(FLAT_KEYS)})")
        kind, extra = FLAT_KEYS[key]
        data.setdefault(kind, []).extend({"name": n, **extra} for n in names if n)
    return _as_config(parse_rows(data, source, user=True))


@functools.lru_cache(maxsize=32)
def flat_rows(
    socket_factories: tuple[str, ...] = (),
    closers: tuple[str, ...] = (),
    ownership_sinks: tuple[str, ...] = (),
    borrowers: tuple[str, ...] = (),
) -> tuple[Row, ...]:
    """``shorthand_rows`` for the four flat settings, cached: the engine may ask per file."""
    return shorthand_rows(
        {"socket-factories": socket_factories, "closers": closers, "ownership-sinks": ownership_sinks, "borrowers": borrowers}
    )


def rows_as_table(rows: tuple[Row, ...]) -> dict[str, list[dict[str, Any]]]:
    """The inverse of ``parse_user_models``: rows as a ``[tool.socklint.models]`` table (for
    showing the effective settings)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        entry: dict[str, Any] = {"name": r.name, **dict(r.fields)}
        for key, value in (("why", r.why), ("fixture", r.fixture)):
            if value:
                entry[key] = value
        out.setdefault(r.kind, []).append(entry)
    return out


def parse_user_models(table: Mapping[str, Any], source: str = "[tool.socklint.models]") -> tuple[Row, ...]:
    """Validate the raw ``[tool.socklint.models]`` table: each key a row kind, each value a list
    of names (rows with default fields) or of row tables. The result is hashable."""
    if not isinstance(table, Mapping):
        raise ModelError(f"{source}: must be a table")
    return _as_config(parse_rows(table, source, user=True))


def _as_config(rows: tuple[Row, ...]) -> tuple[Row, ...]:
    return tuple(Row(r.kind, r.name, r.fields, r.why, r.fixture, "config") for r in rows)
