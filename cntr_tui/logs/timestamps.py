"""RFC 3339 times as the runtimes write them (nanoseconds, `Z` or an offset) -> seconds
since the epoch."""

from __future__ import annotations

import re
from datetime import datetime

RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$", re.I
)


def parse_rfc3339(text: str) -> float | None:
    """`2026-12-02T19:03:51.200172121Z` -> 1796238231.200172; None when it is not one.

    datetime.fromisoformat takes at most microseconds: the fraction is added apart, so a
    nanosecond stamp keeps every digit a float holds."""
    match = RFC3339.match(text)
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone.upper() == "Z" else zone
    try:
        whole = datetime.fromisoformat(f"{day}T{clock}{zone}").timestamp()
    except ValueError:
        return None
    return whole + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def split_stamp(text: str) -> tuple[float | None, str]:
    """`TIME rest` -> (TIME as seconds, rest); (None, text) when it starts with no time."""
    stamp, _, rest = text.partition(" ")
    time = parse_rfc3339(stamp)
    if time is None:
        return None, text
    return time, rest
