"""Structural mutations of TensorFlow-written checkpoints, with every CRC recomputed so the
damage reaches the parsers behind the checksums.

``mutate_bundle``, ``mutate_v1`` and ``mutate_raw`` take ``{file name: bytes}`` of one checkpoint and returns the mutated
files, the mutation's name, and whether the result is a *valid re-encoding* (legal protobuf or
table bytes meaning the same checkpoint), whose every listing and value must equal the
original's.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from typing import Any

from ckptviz.format import crc, table, values, varint
from ckptviz.format.protos.ckptviz_format_pb2 import BundleEntryProto, BundleHeaderProto, SavedTensorSlices
from tests.fuzz.encoding import (
    bad_object_graph,
    bad_tensor_proto,
    bad_variant,
    build_table,
    fixed_crc,
    protos_array,
    read_items,
    reencode_entry,
    rewrite_block,
    variant_bytes,
)

Files = dict[str, bytes]


# -- mutations of a bundle --------------------------------------------------------------------


class Bundle:
    """One bundle's files, its index as items, and helpers to change both consistently."""

    def __init__(self, files: Files, stem: str) -> None:
        self.files, self.stem = dict(files), stem
        self.index_name = stem + ".index"
        self.items = read_items(files[self.index_name])
        self.data_names = sorted(n for n in files if n.startswith(stem + ".data-"))

    def entry_keys(self) -> list[bytes]:
        return [k for k, _ in self.items if k]

    def set(self, key: bytes, value: bytes) -> None:
        self.items = [(k, value if k == key else v) for k, v in self.items]

    def entry(self, key: bytes) -> Any:
        return BundleEntryProto.FromString(dict(self.items)[key])

    def append_data(self, shard: int, data: bytes) -> int:
        name = self.data_names[min(shard, len(self.data_names) - 1)]
        offset = len(self.files[name])
        self.files[name] += data
        return offset

    def point(
        self, key: bytes, data: bytes, masked: int, dtype: int | None = None, dims: list[int] | None = None
    ) -> None:
        e = self.entry(key)
        e.offset = self.append_data(e.shard_id, data)
        e.size, e.crc32c = len(data), masked
        if dtype is not None:
            e.dtype = dtype
        if dims is not None:
            del e.shape.dim[:]
            for d in dims:
                e.shape.dim.add().size = d
        self.set(key, e.SerializeToString())

    def done(self, **table_args: Any) -> Files:
        self.files[self.index_name] = build_table(self.items, **table_args)
        return self.files


def _pick(rng: random.Random, keys: list[bytes], want: Callable[[Any], bool], b: Bundle) -> bytes | None:
    found = [k for k in keys if want(b.entry(k))]
    return rng.choice(found) if found else None


