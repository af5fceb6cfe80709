"""The bytes of string and variant tensors in a data file (tensor_bundle.cc, §3 of the format).

Strings: one varint length per element, a masked CRC32C of the lengths (re-encoded as fixed
32- or 64-bit integers), then the element bytes back to back. Variants: per element a varint
length, a serialized ``VariantTensorDataProto`` and the masked running checksum.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ChecksumMismatchError, CorruptCheckpointError
from . import crc, varint
from .tensor_proto import FillBudget, TensorProtoError, Variant, variant_from_proto


def _objects(values: Sequence[Any], shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(shape)


def _length_bytes(lengths: Sequence[int], endian: str) -> bytes:
    if all(n <= 0xFFFFFFFF for n in lengths):
        return np.asarray(lengths, dtype=f"{endian}u4").tobytes()
    return b"".join(struct.pack(f"{endian}I" if n <= 0xFFFFFFFF else f"{endian}Q", n) for n in lengths)


def decode_strings(
    buf: bytes, shape: tuple[int, ...], path: str, offset: int, expected_crc: int | None, endian: str = "<"
) -> np.ndarray:
    """``buf`` is the entry's whole stored bytes; ``expected_crc`` the masked entry CRC (None: skip)."""
    n = math.prod(shape)
    if n > len(buf):  # every element needs at least one length byte
        raise CorruptCheckpointError(f"{n} strings cannot fit in {len(buf)} bytes", path, offset)
    lengths, pos, end = [], 0, len(buf)
    for _ in range(n):
        if pos < end and buf[pos] < 0x80:  # the common one-byte length
            lengths.append(buf[pos])
            pos += 1
            continue
        try:
            length, pos = varint.decode(buf, pos, end)
        except varint.VarintError as e:
            raise CorruptCheckpointError(f"bad string length: {e}", path, offset + e.pos) from None
        lengths.append(length)
    if pos + 4 > end:
        raise CorruptCheckpointError(
            f"string lengths end at byte {pos} of {end}, leaving no room for their checksum",
            path,
            offset + pos,
        )
    raw_crc = buf[pos : pos + 4]
    if expected_crc is not None:  # the lengths' own checksum first, as TensorFlow's reader does
        lengths_crc = crc.value(_length_bytes(lengths, endian))
        (stored,) = struct.unpack(f"{endian}I", raw_crc)
        if crc.mask(lengths_crc) != stored:
            raise ChecksumMismatchError(
                "checksum mismatch in string lengths (is the data file from another checkpoint?)",
                path,
                offset + pos,
            )
    if pos + 4 + sum(lengths) > end:
        raise CorruptCheckpointError(
            f"string lengths add up to {sum(lengths)} bytes but only {end - pos - 4} remain",
            path,
            offset + pos,
        )
    if expected_crc is not None:
        actual = crc.value(memoryview(buf)[pos + 4 : pos + 4 + sum(lengths)], crc.value(raw_crc, lengths_crc))
        if crc.mask(actual) != expected_crc:
            raise ChecksumMismatchError(
                f"tensor checksum mismatch: stored {crc.unmask(expected_crc):#010x}, computed {actual:#010x}",
                path,
                offset,
            )
    if pos + 4 + sum(lengths) < end:  # the entry must hold exactly its strings
        raise CorruptCheckpointError(
            f"string tensor of {n} elements holds {end - pos - 4 - sum(lengths)} bytes after its last "
            "string (the entry's size does not match its contents)",
            path,
            offset + pos + 4 + sum(lengths),
        )
    pos += 4
    items = []
    for length in lengths:
        items.append(bytes(buf[pos : pos + length]))
        pos += length
    return _objects(items, shape)


def encode_strings(values: Any) -> tuple[bytes, int]:
    """Stored bytes and masked CRC of a string tensor (anything ``np.asarray`` makes of bytes/str)."""
    flat = [
        v.encode("utf-8") if isinstance(v, str) else bytes(v)
        for v in np.asarray(values, dtype=object).reshape(-1)
    ]
    lengths = [len(v) for v in flat]
    lengths_crc = crc.value(_length_bytes(lengths, "<"))
    raw_crc = struct.pack("<I", crc.mask(lengths_crc))
    body = b"".join(flat)
    data = b"".join(varint.encode(n) for n in lengths) + raw_crc + body
    return data, crc.mask(crc.value(body, crc.value(raw_crc, lengths_crc)))


def decode_variants(
    buf: bytes, shape: tuple[int, ...], path: str, offset: int, expected_crc: int | None
) -> np.ndarray:
    from google.protobuf.message import DecodeError

    from .protos.ckptviz_format_pb2 import VariantTensorDataProto

    n = math.prod(shape)
    if 5 * n > len(buf):  # a length byte and a checksum per element at least
        raise CorruptCheckpointError(f"{n} variants cannot fit in {len(buf)} bytes", path, offset)
    items: list[Variant] = []
    budget = FillBudget(16 * len(buf) + (16 << 20))  # what nested TensorProtos may expand into
    running, pos, end = 0, 0, len(buf)
    for _ in range(n):
        try:
            length, body = varint.decode(buf, pos, end)
        except varint.VarintError as e:
            raise CorruptCheckpointError(f"bad variant length: {e}", path, offset + e.pos) from None
        if body + length + 4 > end:
            raise CorruptCheckpointError(f"variant of {length} bytes runs past the entry", path, offset + pos)
        payload = buf[body : body + length]
        raw_crc = buf[body + length : body + length + 4]
        if expected_crc is not None:
            running = crc.value(payload, crc.value(struct.pack("<Q", length), running))
            if crc.mask(running) != struct.unpack("<I", raw_crc)[0]:
                raise ChecksumMismatchError("variant element checksum mismatch", path, offset + body + length)
            running = crc.value(raw_crc, running)
        proto = VariantTensorDataProto()
        try:
            proto.ParseFromString(payload)
            items.append(variant_from_proto(proto, budget))
        except (DecodeError, TensorProtoError, RecursionError) as e:
            reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            raise CorruptCheckpointError(
                f"bad VariantTensorDataProto: {reason}", path, offset + body
            ) from None
        pos = body + length + 4
    if pos != end:
        raise CorruptCheckpointError(
            f"variant tensor of {n} elements is followed by {end - pos} stray bytes", path, offset + pos
        )
    if expected_crc is not None and crc.mask(running) != expected_crc:
        raise ChecksumMismatchError("variant tensor checksum mismatch", path, offset)
    return _objects(items, shape)


def encode_variants(values: Any) -> tuple[bytes, int]:
    """Stored bytes and masked CRC of a variant tensor of ``Variant`` or serialized protos."""
    from .protos.ckptviz_format_pb2 import VariantTensorDataProto

    out, running = bytearray(), 0
    for v in np.asarray(values, dtype=object).reshape(-1):
        if isinstance(v, Variant):
            from .tensor_proto import from_numpy

            proto = VariantTensorDataProto(type_name=v.type_name, metadata=v.metadata)
            proto.tensors.extend(from_numpy(t) for t in v.tensors)
            v = proto.SerializeToString()
        elif not isinstance(v, (bytes, bytearray)):
            v = v.SerializeToString()
        running = crc.value(v, crc.value(struct.pack("<Q", len(v)), running))
        raw_crc = struct.pack("<I", crc.mask(running))
        running = crc.value(raw_crc, running)
        out += varint.encode(len(v)) + v + raw_crc
    return bytes(out), crc.mask(running)
