"""The log sources' parsers on lines recorded from the real runtimes, and the merge of
two stamped streams. No root, no runtime."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from cntr_tui.logs.cri import CriParser
from cntr_tui.logs.follow import tail_offset
from cntr_tui.logs.journal import parse_entry
from cntr_tui.logs.lines import StampedLines
from cntr_tui.logs.lxc import config_value
from cntr_tui.logs.merge import Arrival, merge_by_time
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.timestamps import parse_rfc3339

# conmon's k8s-file log (the CRI format) of a podman container that ran
# sh -c 'echo "threads: 4 workers started"; echo "worker-2 is slow" >&2;
#        printf "first part, "; sleep 0.3; echo "then the rest"; echo "ünïcode ✓"'
CRI_LINES = (
    "2026-12-02T19:18:29.536783861+00:00 stdout F threads: 4 workers started",
    "2026-12-02T19:18:29.536783861+00:00 stdout P first part, ",
    "2026-12-02T19:18:29.536906019+00:00 stderr F worker-2 is slow",
    "2026-12-02T19:18:29.838405634+00:00 stdout F then the rest",
    "2026-12-02T19:18:29.838405634+00:00 stdout F ünïcode ✓",
)
# Kubernetes' own example of the format (kubelet's logs.go)
KUBELET_EXAMPLE = (
    "2016-10-06T00:17:09.669794202Z stdout P log content 1",
    "2016-10-06T00:17:09.669794203Z stderr F log content 2",
)
# `docker logs --timestamps` frames of a container that ran
# sh -c 'echo out1; echo err1 >&2; echo out2'
DOCKER_STDOUT = (b"2026-12-02T19:03:51.200172121Z out1\n", b"2026-12-02T19:03:51.200177850Z out2\n")
DOCKER_STDERR = (b"2026-12-02T19:03:51.200091128Z err1\n",)
# `journalctl -o json` of a journald that got `echo "threads: 4 workers started" |
# systemd-cat -t threads` and `printf "line one\nline two\n" | systemd-cat -t threads -p warning`
JOURNAL_LINES = (
    '{"_TRANSPORT":"stdout","_RUNTIME_SCOPE":"system","_GID":"0","__REALTIME_TIMESTAMP":"1796238469972106","_STREAM_ID":"c78d554addd44c78836ce6ed32cc9183","_PID":"13198","_BOOT_ID":"2aec3ad03d9d4e4e815efc617fe9bd9d","MESSAGE":"threads: 4 workers started","__MONOTONIC_TIMESTAMP":"1157899544","_CAP_EFFECTIVE":"1fffeffffff","_MACHINE_ID":"3d1219c7c4c5404aaa1f6d2a48adfda4","__CURSOR":"s=8d07b3c3186b4853a73dd7611e49aad8;i=161;b=2aec3ad03d9d4e4e815efc617fe9bd9d;m=45042518;t=661ab5bef408a;x=8ac1f2e198d834ee","SYSLOG_IDENTIFIER":"threads","_COMM":"cat","_HOSTNAME":"vm","PRIORITY":"6","_UID":"0"}',  # noqa: E501
    '{"SYSLOG_IDENTIFIER":"threads","_PID":"13200","_UID":"0","_CAP_EFFECTIVE":"1fffeffffff","_BOOT_ID":"2aec3ad03d9d4e4e815efc617fe9bd9d","PRIORITY":"4","__CURSOR":"s=8d07b3c3186b4853a73dd7611e49aad8;i=162;b=2aec3ad03d9d4e4e815efc617fe9bd9d;m=45044275;t=661ab5bef5de7;x=d5f59cdf7a7b8342","__REALTIME_TIMESTAMP":"1796238469979623","_TRANSPORT":"stdout","_MACHINE_ID":"3d1219c7c4c5404aaa1f6d2a48adfda4","_HOSTNAME":"vm","_STREAM_ID":"2241a43b93a641f4b30c4358121d7f98","_GID":"0","_RUNTIME_SCOPE":"system","_COMM":"cat","__MONOTONIC_TIMESTAMP":"1157907061","MESSAGE":"line one"}',  # noqa: E501
    '{"__REALTIME_TIMESTAMP":"1796238469979623","_RUNTIME_SCOPE":"system","MESSAGE":"line two","__MONOTONIC_TIMESTAMP":"1157907061","_MACHINE_ID":"3d1219c7c4c5404aaa1f6d2a48adfda4","_TRANSPORT":"stdout","_STREAM_ID":"2241a43b93a641f4b30c4358121d7f98","_UID":"0","_BOOT_ID":"2aec3ad03d9d4e4e815efc617fe9bd9d","_HOSTNAME":"vm","__CURSOR":"s=8d07b3c3186b4853a73dd7611e49aad8;i=163;b=2aec3ad03d9d4e4e815efc617fe9bd9d;m=45044275;t=661ab5bef5de7;x=5b13cc796bf1439","_GID":"0","_CAP_EFFECTIVE":"1fffeffffff","SYSLOG_IDENTIFIER":"threads","_COMM":"cat","_PID":"13200","PRIORITY":"4"}',  # noqa: E501
)


def test_cri_lines_keep_their_stream_and_time_and_parts_are_joined() -> None:
    parser = CriParser()
    lines = [line for raw in CRI_LINES if (line := parser.feed(raw)) is not None]
    assert [(line.text, line.stream) for line in lines] == [
        ("threads: 4 workers started", "stdout"),
        ("worker-2 is slow", "stderr"),
        ("first part, then the rest", "stdout"),
        ("ünïcode ✓", "stdout"),
    ]
    assert lines[0].time == pytest.approx(1796239109.536784, abs=1e-6)
    # the joined line has its first part's time, before the stderr line between them
    assert lines[2].time == lines[0].time < lines[1].time


def test_a_part_waits_for_its_own_stream_only() -> None:
    parser = CriParser()
    assert parser.feed(KUBELET_EXAMPLE[0]) is None
    second = parser.feed(KUBELET_EXAMPLE[1])
    assert second == LogLine(
        "log content 2", "stderr", parse_rfc3339("2016-10-06T00:17:09.669794203Z")
    )
    assert parser.feed("2016-10-06T00:17:09.7Z stdout F !") == LogLine(
        "log content 1!", "stdout", parse_rfc3339("2016-10-06T00:17:09.669794202Z")
    )


def test_a_line_that_is_not_cri_is_kept_whole() -> None:
    assert CriParser().feed("plain text") == LogLine("plain text", "log")


def test_rfc3339_keeps_nanoseconds_and_zones() -> None:
    assert parse_rfc3339("2016-10-06T00:17:09.669794202Z") == pytest.approx(1475713029.669794)
    assert parse_rfc3339("2016-10-06T02:17:09.5+02:00") == pytest.approx(1475713029.5)
    assert parse_rfc3339("2016-10-06T00:17:09Z") == 1475713029.0
    assert parse_rfc3339("out1") is None


def test_docker_frames_become_stamped_lines() -> None:
    out = StampedLines("stdout")
    lines = [line for frame in DOCKER_STDOUT for line in out.feed(frame)]
    assert [line.text for line in lines] == ["out1", "out2"]
    assert lines[0].time == pytest.approx(1796238231.200172)
    assert lines[1].time - lines[0].time == pytest.approx(5.729e-6, abs=1e-7)


def test_a_long_line_split_by_docker_loses_the_inner_stamp() -> None:
    lines = StampedLines("stderr")
    assert lines.feed(b"2026-12-02T19:03:51.1Z first half ") == []
    assert lines.feed(b"2026-12-02T19:03:51.2Z second half\n") == [
        LogLine("first half second half", "stderr", parse_rfc3339("2026-12-02T19:03:51.1Z"))
    ]
    assert lines.feed(b"2026-12-02T19:03:51.3Z no newline at the end") == []
    assert [line.text for line in lines.rest()] == ["no newline at the end"]


def test_journal_entries() -> None:
    lines = [parse_entry(raw) for raw in JOURNAL_LINES]
    assert lines == [
        LogLine("threads: 4 workers started", "journal", 1796238469.972106),
        LogLine("line one", "journal", 1796238469.979623),
        LogLine("line two", "journal", 1796238469.979623),
    ]


def test_a_journal_message_that_is_not_utf8_comes_as_bytes() -> None:
    entry = json.loads(JOURNAL_LINES[0])
    entry["MESSAGE"] = [111, 107, 255, 10]
    line = parse_entry(json.dumps(entry))
    assert line is not None and line.text == "ok\ufffd"
    assert parse_entry("not json") is None and parse_entry("[1]") is None


def test_docker_stdout_and_stderr_merge_in_docker_order() -> None:
    out, err = StampedLines("stdout"), StampedLines("stderr")
    arrivals: asyncio.Queue[Arrival] = asyncio.Queue()
    # as two threads may hand them over: all of stdout first, then stderr
    for frame in DOCKER_STDOUT:
        for line in out.feed(frame):
            arrivals.put_nowait((0, line))
    for frame in DOCKER_STDERR:
        for line in err.feed(frame):
            arrivals.put_nowait((1, line))
    arrivals.put_nowait((0, None))
    arrivals.put_nowait((1, None))
    merged: list[LogLine] = []
    asyncio.run(merge_by_time(arrivals, 2, merged.append))
    assert [line.text for line in merged] == ["err1", "out1", "out2"]


def test_a_quiet_stream_holds_the_other_only_briefly() -> None:
    async def scenario() -> list[str]:
        arrivals: asyncio.Queue[Arrival] = asyncio.Queue()
        merged: list[LogLine] = []
        merger = asyncio.create_task(merge_by_time(arrivals, 2, merged.append, hold=0.05))
        arrivals.put_nowait((0, LogLine("alone", "stdout", 1.0)))
        while not merged:  # stream 1 says nothing and stays open
            await asyncio.sleep(0.01)
        arrivals.put_nowait((1, LogLine("late", "stderr", 2.0)))
        arrivals.put_nowait((0, None))
        arrivals.put_nowait((1, None))
        await asyncio.wait_for(merger, 5)
        return [line.text for line in merged]

    assert asyncio.run(scenario()) == ["alone", "late"]


@pytest.mark.parametrize(
    ("content", "count", "expected"),
    [
        (b"a\nb\nc\n", 2, b"b\nc\n"),
        (b"a\nb\nc", 2, b"b\nc"),
        (b"a\nb\n", 5, b"a\nb\n"),
        (b"a\nb\n", 0, b""),
        (b"", 3, b""),
    ],
)
def test_tail_offset(tmp_path: Path, content: bytes, count: int, expected: bytes) -> None:
    path = tmp_path / "log"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert content[tail_offset(fd, count) :] == expected
    finally:
        os.close(fd)


def test_tail_offset_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"".join(b"%06d %s\n" % (number, b"x" * 1000) for number in range(300)))
    fd = os.open(path, os.O_RDONLY)
    try:
        with open(path, "rb") as file:
            assert file.read()[tail_offset(fd, 150) :].startswith(b"000150 ")
    finally:
        os.close(fd)


def test_lxc_console_logfile_from_the_config() -> None:
    config = (
        "lxc.uts.name = web\n# lxc.console.logfile = /old\nlxc.console.logfile = /var/log/web.log\n"
    )
    assert config_value(config, "lxc.console.logfile") == "/var/log/web.log"
    assert config_value("lxc.uts.name = web\n", "lxc.console.logfile") is None
