"""Capture of Python values: bounded, masked, cycle-safe, never raising, never mutating."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field

import pytest

import pathwise


def summary(value, **kw):
    return json.loads(pathwise.summarize(value, **kw))


def test_primitives():
    assert summary(None) is None
    assert summary(True) is True
    assert summary(42) == 42
    assert summary(2**70) == str(2**70)
    assert summary(1.5) == 1.5
    assert summary(math.nan) == "NaN" and summary(-math.inf) == "-inf"
    assert summary(b"abc") == {"type": "bytes", "len": 3}


def test_strings_are_cut_with_count():
    assert summary("x" * 300) == "x" * 256 + "…(+44 chars)"
    assert summary("ééééé", max_repr=2) == "éé…(+3 chars)"


def test_collections_are_shallow():
    assert summary(list(range(12))) == list(range(10)) + ["+2 more"]
    assert summary((1, "a")) == [1, "a"]
    assert summary({3}) == [3]
    d = {f"k{i}": i for i in range(12)}
    out = summary(d)
    assert len(out) == 11 and out["+more"] == "2 more"
    deep = [[[[["bottom"]]]]]
    assert summary(deep) == [[[["…"]]]]


def test_secrets_masked_at_any_depth():
    value = {"a": [{"b": {"Password": "x", "githubToken": "t", "ok": 1}}], "ssn": "9"}
    assert summary(value, sensitive_fields=["ssn"]) == {
        "a": [{"b": {"Password": "***", "githubToken": "***", "ok": 1}}],
        "ssn": "***",
    }


def test_cycles_are_safe():
    a = [1]
    a.append(a)
    d = {"self": None}
    d["self"] = d
    assert summary(a) == [1, "<cycle>"]
    assert summary(d) == {"self": "<cycle>"}


@dataclass
class Point:
    x: int
    y: int
    secret: str = "s"
    tags: list = field(default_factory=list)


class Slotted:
    __slots__ = ("a", "b", "unset")

    def __init__(self):
        self.a = 1
        self.b = "two"


class Hostile:
    """Every dunder that could run user code during capture raises."""

    def __repr__(self):
        raise RuntimeError("repr")

    def __str__(self):
        raise RuntimeError("str")

    def __getattr__(self, name):
        raise RuntimeError(name)

    def __len__(self):
        raise RuntimeError("len")


def test_objects():
    assert summary(Point(1, 2, tags=["t"])) == {"x": 1, "y": 2, "secret": "***", "tags": ["t"]}
    assert summary(Slotted()) == {"a": 1, "b": "two"}
    assert summary(Hostile()) == {"type": f"{__name__}.Hostile"}
    assert summary(object()) == {"type": "object"}
    assert summary(Hostile) == {"type": "type"}


def test_capture_never_raises_or_changes_the_value(recording):
    @pathwise.monitor()
    def takes(value, other):
        return value

    value = {"items": [1, 2, 3], "point": Point(1, 2)}
    before = repr(value)
    h = Hostile()
    assert takes(value, h) is value
    assert repr(value) == before
    assert recording.one("takes").input["other"] == {"type": f"{__name__}.Hostile"}


def test_pydantic_models():
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):
        name: str
        api_key: str

    assert summary(User(name="ann", api_key="k")) == {"name": "ann", "api_key": "***"}


def test_numpy_arrays():
    np = pytest.importorskip("numpy")
    out = summary(np.arange(6, dtype="float64").reshape(2, 3))
    assert out == {"type": "ndarray", "dtype": "float64", "shape": [2, 3], "min": 0.0, "max": 5.0, "mean": 2.5}
    assert summary(np.int64(7)) == 7


def test_pandas_frames():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    assert summary(frame) == {"type": "DataFrame", "shape": [2, 2], "columns": ["a", "b"],
                              "dtypes": {"a": "int64", "b": "float64"}}
    assert summary(frame["a"]) == {"type": "Series", "shape": [2], "dtype": "int64", "name": "a"}


def test_compressed_payloads_read_back_through_sqlite_connect(recording):
    @pathwise.monitor(group="search")
    def search(query: str, limit: int) -> list:
        return [{"accession": f"GSE{i}", "title": f"study {i} for {query}"} for i in range(limit)]

    for i in range(300):
        search(f"lung atlas {i % 7}", 5 + i % 4)
    pathwise.flush()
    with pathwise.sqlite_connect(recording.db) as conn:
        kinds = dict(conn.execute(
            "SELECT typeof(output), count(*) FROM span_details GROUP BY 1").fetchall())
        outputs = [json.loads(o) for (o,) in conn.execute(
            "SELECT output FROM span_details_v").fetchall()]
        # A connection without the function says what is missing instead of returning bytes.
        plain = sqlite3.connect(f"file:{recording.db}?mode=ro", uri=True)
        with pytest.raises(sqlite3.OperationalError, match="pw_text"):
            plain.execute("SELECT output FROM span_details_v").fetchall()
        plain.close()
    # After the first samples a dictionary is trained and the rest are compressed.
    assert kinds.get("blob", 0) > 150, kinds
    expected = [search.__wrapped__(f"lung atlas {i % 7}", 5 + i % 4) for i in range(300)]
    assert sorted(map(json.dumps, outputs)) == sorted(map(json.dumps, expected))


def test_text_that_is_not_valid_utf8_and_odd_keys():
    # A lone surrogate cannot be encoded as UTF-8: replaced, never raised.
    out = summary("a\ud800b")
    assert out[0] == "a" and out[-1] == "b" and "\ufffd" in out
    assert summary({1: "one", None: 0, (1, 2): "t"}) == {"1": "one", "None": 0, "(1, 2)": "t"}
    assert summary('quote " and \\ and \n') == 'quote " and \\ and \n'
    assert summary({"ключ": "значение" * 40}, max_repr=5) == {"ключ": "значе…(+315 chars)"}


def test_many_classes_are_told_apart():
    """Each class's kind is decided once and remembered; classes made at run time (more than
    the memory holds) and classes that share a name are still summarised as what they are."""
    import dataclasses

    made = [dataclasses.make_dataclass("Row", [("n", int), (f"f{i}", int)]) for i in range(1500)]
    for i, cls in enumerate(made):
        assert summary(cls(i, i * 2)) == {"n": i, f"f{i}": i * 2}
    # Again, after the memory of classes started over.
    assert summary(made[3](3, 6)) == {"n": 3, "f3": 6}

    class Plain:
        pass

    assert summary(Plain()) == {"type": f"{__name__}.test_many_classes_are_told_apart.<locals>.Plain"}
