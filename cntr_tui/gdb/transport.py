"""GDB/MI over a pair of pipes: bytes -> records, commands -> results.

pygdbmi is used as the record parser only. The framing is our own: reads never block
the event loop, a record may be any length (no 64 KiB line limit), and a record split
across reads is joined before parsing. Each command carries a unique token; its future
is resolved by the result record (`^done`, `^error`, `^running`, `^connected`, `^exit`)
that carries the same token. When gdb's output ends, every pending command resolves
as an error result: no caller is left waiting on a dead gdb.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pygdbmi.gdbmiparser import parse_response

RecordKind = Literal[
    "result", "exec", "status", "notify", "console", "target", "log", "prompt", "output"
]

ASYNC_PREFIXES: dict[str, RecordKind] = {
    "^": "result",
    "*": "exec",
    "+": "status",
    "=": "notify",
}
STREAM_PREFIXES: dict[str, RecordKind] = {"~": "console", "@": "target", "&": "log"}
READ_CHUNK = 256 * 1024


@dataclass(frozen=True)
class MiRecord:
    """One line of gdb's MI output, parsed.

    `klass` is the result/async class (`done`, `stopped`, `thread-created`...);
    `payload` is a dict for result/async records, the text for stream records.
    """

    kind: RecordKind
    token: int | None = None
    klass: str | None = None
    payload: Any = None


def value_tuples_as_lists(text: str) -> str:
    """gdb prints some lists as tuples of bare values (a breakpoint's
    `script={"printf ..."}`), which pygdbmi mangles together with the fields after them:
    such a `{"...",...}` becomes `["...",...]`."""
    if '={"' not in text:
        return text
    out: list[str] = []
    closers: list[str] = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char == "{":
            bare = text.startswith('"', index + 1)
            closers.append("]" if bare else "}")
            char = "[" if bare else char
        elif char == "}" and closers:
            char = closers.pop()
        out.append(char)
    return "".join(out)


def parse_line(line: str) -> MiRecord:
    """Parse one MI output line (without its newline)."""
    stripped = line.rstrip("\r")
    if stripped.strip() == "(gdb)":
        return MiRecord("prompt")
    digits = len(stripped) - len(stripped.lstrip("0123456789"))
    prefix = stripped[digits : digits + 1]
    if prefix in STREAM_PREFIXES and digits == 0:
        parsed = parse_response(stripped)
        return MiRecord(STREAM_PREFIXES[prefix], payload=parsed.get("payload") or "")
    if prefix in ASYNC_PREFIXES:
        # pygdbmi knows `*` and `=` but not the `+` of status records: same grammar.
        text = stripped if prefix != "+" else f"{stripped[:digits]}={stripped[digits + 1 :]}"
        parsed = parse_response(value_tuples_as_lists(text))
        if parsed.get("type") in ("result", "notify"):
            token = int(stripped[:digits]) if digits else None
            payload = parsed.get("payload") or {}
            return MiRecord(ASYNC_PREFIXES[prefix], token, parsed.get("message"), payload)
    return MiRecord("output", payload=stripped)


class MiFramer:
    """Split a byte stream into MI records; keeps an incomplete last line for later."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[MiRecord]:
        self._pending += data
        end = self._pending.rfind(b"\n")
        if end < 0:
            return []
        complete = bytes(self._pending[:end])
        del self._pending[: end + 1]
        # Decode whole lines only, so a UTF-8 sequence split across reads stays intact.
        return [parse_line(raw.decode("utf-8", "replace")) for raw in complete.split(b"\n")]

    def flush(self) -> list[MiRecord]:
        """The last line when the stream ended without a newline."""
        rest = bytes(self._pending)
        self._pending.clear()
        return [parse_line(rest.decode("utf-8", "replace"))] if rest.strip() else []


@dataclass
class MiResult:
    """The answer to one command: its result class, payload and the console text it
    printed. An error from gdb (or gdb having gone) is a result with `ok == False`."""

    klass: str
    payload: dict[str, Any] = field(default_factory=dict)
    console: str = ""
    token: int | None = None
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.klass != "error"

    @property
    def error(self) -> str | None:
        if self.ok:
            return None
        return str(self.payload.get("msg", "gdb reported an error"))


