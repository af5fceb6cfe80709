"""Bytes of checkpoint pieces built by hand for the fuzzer: protobuf fields one at a time (so
they can be repeated, reordered or over-long), tables in any key order, and hostile payloads
that TensorFlow's own parsers accept."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from typing import Any

from ckptviz.format import crc, table, values, varint
from ckptviz.format.protos.ckptviz_format_pb2 import (
    BundleEntryProto,
    TensorProto,
    TrackableObjectGraph,
    VariantTensorDataProto,
)

Items = list[tuple[bytes, bytes]]


# -- wire format ------------------------------------------------------------------------------


def tag(field: int, kind: int) -> bytes:
    return varint.encode(field << 3 | kind)


def uvarint(value: int) -> bytes:
    return varint.encode(value & (2**64 - 1))


def field_varint(field: int, value: int) -> bytes:
    return tag(field, 0) + uvarint(value)


def field_bytes(field: int, data: bytes) -> bytes:
    return tag(field, 2) + varint.encode(len(data)) + data


def overlong(value: int) -> bytes:
    """A legal but non-minimal varint (protobuf accepts up to 10 bytes)."""
    raw = bytearray(uvarint(value))
    if len(raw) < 10:
        raw[-1] |= 0x80
        raw.append(0)
    return bytes(raw)


def shape_bytes(dims: list[int]) -> bytes:
    return b"".join(field_bytes(2, field_varint(1, d) if d else b"") for d in dims)


def entry_fields(e: Any) -> list[bytes]:
    """A BundleEntryProto as its fields, each one encoded on its own, in field order."""
    out = []
    if e.dtype:
        out.append(field_varint(1, e.dtype))
    out.append(field_bytes(2, shape_bytes([d.size for d in e.shape.dim])))
    if e.shard_id:
        out.append(field_varint(3, e.shard_id))
    if e.offset:
        out.append(field_varint(4, e.offset))
    if e.size:
        out.append(field_varint(5, e.size))
    if e.crc32c:
        out.append(tag(6, 5) + struct.pack("<I", e.crc32c))
    out.extend(field_bytes(7, s.SerializeToString()) for s in e.slices)
    return out


REENCODINGS = [
    "reverse",
    "shuffle",
    "dtype_twice",
    "split_shape",
    "overlong",
    "unknown_field",
    "empty_shape_first",
]


def reencode_entry(value: bytes, rng: random.Random, how: str | None = None) -> bytes:
    """Another legal encoding of the same BundleEntryProto (``how``: one of REENCODINGS)."""
    e = BundleEntryProto.FromString(value)
    fields = entry_fields(e)
    dims = [d.size for d in e.shape.dim]
    how = how or rng.choice(REENCODINGS)
    if how == "reverse":
        fields.reverse()
    elif how == "shuffle":
        rng.shuffle(fields)
    elif how == "dtype_twice":  # proto3: the last value of a scalar field wins
        fields.insert(0, field_varint(1, rng.choice([1, 3, 9, 14, 19])))
        fields.append(field_varint(1, e.dtype))
    elif how == "split_shape" and dims:  # embedded messages seen twice are merged: dims append
        k = rng.randrange(len(dims) + 1)
        fields = [f for f in fields if f[:1] != b"\x12"]
        fields.insert(1 if e.dtype else 0, field_bytes(2, shape_bytes(dims[:k])))
        fields.append(field_bytes(2, shape_bytes(dims[k:])))
    elif how == "overlong" and e.dtype:
        fields[0] = tag(1, 0) + overlong(e.dtype)
    elif how == "unknown_field":
        fields.insert(
            rng.randrange(len(fields) + 1), field_varint(rng.choice([8, 15, 99]), rng.randrange(1000))
        )
    else:  # an empty shape first, merged with the real one later
        fields.insert(0, field_bytes(2, b""))
    return b"".join(fields)


# -- tables -----------------------------------------------------------------------------------


def read_items(data: bytes) -> Items:
    return [(k, v) for k, v, _ in table.TableReader(data, "index")]


class _AnyOrderBuilder(table.TableBuilder):
    """TensorFlow's table builder without its check that keys increase."""

    def add(self, key: bytes, value: bytes) -> None:
        if len(key) + len(value) >= 2 * self.block_size:
            self._flush()
        if self.pending is not None:
            assert self.last_key is not None
            increasing = key > self.last_key
            separator = table.shortest_separator(self.last_key, key) if increasing else self.last_key
            self.index_block.add(separator, self.pending.encode())
            self.pending = None
        self.last_key = key
        self.data_block.add(key, value)
        if self.data_block.size_estimate() >= self.block_size:
            self._flush()


