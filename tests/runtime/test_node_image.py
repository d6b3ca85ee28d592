"""The node image (deploy/node-image) run as `kubectl debug node --profile=sysadmin`
runs it: it lists the test bed's containers through the node's sockets under /host,
attaches with the image's own tools at `/`, and leaves nothing behind.

The image is built once per session (its build cache makes later sessions quick).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.linux.namespaces import namespace_inode
from tests.support.node_image import (
    MARKER,
    NodeContainer,
    build_node_image,
    start_node_container,
    wait_exited,
)
from tests.support.runtimes import StartContainer, require_runtime


def test_paths_under_host_follow_the_nodes_links_inside_it(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "run").symlink_to("/run")  # as on Debian: absolute
    (tmp_path / "rel").symlink_to("var/run")
    (tmp_path / "loop").symlink_to("/loop")
    root = str(tmp_path)
    config = DiscoveryConfig(host_root=root)
    assert config.under_host("/var/run/docker.sock") == f"{root}/run/docker.sock"
    assert config.under_host("/rel/x.sock") == f"{root}/run/x.sock"
    assert config.under_host("/missing/a") == f"{root}/missing/a"
    assert config.under_host("/loop/a") == f"{root}/loop/a"
    assert DiscoveryConfig(host_root="/").under_host("/var/run/x") == "/var/run/x"


@pytest.fixture(scope="session")
def node_image() -> str:
    require_runtime("docker")
    if not Path("/usr/bin/mmdebstrap").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("mmdebstrap must be installed in CI (scripts/setup.sh)")
        pytest.skip("no mmdebstrap")
    return build_node_image()


@pytest.fixture
def node(node_image: str) -> Iterator[NodeContainer]:
    container = start_node_container(node_image)
    try:
        yield container
    finally:
        container.remove()


def pids_in_pid_namespace(inode: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if namespace_inode(int(entry), "pid") == inode:
                    found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return found


def fuse_mounts() -> set[str]:
    lines = Path("/proc/1/mountinfo").read_text().splitlines()
    return {line for line in lines if " - fuse" in line}


@pytest.mark.parametrize("runtime", ["docker", "containerd"])
def test_node_image_lists_attaches_and_debugs_with_its_own_tools(
    runtime: str, node: NodeContainer, start_container: StartContainer
) -> None:
    require_runtime(runtime)
    assert not Path(MARKER).exists(), "the host must not have the image's marker"
    mounts_before = fuse_mounts()
    target = start_container(runtime)
    own_ns = namespace_inode(target.pid, "pid")

    listed = node.exec("cntr-tui", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    records = {(c["runtime"], c["name"]): c for c in json.loads(listed.stdout)}
    assert records[(runtime, target.name)]["pid"] == target.pid  # host PID namespace

    marker = node.exec("cat", MARKER).stdout.strip()
    assert marker.startswith("cntr-tui-node-image ")
    attached = node.exec(
        "cntr-tui", "attach", target.name, "--",
        "sh", "-c", f"cat {MARKER}; cat /proc/1/cmdline; echo; ls /var/lib/cntr/app",
    )  # fmt: skip
    assert attached.returncode == 0, attached.stderr
    lines = attached.stdout.splitlines()
    assert lines[0] == marker  # `/` is the image's root, not the node's
    assert lines[1].rstrip("\0").startswith("/app/threads")  # /proc is the container's
    assert "threads" in lines[2:]  # the container's root at /var/lib/cntr

    debugged = node.exec(
        "cntr-tui", "gdb", "--batch", "-ex", "bt",
        "-ex", f"python print(open('{MARKER}').read().strip())",
        target.name,
    )  # fmt: skip
    assert debugged.returncode == 0, debugged.stderr
    assert "main () at threads.c" in debugged.stdout
    assert marker in debugged.stdout.splitlines()  # gdb runs in the image's root

    # nothing left: no helper or server in the pod, nothing in the container. The
    # resident agent the commands started stays by design until its idle exit: stopped
    # here, and then it too must be gone.
    stopped = node.exec("cntr-tui", "agent", "stop")
    assert stopped.returncode == 0, stopped.stderr
    leftovers = [pid for pid, args in node.processes() if args != "sleep infinity"]
    assert wait_exited(leftovers, 15.0) == []
    assert pids_in_pid_namespace(own_ns) == [target.pid]
    if runtime == "docker":
        diff = os.popen(f"docker diff {target.name}").read()
        assert diff == ""
    node.remove()
    assert fuse_mounts() <= mounts_before


def test_a_pod_not_on_this_node_is_one_line_inside_the_image(node: NodeContainer) -> None:
    word = "shop/cntr-test-elsewhere/app"
    for argv in (("gdb", "--batch", "-ex", "bt", word), ("attach", word, "--", "true")):
        result = node.exec("cntr-tui", *argv)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "no pod shop/cntr-test-elsewhere" in lines[0], lines[0]
        assert "kubectl cntr -n shop cntr-test-elsewhere" in lines[0], lines[0]
        # the host's `docker exec` carries the word: refused, and said after the pod
        if "outside containers" in lines[0]:
            assert lines[0].index("no pod") < lines[0].index("outside containers")
    leftovers = [pid for pid, args in node.processes() if args != "sleep infinity"]
    assert wait_exited(leftovers, 15.0) == []
