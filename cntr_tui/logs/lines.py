"""Text arriving in chunks, each line stamped by the runtime (`TIME text`) -> LogLines."""

from __future__ import annotations

from cntr_tui.logs.records import LogLine
from cntr_tui.logs.timestamps import split_stamp


class StampedLines:
    """Feed it a stream's chunks; it returns the complete lines, stamps parsed.

    A chunk that continues an unfinished line (docker splits lines longer than 16 KiB
    into messages, each with its own stamp) loses its stamp."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.pending = b""

    def feed(self, chunk: bytes) -> list[LogLine]:
        if self.pending:
            time, rest = split_stamp(chunk.decode(errors="replace"))
            if time is not None:
                chunk = rest.encode()
        *complete, self.pending = (self.pending + chunk).split(b"\n")
        return [self.line(raw) for raw in complete]

    def line(self, raw: bytes) -> LogLine:
        time, text = split_stamp(raw.decode(errors="replace"))
        return LogLine(text, self.stream, time)

    def rest(self) -> list[LogLine]:
        """The unfinished line at the stream's end."""
        raw, self.pending = self.pending, b""
        return [self.line(raw)] if raw else []
