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
from collections.abc import Callable
from pathlib import Path

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


@case("bad_object_graph", "CorruptCheckpointError", "_CHECKPOINTABLE_OBJECT_GRAPH", "ckpt-1.data-00000-of-00001")
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


if __name__ == "__main__":
    (HERE / "manifest.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(f"{len(CASES)} corrupt checkpoints in {HERE}")