def m_reencode(b: Bundle, rng: random.Random) -> bool:
    keys = b.entry_keys()
    for key in rng.sample(keys, k=max(1, len(keys) // rng.choice([1, 2, 8]))):
        b.set(key, reencode_entry(dict(b.items)[key], rng))
    return True


def m_reblock(b: Bundle, rng: random.Random) -> bool:
    """Same items in many small blocks, or snappy-compressed blocks: still the same checkpoint."""
    b.done(block_size=rng.choice([64, 256, 4096]), compression=rng.choice([0, 1]))
    return True


def m_header(b: Bundle, rng: random.Random) -> bool:
    h = BundleHeaderProto.FromString(b.items[0][1])
    what = rng.choice(["shards", "endian", "version", "garbage", "second"])
    if what == "shards":
        h.num_shards = rng.choice([0, -1, 2, 7, 2**31 - 1, len(b.data_names) + 1])
    elif what == "endian":
        h.endianness = 1
    elif what == "version":
        h.version.producer = rng.choice([-1, 0, 2**31 - 1])
        h.version.min_consumer = rng.choice([0, 1, 2])
    elif what == "garbage":
        b.items[0] = (b"", bytes(rng.randrange(256) for _ in range(rng.randrange(12))))
        return False
    else:
        b.items.insert(rng.randrange(1, len(b.items) + 1), (b"", b.items[0][1]))
        return False
    b.items[0] = (b"", h.SerializeToString())
    return False


def m_entry_field(b: Bundle, rng: random.Random) -> bool:
    key = rng.choice(b.entry_keys())
    e = b.entry(key)
    what = rng.choice(["dtype", "dims", "rank", "offset", "size", "shard", "crc", "slices", "unslice"])
    if what == "dtype":
        e.dtype = rng.choice([0, 5, 7, 14, 20, 21, 24, 33, 34, 77, 101, 114, 2**31 - 1])
    elif what == "dims":
        for d in e.shape.dim or [e.shape.dim.add()]:
            if rng.random() < 0.7:
                d.size = rng.choice([-1, 0, 1, 2**31, 2**32, 2**62, 2**63 - 1, -(2**63)])
    elif what == "rank":
        for _ in range(rng.choice([20, 255, 300, 3000])):
            e.shape.dim.add().size = rng.choice([1, 1, 2])
    elif what == "offset":
        e.offset = rng.choice([0, 1, 2**31, 2**62, 2**63 - 1, -1])
    elif what == "size":
        e.size = rng.choice([0, 1, 2**31, 2**35, 2**62, -1])
    elif what == "shard":
        e.shard_id = rng.choice([1, 3, 4, 99, 2**31 - 1, -1])
    elif what == "crc":
        e.crc32c = rng.randrange(2**32)
    elif what == "slices":
        rank = len(e.shape.dim)
        for _ in range(rng.choice([1, 2, 200])):
            s = e.slices.add()
            for _ in range(rng.choice([rank, rank, rank + 1])):
                ext = s.extent.add()
                if rng.random() < 0.7:
                    ext.start = rng.choice([0, 0, 1, -1, 2**40])
                    ext.length = rng.choice([1, 2, 0, -1, 2**62])
        e.crc32c = 0
    else:
        del e.slices[:]
    b.set(key, e.SerializeToString())
    return False


def m_table(b: Bundle, rng: random.Random) -> bool:
    keys = b.entry_keys()
    what = rng.choice(["duplicate", "empty", "swap", "nonutf8", "deep", "slicekey", "drop"])
    i = rng.randrange(1, len(b.items))
    if what == "duplicate":
        b.items.insert(i, b.items[i])
    elif what == "empty":
        b.items.insert(i, (b"", b.items[i][1]))
    elif what == "swap" and len(b.items) > 2:
        j = rng.randrange(1, len(b.items))
        b.items[i], b.items[j] = b.items[j], b.items[i]
    elif what == "nonutf8":
        key, value = b.items[i]
        bad = key + bytes([rng.choice([0x80, 0xFF, 0xC3, 0xED])]) + b"\xa0/x"
        b.items[i] = (bad, value)
        b.items.sort()
    elif what == "deep":
        key, value = b.items[i]
        b.items.append((b"/".join([b"s"] * rng.choice([3000, 20000])) + b"/v", value))
        b.items.sort()
    elif what == "slicekey":
        key, value = b.items[i]
        b.items.append((b"\x00" + key + bytes(rng.randrange(256) for _ in range(rng.randrange(8))), value))
        b.items.sort()
    else:
        del b.items[rng.choice([i, len(b.items) - 1])]
    del keys
    return False


def m_block_structure(b: Bundle, rng: random.Random) -> bool:
    data = build_table(b.items, block_size=rng.choice([256, table.BLOCK_SIZE]))
    reader = table.TableReader(data, "index")
    what = rng.choice(["restart", "restart_count", "index_handle", "footer"])
    if what in ("restart", "restart_count"):
        handle = rng.choice([h for _, h in reader.index])

        def edit(block: bytearray) -> None:
            (count,) = struct.unpack_from("<I", block, len(block) - 4)
            if what == "restart_count":
                struct.pack_into("<I", block, len(block) - 4, rng.choice([0, count + 1, 2**32 - 1]))
            else:
                at = len(block) - 4 - 4 * rng.randrange(1, count + 1)
                struct.pack_into("<I", block, at, rng.choice([len(block), 2**31, 1, 3]))

        data = rewrite_block(data, handle, edit)
    elif what == "index_handle":
        ih = reader.footer.index

        def edit(block: bytearray) -> None:  # the first handle's offset varint, same length
            pos = 3 + block[1]
            block[pos] = (block[pos] & 0x80) | rng.randrange(0x80)

        data = rewrite_block(data, ih, edit)
    else:
        out = bytearray(data)
        pos = len(out) - 48 + rng.randrange(20)
        out[pos] = rng.randrange(256)
        data = bytes(out)
    b.files[b.index_name] = data
    b.items = []  # done() must not rebuild
    return False


def m_strings(b: Bundle, rng: random.Random) -> bool:
    """A string tensor (the object graph, or any) re-pointed at new bytes with correct CRCs."""
    key = _pick(rng, b.entry_keys(), lambda e: e.dtype == 7 and not e.slices, b)
    if key is None:
        return m_entry_field(b, rng)
    e = b.entry(key)
    n = 1
    for d in e.shape.dim:
        n *= d.size
    what = rng.choice(["graph", "trailing", "lengths", "count"])
    if what == "graph" and key == b"_CHECKPOINTABLE_OBJECT_GRAPH":
        keys = [k.decode("utf-8", "replace") for k in b.entry_keys()]
        data, masked = values.encode_strings(protos_array([bad_object_graph(rng, keys)]).reshape(()))
        b.point(key, data, masked)
    elif what == "trailing":
        data, masked = values.encode_strings(protos_array([b"ab"] * n).reshape([d.size for d in e.shape.dim]))
        b.point(key, data + b"\x00" * rng.randrange(1, 9), masked)
    elif what == "lengths":
        lengths = [rng.choice([0, 1, 2**20, 2**32, 2**40]) for _ in range(max(n, 1))]
        head = b"".join(varint.encode(x) for x in lengths)
        lcrc = crc.value(b"".join(struct.pack("<I" if x < 2**32 else "<Q", x) for x in lengths))
        raw = struct.pack("<I", crc.mask(lcrc))
        b.point(key, head + raw + b"z" * 16, crc.mask(crc.value(b"z" * 16, crc.value(raw, lcrc))))
    else:
        data, masked = values.encode_strings(protos_array([b"q"]).reshape(()))
        b.point(key, data, masked, dims=[rng.choice([2, 2**31, 2**62])])
    return False


def m_variant(b: Bundle, rng: random.Random) -> bool:
    key = _pick(rng, b.entry_keys(), lambda e: e.dtype == 21, b) or _pick(
        rng, b.entry_keys(), lambda e: not e.slices, b
    )
    if key is None:
        return m_entry_field(b, rng)
    count = rng.choice([1, 1, 2, 4])
    data, masked = variant_bytes([bad_variant(rng) for _ in range(count)])
    b.point(key, data, masked, dtype=21, dims=[count])
    return False


def m_fixed_data(b: Bundle, rng: random.Random) -> bool:
    """Change a fixed-width tensor's bytes and its CRC: must read as the new bytes."""
    key = _pick(rng, b.entry_keys(), lambda e: e.dtype not in (7, 21) and e.size and not e.slices, b)
    if key is None:
        return m_entry_field(b, rng)
    e = b.entry(key)
    data = bytes(rng.randrange(256) for _ in range(e.size))
    b.point(key, data, fixed_crc(data))
    return False


def m_sliced(b: Bundle, rng: random.Random) -> bool:
    """Partitioned tensors: overlapping, aliased or many tiny slices."""
    full = _pick(rng, b.entry_keys(), lambda e: bool(e.slices), b)
    if full is None:
        return m_entry_field(b, rng)
    e = b.entry(full)
    parts = [k for k in b.entry_keys() if k.startswith(b"\x00")]
    what = rng.choice(["alias", "grow", "dtype", "shape"])
    if what == "alias" and parts:  # every part points at the same bytes; the full shape grows
        first = BundleEntryProto.FromString(dict(b.items)[parts[0]])
        for k in parts:
            p = BundleEntryProto.FromString(dict(b.items)[k])
            p.offset, p.size, p.crc32c = first.offset, first.size, first.crc32c
            b.set(k, p.SerializeToString())
    elif what == "grow":
        e.shape.dim[0].size = rng.choice([2**20, 2**33])
        b.set(full, e.SerializeToString())
    elif what == "dtype" and parts:
        k = rng.choice(parts)
        p = BundleEntryProto.FromString(dict(b.items)[k])
        p.dtype = rng.choice([2, 9, 7])
        b.set(k, p.SerializeToString())
    else:
        e.shape.dim.add().size = 1
        b.set(full, e.SerializeToString())
    return False


def m_truncate(b: Bundle, rng: random.Random) -> bool:
    name = rng.choice(sorted(b.files))
    data = b.files[name]
    b.files[name] = data[: rng.randrange(len(data))] if data else b""
    b.items = []
    return False


def m_flip(b: Bundle, rng: random.Random) -> bool:
    name = rng.choice(sorted(b.files))
    data = bytearray(b.files[name])
    for _ in range(rng.choice([1, 2, 8])):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    b.files[name] = bytes(data)
    b.items = []
    return False


def m_second_header(b: Bundle, rng: random.Random) -> bool:
    """A later data block whose first key is the empty header key again."""
    b.items = b.items + [(b"", b.items[0][1])] * rng.randint(1, 2)
    b.done(block_size=rng.choice([64, 256]))
    b.items = []
    return False


def m_numpy_rank(b: Bundle, rng: random.Random) -> bool:
    """A rank TensorFlow allows (at most 254) but numpy cannot hold (above 64): trailing 1s keep
    the element count, so only the rank is wrong; fixed-width and string tensors alike."""
    key = _pick(rng, b.entry_keys(), lambda e: not e.slices and e.dtype != 21, b)
    if key is None:
        return False
    e = b.entry(key)
    for _ in range(rng.randint(65 - len(e.shape.dim), 254 - len(e.shape.dim))):
        e.shape.dim.add().size = 1
    b.set(key, e.SerializeToString())
    return False


BUNDLE_MUTATIONS: list[tuple[Callable[[Bundle, random.Random], bool], int]] = [
    (m_reencode, 14),
    (m_reblock, 3),
    (m_header, 5),
    (m_entry_field, 22),
    (m_table, 10),
    (m_block_structure, 6),
    (m_strings, 8),
    (m_variant, 8),
    (m_fixed_data, 5),
    (m_sliced, 6),
    (m_truncate, 6),
    (m_flip, 7),
    (m_second_header, 3),
    (m_numpy_rank, 4),
]


def mutate_bundle(files: Files, stem: str, rng: random.Random) -> tuple[Files, str, bool]:
    b = Bundle(files, stem)
    funcs, weights = zip(*BUNDLE_MUTATIONS)
    func = rng.choices(funcs, weights)[0]
    equivalent = func(b, rng)
    if b.items and func not in (m_reblock, m_second_header):
        b.done()
    return b.files, func.__name__[2:], equivalent


# -- V1 and Keras files -----------------------------------------------------------------------


def mutate_v1(files: Files, name: str, rng: random.Random) -> tuple[Files, str, bool]:
    files = dict(files)
    items = read_items(files[name])
    what = rng.choice(["meta", "data", "flip", "truncate", "reblock"])
    if what == "reblock":
        files[name] = build_table(items, block_size=rng.choice([64, 512]), compression=rng.choice([0, 1]))
        return files, "v1_reblock", True
    if what in ("flip", "truncate"):
        data = bytearray(files[name])
        if what == "truncate":
            files[name] = bytes(data[: rng.randrange(len(data))])
        else:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            files[name] = bytes(data)
        return files, f"v1_{what}", False
    if what == "meta":
        meta = SavedTensorSlices.FromString(items[0][1])
        t = rng.choice(meta.meta.tensor)
        choice = rng.randrange(4)
        if choice == 0:
            t.shape.dim.add().size = rng.choice([2**62, -1, 2**40])
        elif choice == 1:
            t.type = rng.choice([0, 7, 14, 20, 21, 77])
        elif choice == 2:
            for i in range(rng.choice([2, 20000])):
                s = t.slice.add()
                for _ in t.shape.dim:
                    s.extent.add(start=i % 3, length=1)
        else:
            t.name = t.name + "\u00e9"
        items[0] = (b"", meta.SerializeToString())
    else:
        i = rng.randrange(1, len(items))
        saved = SavedTensorSlices.FromString(items[i][1])
        d = saved.data.data
        choice = rng.randrange(3)
        if choice == 0:
            d.half_val.extend([70000])
            d.float_val.extend([1.0] * rng.randrange(3))
        elif choice == 1:
            d.tensor_content = b"\x00" * 7
            del d.float_val[:]
        else:
            d.CopyFrom(bad_tensor_proto(rng))
        items[i] = (items[i][0], saved.SerializeToString())
    files[name] = build_table(items)
    return files, f"v1_{what}", False


def mutate_raw(files: Files, rng: random.Random) -> tuple[Files, str, bool]:
    """Truncations and bit flips (HDF5 and ZIP have their own checksums or none)."""
    files = dict(files)
    name = rng.choice(sorted(files))
    data = bytearray(files[name])
    if rng.random() < 0.3:
        files[name] = bytes(data[: rng.randrange(len(data))])
        return files, "raw_truncate", False
    for _ in range(rng.choice([1, 2, 4, 16])):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    files[name] = bytes(data)
    return files, "raw_flip", False
