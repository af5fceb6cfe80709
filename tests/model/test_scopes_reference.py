"""The columnar scope tree (``model/scopes.py``) against the node-by-node build it replaced
(``tests/model/scopes_reference.py``): the same nodes, ids, edges, slots, kinds, paths and names, on
every checkpoint in tests/data, every key set of the wild corpus (skipped without it), and made-up
key sets with TF1 and Estimator slots, partitions, object-style keys and odd segments."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ckptviz
from ckptviz.model.graph import ObjectGraph
from ckptviz.model.scopes import _Trie
from tests.conftest import DATA, corpus
from tests.model.scopes_reference import reference_graph
from tests.wild.conftest import PRESENT, records


@pytest.fixture(params=["by paths", "by segments"], scope="module", autouse=True)
def _both_walks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every case twice: scopes found walking up by their paths, and (as for very deep keys)
    segment by segment from the root."""
    walk = _Trie._up
    if request.param == "by segments":
        _Trie._up = _Trie._down  # type: ignore[method-assign]
    yield
    _Trie._up = walk  # type: ignore[method-assign]


_NODE_FIELDS = ("id", "kind", "attributes", "values", "reachable", "path", "name", "full_name", "keys")
_PATH_FIELDS = ("parent", "segment", "depth", "order", "reachable", "special")


def assert_same_tree(entries: Mapping[str, Any]) -> None:
    nodes, edges, slots, paths = reference_graph(entries)
    if any(e.child < 0 for e in edges):  # the old build lost a scope under Adam (see test below)
        return
    graph = ObjectGraph.from_keys(entries)
    assert len(graph) == len(nodes)
    assert graph.edges == edges
    assert graph.slots == slots
    for field in _PATH_FIELDS:
        assert list(getattr(graph.paths, field)) == list(getattr(paths, field)) or (
            getattr(graph.paths, field) == getattr(paths, field)
        ), field
    assert list(graph.paths.adjacency) == list(paths.adjacency)
    for new, old in zip(graph.nodes, nodes):
        for field in _NODE_FIELDS:
            assert getattr(new, field) == getattr(old, field), (field, old.id, old.path)
    owner = {k: (n.id, a.name) for n in nodes for a in n.attributes for k in a.keys}
    assert list(graph.owner.items()) == list(owner.items())
    assert graph.full_names == [n.full_name for n in nodes]
    before = ObjectGraph(nodes, edges, slots, paths, object_based=False)
    ids = list(range(len(nodes)))
    assert graph.names.names_of(ids) == before.names.names_of(ids)
    assert graph.names.display_paths_of(ids) == before.names.display_paths_of(ids)


def _checkpoints() -> list[str]:
    out = []
    for case in corpus():
        if "error" not in case and "." not in case["name"]:
            out.append(case["path"])
    return out


