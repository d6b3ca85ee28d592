"""Look-up of a user's word against real containers: ids, names, PIDs, command lines."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from cntr_tui.attach.lookup import resolve
from cntr_tui.errors import UserError

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")


def marked_threads(marker: int) -> str:
    """The demo program with a unique argument, for the `process` runtime.

    /app/threads ignores its arguments and, unlike a shell or sleep, handles SIGTERM
    as its namespace's init, so the fixture's removal is immediate.
    """
    return f"/app/threads --marker={marker}"


def unique_marker() -> int:
    return random.randrange(10**8, 10**9)


def docker_id(name: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_docker_by_name_id_prefix_and_pid(start_container) -> None:
    started = start_container("docker")
    full_id = docker_id(started.name)
    for word in (started.name, full_id, full_id[:10], str(started.pid)):
        found = resolve(word)
        assert (found.runtime, found.pid, found.id) == ("docker", started.pid, full_id), word
    assert resolve(full_id[:10], types=["docker"]).pid == started.pid


def test_lxc_and_nspawn_by_name(start_container) -> None:
    lxc = start_container("lxc")
    nspawn = start_container("nspawn")
    assert (resolve(lxc.name).runtime, resolve(lxc.name).pid) == ("lxc", lxc.pid)
    assert (resolve(nspawn.name).runtime, resolve(nspawn.name).pid) == ("nspawn", nspawn.pid)


def test_type_restriction_is_honoured(start_container) -> None:
    lxc = start_container("lxc")
    with pytest.raises(UserError) as error:
        resolve(lxc.name, types=["docker", "podman"])
    message = str(error.value)
    assert "tried process id, podman id/name, docker id/name" in message
    assert "lxc name" not in message and "\n" not in message


def test_any_host_pid_resolves_as_a_process() -> None:
    found = resolve(str(os.getppid()))
    assert (found.runtime, found.pid) == ("process", os.getppid())
    assert found.command


def test_command_substring(start_container) -> None:
    marker = unique_marker()
    started = start_container("process", program=marked_threads(marker))
    found = resolve(f"marker={marker}")
    assert (found.runtime, found.pid) == ("process", started.pid)
    assert found.command == f"/app/threads --marker={marker}"


def test_ambiguous_command_lists_both_candidates(start_container) -> None:
    marker = unique_marker()
    first = start_container("process", program=marked_threads(marker))
    second = start_container("process", program=marked_threads(marker))
    with pytest.raises(UserError) as error:
        resolve(f"marker={marker}")
    message = str(error.value)
    assert "ambiguous" in message and "command line" in message
    assert f"pid {first.pid}" in message and f"pid {second.pid}" in message

    result = subprocess.run(
        [CNTR_TUI, "ls", f"marker={marker}"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"cntr-tui: 'marker={marker}' is ambiguous: 2 containers")


def test_no_match_says_what_was_tried() -> None:
    word = f"no-such-container-{unique_marker()}"
    with pytest.raises(UserError) as error:
        resolve(word)
    assert str(error.value) == (
        f"no container matches '{word}' (tried process id, podman id/name, docker id/name, "
        "nspawn machine, lxc name, lxd name, containerd id, process name, "
        "kubernetes namespace/pod/container, "
        "command line)"
    )
    with pytest.raises(UserError, match="no container given"):
        resolve("  ")
    with pytest.raises(UserError, match="unknown runtime rkt"):
        resolve("x", types=["rkt"])


def test_paused_and_stopped_containers_are_reported(start_container) -> None:
    started = start_container("docker")
    subprocess.run(["docker", "pause", started.name], check=True, capture_output=True)
    with pytest.raises(UserError, match=f"docker container {started.name} is paused"):
        resolve(started.name)
    assert resolve(started.name, allow_paused=True).status == "paused"
    subprocess.run(["docker", "unpause", started.name], check=True, capture_output=True)
    subprocess.run(["docker", "kill", started.name], check=True, capture_output=True)
    with pytest.raises(UserError, match=f"docker container {started.name} is exited, not running"):
        resolve(started.name)
