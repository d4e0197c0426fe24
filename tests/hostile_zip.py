"""Writing ZIP files byte by byte, the way an attacker would: any sizes, names, offsets and trailers."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass


@dataclass
class RawMember:
    name: str
    data: bytes  # stored bytes (already deflated when method == 8)
    crc: int
    size: int  # uncompressed size, as declared
    method: int = 8


def deflated(name: str, payload: bytes) -> RawMember:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawMember(name, c.compress(payload) + c.flush(), zlib.crc32(payload), len(payload))


def zeros_bomb_member(name: str, size: int) -> RawMember:
    """A member that inflates to ``size`` zero bytes (about 1000:1), compressed piece by piece."""
    c, crc, left, parts, block = zlib.compressobj(9, zlib.DEFLATED, -15), 0, size, [], bytes(1 << 20)
    while left:
        piece = block[: min(left, len(block))]
        parts.append(c.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(c.flush())
    return RawMember(name, b"".join(parts), crc, size)


def raw_zip(members: list[RawMember], *, prefix: bytes = b"", suffix: bytes = b"", comment: bytes = b"") -> bytes:
    """A ZIP of ``members`` (offsets counted from the start of the ZIP proper, as a prepended file leaves them)."""
    out, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, m.method, 0, 0x21, m.crc, len(m.data), m.size,
                           len(name), 0) + name + m.data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, m.method, 0, 0x21, m.crc,
                               len(m.data), m.size, len(name), 0, 0, 0, 0, 0, offset) + name
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out),
                       len(comment)) + comment
    return prefix + bytes(out) + bytes(central) + eocd + suffix
