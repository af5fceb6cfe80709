"""A ``TrackableObjectGraph`` decoded once into flat columns: no Python object per node.

The serialized graph is read with numpy (``format/wire.py``), level by level: the nodes, the
fields of every node, the fields inside those. Strings stay byte ranges of the serialized graph
until asked for (``Strings``). A graph the wire reader does not decode exactly (unknown fields,
unusual encodings, damage) is parsed by protobuf instead and walked node by node: the same
columns, and protobuf's own error for bytes that are not a graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from ..format import wire
from ..format.wire import LEN, VARINT, Unsupported


class Strings(Sequence[str]):
    """Strings kept as ``[starts, ends)`` byte ranges of one UTF-8 buffer, decoded on first use."""

    def __init__(self, data: bytes, starts: np.ndarray, ends: np.ndarray) -> None:
        self._data, self.starts, self.ends = data, starts, ends
        self._list: list[str] | None = None

    @classmethod
    def of(cls, items: Sequence[str]) -> Strings:
        encoded = [s.encode() for s in items]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        ends = np.cumsum(lengths)
        self = cls(b"".join(encoded), ends - lengths, ends)
        self._list = list(items)
        return self

    def take(self, index: np.ndarray) -> Strings:
        out = Strings(self._data, self.starts[index], self.ends[index])
        if self._list is not None:
            out._list = [self._list[i] for i in index.tolist()]
        return out

    def contains_any(self, chars: str) -> np.ndarray:
        """Which strings hold any of the ASCII ``chars`` (found in the buffer, not string by string)."""
        data = np.frombuffer(self._data, np.uint8)
        hit = np.zeros(len(data), bool)
        for c in chars.encode():
            hit |= data == c
        where = np.flatnonzero(hit)
        return np.searchsorted(where, self.ends) > np.searchsorted(where, self.starts)

    @property
    def lengths(self) -> np.ndarray:
        out: np.ndarray = self.ends - self.starts
        return out

    def tolist(self) -> list[str]:
        if self._list is None:
            self._list = _decode(self._data, self.starts, self.ends)
        return self._list

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if self._list is not None:
            return self._list[i]
        if isinstance(i, slice):
            return _decode(self._data, self.starts[i], self.ends[i])
        return self._data[self.starts[i] : self.ends[i]].decode()

    def __iter__(self) -> Iterator[str]:
        return iter(self.tolist())

    def equal(self, word: str) -> np.ndarray:
        """Which strings are ``word``, compared as bytes (no string made)."""
        return self._match(word.encode(), 0)

    def isin(self, words: Iterable[str]) -> np.ndarray:
        """Which strings are one of ``words``, compared as bytes (no string made)."""
        out = np.zeros(len(self), bool)
        for word in words:
            out |= self._match(word.encode(), 0)
        return out

    def endswith(self, suffix: str) -> np.ndarray:
        return self._match(suffix.encode(), -1)

    def _match(self, word: bytes, anchor: int) -> np.ndarray:
        """Strings that are ``word`` (``anchor`` 0) or end with it (-1): those of a fitting length
        whose first (last) byte is right, then their bytes, read through a sliding window of the
        buffer (no index array per byte)."""
        lengths = self.lengths
        out = lengths == len(word) if anchor == 0 else lengths >= len(word)
        if not word:
            return out
        data = np.frombuffer(self._data, np.uint8)
        at = np.flatnonzero(out)
        base = self.starts[at] if anchor == 0 else self.ends[at] - len(word)
        first = data[base] == word[0]
        at, base = at[first], base[first]
        out[:] = False
        if at.size:
            windows = np.lib.stride_tricks.sliding_window_view(data, len(word))
            out[at] = (windows[base] == np.frombuffer(word, np.uint8)).all(axis=1)
        return out


def _decode(data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """Every ``data[starts[i]:ends[i]]`` as text, in one decode and one split where no string holds
    the separator."""
    count = len(starts)
    if not count:
        return []
    lengths = ends - starts
    spans = lengths + 1  # each string and its separator
    offsets = np.cumsum(spans) - spans
    index = np.arange(int(spans.sum())) - np.repeat(offsets - starts, spans)
    raw = np.frombuffer(data, np.uint8)
    joined = raw[np.minimum(index, len(raw) - 1)] if len(raw) else np.zeros(len(index), np.uint8)
    joined[offsets + lengths] = 0
    text = joined[:-1].tobytes().decode()
    parts = text.split("\x00")
    if len(parts) == count:
        return parts
    return [data[a:b].decode() for a, b in zip(starts.tolist(), ends.tolist())]


class Columns:
    """Edges (``edge_*``, stored order), attributes (``attr_*``, grouped by node: node ``i``'s are
    ``attr_ptr[i]:attr_ptr[i+1]``), recorded slot references ``(optimizer, variable, slot name,
    slot)``, the recorded ``has_checkpoint_values`` (``flag``, -1 where absent), registered savers,
    and the nodes holding values themselves (TF's test: attributes, slot variables or a
    registered saver)."""

    def __init__(
        self,
        count: int,
        edges: tuple[np.ndarray, np.ndarray, Strings],
        attributes: tuple[np.ndarray, Strings, Strings, Strings],
        slot_refs: list[tuple[int, int, str, int]],
        flag: np.ndarray,
        saver: dict[int, str],
    ) -> None:
        self.count = count
        self.edge_parent, self.edge_child, self.edge_name = edges
        self.attr_node, self.attr_name, self.attr_full, self.attr_key = attributes
        self.attr_ptr = np.zeros(count + 1, np.int64)
        np.cumsum(np.bincount(self.attr_node, minlength=count), out=self.attr_ptr[1:])
        self.slot_refs, self.flag, self.saver = slot_refs, flag, saver
        held = np.zeros(count, bool)
        held[self.attr_node] = True
        held[[r[0] for r in slot_refs]] = True
        held[list(saver)] = True
        self.holders = np.flatnonzero(held)


def decode(proto: Any) -> Columns:
    """The columns of a ``TrackableObjectGraph`` message, in one walk over its nodes."""
    e_parent: list[int] = []
    e_child: list[int] = []
    e_name: list[str] = []
    a_node: list[int] = []
    a_name: list[str] = []
    a_full: list[str] = []
    a_key: list[str] = []
    slot_refs: list[tuple[int, int, str, int]] = []
    flag = np.full(len(proto.nodes), -1, np.int8)
    saver: dict[int, str] = {}
    for i, node in enumerate(proto.nodes):
        for ref in node.children:
            e_parent.append(i)
            e_child.append(ref.node_id)
            e_name.append(ref.local_name)
        for a in node.attributes:
            a_node.append(i)
            a_name.append(a.name)
            a_full.append(a.full_name)
            a_key.append(a.checkpoint_key)
        for s in node.slot_variables:
            slot_refs.append((i, s.original_variable_node_id, s.slot_name, s.slot_variable_node_id))
        if node.HasField("registered_saver"):
            saver[i] = node.registered_saver.name
        if node.HasField("has_checkpoint_values"):
            flag[i] = node.has_checkpoint_values.value
    return Columns(
        len(proto.nodes),
        (np.asarray(e_parent, np.int64), np.asarray(e_child, np.int64), Strings.of(e_name)),
        (np.asarray(a_node, np.int64), Strings.of(a_name), Strings.of(a_full), Strings.of(a_key)),
        slot_refs,
        flag,
        saver,
    )


_CHILD = {1: VARINT, 2: LEN}  # ObjectReference: node_id, local_name
_ATTRIBUTE = {1: LEN, 2: LEN, 3: LEN}  # SerializedTensor: name, full_name, checkpoint_key
_SLOT = {1: VARINT, 2: LEN, 3: VARINT}  # SlotVariableReference
_SAVER = {1: LEN, 2: LEN}  # RegisteredSaver: name, object_name
_FLAG = {1: VARINT}  # BoolValue
_NODE = {1: _CHILD, 2: _ATTRIBUTE, 3: _SLOT, 4: _SAVER, 5: _FLAG}  # TrackableObject
_EMPTY = wire.Records(
    np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.uint64), np.zeros(0, np.int64)
)


def decode_bytes(raw: bytes) -> Columns:
    """The columns of a serialized ``TrackableObjectGraph``, read with numpy; raises
    ``wire.Unsupported`` for a graph that only a general decoder reads exactly (or rejects)."""
    buf = np.frombuffer(raw, np.uint8)
    nodes = wire.records(buf, np.zeros(1, np.int64), np.full(1, len(raw), np.int64), {1: _NODE})
    count = len(nodes.owner)
    within = wire.records(buf, nodes.value.astype(np.int64), nodes.end, _NODE)
    highs = np.zeros(0, np.int64)  # where strings may hold bytes >= 0x80, which must be valid UTF-8
    continued = [nodes.continued, within.continued]
    fields = within.by_field()

    def inner(field: int) -> tuple[np.ndarray, dict[int, wire.Records], int]:
        outer = fields.get(field, _EMPTY)
        found = wire.records(buf, outer.value.astype(np.int64), outer.end, _NODE[field])
        continued.append(found.continued)
        return outer.owner, found.by_field(), len(outer.owner)

    levels = [inner(field) for field in range(1, 6)]
    if np.count_nonzero(buf >= 0x80) > sum(continued):  # every byte is a tag, a varint's or a string's
        highs = np.flatnonzero(buf >= 0x80)

    def text(recs: dict[int, wire.Records], field: int, size: int) -> Strings:
        """The last value of a string field in each of ``size`` messages ("" where absent)."""
        mine = recs.get(field, _EMPTY)
        _check_utf8(raw, highs, mine)
        at, last = _last(mine)
        starts, ends = np.zeros(size, np.int64), np.zeros(size, np.int64)
        starts[at] = last.value.astype(np.int64)
        ends[at] = last.end
        return Strings(raw, starts, ends)

    def number(recs: dict[int, wire.Records], field: int, size: int) -> np.ndarray:
        """The last value of an ``int32`` field in each of ``size`` messages (0 where absent)."""
        at, last = _last(recs.get(field, _EMPTY))
        out = np.zeros(size, np.int64)
        out[at] = (last.value & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
        return out

    def per_node(owner: np.ndarray, recs: dict[int, wire.Records], field: int) -> dict[int, wire.Records]:
        """A message field's records by node: a message field given twice is merged."""
        mine = recs.get(field, _EMPTY)
        return {field: wire.Records(owner[mine.owner], mine.field, mine.value, mine.end)}

    parent, children, size = levels[0]
    edges = (parent, number(children, 1, size), text(children, 2, size))
    owner, attrs, size = levels[1]
    attributes = (owner, text(attrs, 1, size), text(attrs, 2, size), text(attrs, 3, size))
    owner, refs, size = levels[2]
    slot_refs = list(
        zip(
            owner.tolist(),
            number(refs, 1, size).tolist(),
            text(refs, 2, size).tolist(),
            number(refs, 3, size).tolist(),
        )
    )
    owner, savers, size = levels[3]
    _check_utf8(raw, highs, savers.get(2, _EMPTY))
    names = text(per_node(owner, savers, 1), 1, count)
    saver = {n: names[n] for n in np.unique(owner).tolist()}
    owner, values, size = levels[4]
    flag = np.full(count, -1, np.int8)
    flag[owner] = 0
    at, last = _last(per_node(owner, values, 1)[1])
    flag[at] = last.value != 0
    return Columns(count, edges, attributes, slot_refs, flag, saver)


