"""A name never lands the user outside a container (issue 12, part 2), on real
containers: a word that matches only host processes is refused with the PID to give;
a PID is taken at its word with one warning; every handle cntr-tui prints resolves to
the same container with ls, attach and gdb; a missing PID reads the same everywhere."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach import lookup_cache
from cntr_tui.attach.discovery import list_containers, wanted_runtimes
from cntr_tui.attach.lookup import resolve
from cntr_tui.commands.demo import as_container
from cntr_tui.demo import containers
from cntr_tui.errors import UserError
from cntr_tui.widgets.container_details import container_rows
from tests.support.runtimes import ALL_RUNTIMES, TEST_PREFIX, require_runtime

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")
TIMEOUT = 120


def cntr_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CNTR_TUI, *args], capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )


def pid_namespace(pid: int | str) -> str:
    return os.readlink(f"/proc/{pid}/ns/pid")


def attached_pid_namespace(word: str) -> subprocess.CompletedProcess[str]:
    """`attach WORD`, asking the command it runs which PID namespace it is in."""
    return cntr_tui("attach", word, "--", "readlink", "/proc/self/ns/pid")


def gdb_pid_namespace(word: str) -> subprocess.CompletedProcess[str]:
    """`gdb --batch WORD`, asking gdb (in the session) which PID namespace it is in."""
    return cntr_tui(
        "gdb", "--batch", "-ex", 'python import os; print(os.readlink("/proc/self/ns/pid"))', word
    )


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def host_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A process on the host (our PID and mount namespaces) whose command line holds a
    unique word, as a launcher's does: (process, word)."""
    word = f"{TEST_PREFIX}host-{uuid.uuid4().hex[:8]}"
    # one process, no child to outlive it
    process = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()", word])
    yield process, word
    process.kill()
    process.wait()


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def test_a_plain_namespace_container_by_its_name_is_the_process_inside(start_container) -> None:
    started = start_container("process")
    launcher = parent_of(started.pid)
    assert started.name in Path(f"/proc/{launcher}/cmdline").read_text()  # the launcher
    assert pid_namespace(launcher) == pid_namespace("self")

    found = resolve(started.name)
    assert (found.runtime, found.pid) == ("process", started.pid)
    assert {"pid", "mnt"} <= found.namespaces

    result = attached_pid_namespace(started.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == pid_namespace(started.pid) != pid_namespace("self")
    assert result.stderr == ""


def test_only_a_whole_argument_of_the_launcher_names_the_container(start_container) -> None:
    started = start_container("process")
    launcher = parent_of(started.pid)
    argv = Path(f"/proc/{launcher}/cmdline").read_bytes().decode().split("\0")
    [root] = [arg.removeprefix("--root=") for arg in argv if arg.startswith("--root=")]
    # part of an option (the root's path): the launcher matches, and is refused
    with pytest.raises(UserError) as error:
        resolve(root)
    assert f"only host process {launcher} (unshare) matches by command line, refused" in str(
        error.value
    )
    assert resolve(started.name).pid == started.pid  # a whole argument: the container


def test_a_host_process_matched_by_command_line_is_refused(host_process) -> None:
    process, word = host_process
    expected = (
        f"no container matches {word!r}: only host process {process.pid} ({comm(process.pid)}) "
        "matches by command line, refused: it shares the host's PID and mount namespaces; "
        f"to attach to it anyway, give its PID: {process.pid}"
    )
    with pytest.raises(UserError) as error:
        resolve(word)
    assert str(error.value) == expected
    for args in (("ls", word), ("attach", word, "--", "true"), ("exec", word, "--", "true")):
        result = cntr_tui(*args)
        assert (result.returncode, result.stdout) == (1, ""), args
        assert result.stderr == f"cntr-tui: {expected}\n", args


def test_a_host_process_by_its_pid_attaches_with_one_warning(host_process) -> None:
    process, _ = host_process
    result = cntr_tui("attach", str(process.pid), "--", "readlink", "/proc/self/ns/pid")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == pid_namespace("self")
    assert result.stderr == (
        f"cntr-tui: warning: host process {process.pid} ({comm(process.pid)}) is not a "
        "container: it shares the host's PID and mount namespaces\n"
    )
    listed = cntr_tui("ls", "--json", str(process.pid))
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["pid"] == process.pid
    debugged = cntr_tui("gdb", "--batch", "-ex", "info inferiors", str(process.pid))
    assert debugged.returncode == 0 and f"process {process.pid}" in debugged.stdout
    entered = cntr_tui("exec", str(process.pid), "--", "true")
    assert entered.returncode == 0
    for other in (listed, debugged, entered):
        assert other.stderr == result.stderr, other.args


def test_the_demo_prints_a_handle_that_attach_ls_and_gdb_resolve_inside() -> None:
    require_runtime("process")
    demo = subprocess.Popen(
        [CNTR_TUI, "demo", "--no-ui", "--runtime", "process"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert demo.stdout is not None
        runtime, name, pid = demo.stdout.readline().split()
        assert (runtime, name) == ("process", "cntr-tui-demo")
        inside = pid_namespace(pid)
        assert inside != pid_namespace("self")

        shell = cntr_tui(
            "attach", name, "--", "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; hostname"
        )
        assert shell.returncode == 0 and shell.stderr == "", shell.stderr
        lines = [line.strip() for line in shell.stdout.splitlines()]
        assert lines == ["/app/threads", "cntr-tui-demo"]  # the container's /proc/1, not the host's
        [listed] = json.loads(cntr_tui("ls", "--json", name).stdout)
        assert listed["pid"] == int(pid)
        debugged = gdb_pid_namespace(name)
        assert debugged.returncode == 0, debugged.stderr
        assert debugged.stdout.strip() == inside
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)


def handles(entry: dict) -> list[str]:
    """Every word `ls` prints for a container that should name it: the JSON id, name
    and PID, and the table's short id."""
    words = [entry["id"], entry["name"], str(entry["pid"])]
    if len(entry["id"]) == 64:
        words.append(entry["id"][:12])
    return list(dict.fromkeys(words))


def test_every_handle_shown_resolves_alike_with_ls_attach_and_gdb(start_container) -> None:
    started = {runtime: start_container(runtime) for runtime in ALL_RUNTIMES}
    listing = json.loads(cntr_tui("ls", "--json").stdout)
    for runtime, container in started.items():
        [entry] = [e for e in listing if e["pid"] == container.pid]
        inside = pid_namespace(container.pid)
        words = handles(entry)
        if runtime == "process":
            words.append(container.name)  # its launcher's, as the demo prints it
        for word in words:
            shown = cntr_tui("ls", "--json", word)
            if runtime == "process" and word == entry["name"] and "ambiguous" in shown.stderr:
                # the program's name, which another test's container may have as well
                assert "match by process name" in shown.stderr, shown.stderr
                assert f"pid {container.pid})" in shown.stderr
                attached = attached_pid_namespace(word)
                if attached.stderr != shown.stderr:  # the other one ended in between
                    again = cntr_tui("ls", "--json", word)
                    assert again.returncode == 0, (shown.stderr, attached.stderr, again.stderr)
                    assert (attached.stdout.strip(), attached.stderr) == (inside, ""), word
                continue
            assert shown.returncode == 0, (runtime, word, shown.stderr)
            assert [e["pid"] for e in json.loads(shown.stdout)] == [container.pid], word
            attached = attached_pid_namespace(word)
            assert attached.returncode == 0, (runtime, word, attached.stderr)
            assert (attached.stdout.strip(), attached.stderr) == (inside, ""), (runtime, word)
        debugged = gdb_pid_namespace(container.name)
        assert debugged.returncode == 0, (runtime, debugged.stderr)
        assert debugged.stdout.strip() == inside, runtime

    # what the TUI's details pane shows: the title (name) and the id row; and the
    # container the demo command hands the TUI
    listed = {c.pid: c for c in list_containers().containers}
    for runtime, container in started.items():
        rows = dict(container_rows(listed[container.pid]))
        for word in (listed[container.pid].name, rows["id"]):
            try:
                assert resolve(word).pid == container.pid, (runtime, word)
            except UserError as error:  # as above: a program's name shared with another test
                assert runtime == "process" and "match by process name" in str(error), error
    focus = as_container(started["process"])
    assert resolve(focus.id).pid == resolve(focus.name).pid == started["process"].pid


def test_a_missing_pid_reads_the_same_in_attach_exec_gdb_and_ls() -> None:
    with open("/proc/sys/kernel/pid_max") as file:
        pid_max = int(file.read())
    word = str(random.randrange(max(pid_max, 10**8) + 1, 10**9))  # no process can have it
    commands = [
        ("attach", word, "--", "true"),
        ("attach", word),
        ("exec", word, "--", "true"),
        ("gdb", word),
        ("gdb", "--batch", "-ex", "bt", word),
        ("ls", word),
        ("ls", "--json", word),
    ]
    lines = set()
    for args in commands:
        result = cntr_tui(*args)
        assert (result.returncode, result.stdout) == (1, ""), (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1, (args, result.stderr)
        lines.add(result.stderr)
    [line] = lines
    assert line.startswith(f"cntr-tui: no container matches '{word}' (tried process id, ")


@pytest.fixture
def host_pid_docker(demo_rootfs: Path) -> Iterator[str]:
    """A docker container in the host's PID namespace (`--pid host`): its name."""
    require_runtime("docker")
    name = f"{TEST_PREFIX}hostpid-{uuid.uuid4().hex[:8]}"
    tag = containers.ensure_image("docker", demo_rootfs)
    try:
        containers.run(
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--pid",
            "host",
            "--network",
            "none",
            tag,
            "/app/threads",
            f"marker={name}",
        )
        yield name
    finally:
        containers.quiet("docker", "rm", "-f", name)
        lookup_cache.forget(name, wanted_runtimes(None))


def test_a_host_pid_container_is_named_by_its_runtime_only_with_a_warning(
    host_pid_docker: str,
) -> None:
    name = host_pid_docker
    pid = int(containers.run("docker", "inspect", "-f", "{{.State.Pid}}", name))
    warning = f"cntr-tui: warning: docker {name} ("
    entry = Path(lookup_cache.entry_path(name, wanted_runtimes(None)))
    # by its docker name (twice: the second answer comes from the look-up short cut,
    # which leaves the entry the first one wrote as it is)
    remembered = []
    for _ in range(2):
        shown = cntr_tui("ls", "--json", name)
        assert shown.returncode == 0, shown.stderr
        assert [e["pid"] for e in json.loads(shown.stdout)] == [pid]
        [line] = shown.stderr.splitlines()
        assert line.startswith(warning) and line.endswith(
            "shares the host's PID namespace: it is not isolated there"
        ), line
        remembered.append(entry.stat().st_ino)
    assert remembered[0] == remembered[1]
    attached = cntr_tui("attach", name, "--", "true")
    assert (attached.returncode, attached.stderr) == (0, shown.stderr)
    # by its command line: refused, as a host process would be
    refused = cntr_tui("ls", f"marker={name}")
    assert refused.returncode == 1
    assert (
        f"refused: it shares the host's PID namespace; to attach to it anyway, give its PID: {pid}"
        in refused.stderr
    )
