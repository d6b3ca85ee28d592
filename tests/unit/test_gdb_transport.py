"""The MI framing and transport on recorded transcripts and a scripted fake gdb.

The transcript in tests/data was recorded from gdb 13 attaching to the demo program,
hitting a breakpoint, evaluating a bad expression and detaching.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from cntr_tui.gdb.events import (
    BreakpointCreated,
    LibraryLoaded,
    Running,
    Stopped,
    ThreadCreated,
    event_from_record,
)
from cntr_tui.gdb.transport import MiFramer, MiRecord, MiTransport, mi_quote, parse_line

TRANSCRIPT = Path(__file__).parents[1] / "data" / "mi_attach_break_detach.txt"


def records_of(data: bytes, chunk_sizes: list[int] | None = None) -> list[MiRecord]:
    framer = MiFramer()
    records: list[MiRecord] = []
    if chunk_sizes is None:
        records += framer.feed(data)
    else:
        position = 0
        sizes = iter(chunk_sizes)
        while position < len(data):
            size = next(sizes, 1)
            records += framer.feed(data[position : position + size])
            position += size
    return records + framer.flush()


def test_parse_line_kinds() -> None:
    assert parse_line('12^done,value="3"') == MiRecord("result", 12, "done", {"value": "3"})
    assert parse_line('*stopped,reason="exited"').kind == "exec"
    assert parse_line('=thread-created,id="2"').kind == "notify"
    assert parse_line('+download,section=".text"').kind == "status"
    assert parse_line('~"text\\n"') == MiRecord("console", payload="text\n")
    assert parse_line('&"log"').kind == "log"
    assert parse_line('@"out"').kind == "target"
    assert parse_line("(gdb) ").kind == "prompt"
    assert parse_line("^exit") == MiRecord("result", None, "exit", {})
    assert parse_line("random words") == MiRecord("output", payload="random words")
    assert parse_line('7^error,msg="bad"\r').payload == {"msg": "bad"}


def test_transcript_tokens_and_async_records() -> None:
    records = records_of(TRANSCRIPT.read_bytes())
    results = {r.token: r for r in records if r.kind == "result" and r.token is not None}
    assert sorted(results) == list(range(1, 11))
    assert results[5].klass == "running"
    assert results[6].klass == "error" and "nosuch" in results[6].payload["msg"]
    assert results[10].klass == "exit"
    threads = results[3].payload["threads"]
    assert [t.get("name") for t in threads] == ["threads", "worker-0", "worker-1", "worker-2"]
    # Async records arrive between a command and its result: attach reports threads
    # (thread-created) before its own ^done.
    kinds = [(r.kind, r.klass, r.token) for r in records]
    attach_done = kinds.index(("result", "done", 2))
    assert ("notify", "thread-created", None) in kinds[:attach_done]
    events = [event_from_record(r) for r in records]
    assert any(isinstance(e, ThreadCreated) for e in events)
    assert any(isinstance(e, LibraryLoaded) for e in events)
    assert any(isinstance(e, Running) and e.thread_id is None for e in events)
    hit = next(e for e in events if isinstance(e, Stopped) and e.reason == "breakpoint-hit")
    assert hit.frame is not None and hit.frame.function == "tick"
    assert hit.breakpoint_number == "1"
    assert not any(isinstance(e, BreakpointCreated) for e in events)  # MI-made: in ^done


def test_records_split_across_reads_are_the_same() -> None:
    data = TRANSCRIPT.read_bytes()
    whole = records_of(data)
    generator = random.Random(5)
    for _ in range(20):
        sizes = [generator.randint(1, 97) for _ in range(len(data))]
        assert records_of(data, sizes) == whole
    assert records_of(data, [1] * len(data)) == whole


def test_long_record_over_64k_in_small_reads() -> None:
    contents = "ab" * 150_000  # a 300 KB line, the size of a large memory read
    line = f'9^done,memory=[{{begin="0x1000",offset="0x0",end="0x2000",contents="{contents}"}}]\n'
    data = ('~"before\\n"\n' + line + "(gdb) \n").encode()
    records = records_of(data, [4096] * (len(data) // 4096 + 1))
    assert [r.kind for r in records] == ["console", "result", "prompt"]
    assert records[1].payload["memory"][0]["contents"] == contents


def test_utf8_split_inside_a_character() -> None:
    data = '~"caf\u00e9 \u2713\\n"\n'.encode()
    split = data.index("\u2713".encode()) + 1
    framer = MiFramer()
    records = framer.feed(data[:split]) + framer.feed(data[split:])
    assert records == [MiRecord("console", payload="caf\u00e9 \u2713\n")]


def test_mi_quote_round_trips_through_the_parser() -> None:
    text = 'say "hi" \\ back\\slash'
    quoted = mi_quote(text)
    assert parse_line(f"~{quoted}").payload == text


async def fake_gdb_exchange(script) -> tuple[list[MiRecord], MiTransport, int, int]:
    """A transport whose 'gdb' is this test: returns (async records, transport, our
    end to write gdb output to, our end to read commands from)."""
    to_gdb_read, to_gdb_write = os.pipe2(os.O_CLOEXEC)
    from_gdb_read, from_gdb_write = os.pipe2(os.O_CLOEXEC)
    seen: list[MiRecord] = []
    transport = MiTransport(from_gdb_read, to_gdb_write, seen.append)
    await transport.start()
    return seen, transport, from_gdb_write, to_gdb_read


async def read_command(fd: int) -> str:
    loop = asyncio.get_running_loop()
    data = b""
    while not data.endswith(b"\n"):
        data += await loop.run_in_executor(None, os.read, fd, 4096)
    return data.decode()


async def test_transport_resolves_by_token_out_of_order_and_collects_console() -> None:
    seen, transport, gdb_out, gdb_in = await fake_gdb_exchange(None)
    try:
        first = asyncio.ensure_future(transport.send("-first"))
        second = asyncio.ensure_future(transport.send("-second"))
        commands = ""
        while commands.count("\n") < 2:
            commands += await read_command(gdb_in)
        assert commands.splitlines() == ["1-first", "2-second"]
        os.write(gdb_out, b'~"one "\n=thread-created,id="1",group-id="i1"\n~"two"\n')
        os.write(gdb_out, b'2^error,msg="second failed"\n*stopped,reason="x"\n1^do')
        os.write(gdb_out, b'ne,value="42"\n(gdb) \n')
        result_one, result_two = await asyncio.wait_for(asyncio.gather(first, second), 5)
        assert result_one.ok and result_one.payload == {"value": "42"}
        assert result_one.console == "one two"  # stream output goes to the oldest command
        assert not result_two.ok and result_two.error == "second failed"
        assert [(r.kind, r.klass) for r in seen if r.kind in ("notify", "exec")] == [
            ("notify", "thread-created"),
            ("exec", "stopped"),
        ]
    finally:
        transport.close()
        os.close(gdb_out)
        os.close(gdb_in)


async def test_gdb_output_ending_resolves_pending_commands_as_errors() -> None:
    seen, transport, gdb_out, gdb_in = await fake_gdb_exchange(None)
    try:
        pending = asyncio.ensure_future(transport.send("-never-answered"))
        await read_command(gdb_in)
        os.write(gdb_out, b'~"last words"')  # no newline: flushed at the end
        os.close(gdb_out)
        result = await asyncio.wait_for(pending, 5)
        assert not result.ok and "gdb is gone" in (result.error or "")
        assert await asyncio.wait_for(transport.closed, 5)
        assert seen[-1] == MiRecord("console", payload="last words")
        after = await transport.send("-too-late")
        assert not after.ok
    finally:
        transport.close()
        os.close(gdb_in)