def mi_quote(text: str) -> str:
    """Quote `text` as an MI c-string argument."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass
class _Pending:
    future: asyncio.Future[MiResult]
    console: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class MiTransport:
    """Commands in, records out, over gdb's stdin/stdout pipes.

    `on_record` sees every record that is not the result of a command (async records,
    stream output, stray lines). `closed` resolves with a reason once gdb's output ends.
    """

    def __init__(
        self,
        read_fd: int,
        write_fd: int,
        on_record: Callable[[MiRecord], None],
        trace: Callable[[str, bytes], None] | None = None,
    ):
        self._trace = trace
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._on_record = on_record
        self._framer = MiFramer()
        self._tokens = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._writer: asyncio.WriteTransport | None = None
        self._reader: asyncio.ReadTransport | None = None
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport = self

        class Reader(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                if transport._trace is not None:
                    transport._trace("<", data)
                transport._dispatch(transport._framer.feed(data))

            def eof_received(self) -> bool:
                return False

            def connection_lost(self, exc: Exception | None) -> None:
                transport._dispatch(transport._framer.flush())
                transport._close(f"gdb's output ended{f': {exc}' if exc else ''}")

        class Writer(asyncio.BaseProtocol):
            def connection_lost(self, exc: Exception | None) -> None:
                if exc is not None:
                    transport._close(f"writing to gdb failed: {exc}")

        read_file = os.fdopen(self._read_fd, "rb", buffering=0, closefd=True)
        write_file = os.fdopen(self._write_fd, "wb", buffering=0, closefd=True)
        self._reader, _ = await loop.connect_read_pipe(Reader, read_file)
        self._writer, _ = await loop.connect_write_pipe(Writer, write_file)

    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    async def send(self, command: str) -> MiResult:
        """Send one MI command (`-thread-info`, or a CLI line) and await its result."""
        if "\n" in command:
            return MiResult("error", {"msg": "a command must be one line"})
        if self.is_closed or self._writer is None or self._writer.is_closing():
            return MiResult("error", {"msg": f"gdb is gone ({self._closed_reason()})"})
        token = next(self._tokens)
        pending = _Pending(asyncio.get_running_loop().create_future())
        self._pending[token] = pending
        line = f"{token}{command}\n".encode()
        if self._trace is not None:
            self._trace(">", line)
        self._writer.write(line)
        try:
            return await asyncio.shield(pending.future)
        finally:
            self._pending.pop(token, None)

    def _closed_reason(self) -> str:
        return self.closed.result() if self.closed.done() else "not started"

    def _dispatch(self, records: list[MiRecord]) -> None:
        for record in records:
            pending = self._pending.get(record.token) if record.token is not None else None
            if record.kind == "result" and pending is not None:
                self._pending.pop(record.token, None)  # type: ignore[arg-type]
                if not pending.future.done():
                    pending.future.set_result(
                        MiResult(
                            record.klass or "done",
                            record.payload if isinstance(record.payload, dict) else {},
                            "".join(pending.console),
                            record.token,
                            "".join(pending.log),
                        )
                    )
                continue
            if record.kind in ("console", "log") and self._pending:
                # gdb runs commands in order: stream output belongs to the oldest one.
                oldest = self._pending[min(self._pending)]
                (oldest.console if record.kind == "console" else oldest.log).append(record.payload)
            self._on_record(record)

    def _close(self, reason: str) -> None:
        if self.closed.done():
            self._close_pipes()
            return
        self.closed.set_result(reason)
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_result(MiResult("error", {"msg": f"gdb is gone ({reason})"}))
        self._pending.clear()
        self._close_pipes()

    def close(self) -> None:
        """Close both pipes; pending commands resolve as errors."""
        self._close("closed")

    def _close_pipes(self) -> None:
        for pipe in (self._writer, self._reader):
            if pipe is not None:
                with contextlib.suppress(Exception):
                    pipe.close()
