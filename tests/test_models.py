"""The library model rows (socklint/models/*.toml): schema validation, provenance fixtures,
user rows and their precedence, and the tables the engine reads being built from the rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socklint.analysis import model
from socklint.models import (
    HEURISTICS,
    KINDS,
    ModelError,
    Row,
    builtin_heuristics,
    builtin_rows,
    flat_rows,
    parse_rows_file,
    parse_user_models,
    rows_as_table,
    shorthand_rows,
)
from socklint.models.load import BUILTIN_FILES, FLAT_KEYS, parse_heuristics

ROOT = Path(__file__).resolve().parent.parent


def _file(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- the shipped rows
def test_every_builtin_file_loads_and_each_kind_is_used() -> None:
    rows = builtin_rows()
    assert {r.source for r in rows} == set(BUILTIN_FILES)
    # Every kind has shipped rows (otherwise the kind is dead).
    assert {r.kind for r in rows} == set(KINDS)


@pytest.mark.parametrize("row", [r for r in builtin_rows() if r.fixture], ids=lambda r: f"{r.kind}:{r.name}")
def test_fixture_of_a_row_exists_and_mentions_its_name(row: Row) -> None:
    path = ROOT / row.fixture
    assert path.is_file(), f"{row.source}: {row.kind} row {row.name!r}: no fixture {row.fixture}"
    # Fixtures call an API through their own imports: the last part of the name must appear.
    last = row.name.rsplit(".", 1)[-1]
    assert re.search(rf"\b{re.escape(last)}\b", path.read_text(encoding="utf-8")), (
        f"{row.fixture} never mentions {last!r} ({row.kind} row of {row.source})"
    )


def test_rows_cached_once_per_process() -> None:
    assert builtin_rows() is builtin_rows()
    assert builtin_heuristics() is builtin_heuristics()


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[socket-methodz]]\nname = "frob"\n', "unknown row kind 'socket-methodz'"),
        ('[[socket-methods]]\nname = "frob"\nraise = "io"\n', "row 1 (frob): unknown key 'raise'"),
        ('[[socket-methods]]\nname = "frob"\nraises = "sometimes"\n', "row 1 (frob): 'raises' is 'sometimes'; expected one of io, config, none"),
        ('[[socket-methods]]\nname = "frob"\ncloses = "yes"\n', "row 1 (frob): 'closes' must be a boolean"),
        ('[[exception-aliases]]\nname = "x.Error"\nmeans = 1\n', "row 1 (x.Error): 'means' must be a string"),
        ('[[exception-aliases]]\nname = "x.Error"\n', "row 1 (x.Error): missing required key 'means'"),
        ('[[noreturn]]\nwhy = "no name"\n', "row 1: give exactly one of 'name'"),
        ('[[noreturn]]\nname = "a"\nnames = ["b"]\n', "row 1 (a): give exactly one of 'name'"),
        ('[[noreturn]]\nnames = []\n', "row 1: 'name' must be a non-empty string"),
        ('[[noreturn]]\nname = "a"\nfixture = 3\n', "row 1 (a): 'fixture' must be a string"),
        ('[[noreturn]]\nname = "a"\n\n[[noreturn]]\nnames = ["b", "a"]\n', "row 2 (b, ...): 'a' is already a noreturn row (row 1)"),
        ("noreturn = 3\n", "'noreturn' must be an array of tables"),
        ("[[noreturn]\n", "cannot read"),
    ],
)
def test_a_bad_row_is_an_error_naming_file_kind_and_row(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_rows_file(_file(tmp_path, text))
    assert str(info.value).startswith("mine.toml"), str(info.value)
    assert message in str(info.value)


def test_same_name_twice_is_fine_when_the_discriminating_field_differs(tmp_path: Path) -> None:
    rows = parse_rows_file(
        _file(tmp_path, '[[cannot-fail]]\nname = "str"\nwhen = "always"\n\n[[cannot-fail]]\nname = "str"\nwhen = "constant-arguments"\n')
    )
    assert [r.get("when") for r in rows] == ["always", "constant-arguments"]


def test_group_rows_expand_with_defaults_filled_in(tmp_path: Path) -> None:
    rows = parse_rows_file(_file(tmp_path, '[[socket-methods]]\nnames = ["a", "b"]\nraises = "none"\nwhy = "w"\n'))
    assert [r.name for r in rows] == ["a", "b"]
    assert dict(rows[0].fields) == {
        "raises": "none", "config": False, "fails": "", "touches": True, "closes": False, "derives": False, "returns-receiver": False,
    }
    assert rows[0].why == "w"
    assert rows[0].source == "mine.toml"


def test_heuristics_file_is_validated() -> None:
    good = {"heuristics": {h: {k: [] for k in keys} for h, keys in HEURISTICS.items()}}
    assert parse_heuristics(good, "h.toml")["accessor"]["prefix"] == ()
    bad_key = {"heuristics": {**good["heuristics"], "accessor": {"prefix": [], "suffix": []}}}
    with pytest.raises(ModelError, match=r"h.toml: \[heuristics.accessor\]: unknown key 'suffix'"):
        parse_heuristics(bad_key, "h.toml")
    unknown = {"heuristics": {**good["heuristics"], "by-colour": {}}}
    with pytest.raises(ModelError, match="unknown heuristic 'by-colour'"):
        parse_heuristics(unknown, "h.toml")
    wrong_type = {"heuristics": {**good["heuristics"], "accessor": {"prefix": "get"}}}
    with pytest.raises(ModelError, match="'prefix' must be a list of strings"):
        parse_heuristics(wrong_type, "h.toml")


# ---------------------------------------------------------------------- tables from rows
def test_engine_tables_follow_the_socket_method_rows() -> None:
    # A configuration call that cannot fail in practice is in both tables.
    assert {"settimeout", "setblocking", "getsockname"} <= model.CONFIG_SOCKET_METHODS & model.NONRAISING_SOCKET_METHODS
    # Closing is not a "touching" call; `gettimeout` only reads a stored value.
    assert "close" in model.CLOSE_METHODS and "close" not in model.SOCKET_METHODS
    assert "gettimeout" in model.NONRAISING_SOCKET_METHODS and "gettimeout" not in model.SOCKET_METHODS
    assert model.BUILTIN.socket_method("makefile") == model.SocketMethod(
        "makefile", "none", False, "on-misuse", True, False, True, False, "socket.toml"
    )
    # When a failure happens, for the realistic witness of a leak: `raises = "io"` fails in
    # operation, `raises = "config"` on misuse, unless the row says otherwise.
    assert [model.BUILTIN.fails(m) for m in ("connect", "recv", "setsockopt", "listen", "shutdown", "getpeername", "bind")] == [
        "in-operation", "in-operation", "on-misuse", "on-misuse", "in-operation", "in-operation", "in-operation-unless-port-zero",
    ]
    assert model.BUILTIN.factory("ssl.SSLSocket") == model.Factory("ssl.SSLSocket", "socket", True, "ssl.toml")
    assert model.BUILTIN.factory("socket.socketpair") is not None
    assert model.BUILTIN.factory("socket.socketpair").returns == "pair"  # type: ignore[union-attr]


def test_public_tables_keep_their_types() -> None:
    for name, value in vars(model).items():
        if name.isupper() and not name.startswith("_") and name not in ("BUILTIN", "OSERROR_ALIASES", "PYTHON3_FLAGS", "TEXT_TRIGGERS"):
            assert isinstance(value, frozenset) and all(isinstance(v, str) for v in value), name
    assert isinstance(model.OSERROR_ALIASES, dict) and model.OSERROR_ALIASES["socket.timeout"] == "TimeoutError"
    assert model.builtin_exception("ssl.SSLError") is model.OSErrorSubclass
    assert model.builtin_exception("IOError") is OSError
    assert all(isinstance(t, bytes) for t in model.TEXT_TRIGGERS)


def test_spelling_heuristics_read_their_word_lists() -> None:
    assert model.closes_by_name("safe_close") and model.closes_by_name("_close_on_teardown")
    assert not model.closes_by_name("is_closed") and not model.closes_by_name("close_on_exec")
    assert model.is_accessor("getsubprotocol") and not model.is_accessor("getpeername")
    assert model.is_logging_call(None, "_debug") and model.is_logging_call("debug2", None)
    assert not model.is_logging_call("error", None)
    assert model.is_test_assertion("failUnlessEqual") and model.is_test_assertion("fail")
    assert model.is_logger_name("self._access_logger") and not model.is_logger_name("self.log_file")


# ---------------------------------------------------------------------- user rows
def test_user_table_takes_names_or_row_tables_and_is_hashable() -> None:
    rows = parse_user_models(
        {
            "closers": ["mylib.close_quietly"],
            "socket-methods": [{"name": "frob", "raises": "config", "why": "our wrapper's setter"}],
        }
    )
    assert {(r.kind, r.name) for r in rows} == {("closers", "mylib.close_quietly"), ("socket-methods", "frob")}
    assert all(r.source == "config" for r in rows)
    hash(rows)  # it goes into the frozen Settings


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"closer": ["x"]}, "[tool.socklint.models]: unknown row kind 'closer'"),
        ({"closers": "x"}, "'closers' must be a list of names or of row tables"),
        ({"keepers": ["x"]}, "[[keepers]] row 1 (x): missing required key 'call'"),
        ({"keepers": [{"name": "x", "call": "sometimes"}]}, "'call' is 'sometimes'"),
    ],
)
def test_bad_user_rows_are_errors(table: dict[str, object], message: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_user_models(table)
    assert message in str(info.value)


def test_flat_keys_are_shorthands_of_user_rows() -> None:
    flat = shorthand_rows({"socket-factories": ("mylib.connect",), "ownership-sinks": ("Pool.adopt",), "borrowers": ("fmt.enclose_in_brackets",)})
    table = parse_user_models(
        {"factories": ["mylib.connect"], "keepers": [{"name": "Pool.adopt", "call": "any"}], "borrowers": ["fmt.enclose_in_brackets"]}
    )
    assert set(flat) == set(table) and len(flat) == len(table)
    assert set(FLAT_KEYS) == {"socket-factories", "closers", "ownership-sinks", "borrowers"}
    # A name listed twice in a configuration is accepted, as the flat keys always were.
    assert len(shorthand_rows({"closers": ("a", "a")})) == 1
    assert flat_rows(closers=("a",)) == shorthand_rows({"closers": ("a",)})
    assert flat_rows(closers=("a",)) is flat_rows(closers=("a",))


def test_rows_round_trip_through_the_table_form() -> None:
    rows = parse_user_models({"keepers": [{"name": "p.adopt", "call": "any", "why": "w"}], "closers": ["c"]})
    assert parse_user_models(rows_as_table(rows)) == rows


def test_effective_model_adds_user_rows_once_per_distinct_settings() -> None:
    rows = parse_user_models({"socket-methods": [{"name": "frob", "raises": "config"}], "noreturn": ["mylib.die"]})
    m = model.effective_model(rows)
    assert m is model.effective_model(tuple(rows))
    assert model.effective_model(()) is model.BUILTIN
    assert "frob" in m.CONFIG_SOCKET_METHODS and "frob" not in model.CONFIG_SOCKET_METHODS
    assert "mylib.die" in m.NORETURN and m.user("noreturn") == {"mylib.die"}
    assert m.FACTORIES == model.FACTORIES


def test_a_user_row_wins_over_a_builtin_row_and_a_heuristic() -> None:
    base = model.BUILTIN
    assert base.call_ownership("fmt.close_quietly", "fmt.close_quietly", "close_quietly") == model.Ownership(
        "closes", "heuristic:closes-by-name"
    )
    # The guess reads whole words: `enclose` is not `close`.
    assert base.call_ownership("fmt.enclose_in_brackets", "fmt.enclose_in_brackets", "enclose_in_brackets") is None
    assert base.call_ownership("atexit.register", "atexit.register", "register") == model.Ownership("keeps", "stdlib.toml")
    mine = model.effective_model(shorthand_rows({"borrowers": ("fmt.close_quietly", "atexit.register")}))
    assert mine.call_ownership("fmt.close_quietly", "fmt.close_quietly", "close_quietly") == model.Ownership(
        "borrows", "config"
    )
    assert mine.call_ownership("atexit.register", "atexit.register", "register") == model.Ownership("borrows", "config")
    sinks = model.effective_model(shorthand_rows({"ownership-sinks": ("adopt_socket",)}))
    assert sinks.call_ownership("pool.adopt_socket", "pool.adopt_socket", "adopt_socket") == model.Ownership("keeps", "config")
    # A user's exception alias overrides a built-in one (later rows win in a mapping).
    alias = model.effective_model(parse_user_models({"exception-aliases": [{"name": "socket.timeout", "means": "OSError"}]}))
    assert alias.exception_class("socket.timeout") is OSError
    assert model.builtin_exception("socket.timeout") is TimeoutError


# ---------------------------------------------------------------------- documentation
def test_docs_describe_every_kind_field_and_heuristic() -> None:
    doc = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    for kind, spec in KINDS.items():
        assert f"### `{kind}`" in doc, kind
        section = doc.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        for field in spec.fields:
            assert f"`{field}`" in section, (kind, field)
        assert "```toml" in section, f"{kind}: no example"
    for hid, keys in HEURISTICS.items():
        assert f"`{hid}`" in doc
        for key in keys:
            assert f"`{key}`" in doc, (hid, key)