def build_table(items: Items, block_size: int = table.BLOCK_SIZE, compression: int = 0) -> bytes:
    """A table with these items in this order (unlike TableBuilder, order is not enforced)."""
    builder = _AnyOrderBuilder(block_size, compression)
    for key, value in items:
        builder.add(key, value)
    return builder.finish()


def rewrite_block(data: bytes, handle: table.BlockHandle, edit: Callable[[bytearray], None]) -> bytes:
    """Edit the contents of one block in place and fix its trailer CRC."""
    out = bytearray(data)
    block = bytearray(out[handle.offset : handle.offset + handle.size])
    edit(block)
    assert len(block) == handle.size
    out[handle.offset : handle.offset + handle.size] = block
    end = handle.offset + handle.size
    out[end + 1 : end + 5] = struct.pack("<I", crc.mask(crc.value(bytes(out[handle.offset : end + 1]))))
    return bytes(out)


# -- tensor bytes -----------------------------------------------------------------------------


def fixed_crc(data: bytes) -> int:
    return crc.mask(crc.value(data))


def variant_bytes(protos: list[bytes]) -> tuple[bytes, int]:
    return values.encode_variants(protos_array(protos))


def protos_array(items: list[bytes]) -> Any:
    import numpy as np

    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


def bad_tensor_proto(rng: random.Random) -> TensorProto:
    """A TensorProto TensorFlow's own parser accepts but whose value is out of range or huge."""
    t = TensorProto(dtype=rng.choice([1, 2, 3, 7, 9, 10, 14, 19, 21, 8, 18, 20, 0, 77]))
    for d in rng.choice(
        [[], [3], [2**20, 2**20], [2**40], [2**31, 2**33], [5, 0, 2**62], [1] * 300, [1] * 65, [2] + [1] * 70]
    ):
        t.tensor_shape.dim.add().size = d
    what = rng.choice(["half", "fill", "content", "complex", "nested", "none"])
    if what == "half":
        t.dtype = rng.choice([19, 14])
        t.half_val.extend([rng.choice([70000, -1, 2**31 - 1, 5])])
    elif what == "fill":
        t.float_val.append(1.5)
        t.int_val.append(7)
        t.string_val.append(b"x")
    elif what == "content":
        t.tensor_content = bytes(rng.randrange(40))
    elif what == "complex":
        t.dtype = 8
        t.scomplex_val.extend([1.0, 2.0, 3.0][: rng.randrange(4)])
    elif what == "nested":
        t.dtype = 21
        inner = t.variant_val.add(type_name="x", metadata=bytes([0xFF, 0xFE, 0x80]))
        inner.tensors.append(bad_tensor_proto(rng) if rng.random() < 0.5 else TensorProto(dtype=1))
    return t


def bad_variant(rng: random.Random) -> bytes:
    v = VariantTensorDataProto(type_name=rng.choice(["tensorflow::Iterator", "", "\u00e9" * 3]))
    v.metadata = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
    for _ in range(rng.randrange(1, 4)):
        v.tensors.append(bad_tensor_proto(rng))
    raw = v.SerializeToString()
    if rng.random() < 0.2:  # invalid UTF-8 in the type name, a string field
        raw = field_bytes(1, b"\xff\xfe") + raw
    return raw


def bad_object_graph(rng: random.Random, keys: list[str]) -> bytes:
    g = TrackableObjectGraph()
    kind = rng.choice(["chain", "bad_child", "prefix_attrs", "self_loops", "bad_slot", "garbage"])
    if kind == "chain":
        n = rng.choice([3000, 30000])
        for i in range(n):
            node = g.nodes.add()
            if i + 1 < n:
                node.children.add(node_id=i + 1, local_name=f"c{i % 7}")
    elif kind == "bad_child":
        g.nodes.add().children.add(node_id=rng.choice([1, 5, 2**31 - 1, -3]), local_name="x")
    elif kind == "prefix_attrs":
        root = g.nodes.add()
        for i in range(rng.choice([50, 2000])):
            root.children.add(node_id=i + 1, local_name=f"v{i}")
            g.nodes.add().attributes.add(name="VARIABLE_VALUE", checkpoint_key=rng.choice(keys or ["k"])[:3])
    elif kind == "self_loops":
        for _ in range(3):
            g.nodes.add().children.add(node_id=0, local_name="me")
    elif kind == "bad_slot":
        g.nodes.add().slot_variables.add(original_variable_node_id=9, slot_name="m", slot_variable_node_id=-1)
    else:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return g.SerializeToString()
