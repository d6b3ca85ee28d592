"""The command line as a user meets it: help, one-line errors, the demo command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.runtimes import require_runtime

CLI = [sys.executable, "-m", "cntr_tui.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_subcommand() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("ls", "attach", "exec", "gdb", "demo"):
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize(
    "args",
    [("bogus",), ("ls", "--nope"), ("ls", "-t", "rkt"), ("attach",), ("gdb", "--pid", "x", "c")],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    # the prefix of every error, a subcommand's usage errors too
    assert lines[0].startswith("cntr-tui: "), lines[0]
    subcommand = args[0] if args[0] in ("ls", "attach", "gdb") else None
    if subcommand and args[1:] != ("--nope",):  # argparse's top level finds unknown options
        assert lines[0].startswith(f"cntr-tui: {subcommand}: ")
        assert lines[0].endswith(f"(see cntr-tui {subcommand} --help)")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "words",
    [
        ["gdb", "-t", "docker,podman", "--pid", "7", "box", "--batch", "-ex", "bt", "-ex", "q"],
        ["attach", "--fs", "mount", "--no-cgroup", "box", "--", "sh", "-c", "true"],
        ["exec", "box", "--", "ls"],
        ["ls", "--json", "box"],
        ["demo", "--runtime", "process", "--no-ui"],
    ],
)
def test_a_subcommand_parses_alone_as_in_the_whole_parser(words: list[str]) -> None:
    """A command builds only its own subparser (requested_subcommand): the arguments it
    gets must be those the whole parser gives."""
    from cntr_tui import cli as command_line

    assert command_line.requested_subcommand(words) == words[0]
    alone = command_line.build_parser(words[0]).parse_args(words)
    assert alone == command_line.build_parser().parse_args(words)
    assert command_line.requested_subcommand(["--help", *words]) is None


def test_help_is_as_wide_as_columns_say() -> None:
    narrow = subprocess.run(
        [*CLI, "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "50"}
    )
    wide = subprocess.run(
        [*CLI, "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"}
    )
    assert max(map(len, narrow.stdout.splitlines())) <= 48 < max(map(len, wide.stdout.splitlines()))


def test_docker_path_segments_are_quoted_as_urllib_quotes_them() -> None:
    from urllib.parse import quote

    from cntr_tui.attach.runtimes.docker_api import path_segment

    for word in ("web-1", "a b/c", "ünï", "x%y?z#&", "~._-", "\x00\x7f", ""):
        assert path_segment(word) == quote(word, safe="")


def demo_stop_leaves_nothing(runtime: str) -> None:
    process = subprocess.Popen(
        [*CLI, "demo", "--no-ui", "--runtime", runtime],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        shown_runtime, name, pid = line.split()
        assert shown_runtime == runtime and name == "cntr-tui-demo"
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert cmdline.startswith(b"/app/threads")
        assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
        assert not Path(f"/proc/{pid}").exists()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def test_demo_without_daemon_uses_plain_namespaces_and_cleans_up() -> None:
    demo_stop_leaves_nothing("process")


def test_demo_under_docker_cleans_up() -> None:
    require_runtime("docker")
    demo_stop_leaves_nothing("docker")
    names = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True
    ).stdout.split()
    assert "cntr-tui-demo" not in names


@pytest.mark.parametrize("args", [("ls",), ("ls", "--json"), ("doctor",), ("doctor", "--json")])
def test_a_reader_that_left_ends_the_output_quietly(args: tuple[str, ...]) -> None:
    """`cntr-tui ls | head -1`: the pipe's reader is gone before we write; no traceback,
    the status of a command killed by SIGPIPE."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    os.close(read_end)
    try:
        result = subprocess.run(
            [*CLI, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 128 + signal.SIGPIPE
