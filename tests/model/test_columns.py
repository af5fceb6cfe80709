"""The numpy reader of a serialized object graph gives protobuf's reading, byte for byte.

Graphs are encoded by hand, one record at a time, so that besides TensorFlow's canonical
encoding they come with fields out of order, repeated scalars and messages, omitted defaults,
empty names, over-long varints, unknown fields, bad UTF-8, and cut or flipped bytes. The numpy
reader either gives exactly the columns that protobuf's parse gives, or declines (``Unsupported``)
and ``from_proto`` falls back to protobuf."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st

from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.format.wire import Unsupported
from ckptviz.model.columns import Columns, decode, decode_bytes
from ckptviz.model.graph import ObjectGraph

Field = tuple[int, Any]  # (field number, int | bytes | list of Field)


def uvarint(value: int, extra: int = 0) -> bytes:
    """``value`` as a varint, padded with ``extra`` over-long continuation bytes."""
    value &= 2**64 - 1
    out = bytearray()
    while True:
        more = value >= 0x80 or extra > 0
        out.append((value & 0x7F) | (0x80 if more else 0))
        if value < 0x80:
            if not more:
                return bytes(out)
            extra -= 1
        value >>= 7


def encode(fields: list[Field], long: bool = False) -> bytes:
    out = bytearray()
    for number, value in fields:
        if isinstance(value, int):
            out += uvarint(number << 3) + uvarint(value, 1 if long else 0)
        else:
            data = value if isinstance(value, bytes) else encode(value, long)
            out += uvarint(number << 3 | 2) + uvarint(len(data)) + data
    return bytes(out)


names = st.one_of(
    st.sampled_from([b"", b"kernel", b"VARIABLE_VALUE", b"optimizer", b"iter", b"a_optimizer", b"\x00x"]),
    st.text(max_size=6).map(str.encode),
    st.binary(max_size=4),  # mostly not UTF-8
)
ids = st.one_of(st.integers(0, 6), st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**64 - 1))


@st.composite
def message(draw: st.DrawFn, spec: dict[int, st.SearchStrategy[Any]]) -> list[Field]:
    """Some fields of ``spec``, in any order, some twice, defaults often left out."""
    fields = [(n, draw(s)) for n, s in spec.items() for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2])))]
    return draw(st.permutations(fields)) if draw(st.booleans()) else fields


child = message({1: ids, 2: names})
attribute = message({1: names, 2: names, 3: names})
slot = message({1: ids, 2: names, 3: ids})
saver = message({1: names, 2: names})
flag = message({1: st.integers(0, 3) | st.integers(0, 2**64 - 1)})
node = message(
    {
        1: child,
        2: attribute,
        3: slot,
        4: saver,
        5: flag,
    }
)


@st.composite
def graphs(draw: st.DrawFn) -> bytes:
    nodes = draw(st.lists(node, max_size=12))
    fields: list[Field] = [(1, n) for n in nodes]
    if draw(st.integers(0, 9)) == 0:  # an unknown field somewhere
        where = draw(st.integers(0, len(fields)))
        fields.insert(where, (draw(st.integers(6, 20)), draw(st.integers(0, 300))))
    raw = encode(fields, long=draw(st.integers(0, 9)) == 0)
    cut = draw(st.integers(0, 6))
    if raw and cut == 0:  # truncated
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif raw and cut == 1:  # one byte changed
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


def as_plain(cols: Columns) -> dict[str, Any]:
    return {
        "count": cols.count,
        "edges": (cols.edge_parent.tolist(), cols.edge_child.tolist(), cols.edge_name.tolist()),
        "attributes": (
            cols.attr_node.tolist(),
            cols.attr_name.tolist(),
            cols.attr_full.tolist(),
            cols.attr_key.tolist(),
        ),
        "attr_ptr": cols.attr_ptr.tolist(),
        "slots": cols.slot_refs,
        "flag": cols.flag.tolist(),
        "saver": cols.saver,
        "holders": cols.holders.tolist(),
    }


def protobuf_reading(raw: bytes) -> dict[str, Any] | None:
    try:
        return as_plain(decode(TrackableObjectGraph.FromString(raw)))
    except DecodeError:
        return None


@given(graphs())
def test_numpy_reading_is_protobufs(raw: bytes) -> None:
    expected = protobuf_reading(raw)
    try:
        got = as_plain(decode_bytes(raw))
    except Unsupported:
        return  # from_proto parses it with protobuf
    assert got == expected


@given(st.lists(node, max_size=12))
def test_well_formed_graphs_are_read_without_protobuf(nodes: list[list[Field]]) -> None:
    """Every encoding TensorFlow or another writer may use, with valid text, is read by numpy:
    the fallback is for damage and rarities only."""
    raw = encode([(1, n) for n in nodes])
    expected = protobuf_reading(raw)
    if expected is None:
        return  # bad UTF-8
    assert as_plain(decode_bytes(raw)) == expected


def test_last_value_wins_and_messages_merge() -> None:
    raw = encode(
        [
            (
                1,
                [
                    (1, [(1, 3), (2, b"a"), (1, 1)]),
                    (5, [(1, 1)]),
                    (5, []),
                    (4, [(1, b"s")]),
                    (4, [(2, b"o")]),
                ],
            ),
            (1, [(5, [(1, 1)]), (5, [(1, 0)])]),
            (1, []),
            (1, [(1, [(1, 2**64 - 1)]), (2, [(1, b"x"), (1, b"VARIABLE_VALUE")])]),
        ]
    )
    cols = decode_bytes(raw)
    assert as_plain(cols) == protobuf_reading(raw)
    assert cols.edge_child.tolist() == [1, -1] and cols.flag.tolist() == [1, 0, -1, -1]
    assert cols.saver == {0: "s"} and cols.attr_name.tolist() == ["VARIABLE_VALUE"]


@pytest.mark.parametrize(
    "raw",
    [
        encode([(1, [(2, [(1, b"\xff")])])]),  # not UTF-8: protobuf's error
        encode([(1, [(9, 1)])]),  # an unknown field: kept by protobuf
        encode([(1, [(1, [(1, 1)])])])[:-1],  # cut
        b"\x0b\x0c",  # a group
    ],
)
def test_declined_where_protobuf_must_decide(raw: bytes) -> None:
    with pytest.raises(Unsupported):
        decode_bytes(raw)


def test_from_proto_reads_bytes_like_the_message() -> None:
    raw = encode(
        [
            (1, [(1, [(1, 1), (2, b"net")])]),
            (1, [(2, [(1, b"VARIABLE_VALUE"), (2, b"net/w"), (3, b"net/.ATTRIBUTES/VARIABLE_VALUE")])]),
        ]
    )
    entries = {"net/.ATTRIBUTES/VARIABLE_VALUE": ("float32", [2])}
    fast = ObjectGraph.from_proto(raw, entries)
    slow = ObjectGraph.from_proto(TrackableObjectGraph.FromString(raw), entries)
    assert fast.to_dict() == slow.to_dict() and fast.owner == slow.owner
    assert fast.full_names == slow.full_names == ["", "net/w"]
    assert fast.proto == slow.proto  # parsed on first use
    bad = encode([(1, [(2, [(1, b"\xc3")])])])
    with pytest.raises(DecodeError):  # what protobuf says, as before
        ObjectGraph.from_proto(bad, {})


def test_strings_decode_in_bulk_and_alone() -> None:
    from ckptviz.model.columns import Strings

    data = "a\x00b/é/kernel".encode()
    s = Strings(data, np.array([0, 2, 0, 6]), np.array([3, 6, 0, 13]))
    assert s.tolist() == ["a\x00b", "b/é", "", "/kernel"]
    assert s[1] == "b/é" and s[1:3] == ["b/é", ""]
    assert s.equal("kernel").tolist() == [False, False, False, False]
    assert s.endswith("kernel").tolist() == [False, False, False, True]
    assert Strings.of(["x", "é", ""]).equal("é").tolist() == [False, True, False]
    assert s.isin(["", "b/é", "a"]).tolist() == [False, True, True, False]
    assert s.contains_any("/").tolist() == [False, True, False, True]


def test_from_proto_looks_only_at_the_keys_of_entries() -> None:
    """Entries may be made on access: building the graph iterates their keys, and a node's
    values are read when the node is made."""
    from collections.abc import Iterator, Mapping

    key = "net/.ATTRIBUTES/VARIABLE_VALUE"

    class KeysOnly(Mapping[str, Any]):
        def __init__(self) -> None:
            self.touched: list[str] = []

        def __getitem__(self, k: str) -> Any:
            self.touched.append(k)
            return ("float32", [2])

        def __iter__(self) -> Iterator[str]:
            return iter([key])

        def __len__(self) -> int:
            return 1

    raw = encode(
        [
            (1, [(1, [(1, 1), (2, b"net")])]),
            (1, [(2, [(1, b"VARIABLE_VALUE"), (3, key.encode())])]),
        ]
    )
    entries = KeysOnly()
    graph = ObjectGraph.from_proto(raw, entries)
    assert graph.owner == {key: (1, "VARIABLE_VALUE")} and graph.kinds == ["other", "variable"]
    assert entries.touched == []
    assert graph.nodes[1].values[0].shape == (2,) and entries.touched == [key]
