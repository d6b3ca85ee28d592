"""The look-up short cut (lookup_cache) on real docker and podman containers: a
remembered word is reused only while docker and /proc confirm it; anything else falls
back to the full look-up, with the same answers and the same one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cntr_tui.attach import lookup_cache
from cntr_tui.attach.discovery import wanted_runtimes
from cntr_tui.attach.lookup import resolve
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.demo import containers
from cntr_tui.errors import UserError
from tests.support.runtimes import TEST_PREFIX, require_runtime

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")
ALL = wanted_runtimes(None)
NO_MATCH = (
    "no container matches '{word}' (tried process id, podman id/name, docker id/name, "
    "nspawn machine, lxc name, lxd name, containerd id, process name, "
    "kubernetes namespace/pod/container, "
    "command line)"
)


def entry_of(word: str) -> Path:
    return Path(lookup_cache.entry_path(word, ALL))


@pytest.fixture
def docker_name(demo_rootfs: Path):
    """A fresh docker container name; whatever runs under it is removed at the end."""
    require_runtime("docker")
    name = f"{TEST_PREFIX}cache-{uuid.uuid4().hex[:8]}"
    yield name
    containers.quiet("docker", "rm", "-f", name)
    lookup_cache.forget(name, ALL)


def test_a_confirmed_entry_is_reused(docker_name: str, demo_rootfs: Path) -> None:
    started = containers.start_docker(docker_name, demo_rootfs)
    first = resolve(docker_name)
    assert (first.runtime, first.pid) == ("docker", started.pid)
    assert json.loads(entry_of(docker_name).read_text())["container"]["pid"] == started.pid
    hit = lookup_cache.recall(docker_name, ALL, DiscoveryConfig())
    assert hit == first  # the same record the full look-up made, /proc facts included
    assert resolve(docker_name) == first
    # an id prefix is not remembered: a later container could make it ambiguous
    prefix = first.id[:10]
    assert resolve(prefix).pid == started.pid
    assert not entry_of(prefix).exists()


def test_an_entry_whose_process_changed_is_dropped(docker_name: str, demo_rootfs: Path) -> None:
    containers.start_docker(docker_name, demo_rootfs)
    found = resolve(docker_name)
    entry = json.loads(entry_of(docker_name).read_text())
    entry["start"] += 1  # as if the PID had been reused by another process
    entry_of(docker_name).write_text(json.dumps(entry))
    assert lookup_cache.recall(docker_name, ALL, DiscoveryConfig()) is None
    assert not entry_of(docker_name).exists()
    assert resolve(docker_name) == found  # the full look-up, which remembers again
    assert entry_of(docker_name).exists()


def test_a_name_reused_by_a_new_container_resolves_to_the_new_one(
    docker_name: str, demo_rootfs: Path
) -> None:
    old = containers.start_docker(docker_name, demo_rootfs)
    assert resolve(docker_name).pid == old.pid
    old.remove()
    new = containers.start_docker(docker_name, demo_rootfs)
    found = resolve(docker_name)
    new_id = containers.run("docker", "inspect", "-f", "{{.Id}}", docker_name)
    assert (found.pid, found.id) == (new.pid, new_id)


def test_removed_container_gives_the_same_one_line_error(
    docker_name: str, demo_rootfs: Path
) -> None:
    started = containers.start_docker(docker_name, demo_rootfs)
    resolve(docker_name)
    started.remove()
    with pytest.raises(UserError) as error:
        resolve(docker_name)
    assert str(error.value) == NO_MATCH.format(word=docker_name)
    assert not entry_of(docker_name).exists()

    containers.start_docker(docker_name, demo_rootfs)
    resolve(docker_name)  # remembered again, then removed behind its back
    containers.quiet("docker", "rm", "-f", docker_name)
    result = subprocess.run(
        [CNTR_TUI, "gdb", docker_name, "--batch", "-ex", "bt"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"cntr-tui: {NO_MATCH.format(word=docker_name)}\n"


def test_stopped_and_paused_containers_say_so_as_before(
    docker_name: str, demo_rootfs: Path
) -> None:
    containers.start_docker(docker_name, demo_rootfs)
    resolve(docker_name)
    subprocess.run(["docker", "pause", docker_name], check=True, capture_output=True)
    with pytest.raises(UserError, match=f"docker container {docker_name} is paused"):
        resolve(docker_name)
    assert resolve(docker_name, allow_paused=True).status == "paused"
    subprocess.run(["docker", "unpause", docker_name], check=True, capture_output=True)
    resolve(docker_name)
    subprocess.run(["docker", "kill", docker_name], check=True, capture_output=True)
    with pytest.raises(UserError, match=f"docker container {docker_name} is exited, not running"):
        resolve(docker_name)


def test_a_podman_container_of_the_same_name_takes_precedence(
    docker_name: str, demo_rootfs: Path
) -> None:
    require_runtime("podman")
    containers.start_docker(docker_name, demo_rootfs)
    assert resolve(docker_name).runtime == "docker"
    tag = containers.ensure_image("podman", demo_rootfs)
    containers.run("podman", "create", "--name", docker_name, tag, "/app/threads")
    try:
        # look-up's order puts podman's names before docker's: the entry must not hide it
        with pytest.raises(UserError, match=f"podman container {docker_name} is created"):
            resolve(docker_name)
    finally:
        containers.quiet("podman", "rm", "-f", docker_name)
    assert resolve(docker_name).runtime == "docker"


def test_unreadable_or_foreign_entries_are_ignored(docker_name: str, demo_rootfs: Path) -> None:
    started = containers.start_docker(docker_name, demo_rootfs)
    resolve(docker_name)
    entry_of(docker_name).write_text("{not json")
    assert resolve(docker_name).pid == started.pid
    other = DiscoveryConfig(docker_host=f"unix://{os.devnull}-nothing")
    assert lookup_cache.recall(docker_name, ALL, other) is None  # another daemon's answer
