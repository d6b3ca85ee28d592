"""Just enough of the protobuf wire format to read containerd's list replies.

containerd's API is gRPC; its list replies are decoded here by field number, which
avoids generated stubs and the protobuf package for three message types.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
FIXED32 = 5


class WireError(ValueError):
    """The bytes are not a protobuf message."""


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if offset >= len(data):
            raise WireError("truncated varint")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, offset
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) for each field: ints for varints/fixed, bytes otherwise."""
    offset = 0
    while offset < len(data):
        key, offset = _varint(data, offset)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, offset = _varint(data, offset)
            yield number, value
        elif wire_type == LENGTH_DELIMITED:
            length, offset = _varint(data, offset)
            if offset + length > len(data):
                raise WireError("truncated field")
            yield number, data[offset : offset + length]
            offset += length
        elif wire_type == FIXED64:
            yield number, int.from_bytes(data[offset : offset + 8], "little")
            offset += 8
        elif wire_type == FIXED32:
            yield number, int.from_bytes(data[offset : offset + 4], "little")
            offset += 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")
