"""The node image in the test bed: built once per session by deploy/node-image/build.sh
(its own cache makes a rebuild quick), run under docker as a node debug pod runs.

`kubectl debug node/NODE --profile=sysadmin` (kubectl's pkg/cmd/debug/profiles.go)
makes the pod privileged, gives it the node's PID, network and IPC namespaces, and
mounts the node's `/` at `/host` (a hostPath volume, no mount propagation); a
DaemonSet for cntr-tui does the same. Docker's flags for that are below.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cntr_tui.linux.capabilities import CAPABILITY_NAMES, capability_names

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "deploy" / "node-image" / "build.sh"
MARKER = "/etc/cntr-tui-node-image"
NODE_PREFIX = "cntr-test-node-"
BUILD_TIMEOUT = 900.0  # a cold build: mmdebstrap and pip wheel, ~1-4 min on the test bed
EXEC_TIMEOUT = 120.0


def build_node_image() -> str:
    """The image's tag (cntr-tui-node:VERSION-HASH), building what its cache lacks."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def bounding_set() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    raise RuntimeError("no CapBnd line in /proc/self/status")


def privileged_options() -> list[str]:
    """`--privileged`, or where this machine's root lacks capabilities (the test bed's
    has no CAP_SYS_RESOURCE, and runc then refuses --privileged with "unable to apply
    caps") what --privileged sets, less those: every other capability, no seccomp or
    AppArmor profile, /proc and /sys unmasked, /dev/fuse, every device allowed."""
    everything = (1 << len(CAPABILITY_NAMES)) - 1
    missing = capability_names(everything & ~bounding_set())
    if not missing:
        return ["--privileged"]
    drops = [option for name in missing for option in ("--cap-drop", name.upper())]
    return [
        "--cap-add",
        "ALL",
        *drops,
        "--security-opt",
        "seccomp=unconfined",
        "--security-opt",
        "apparmor=unconfined",
        "--security-opt",
        "systempaths=unconfined",
        "--device",
        "/dev/fuse",
        "--device-cgroup-rule",
        "a *:* rwm",
    ]


def node_debug_options() -> list[str]:
    """docker run's flags for kubectl debug node's sysadmin profile."""
    return [
        *privileged_options(),
        "--pid=host",
        "--network=host",
        "--ipc=host",
        "--volume=/:/host",
    ]


@dataclass
class NodeContainer:
    """The node image running as a debug pod; commands run in it with `exec`."""

    name: str
    image: str
    removed: bool = field(default=False, repr=False)

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "exec", self.name, *command],
            capture_output=True,
            text=True,
            timeout=EXEC_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )

    def processes(self) -> list[tuple[int, str]]:
        """(host PID, command line) of every process in the pod's cgroup."""
        out = subprocess.run(
            ["docker", "top", self.name, "-eo", "pid,args"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows = [line.strip().split(None, 1) for line in out.splitlines()[1:] if line.strip()]
        return [(int(row[0]), row[1] if len(row) > 1 else "") for row in rows]

    def remove(self) -> None:
        if not self.removed:
            self.removed = True
            subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)


def start_node_container(image: str) -> NodeContainer:
    """The image started as a node debug pod, idle (its own shell's `sleep`) so that
    each command is a `docker exec`, as `kubectl exec` into a DaemonSet's pod."""
    name = f"{NODE_PREFIX}{uuid.uuid4().hex[:8]}"
    container = NodeContainer(name, image)
    try:
        subprocess.run(
            [
                *("docker", "run", "-d", "--name", name, *node_debug_options()),
                *("--entrypoint", "sleep", image, "infinity"),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=EXEC_TIMEOUT,
        )
    except BaseException:
        container.remove()
        raise
    return container


def wait_exited(pids: list[int], timeout: float) -> list[int]:
    """Wait (on pidfds, no polling) until each of `pids` has exited or `timeout` has
    passed; return those still alive."""
    fds = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            continue
    try:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        alive = set(fds)
        deadline = time.monotonic() + timeout
        while alive:
            left = deadline - time.monotonic()
            events = poller.poll(max(0, int(left * 1000))) if left > 0 else []
            if not events:
                break
            for fd, _ in events:
                alive.discard(fd)
                poller.unregister(fd)
        return sorted(fds[fd] for fd in alive)
    finally:
        for fd in fds:
            os.close(fd)
