"""Protobuf wire records, decoded with numpy: every record of many messages at once.

A message is a chain of records (tag, then a varint or a length and that many bytes); each record
starts where the previous one ends, so the chain is sequential. ``records`` resolves it for many
messages together: a few lock steps (one record of every message per step) for the short ones,
then, for the long ones, every byte that could start an expected record (and whose record ends
where another could start) is decoded as if it did, and the chains are followed from the
messages' starts by pointer doubling.

Only what is decoded exactly is accepted: single-byte tags of the expected fields with their
expected wire type, varints of at most 10 bytes that fit 64 bits, lengths that stay inside the
message. Anything else (unknown fields, groups, long tags, truncation) raises ``Unsupported`` for
the caller to use a general decoder, which also words the error when the bytes are corrupt.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

VARINT, LEN = 0, 2
_MAX_VARINT = 10
_LOCK_STEPS = 8  # records read one step at a time before long messages are resolved by doubling


class Unsupported(ValueError):
    """The bytes hold something this decoder does not decode exactly."""


class Records:
    """Records in message order, then position: the message (index into the ranges given), the
    field number, and for a varint its value (``end`` = -1) or for a length-delimited field the
    payload ``[value, end)``; ``continued`` counts their varints' bytes with the high bit set
    (all but the last of each)."""

    __slots__ = ("continued", "end", "field", "owner", "value")

    def __init__(
        self, owner: np.ndarray, field: np.ndarray, value: np.ndarray, end: np.ndarray, continued: int = 0
    ) -> None:
        self.owner, self.field, self.value, self.end, self.continued = owner, field, value, end, continued

    def by_field(self) -> dict[int, Records]:
        """The records of each field, each in message order (one sort for all fields)."""
        order = np.argsort(self.field, kind="stable")
        field = self.field[order]
        bounds = np.flatnonzero(np.diff(field)) + 1
        out: dict[int, Records] = {}
        for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), len(field)]) if len(field) else ():
            part = order[a:b]
            out[int(field[a])] = Records(self.owner[part], field[a:b], self.value[part], self.end[part])
        return out


def varints(buf: np.ndarray, pos: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(value, next position)`` of the varint at each ``pos`` (uint64, int64); -1 as the next
    position where it runs to ``end`` or is longer than 10 bytes or beyond 64 bits. Read a byte
    at a time over the varints not yet ended: nearly all end at their first."""
    if not len(pos):
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    inside = pos < end
    first = buf[np.minimum(pos, len(buf) - 1)]
    one = inside & (first < 0x80)
    if one.all():  # one byte each, the common case
        return first.astype(np.uint64), pos + 1
    value = (first & 0x7F).astype(np.uint64)
    after = np.where(one, pos + 1, -1)
    rows = np.flatnonzero(inside & ~one)
    at, acc = pos[rows] + 1, value[rows]
    for k in range(1, _MAX_VARINT):
        inside = at < end[rows]
        if not inside.all():
            rows, at, acc = rows[inside], at[inside], acc[inside]
        if not rows.size:
            break
        byte = buf[at]
        acc |= (byte & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        last = byte < 0x80
        if k == _MAX_VARINT - 1:
            last &= byte <= 1  # the tenth byte holds the 64th bit only
        value[rows[last]] = acc[last]
        after[rows[last]] = at[last] + 1
        more = ~last
        rows, at, acc = rows[more], at[more] + 1, acc[more]
    return value, after


def _step(
    buf: np.ndarray, pos: np.ndarray, end: np.ndarray, wire: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One record at each ``pos``: ``(tag, value, payload end or -1, next position or -1)``;
    next is -1 where the record is not one this decoder reads exactly or overruns ``end``."""
    tag = buf[pos]
    kind = wire[tag]  # -1 unexpected, else the wire type
    value, after = varints(buf, pos + 1, end)
    payload_end = np.full(len(pos), -1, np.int64)
    delimited = (kind == LEN) & (after >= 0)
    room = (end - np.maximum(after, 0)).astype(np.uint64)
    fits = delimited & (value <= room)
    payload_end[fits] = after[fits] + value[fits].astype(np.int64)
    nxt = np.where(kind == VARINT, after, np.where(fits, payload_end, -1))
    nxt[kind < 0] = -1
    return tag, value, payload_end, nxt


Fields = Mapping[int, "int | Fields"]


def _tags(fields: Fields) -> np.ndarray:
    """The wire type expected after each single-byte tag (-1: none is)."""
    wire = np.full(256, -1, np.int8)
    for number, kind in fields.items():
        kind = LEN if isinstance(kind, Mapping) else kind
        assert 0 < number < 16 and kind in (VARINT, LEN)
        wire[number << 3 | kind] = kind
    return wire


def records(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, fields: Fields) -> Records:
    """Every record of the messages ``buf[starts[i]:ends[i]]`` (disjoint, in position order), whose
    fields are ``{field number: wire type, or the fields of the message it holds}`` with fields
    below 16; raises ``Unsupported`` for any other record, or one that is cut short."""
    wire = _tags(fields)
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    pos = starts.copy()
    found: list[tuple[np.ndarray, ...]] = []
    active = np.flatnonzero(pos < ends)
    for _ in range(_LOCK_STEPS):
        if not active.size:
            break
        at, end = pos[active], ends[active]
        tag, value, payload_end, nxt = _step(buf, at, end, wire)
        if (nxt < 0).any():
            raise Unsupported(f"an unexpected or cut record at byte {int(at[np.argmax(nxt < 0)])}")
        found.append((active, at, tag, value, payload_end, nxt))
        pos[active] = nxt
        active = active[nxt < end]
    if active.size:
        found.append(_chains(buf, pos[active], ends[active], active, wire, _payload_tags(fields)))
    if not found:
        empty = np.zeros(0, np.int64)
        return Records(empty, np.zeros(0, np.uint8), np.zeros(0, np.uint64), empty)
    owner, at, tag, value, payload_end, nxt = (np.concatenate(c) for c in zip(*found))
    delimited = payload_end >= 0
    value[delimited] = (payload_end[delimited] - value[delimited].astype(np.int64)).astype(np.uint64)
    header = np.where(delimited, value.astype(np.int64), nxt) - at  # the tag and the varint
    continued = int(header.sum()) - 2 * len(header)
    if len(at) > 1 and bool((at[1:] < at[:-1]).any()):  # lock steps interleave the messages
        order = np.argsort(at, kind="stable")
        owner, tag, value, payload_end = owner[order], tag[order], value[order], payload_end[order]
    return Records(owner, (tag >> 3).astype(np.uint8), value, payload_end, continued)


def _payload_tags(fields: Fields) -> dict[int, np.ndarray]:
    """``{tag of a message field: which bytes may start its payload}`` (the message's own tags)."""
    return {
        number << 3 | LEN: _tags(kind) >= 0 for number, kind in fields.items() if isinstance(kind, Mapping)
    }


def _plausible(
    buf: np.ndarray,
    at: np.ndarray,
    limit: np.ndarray,
    marked: tuple[np.ndarray, int],
    wire: np.ndarray,
    payload_tags: dict[int, np.ndarray],
) -> np.ndarray:
    """Which candidate starts ``at`` (``marked``: a mask of them all, and the offset it starts at)
    are worth reading: a record whose varint is one byte must end at another candidate or at its
    message's end (``limit``), and a message field's payload must start with one of its fields.
    Most false starts fail this."""
    second = buf[np.minimum(at + 1, len(buf) - 1)]
    short = (at + 1 < limit) & (second < 0x80)
    tag = buf[at]
    nxt = at + 2 + np.where(wire[tag] == LEN, second, 0)
    hit, lo = marked
    keep = ~short | (nxt == limit) | ((nxt < limit) & hit[np.minimum(nxt - lo, len(hit) - 1)])
    for t, allowed in payload_tags.items():
        check = np.flatnonzero(keep & short & (tag == t) & (second > 0))  # ends inside: at + 2 < limit
        keep[check] = allowed[buf[at[check] + 2]]
    out: np.ndarray = keep
    return out


def _chains(
    buf: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    owners: np.ndarray,
    wire: np.ndarray,
    payload_tags: dict[int, np.ndarray],
) -> tuple[np.ndarray, ...]:
    """The records of long messages: every byte that could start an expected record is read as if
    it did, then each message's chain is followed from its start by pointer doubling. A byte whose
    record could not be one (cut, or a message whose payload starts with none of its fields) is
    dropped first: a chain through it ends there, and the caller decodes otherwise."""
    lo, hi = int(starts[0]), int(ends[-1])  # the messages are disjoint and in order
    span = buf[lo:hi]
    tags = np.flatnonzero(wire >= 0).tolist()
    hit = span == tags[0]  # hit[i]: a candidate at lo + i
    for t in tags[1:]:
        hit |= span == t
    cand = np.flatnonzero(hit) + lo
    message = (
        np.searchsorted(starts, cand, side="right") - 1 if len(starts) > 1 else np.zeros(len(cand), np.int64)
    )
    inside = cand < ends[message]
    cand, message = cand[inside], message[inside]
    limit = ends[message]
    plausible = _plausible(buf, cand, limit, (hit, lo), wire, payload_tags)
    cand, limit, message = cand[plausible], limit[plausible], message[plausible]
    tag, value, payload_end, nxt = _step(buf, cand, limit, wire)
    keep = nxt >= 0
    for t, allowed in payload_tags.items():
        mine = np.flatnonzero(keep & (tag == t))
        begin = payload_end[mine] - value[mine].astype(np.int64)
        full = begin < payload_end[mine]
        keep[mine[full]] = allowed[buf[begin[full]]]
    kept = np.flatnonzero(keep)
    cand, limit, tag, value, payload_end, nxt = (a[kept] for a in (cand, limit, tag, value, payload_end, nxt))
    owner = owners[message[kept]]
    count = len(cand)
    if not count:
        raise Unsupported("an unexpected record starts a message")
    done, dead = count, count + 1
    jump = np.where(nxt == limit, done, dead).astype(np.int32)
    inner = np.flatnonzero((nxt >= 0) & (nxt < limit))
    index = np.searchsorted(cand, nxt[inner])
    found = cand[np.minimum(index, count - 1)] == nxt[inner]
    jump[inner[found]] = index[found]
    jump = np.append(jump, np.array([done, dead], np.int32))
    first = np.searchsorted(cand, starts)
    if ((first >= count) | (cand[np.minimum(first, count - 1)] != starts)).any():
        raise Unsupported("an unexpected record starts a message")
    following = np.arange(1, count + 1, dtype=np.int32)
    following[np.append(first[1:] - 1, count - 1)] = done  # each message's last candidate ends it
    if (jump[:count] == following).all():
        return owner, cand, tag, value, payload_end, nxt  # every candidate is a record: no false start
    jumps = [jump]
    while True:  # jumps[k][c]: the record 2**k steps after c
        last = jumps[-1]
        if (last[first] >= done).all():
            break
        jumps.append(last[last])
    if (jumps[-1][first] == dead).any():
        raise Unsupported("an unexpected or cut record inside a long message")
    on = first.astype(np.int32)
    for j in jumps:
        on = np.concatenate([on, j[on]])
        on = on[on < done]
    on.sort()
    return owner[on], cand[on], tag[on], value[on], payload_end[on], nxt[on]