def _last(recs: wire.Records) -> tuple[np.ndarray, wire.Records]:
    """The last record of each message that has one (``recs`` is in message order): protobuf
    keeps the last value of a field that appears twice."""
    owner = recs.owner
    last = np.ones(len(owner), bool)
    last[:-1] = owner[1:] != owner[:-1]
    return owner[last], wire.Records(owner[last], recs.field[last], recs.value[last], recs.end[last])


def _check_utf8(raw: bytes, highs: np.ndarray, recs: wire.Records) -> None:
    """Raise ``wire.Unsupported`` unless every string of ``recs`` is valid UTF-8 (protobuf's rule
    for proto3 strings): only strings holding a byte >= 0x80 need a look."""
    starts = recs.value.astype(np.int64)
    if not highs.size:
        return
    odd = np.flatnonzero(np.searchsorted(highs, recs.end) > np.searchsorted(highs, starts))
    for k in odd.tolist():
        try:
            raw[starts[k] : recs.end[k]].decode()
        except UnicodeDecodeError:
            raise wire.Unsupported(f"a string at byte {starts[k]} is not UTF-8") from None


def columns_of(proto: Any) -> tuple[Columns, Any]:
    """The columns of a graph, and its message when one was given or had to be parsed. Bytes are
    read with numpy (a message is serialized for that, which costs far less than reading its
    fields), and parsed by protobuf only when the numpy reader cannot read them exactly."""
    raw = proto if isinstance(proto, bytes) else proto.SerializeToString()
    try:
        return decode_bytes(raw), None if raw is proto else proto
    except Unsupported:
        if raw is not proto:
            return decode(proto), proto
        from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

        message = TrackableObjectGraph.FromString(raw)
        return decode(message), message