@pytest.mark.parametrize("path", _checkpoints())
def test_every_fixture_as_before(path: str) -> None:
    """Name-based fixtures as they are, object-based ones as an index-only copy shows them (their
    keys, without the object graph)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ckptviz.open(str(DATA / path)) as ckpt:
            assert_same_tree(dict(ckpt.entries))


_WILD = [r for section in ("checkpoints", "incomplete_checkpoints") for r in records(section)]


@pytest.mark.skipif(not PRESENT, reason="the wild corpus (../shared/corpora/wild) is not here")
@pytest.mark.parametrize("record", _WILD, ids=lambda r: str(r["prefix"]))
def test_every_wild_key_set_as_before(record: dict[str, Any]) -> None:
    assert_same_tree({k["key"]: (k["dtype"], k["shape"]) for k in record["keys"]})


@pytest.mark.skipif(not PRESENT, reason="the wild corpus (../shared/corpora/wild) is not here")
def test_wild_keras_files_as_before() -> None:
    files = [m for r in records("keras_files") for m in r.get("h5_members", {}).values()]
    assert files
    for members in files:
        assert_same_tree({m["name"]: (m["dtype"], m["shape"]) for m in members if m["type"] == "dataset"})


_SEGMENTS = st.sampled_from(
    [
        "a", "b", "dense", "kernel", "bias", "w", "Adam", "Adam_1", "Adam_2", "AdamW", "Nadam", "Adagrad",
        "Momentum", "RMSProp", "RMSProp_1", "Ftrl_1", "Foo", "Foo_1", "foo_1", "adam_m", "adam_v",
        "ExponentialMovingAverage", "part_0", "part_1", "part_12", "beta1_power", "beta2_power",
        "beta1_power_1", "global_step", "training", "m", "v", "vars", "0", "1", "layers", "optimizer",
        ".ATTRIBUTES", "VARIABLE_VALUE", ".OPTIMIZER_SLOT", "x.y", "x..y", "a.Sb", ".", "", "é", "数",
    ]
)  # fmt: skip
_SHAPES = st.sampled_from([("float32", ()), ("int64", ()), ("float32", (2,)), ("float32", (2, 3)),
                           ("float32", (4, 3)), ("float32", (3, 2)), ("float32", (3,))])  # fmt: skip
_KEY = st.one_of(
    st.lists(_SEGMENTS, min_size=1, max_size=5).map("/".join),
    st.text(st.sampled_from("ab/._Sé\n"), max_size=8),
)


@st.composite
def _key_sets(draw: st.DrawFn) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Keys with their shapes, and often a variable's slots: ``<var>/<suffix>`` of its shape (or of
    its layout, for ``part_K``), Estimator ``training/<opt>/<var>/<slot>``, ``.OPTIMIZER_SLOT``."""
    keys = draw(st.dictionaries(_KEY, _SHAPES, max_size=12))
    for var in draw(st.lists(st.sampled_from(sorted(keys)), max_size=4)) if keys else ():
        form = draw(st.integers(0, 3))
        suffix = draw(_SEGMENTS)
        dtype, shape = keys[var]
        if form == 0:
            keys[f"{var}/{suffix}"] = keys[var]
        elif form == 1:  # a partition: its first dimension cut (or of another layout)
            cut = (dtype, (1, *shape[1:]) if shape else ())
            keys[f"{var}/part_{draw(st.integers(0, 2))}/{suffix}"] = draw(st.one_of(st.just(cut), _SHAPES))
        elif form == 2:
            keys[f"{draw(st.sampled_from(['', 'x/']))}training/{suffix}/{var}/m"] = keys[var]
        else:
            keys[f"{var}/.OPTIMIZER_SLOT/{suffix}/m/.ATTRIBUTES/VARIABLE_VALUE"] = keys[var]
    return keys


@given(_key_sets())
def test_made_up_key_sets_as_before(keys: dict[str, tuple[str, tuple[int, ...]]]) -> None:
    assert_same_tree(keys)


F = ("float32", (2, 3))
_CASES = {
    "the first Adam made keeps beta1_power": {"a": F, "a/Nadam": F, "b": F, "b/Adam": F, "beta1_power": F},
    "and its scopes' own": {"a": F, "a/Nadam": F, "b": F, "b/Adam": F, "s/beta2_power": F, "Adam/x": F},
    "a partition of another layout": {
        "e": F,
        "e/part_0/Adagrad": ("float32", (1, 2)),
        "f": F,
        "f/part_1/Foo": F,
    },
    "one local name, two segments": {"a.b": F, "a..b/.ATTRIBUTES/VARIABLE_VALUE": F, "a..b/c": F, "a.Sb": F},
    "an escaped name under a plain one": {"x/a..b/.ATTRIBUTES/v": F, "x/a.b": F, "x/a..b/k": F},
    "an empty key and empty segments": {"": F, "/": F, "//a": F, "a//": F, "a//Adam": F, "/Adam": F},
    "Estimator slots under a scope": {"x/training/Adam/w/m": F, "w": F, "x/w": F, "training/Adam/x/w/v": F},
}


@pytest.mark.parametrize("keys", _CASES.values(), ids=list(_CASES))
def test_corner_cases_as_before(keys: dict[str, tuple[str, tuple[int, ...]]]) -> None:
    assert_same_tree(keys)


def test_a_tree_of_many_tf1_slots_as_before() -> None:
    keys = {"global_step": ("int64", ()), "beta1_power": ("float32", ()), "beta2_power": ("float32", ())}
    for i in range(300):
        var = f"tower_{i % 3}/block_{i % 7}/layer_{i}/{'kernel' if i % 2 else 'bias'}"
        for suffix in ("", "/Adam", "/Adam_1"):
            keys[var + suffix] = ("float32", (2, 3))
    keys["emb"] = ("float32", (8, 3))
    for k in range(4):
        keys[f"emb/part_{k}/Adam"] = keys[f"emb/part_{k}/Adam_1"] = ("float32", (2, 3))
    assert_same_tree(keys)
