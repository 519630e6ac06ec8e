"""Malformed and extreme requests built from a message descriptor: random bytes, wrong wire types, oversized and
huge repeated fields, invalid UTF-8, extreme numbers and bit-flipped valid messages."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

STRINGS = [
    "",
    "enterprises/",
    "enterprises/91610100ABCDEFGH1X",
    "platforms/xian",
    "institutions/boc-xian",
    "../../etc/passwd",
    "' OR 1=1 --",
    "\x00\x01\x02",
    "欧阳娜娜" * 50,
    "\U0001f4a9" * 100,
    "%s%n%x" * 20,
    "PRE_LOAN",
    "TAX_PAYMENT",
]
INTS = [0, -1, 1, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 2**32 - 1]


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(number: int, wire: int, payload: bytes | int) -> bytes:
    tag = varint((number << 3) | wire)
    if wire == 0:
        assert isinstance(payload, int)
        return tag + varint(payload)
    if wire == 1:
        return tag + (payload if isinstance(payload, bytes) else b"\0" * 8)[:8].ljust(8, b"\0")
    if wire == 5:
        return tag + (payload if isinstance(payload, bytes) else b"\0" * 4)[:4].ljust(4, b"\0")
    assert isinstance(payload, bytes)
    return tag + varint(len(payload)) + payload


def random_bytes(_: Descriptor, rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([0, 1, 2, 7, 64, 512, 4096]))


def wrong_types(desc: Descriptor, rng: random.Random) -> bytes:
    """Each chosen field encoded with a wire type it does not have (or an unknown field number, or a bad varint)."""
    out = b""
    fields: list[FieldDescriptor | None] = [*desc.fields] or [None]
    for _ in range(rng.randint(1, 6)):
        f = rng.choice(fields)
        number = f.number if f is not None else rng.randint(1, 536_870_911)
        wire = rng.choice([0, 1, 2, 5, 3, 4, 6, 7])
        if wire in (3, 4, 6, 7):  # groups and invalid wire types
            out += varint((number << 3) | wire)
        elif wire == 2:
            out += field_bytes(number, 2, rng.randbytes(rng.randint(0, 40)))
        else:
            out += field_bytes(number, wire, rng.choice(INTS) if wire == 0 else rng.randbytes(8))
    if rng.random() < 0.2:
        out += b"\xff" * 11  # a varint that never ends
    return out


def invalid_utf8(desc: Descriptor, rng: random.Random) -> bytes:
    strings = [f for f in desc.fields if f.type == FieldDescriptor.TYPE_STRING] or list(desc.fields)
    bad = rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"abc\x80"])
    return b"".join(field_bytes(f.number, 2, bad * rng.randint(1, 50)) for f in rng.sample(strings, 1))


def _fill(msg: Message, rng: random.Random, depth: int, huge: bool) -> None:
    for f in msg.DESCRIPTOR.fields:
        if rng.random() < 0.4:
            continue
        repeated = f.is_repeated
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 2 or f.message_type is None or f.message_type.GetOptions().map_entry:
                continue
            for _ in range(rng.randint(1, 3) if repeated else 1):
                sub = getattr(msg, f.name).add() if repeated else getattr(msg, f.name)
                _fill(sub, rng, depth + 1, huge=False)
                if not repeated:
                    sub.SetInParent()
            continue
        n = (rng.choice([2, 5000, 60_000]) if huge else rng.randint(1, 3)) if repeated else 1
        values = [_scalar(f, rng, huge and not repeated) for _ in range(n)]
        try:
            if repeated:
                getattr(msg, f.name).extend(values)
            else:
                setattr(msg, f.name, values[0])
        except (ValueError, TypeError):  # a closed enum or a range the field type refuses: leave it unset
            continue


def _scalar(  # noqa: PLR0911 (one return per field type reads best)
    f: Any, rng: random.Random, huge: bool
) -> object:
    t = f.type
    if t == FieldDescriptor.TYPE_STRING:
        if huge:
            return rng.choice(["A", "陕", "\U0001f4a9"]) * rng.choice([10_000, 200_000, 700_000])
        return rng.choice(STRINGS)
    if t == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.choice([0, 32, 300_000 if huge else 64]))
    if t == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if t == FieldDescriptor.TYPE_ENUM:
        return rng.choice([0, 1, 2, 999, -1])
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rng.choice([0.0, -1.0, 1e308, float("nan"), float("inf")])
    if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rng.choice([0, 1, 2**32 - 1])
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rng.choice([0, 1, 2**64 - 1])
    if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32):
        return rng.choice([0, -1, 2**31 - 1, -(2**31)])
    return rng.choice([0, -1, 2**63 - 1, -(2**63)])


def typed(desc: Descriptor, rng: random.Random) -> bytes:
    msg = GetMessageClass(desc)()
    _fill(msg, rng, 0, huge=False)
    return msg.SerializeToString()


def extreme(desc: Descriptor, rng: random.Random) -> bytes:
    msg = GetMessageClass(desc)()
    _fill(msg, rng, 0, huge=True)
    return msg.SerializeToString()


def bit_flipped(desc: Descriptor, rng: random.Random) -> bytes:
    data = bytearray(typed(desc, rng)) or bytearray(b"\x0a\x00")
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


GENERATORS: dict[str, Callable[[Descriptor, random.Random], bytes]] = {
    "random_bytes": random_bytes,
    "wrong_types": wrong_types,
    "invalid_utf8": invalid_utf8,
    "typed": typed,
    "extreme": extreme,
    "bit_flipped": bit_flipped,
}
WEIGHTS = {"random_bytes": 3, "wrong_types": 3, "invalid_utf8": 1, "typed": 4, "extreme": 0.5, "bit_flipped": 3}


def hostile(desc: Descriptor, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    return kind, GENERATORS[kind](desc, rng)
