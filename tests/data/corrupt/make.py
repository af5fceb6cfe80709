"""Derive the corrupt checkpoints in this folder from TensorFlow-written fixtures.

Run from the project root: ``python tests/data/corrupt/make.py``. Needs ckptviz (its table
builder re-encodes a damaged index), not TensorFlow. Writes one folder per case and
``manifest.json``: the error each case must raise, a regex of its message, and the file the
error must name.
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # tests.fuzz, run as a script

from ckptviz.format import crc, table
from ckptviz.format.protos.ckptviz_format_pb2 import BundleEntryProto, BundleHeaderProto

HERE = Path(__file__).parent
DATA = HERE.parent
BASE = DATA / "guide_keras3"  # a small object-based checkpoint: ckpt-1
SLICED = DATA / "sliced_policy"  # 4 data files and sliced tensors: ckpt
KERNEL = "net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"

Items = list[tuple[bytes, bytes]]
CASES: list[dict[str, object]] = []


def copy(src: Path, name: str) -> Path:
    dest = HERE / name
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.json", "checkpoint"))
    return dest


def case(name: str, error: str, match: str, file: str, src: Path = BASE, prefix: str = "ckpt-1") -> Callable:
    def register(damage: Callable[[Path], None]) -> Callable[[Path], None]:
        dest = copy(src, name)
        damage(dest / prefix)
        CASES.append(
            {"name": name, "path": f"corrupt/{name}/{prefix}", "error": error, "match": match, "file": file}
        )
        return damage

    return register


def items(prefix: Path) -> Items:
    data = (prefix.parent / (prefix.name + ".index")).read_bytes()
    return [(k, v) for k, v, _ in table.TableReader(data, "index")]


def write_index(prefix: Path, entries: Items) -> None:
    builder = table.TableBuilder()
    for key, value in entries:
        builder.add(key, value)
    (prefix.parent / (prefix.name + ".index")).write_bytes(builder.finish())


def edit_entry(prefix: Path, key: str, edit: Callable[[BundleEntryProto], None]) -> None:
    entries = []
    for k, v in items(prefix):
        if k == key.encode():
            proto = BundleEntryProto.FromString(v)
            edit(proto)
            v = proto.SerializeToString()
        entries.append((k, v))
    write_index(prefix, entries)


def index_of(prefix: Path) -> Path:
    return prefix.parent / (prefix.name + ".index")


def data_of(prefix: Path, shard: int = 0, count: int = 1) -> Path:
    return prefix.parent / f"{prefix.name}.data-{shard:05d}-of-{count:05d}"


@case("too_short", "CorruptCheckpointError", "too short to be an sstable", "ckpt-1.index")
def _(p: Path) -> None:
    index_of(p).write_bytes(index_of(p).read_bytes()[:30])


@case("bad_magic", "CorruptCheckpointError", "bad table magic", "ckpt-1.index")
def _(p: Path) -> None:
    data = bytearray(index_of(p).read_bytes())
    data[-1] ^= 0xFF
    index_of(p).write_bytes(bytes(data))


@case("index_block_flip", "ChecksumMismatchError", "block checksum mismatch", "ckpt-1.index")
def _(p: Path) -> None:
    data = bytearray(index_of(p).read_bytes())
    data[20] ^= 0x04
    index_of(p).write_bytes(bytes(data))


@case("bad_varint", "CorruptCheckpointError", "bad block entry header", "ckpt-1.index")
def _(p: Path) -> None:
    data = bytearray(index_of(p).read_bytes())
    first = table.TableReader(bytes(data), "").index[0][1]
    # Entry 0 is the header (3 header bytes, empty key, 6-byte value); break entry 1's header.
    data[first.offset + 9 : first.offset + 20] = b"\xff" * 11
    end = first.offset + first.size
    data[end + 1 : end + 5] = struct.pack("<I", crc.mask(crc.value(bytes(data[first.offset : end + 1]))))
    index_of(p).write_bytes(bytes(data))


@case("no_header", "CorruptCheckpointError", "no bundle header", "ckpt-1.index")
def _(p: Path) -> None:
    write_index(p, [(k, v) for k, v in items(p) if k])


@case("newer_version", "UnsupportedCheckpointError", "needs a newer reader", "ckpt-1.index")
def _(p: Path) -> None:
    entries = items(p)
    header = BundleHeaderProto.FromString(entries[0][1])
    header.version.min_consumer = 7
    write_index(p, [(b"", header.SerializeToString()), *entries[1:]])


@case("bad_entry_proto", "CorruptCheckpointError", "is not a BundleEntryProto", "ckpt-1.index")
def _(p: Path) -> None:
    write_index(p, [(k, b"\x0a\xff\xff\xff" if k == KERNEL.encode() else v) for k, v in items(p)])


@case("negative_dim", "CorruptCheckpointError", "negative shape", "ckpt-1.index")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: setattr(e.shape.dim[0], "size", -3))


@case("tensor_flip", "ChecksumMismatchError", "checksum mismatch for", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    entry = BundleEntryProto.FromString(dict(items(p))[KERNEL.encode()])
    data = bytearray(data_of(p).read_bytes())
    data[entry.offset + 1] ^= 0x10
    data_of(p).write_bytes(bytes(data))


@case("truncated_data", "CorruptCheckpointError", "needs bytes", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    data_of(p).write_bytes(data_of(p).read_bytes()[:100])


@case("foreign_data", "CorruptCheckpointError", "checksum mismatch|needs bytes", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    shutil.copy(DATA / "guide_legacy_adam" / "ckpt-4.data-00000-of-00001", data_of(p))


@case("missing_data", "CorruptCheckpointError", "is missing", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    data_of(p).unlink()


@case("offset_past_end", "CorruptCheckpointError", "needs bytes", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: setattr(e, "offset", 10**12))


@case("huge_size", "CorruptCheckpointError", "needs bytes", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    def grow(e: BundleEntryProto) -> None:
        e.shape.dim[0].size = 2**46
        e.size = 2**46 * e.shape.dim[1].size * 4

    edit_entry(p, KERNEL, grow)


@case("wrong_size", "CorruptCheckpointError", "holds 7 bytes", "ckpt-1.index")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: setattr(e, "size", 7))


@case("shard_out_of_range", "CorruptCheckpointError", "is in shard 9", "ckpt-1.index")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: setattr(e, "shard_id", 9))


@case("huge_string", "CorruptCheckpointError", "cannot fit", "ckpt-1.data-00000-of-00001")
def _(p: Path) -> None:
    edit_entry(p, "_CHECKPOINTABLE_OBJECT_GRAPH", lambda e: e.shape.dim.add(size=2**40))


@case("resource_dtype", "UnsupportedCheckpointError", "resource", "")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: setattr(e, "dtype", 20))


@case(
    "bad_object_graph", "CorruptCheckpointError", "_CHECKPOINTABLE_OBJECT_GRAPH", "ckpt-1.data-00000-of-00001"
)
def _(p: Path) -> None:
    from ckptviz.format import values

    key = b"_CHECKPOINTABLE_OBJECT_GRAPH"
    data, masked = values.encode_strings(b"\xff\xff\xff\xff garbage")
    blob = data_of(p)
    offset = blob.stat().st_size
    blob.write_bytes(blob.read_bytes() + data)

    def point(e: BundleEntryProto) -> None:
        e.offset, e.size, e.crc32c = offset, len(data), masked

    edit_entry(p, key.decode(), point)


SLICED_KEY = "model/big/.ATTRIBUTES/VARIABLE_VALUE"


@case("missing_slice", "CorruptCheckpointError", "cover", "ckpt.index", SLICED, "ckpt")
def _(p: Path) -> None:
    edit_entry(p, SLICED_KEY, lambda e: e.slices.pop())


@case("missing_shard", "CorruptCheckpointError", "is missing", "ckpt.data-00001-of-00004", SLICED, "ckpt")
def _(p: Path) -> None:
    data_of(p, 1, 4).unlink()


# -- shapes and sizes --------------------------------------------------------------------------


@case("rank_too_high", "CorruptCheckpointError", "rank 255, above TensorFlow's limit of 254", "ckpt-1.index")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: [e.shape.dim.add(size=1) for _ in range(255 - len(e.shape.dim))])


@case("elements_overflow", "CorruptCheckpointError", "more than 2\\*\\*63 - 1 elements", "ckpt-1.index")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: [setattr(d, "size", 2**62) for d in e.shape.dim])


@case("elements_wrap_to_zero", "CorruptCheckpointError", "more than 2\\*\\*63 - 1 elements", "ckpt-1.index")
def _(p: Path) -> None:
    # 2**32 * 2**32 is 0 in numpy's int64 arithmetic: a size check done in numpy would pass.
    def wrap(e: BundleEntryProto) -> None:
        e.shape.dim[0].size = e.shape.dim[1].size = 2**32
        e.size = 0

    edit_entry(p, KERNEL, wrap)


def _rescaled_slice_key(key: bytes) -> bytes:
    from ckptviz.format import slices

    name, piece = slices.decode_key(key)
    return slices.encode_key(
        name,
        slices.Slice(
            tuple(((s * 2**28, n * 2**28) if i == 0 else (s, n)) for i, (s, n) in enumerate(piece.extents))
        ),
    )


@case(
    "sliced_huge_alloc",
    "CorruptCheckpointError",
    "claims 4294967296 string elements in 64 bytes",
    "ckpt.index",
    SLICED,
    "ckpt",
)
def _(p: Path) -> None:
    # As strings, with every row count times 2**28: assembling the whole tensor would allocate an
    # 85 GB object array from a file of a few hundred bytes, before reading one of them.
    out = []
    for k, v in items(p):
        if k == SLICED_KEY.encode() or k.startswith(b"\x00" + SLICED_KEY.encode()):
            e = BundleEntryProto.FromString(v)
            e.dtype = 7
            e.shape.dim[0].size *= 2**28
            for extent in (s.extent[0] for s in e.slices):
                extent.start, extent.length = extent.start * 2**28, extent.length * 2**28
            v = e.SerializeToString()
            k = _rescaled_slice_key(k) if k[:1] == b"\x00" else k
        out.append((k, v))
    write_index(p, sorted(out))


@case("slice_dtype_mismatch", "CorruptCheckpointError", "is stored as float64", "ckpt.index", SLICED, "ckpt")
def _(p: Path) -> None:
    part = next(k for k, _ in items(p) if k.startswith(b"\x00" + SLICED_KEY.encode()))
    entries = []
    for k, v in items(p):
        if k == part:
            e = BundleEntryProto.FromString(v)
            e.dtype = 2
            v = e.SerializeToString()
        entries.append((k, v))
    write_index(p, entries)


# -- table structure -----------------------------------------------------------------------------


def raw_index(prefix: Path, entries: Items) -> None:
    """Entries in the given order, even when TableBuilder would refuse it."""
    from tests.fuzz.encoding import build_table

    index_of(prefix).write_bytes(build_table(entries))


@case("second_header", "CorruptCheckpointError", "keys out of order: b'' after", "ckpt-1.index")
def _(p: Path) -> None:
    entries = items(p)
    raw_index(p, [entries[0], entries[1], entries[0], *entries[2:]])


@case("duplicate_key", "CorruptCheckpointError", "keys out of order", "ckpt-1.index")
def _(p: Path) -> None:
    entries = items(p)
    raw_index(p, [*entries[:3], entries[2], *entries[3:]])


@case("keys_out_of_order", "CorruptCheckpointError", "keys out of order", "ckpt-1.index")
def _(p: Path) -> None:
    entries = items(p)
    raw_index(p, [entries[0], entries[2], entries[1], *entries[3:]])


@case(
    "restart_out_of_range", "CorruptCheckpointError", "restart point 0 of the block is offset", "ckpt-1.index"
)
def _(p: Path) -> None:
    data = bytearray(index_of(p).read_bytes())
    handle = table.TableReader(bytes(data), "").index[0][1]
    (count,) = struct.unpack_from("<I", data, handle.offset + handle.size - 4)
    struct.pack_into("<I", data, handle.offset + handle.size - 4 - 4 * count, handle.size + 100)
    end = handle.offset + handle.size
    data[end + 1 : end + 5] = struct.pack("<I", crc.mask(crc.value(bytes(data[handle.offset : end + 1]))))
    index_of(p).write_bytes(bytes(data))


@case("block_handle_out_of_range", "CorruptCheckpointError", "points past the end", "ckpt-1.index")
def _(p: Path) -> None:
    data = bytearray(index_of(p).read_bytes())
    index = table.TableReader(bytes(data), "").footer.index
    block = bytearray(data[index.offset : index.offset + index.size])
    # The first index entry: 3 header bytes, its separator key, then the handle's offset varint.
    pos = 3 + block[1]
    assert block[pos] < 0x80  # a one-byte offset varint (the first block starts at 0)
    block[pos] = 0x7F  # offset 127: the block it names now runs past the end of the file
    data[index.offset : index.offset + index.size] = block
    end = index.offset + index.size
    data[end + 1 : end + 5] = struct.pack("<I", crc.mask(crc.value(bytes(data[index.offset : end + 1]))))
    index_of(p).write_bytes(bytes(data))


# -- tensor payloads ------------------------------------------------------------------------------


@case(
    "string_trailing_bytes",
    "CorruptCheckpointError",
    "bytes after its last string",
    "ckpt-1.data-00000-of-00001",
)
def _(p: Path) -> None:
    from ckptviz.format import values

    data, masked = values.encode_strings(b"graph bytes")
    blob = data_of(p)
    offset = blob.stat().st_size
    blob.write_bytes(blob.read_bytes() + data + b"\x00\x00\x00")

    def point(e: BundleEntryProto) -> None:
        e.offset, e.size, e.crc32c = offset, len(data) + 3, masked

    edit_entry(p, "_CHECKPOINTABLE_OBJECT_GRAPH", point)


VARIANT = DATA / "variant"
VARIANT_KEY = "it/.ATTRIBUTES/ITERATOR_STATE"


def replace_variant(prefix: Path, element: bytes) -> None:
    """The variant tensor becomes one element holding ``element`` (CRCs correct)."""
    import numpy as np

    from ckptviz.format import values

    arr = np.empty(1, dtype=object)
    arr[0] = element
    data, masked = values.encode_variants(arr)
    blob = data_of(prefix)
    offset = blob.stat().st_size
    blob.write_bytes(blob.read_bytes() + data)

    def point(e: BundleEntryProto) -> None:
        e.offset, e.size, e.crc32c = offset, len(data), masked
        del e.shape.dim[:]
        e.shape.dim.add(size=1)

    edit_entry(prefix, VARIANT_KEY, point)


@case(
    "variant_half_val",
    "CorruptCheckpointError",
    "half_val holds 70000",
    "ckpt.data-00000-of-00001",
    VARIANT,
    "ckpt",
)
def _(p: Path) -> None:
    from ckptviz.format.protos.ckptviz_format_pb2 import VariantTensorDataProto

    v = VariantTensorDataProto(type_name="tensorflow::Iterator")
    t = v.tensors.add(dtype=19)
    t.tensor_shape.dim.add(size=2)
    t.half_val.extend([15360, 70000])
    replace_variant(p, v.SerializeToString())


@case(
    "variant_fill_bomb",
    "CorruptCheckpointError",
    "would be repeated into",
    "ckpt.data-00000-of-00001",
    VARIANT,
    "ckpt",
)
def _(p: Path) -> None:
    from ckptviz.format.protos.ckptviz_format_pb2 import VariantTensorDataProto

    v = VariantTensorDataProto(type_name="tensorflow::Iterator")
    for _ in range(8):  # each alone is allowed, together 8 x 128 MiB
        t = v.tensors.add(dtype=2)
        t.tensor_shape.dim.add(size=1 << 24)
        t.double_val.append(1.0)
    replace_variant(p, v.SerializeToString())


@case(
    "variant_bad_metadata",
    "CorruptCheckpointError",
    "bad VariantTensorDataProto",
    "ckpt.data-00000-of-00001",
    VARIANT,
    "ckpt",
)
def _(p: Path) -> None:
    # type_name is a proto3 string: bytes that are not UTF-8 make the message invalid.
    replace_variant(p, b"\x0a\x02\xff\xfe\x12\x03abc")


@case("bad_dtype", "UnsupportedCheckpointError", "unknown_dtype_77", "ckpt-1.index")
def _(p: Path) -> None:
    edit_entry(p, KERNEL, lambda e: setattr(e, "dtype", 77))


@case(
    "variant_element_crc",
    "ChecksumMismatchError",
    "variant element checksum mismatch",
    "ckpt.data-00000-of-00001",
    VARIANT,
    "ckpt",
)
def _(p: Path) -> None:
    entry = BundleEntryProto.FromString(dict(items(p))[VARIANT_KEY.encode()])
    data = bytearray(data_of(p).read_bytes())
    data[entry.offset + 3] ^= 0x01  # inside the first element's VariantTensorDataProto
    data_of(p).write_bytes(bytes(data))


@case(
    "variant_tensor_crc",
    "ChecksumMismatchError",
    "variant tensor checksum mismatch",
    "ckpt.data-00000-of-00001",
    VARIANT,
    "ckpt",
)
def _(p: Path) -> None:
    edit_entry(p, VARIANT_KEY, lambda e: setattr(e, "crc32c", e.crc32c ^ 1))


if __name__ == "__main__":
    (HERE / "manifest.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(f"{len(CASES)} corrupt checkpoints in {HERE}")
