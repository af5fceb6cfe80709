"""Reading a TensorBundle V2 checkpoint: ``PREFIX.index`` plus ``PREFIX.data-*`` shards
(tensorflow/core/util/tensor_bundle/tensor_bundle.cc, ``BundleReader``).

Opening reads the header; keys are listed on first need and each entry decoded on first use
(``entries.py``: a lookup before that seeks its one table block). Tensor bytes are read only on
request, one byte range each, straight into the numpy array that is returned. A reader may be
shared between threads: data files are opened under a lock.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import (
    CheckpointNotFoundError,
    ChecksumMismatchError,
    ClosedCheckpointError,
    CorruptCheckpointError,
    KeyNotFoundError,
    LfsPointerError,
    MissingDataError,
    NotARegularFileError,
    UnsupportedCheckpointError,
)
from . import crc, lfs, naming, slices, storage, values
from .dtypes import DType
from .entries import Entries, Entry
from .shapes import numpy_problem
from .table import TableReader

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from .reader import Opener

MAP_MIN_BYTES = 1 << 20  # tensors this big are returned as copy-on-write maps of the data file
COPY_CHUNK = 64 << 20  # bytes per read when streaming a tensor's stored bytes
FLAT_SLACK = 1 << 20  # bytes of other tensors a batch read may skip over
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_FLAT_FIELDS = ("offset", "size", "shard", "dtype", "shape", "slices", "crc32c")


class BundleReader:
    """The entries of one bundle and lazy, checksummed reads of their values."""

    def __init__(self, prefix: str, verify: bool = True, opener: Opener = storage) -> None:
        self.prefix, self.verify, self._opener = prefix, verify, opener
        self.path = prefix
        self.index_path = naming.index_file(prefix)
        try:
            data = opener.read_bytes(self.index_path)
        except NotARegularFileError:
            raise
        except CheckpointNotFoundError:
            raise CheckpointNotFoundError(_missing_index_message(prefix), self.index_path) from None
        if data.startswith(lfs.POINTER_MAGIC):
            raise LfsPointerError(lfs.message(self.index_path), self.index_path)
        self._lock = threading.RLock()
        self._closed = False
        self._shards: dict[int, storage.Blob] = {}
        self._unreadable: dict[int, MissingDataError] = {}  # shards found to be Git LFS pointers
        self._checksummers: ThreadPoolExecutor | None = None  # for big tensors' CRCs, made on first need
        self._whole: dict[tuple[int, np.dtype[Any]], np.ndarray] = {}  # data files mapped whole (read_mapped)
        self.storage_options = storage.current_options()  # for data files opened later, on any thread
        table = TableReader(data, self.index_path, verify)
        header = table.first()
        if header is None or header[0] != b"":
            raise CorruptCheckpointError("the index has no bundle header (empty key)", self.index_path, 0)
        self._read_header(header[1], header[2])
        self._entries = Entries(table, self.index_path)  # keys listed on first need, not here

    @property
    def entries(self) -> Mapping[str, Entry]:
        """Every tensor's entry, by key (slices of partitioned tensors are not listed): once all
        are decoded, a plain dict (lookups at C speed)."""
        return self._entries.made or self._entries

    def dtypes_and_shapes(self) -> dict[str, tuple[DType, tuple[int, ...]]]:
        """``{key: (dtype, shape)}``: all that listing needs, without decoding whole entries."""
        return self._entries.heads()

    def where(self, key: str) -> int:
        """The offset of ``key``'s record in the .index (0 when it has none), for errors."""
        return self._entries.where(key)

    def _read_header(self, value: bytes, offset: int) -> None:
        from google.protobuf.message import DecodeError

        from .protos.ckptviz_format_pb2 import BundleHeaderProto

        try:
            header = BundleHeaderProto.FromString(value)
        except DecodeError as e:
            raise CorruptCheckpointError(f"bad bundle header: {e}", self.index_path, offset) from None
        version = header.version
        if version.producer < 0 or version.min_consumer > 1 or 1 in version.bad_consumers:
            raise UnsupportedCheckpointError(
                f"{self.index_path}: bundle version (producer {version.producer}, min_consumer "
                f"{version.min_consumer}) needs a newer reader"
            )
        if header.num_shards < 1:
            raise CorruptCheckpointError(
                f"header says {header.num_shards} data shards", self.index_path, offset
            )
        self.num_shards = header.num_shards
        self.endian = ">" if header.endianness == BundleHeaderProto.BIG else "<"

    def _corrupt(self, entry: Entry, message: str) -> CorruptCheckpointError:
        """An error about ``entry``'s record in the .index, at that record's offset."""
        return CorruptCheckpointError(message, self.index_path, self.where(entry.key))

    def debug_string(self) -> bytes:
        """TensorFlow's ``BundleReader::DebugString``: a line per table entry in key order, raw
        slice keys of partitioned tensors included and their whole-tensor entries left out."""
        from .protos.ckptviz_format_pb2 import DataType

        rows = [(k.encode("utf-8", "surrogateescape"), e) for k, e in self.entries.items() if not e.slices]
        rows += list(self._entries.slices.items())
        lines = []
        for raw, e in sorted(rows, key=lambda row: row[0]):
            base, ref = e.dtype.base_enum, e.dtype.base_enum != e.dtype.as_datatype_enum
            name = DataType.Name(base) + ("_REF" if ref else "") if base in DataType.values() else ""
            lines.append(b"%s (%s) [%s]\n" % (raw, name.encode(), ",".join(map(str, e.shape)).encode()))
        return b"".join(lines)

    # -- data shards -------------------------------------------------------------------------

    def shard_path(self, shard: int) -> str:
        return naming.data_file(self.prefix, shard, self.num_shards)

    def data_blob(self, entry: Entry) -> storage.Blob:
        """The open data file holding ``entry`` (the reader's own: not to be closed), for callers
        that read many tensors of it in a few ranges."""
        return self._shard(entry)

    def _open_blob(self, path: str) -> storage.Blob:
        """A data file: through the opener it was given, else by path with the options it was opened with."""
        return (
            storage.open_blob(path, self.storage_options)
            if self._opener is storage
            else self._opener.open_blob(path)
        )

    def _shard(self, entry: Entry) -> storage.Blob:
        if self._closed:
            raise ClosedCheckpointError(
                f"{self.prefix}: cannot read {entry.key!r}, the checkpoint was closed; open it again"
            )
        blob = self._shards.get(entry.shard) or self._open_shard(entry)
        if entry.offset + entry.size > blob.size:
            raise CorruptCheckpointError(
                f"entry {entry.key!r} needs bytes [{entry.offset}, {entry.offset + entry.size}) but the file "
                f"has {blob.size} bytes (truncated, or a data file from another checkpoint)",
                blob.path,
                entry.offset,
            )
        return blob

    def _open_shard(self, entry: Entry) -> storage.Blob:
        if entry.shard >= self.num_shards:
            raise self._corrupt(
                entry, f"entry {entry.key!r} is in shard {entry.shard} but the bundle has {self.num_shards}"
            )
        with self._lock:
            if self._closed:
                raise ClosedCheckpointError(f"{self.prefix}: the checkpoint was closed; open it again")
            blob = self._shards.get(entry.shard)
            if blob is not None:
                return blob
            if entry.shard in self._unreadable:
                raise self._unreadable[entry.shard]
            path = self.shard_path(entry.shard)
            try:
                blob = self._open_blob(path)
            except NotARegularFileError as e:
                raise CorruptCheckpointError(str(e), path, 0) from None
            except CheckpointNotFoundError:
                raise MissingDataError(
                    f"data file {storage.basename(path)} is missing: the .index lists every tensor, but "
                    f"values cannot be read (copy all {self.num_shards} data files along with the .index)",
                    path,
                    0,
                ) from None
            self._shards[entry.shard] = self._not_a_pointer(blob, path)
            return blob

    @staticmethod
    def _not_a_pointer(blob: storage.Blob, path: str) -> storage.Blob:
        if lfs.is_pointer_blob(blob):
            blob.close()
            raise MissingDataError(lfs.message(path), path, 0)
        return blob

    def open_shards(self) -> None:
        """Open every data file that exists now rather than on first read (a missing one is
        reported when a tensor in it is read)."""
        for shard in range(self.num_shards):
            path = self.shard_path(shard)
            try:
                blob = self._open_blob(path)
            except NotARegularFileError as e:
                raise CorruptCheckpointError(str(e), path, 0) from None
            except CheckpointNotFoundError:
                continue
            try:
                self._not_a_pointer(blob, path)
            except MissingDataError as e:
                self._unreadable[shard] = e  # said when a tensor in it is read
                continue
            with self._lock:
                if self._closed or shard in self._shards:
                    blob.close()
                else:
                    self._shards[shard] = blob

    def close(self) -> None:
        """Release the data files; any later read raises ``ClosedCheckpointError``."""
        with self._lock:
            self._closed = True
            for blob in self._shards.values():
                blob.close()
            self._shards.clear()
            self._whole.clear()  # unmapped once no caller holds them
            if self._checksummers is not None:
                self._checksummers.shutdown(wait=False)

    # -- values ------------------------------------------------------------------------------

    def read(self, key: str) -> Any:
        """The value of ``key`` as a numpy array (strings and variants as object arrays)."""
        entries = self.entries
        entry = entries.get(key)
        if entry is None:
            raise KeyNotFoundError(key, entries)
        self._check_numpy(entry)
        if entry.slices:
            return self._read_sliced(entry)
        return self.read_entry(entry)

    def _check_numpy(self, entry: Entry) -> None:
        problem = numpy_problem(entry.shape)
        if problem:
            raise UnsupportedCheckpointError(
                f"{self.index_path} at byte {self.where(entry.key)}: cannot read {entry.key!r}, "
                f"a tensor of {problem}"
            )

    def read_many(self, keys: list[str]) -> list[np.ndarray]:
        """The values of ``keys``, in order: the byte ranges of each data file read together (merged,
        and fetched concurrently from a remote store), each CRC32C checked as ``read`` checks it.
        Partitioned, string, variant and big-endian tensors are read one by one."""
        entries = self.entries
        out: list[np.ndarray | None] = [None] * len(keys)
        by_shard: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            e = entries.get(key)
            if e is None:
                raise KeyNotFoundError(key, entries)
            if e.slices or not e.dtype.is_fixed_width or self.endian != "<" or not e.size:
                out[i] = self.read(key)
                continue
            self._check_size(e)
            self._check_numpy(e)
            self._shard(e)  # opens the data file and checks the range, with the reader's messages
            by_shard.setdefault(e.shard, []).append(i)
        for members in by_shard.values():
            blob = self._shards[entries[keys[members[0]]].shard]
            got = blob.read_ranges([(entries[keys[i]].offset, entries[keys[i]].size) for i in members])
            for i, data in zip(members, got):
                e = entries[keys[i]]
                value = np.frombuffer(data, dtype=e.dtype.numpy).reshape(e.shape)
                if self.verify and crc.mask(crc.value(value)) != e.crc32c:
                    raise _checksum_error(e, crc.value(value), blob.path)
                out[i] = value
        return [v for v in out if v is not None]

    def read_flat(self, keys: list[str]) -> np.ndarray | None:
        """The values of ``keys`` as one 1-D array, in order: a batch of small tensors without an
        array (or a read) per key. Their bytes are read as one range, each part's CRC32C checked as
        ``read`` checks it. None unless they are fixed-width tensors of one dtype, little-endian and
        whole, in one data file, within a range at most twice their size (plus ``FLAT_SLACK``):
        writers store a batch back to back, though not always in key order (``table_10`` before
        ``table_9``). ``read_many`` reads any others."""
        if not keys or self.endian != "<":
            return None
        entries = self._entries.all()
        try:
            parts = [entries[k] for k in keys]
        except KeyError as missing:
            raise KeyNotFoundError(missing.args[0], entries) from None
        first = parts[0]
        dtype, shard = first.dtype, first.shard
        if not dtype.is_fixed_width:
            return None
        offsets, sizes, shards, dtypes, shapes, pieces, stored = (
            list(map(attrgetter(f), parts)) for f in _FLAT_FIELDS
        )
        at, size = np.array(offsets, np.int64), np.array(sizes, np.int64)
        end = at + size
        lo, hi, total = int(at.min()), int(end.max()), int(size.sum())
        if (
            any(pieces)
            or shards.count(shard) != len(parts)
            or (len(set(map(id, dtypes))) > 1 and dtypes.count(dtype) != len(parts))  # usually one object
            or hi - lo > 2 * total + FLAT_SLACK
        ):
            return None
        needs = {s: math.prod(s) * dtype.size for s in set(shapes)}  # shapes of a batch repeat
        wrong = np.flatnonzero(np.fromiter(map(needs.__getitem__, shapes), np.int64, len(parts)) != size)
        odd = [shapes.index(s) for s in needs if numpy_problem(s)]
        for j in sorted(odd + wrong[:1].tolist())[:1]:  # the first bad entry raises, as ``read`` would
            self._check_size(parts[j])
            self._check_numpy(parts[j])
        blob = self._shard(parts[int(np.argmin(at))])
        self._shard(parts[int(np.argmax(end))])  # the range's end is inside the file
        data = blob.read(lo, hi - lo)
        start = at - lo
        if self.verify:
            view, value = memoryview(data), crc.value
            spans = zip(start.tolist(), (start + size).tolist())
            actual = np.fromiter((value(view[a:b]) for a, b in spans), np.uint32, len(parts))
            bad = np.flatnonzero(crc.mask_many(actual) != np.array(stored, np.uint32))
            if bad.size:
                j = int(bad[0])
                raise _checksum_error(parts[j], int(actual[j]), blob.path)
        if hi - lo == total and np.array_equal(at[1:], end[:-1]):  # back to back, in the order asked
            return np.frombuffer(data, dtype.numpy)
        # gathered in the order asked: element by element where every part starts on one
        unit = dtype.numpy.itemsize if not np.any(start % dtype.numpy.itemsize) else 1
        source = np.frombuffer(data, dtype.numpy if unit > 1 else np.uint8, (hi - lo) // unit)
        counts, first_at = size // unit, start // unit
        index = np.arange(total // unit) + np.repeat(first_at - (np.cumsum(counts) - counts), counts)
        gathered: np.ndarray = source[index].view(dtype.numpy)
        return gathered

    def read_mapped(self, keys: list[str]) -> tuple[np.ndarray, list[int]] | None:
        """Tensors of one dtype in one local data file without an array per key: the whole file as
        one read-only 1-D memory map of that dtype (made once per reader and shared: its pages
        are mapped once for every caller), and where each key's first element is in it. Each
        tensor is checked as ``read`` checks it (size, range, CRC32C). None where the file cannot
        be taken so: a remote or big-endian bundle, partitioned or not fixed-width tensors, an
        offset that is not a multiple of the dtype's size, several dtypes or data files, or a file
        that cannot be mapped."""
        if not keys or self.endian != "<":
            return None
        entries = self.entries
        try:
            parts = [entries[k] for k in keys]
        except KeyError as missing:
            raise KeyNotFoundError(missing.args[0], entries) from None
        first = parts[0]
        dtype, shard = first.dtype, first.shard
        unit = dtype.numpy.itemsize if dtype.is_fixed_width else 0
        if not unit or any(
            e.slices or e.dtype != dtype or e.shard != shard or e.offset % unit for e in parts
        ):
            return None
        for e in parts:
            self._check_size(e)
            self._check_numpy(e)
            blob = self._shard(e)  # the data file, each range checked
        if not isinstance(blob, storage.LocalBlob):
            return None
        whole = self._whole_file(blob, shard, dtype.numpy)
        if whole is None:
            return None
        starts = [e.offset // unit for e in parts]
        if self.verify:
            for e, at in zip(parts, starts):
                actual = self._checksum(whole[at : at + e.num_elements])
                if crc.mask(actual) != e.crc32c:
                    raise _checksum_error(e, actual, blob.path)
        return whole, starts

    def _whole_file(self, blob: storage.LocalBlob, shard: int, dtype: np.dtype[Any]) -> np.ndarray | None:
        """Data file ``shard`` as one read-only map of ``dtype``, made on first need and kept until
        ``close``; None where it cannot be mapped (out of map areas, a filesystem that cannot
        map, a file shorter than one element)."""
        with self._lock:
            whole = self._whole.get((shard, dtype))
            if whole is None and not self._closed:
                try:
                    whole = blob.map(0, blob.size - blob.size % dtype.itemsize, writable=False).view(dtype)
                except (OSError, ValueError):
                    return None
                self._whole[(shard, dtype)] = whole
        return whole

    def read_entry(self, entry: Entry) -> np.ndarray:
        self._check_numpy(entry)
        dtype = entry.dtype
        if dtype.is_fixed_width:
            return self._read_fixed(entry)
        if dtype.name not in ("string", "variant"):
            raise UnsupportedCheckpointError(
                f"{self.index_path}: entry {entry.key!r} has dtype {dtype.name}, which holds no saved value"
            )
        blob = self._shard(entry)
        buf = blob.read(entry.offset, entry.size)
        expected = entry.crc32c if self.verify else None
        if dtype.name == "string":
            return values.decode_strings(buf, entry.shape, blob.path, entry.offset, expected, self.endian)
        if self.endian != "<":
            raise UnsupportedCheckpointError(
                f"{blob.path}: variant tensors of a big-endian bundle cannot be byte-swapped"
            )
        return values.decode_variants(buf, entry.shape, blob.path, entry.offset, expected)

    def _check_size(self, entry: Entry) -> None:
        need = math.prod(entry.shape) * entry.dtype.size
        if entry.size != need:
            raise self._corrupt(
                entry,
                f"entry {entry.key!r} holds {entry.size} bytes but a {entry.dtype.name} tensor of shape "
                f"{list(entry.shape)} needs {need}",
            )

    def _read_fixed(self, entry: Entry) -> np.ndarray:
        # Hot: called once per tensor, so it reads straight into the array it returns.
        self._check_size(entry)
        dtype = entry.dtype.numpy
        blob = self._shard(entry)  # checks the range before anything is allocated
        out = self._map(blob, entry, dtype) if entry.size >= MAP_MIN_BYTES else None
        if out is None:
            out = np.empty(entry.shape, dtype)
            if entry.size:
                blob.readinto(entry.offset, out)
        if self.verify:
            actual = self._checksum(out)
            if crc.mask(actual) != entry.crc32c:
                raise _checksum_error(entry, actual, blob.path)
        if self.endian != "<" and dtype.itemsize > 1:
            unit = dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize
            out.reshape(-1).view(f"u{unit}").byteswap(inplace=True)
        return out

    def _checksum(self, array: np.ndarray) -> int:
        """The CRC32C of a tensor's bytes; a big one's pieces on every core at once when read from
        the main thread (a diff's or a timeline's workers already keep the cores busy)."""
        pieces = min(CORES, array.nbytes // crc.PIECE_BYTES)
        if pieces < 2 or threading.current_thread() is not threading.main_thread():
            return crc.value(array)
        with self._lock:
            if self._checksummers is None:
                from concurrent.futures import ThreadPoolExecutor

                self._checksummers = ThreadPoolExecutor(CORES - 1, thread_name_prefix="ckptviz-crc")
            submit = self._checksummers.submit
        try:
            return crc.value_in_pieces(array, pieces, submit)
        except RuntimeError:  # closed by another thread meanwhile: the bytes are in hand
            return crc.value(array)

    @staticmethod
    def _map(blob: storage.Blob, entry: Entry, dtype: np.dtype[Any]) -> np.ndarray | None:
        """Big tensors: a copy-on-write map of the file instead of a copy into fresh memory, whose
        page faults cost more than the read itself. None where mapping is not possible."""
        if not isinstance(blob, storage.LocalBlob) or entry.offset % dtype.alignment:
            return None
        try:
            return blob.map(entry.offset, entry.size).view(dtype).reshape(entry.shape)
        except OSError:  # e.g. out of map areas, or a filesystem that cannot map
            return None

    def raw_chunks(self, entry: Entry, chunk: int = COPY_CHUNK) -> tuple[Iterator[memoryview | bytes], int]:
        """The stored bytes of a (non-partitioned) entry, in order, and their masked CRC32C.

        With verification on, fixed-width bytes are checksummed while they stream: the last
        chunk is withheld and ``ChecksumMismatchError`` (naming the data file and offset) raised
        if they do not match; string and variant tensors are decoded once first instead.
        """
        if entry.slices:
            raise UnsupportedCheckpointError(
                f"{self.prefix}: {entry.key!r} is partitioned; copy its parts (slice_entries) one by one"
            )
        # A string or variant entry's CRC is not over its stored bytes (lengths are checksummed as
        # fixed-width integers): decoding checks it, and every inner checksum, once.
        fixed = entry.dtype.is_fixed_width
        if fixed:
            self._check_size(entry)
        elif self.verify:
            self.read_entry(entry)
        blob = self._shard(entry)
        check = self.verify and fixed

        def stream() -> Iterator[memoryview | bytes]:
            running, done = 0, 0
            while done < entry.size:
                data = blob.read(entry.offset + done, min(chunk, entry.size - done))
                running = crc.value(data, running)
                done += len(data)
                if done == entry.size and check and crc.mask(running) != entry.crc32c:
                    raise _checksum_error(entry, running, blob.path)
                yield data

        return stream(), entry.crc32c

    # -- partitioned tensors -----------------------------------------------------------------

    def slice_entries(self, entry: Entry, in_range: bool = True) -> list[tuple[slices.Slice, Entry]]:
        """The stored pieces of a partitioned tensor, checked to tile it exactly (and, with
        ``in_range``, to lie within their data files, as reading them needs)."""
        problem = slices.check_coverage(entry.key, entry.shape, entry.slices)
        if problem:
            raise self._corrupt(entry, problem)
        pieces = []
        for piece in entry.slices:
            part = self._entries.slices.get(slices.encode_key(entry.key, piece))
            if part is None:
                raise self._corrupt(entry, f"slice {piece} of {entry.key!r} has no entry")
            if list(part.shape) != piece.shape(entry.shape) or part.dtype != entry.dtype:
                raise self._corrupt(
                    part,
                    f"slice {piece} of {entry.key!r} is stored as {part.dtype.name}{list(part.shape)}, expected "
                    f"{entry.dtype.name}{piece.shape(entry.shape)}",
                )
            if in_range:
                self._shard(part)
            pieces.append((piece, part))
        return pieces

    def _read_sliced(self, entry: Entry) -> np.ndarray:
        parts = self.slice_entries(entry)
        # Nothing is allocated for the whole tensor before its parts are known to fit: each part
        # holds exactly its elements' bytes, and together no more than their data files hold.
        for piece, part in parts:
            if part.dtype.is_fixed_width:
                self._check_size(part)
            elif math.prod(part.shape) * (5 if part.dtype.name == "variant" else 1) > part.size:
                raise self._corrupt(
                    part,
                    f"slice {piece} of {entry.key!r} claims {math.prod(part.shape)} {part.dtype.name} elements "
                    f"in {part.size} bytes",
                )
        used = sum(part.size for _, part in parts)
        available = sum(self._shards[s].size for s in {part.shard for _, part in parts})
        if used > available:
            raise self._corrupt(
                entry,
                f"the slices of {entry.key!r} claim {used} bytes but their data files hold {available}",
            )
        pieces = dict(parts)
        dtype = entry.dtype.numpy if entry.dtype.is_fixed_width else np.dtype(object)
        return slices.assemble(entry.shape, dtype, list(pieces), lambda p: self.read_entry(pieces[p]))


def _checksum_error(entry: Entry, actual: int, path: str) -> ChecksumMismatchError:
    return ChecksumMismatchError(
        f"checksum mismatch for {entry.key!r}: stored {crc.unmask(entry.crc32c):#010x}, computed "
        f"{actual:#010x} (the data file may come from another checkpoint)",
        path,
        entry.offset,
    )


def _missing_index_message(prefix: str) -> str:
    split = naming.split_data_file(prefix)
    if split:
        return f"{prefix} is a data file; pass the checkpoint prefix {split[0]!r}"
    directory = storage.dirname(prefix) or "."
    found = naming.prefixes_in(directory)
    if found:
        shown = ", ".join(repr(storage.basename(p)) for p in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return f"no checkpoint index {naming.index_file(prefix)}; prefixes in {directory}: {shown}{more}"
    return f"no checkpoint index {naming.index_file(prefix)} (and no .index file in {directory})"
