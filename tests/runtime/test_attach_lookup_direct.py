"""A cold look-up of an exact docker id or name (`lookup_cache.direct`): answered from
docker's inspect of the word without listing every runtime, with the record the full
look-up makes, and never where the full look-up would answer otherwise (a podman
container of that name, an id prefix, a paused container)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cntr_tui.attach import discovery, lookup, lookup_cache
from cntr_tui.attach.discovery import wanted_runtimes
from cntr_tui.attach.lookup import resolve
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.demo import containers
from cntr_tui.errors import UserError
from tests.runtime import test_lookup_cache
from tests.support.runtimes import require_runtime

ALL = wanted_runtimes(None)
docker_name = test_lookup_cache.docker_name  # the fixture: a fresh name, nothing remembered


def full(word: str):
    found, _ = lookup._full_look_up(word, ALL, False, DiscoveryConfig())
    return found


def test_an_exact_docker_name_or_id_is_found_without_a_listing(
    docker_name: str, demo_rootfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = containers.start_docker(docker_name, demo_rootfs)
    expected = full(docker_name)
    assert (expected.runtime, expected.pid) == ("docker", started.pid)
    assert lookup_cache.direct(docker_name, ALL, DiscoveryConfig()) == expected
    assert lookup_cache.direct(expected.id, ALL, DiscoveryConfig()) == expected
    assert lookup_cache.direct(expected.id[:12], ALL, DiscoveryConfig()) is None  # a prefix
    assert lookup_cache.direct(docker_name, ("podman",), DiscoveryConfig()) is None

    def no_listing(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("listed every runtime")

    monkeypatch.setattr(discovery, "list_containers", no_listing)
    monkeypatch.setattr(lookup, "list_containers", no_listing)
    assert resolve(docker_name) == expected
    lookup_cache.forget(docker_name, ALL)
    assert resolve(expected.id) == expected


def test_a_paused_container_goes_to_the_full_look_up(docker_name: str, demo_rootfs: Path) -> None:
    containers.start_docker(docker_name, demo_rootfs)
    subprocess.run(["docker", "pause", docker_name], check=True, capture_output=True)
    try:
        assert lookup_cache.direct(docker_name, ALL, DiscoveryConfig()) is None
        with pytest.raises(UserError, match=f"docker container {docker_name} is paused"):
            resolve(docker_name)
    finally:
        subprocess.run(["docker", "unpause", docker_name], check=True, capture_output=True)


def test_a_podman_container_of_the_same_name_takes_precedence(
    docker_name: str, demo_rootfs: Path
) -> None:
    require_runtime("podman")
    containers.start_docker(docker_name, demo_rootfs)
    tag = containers.ensure_image("podman", demo_rootfs)
    containers.run("podman", "create", "--name", docker_name, tag, "/app/threads")
    try:
        assert lookup_cache.direct(docker_name, ALL, DiscoveryConfig()) is None
        with pytest.raises(UserError, match=f"podman container {docker_name} is created"):
            resolve(docker_name)
    finally:
        containers.quiet("podman", "rm", "-f", docker_name)
    assert lookup_cache.direct(docker_name, ALL, DiscoveryConfig()) == full(docker_name)
