"""LXD containers, from LXD's REST API on its unix socket and the host's /proc.

`GET /1.0/instances?recursion=1&all-projects=true` answers every instance of every
project with its status and config in one JSON reply (~7 ms for 10 containers). It has
no PIDs: those are in each instance's state, which recursion=2 adds, but LXD gathers
the whole state (network and disk too) per instance: ~75 ms each here, 0.75 s for 10
(bench/bench_lxd.py). The PID of a running container's init is instead read from the
shared /proc scan: LXD starts each container under a monitor process (comm `lxd`,
argv `[lxc monitor] LXD_DIR/containers KEY`, KEY the name or `PROJECT_NAME`) whose child,
in a PID namespace of its own, is the container's init. A running container whose
monitor is not found (another /proc than the node's) costs one state call.

It is plain HTTP/1.0 over the socket (the daemon closes the connection after the
reply), not pylxd: pylxd's imports (requests, urllib3, cryptography) cost ~0.15-0.7 s
and ~25 MiB before its first call, against ~10 ms and ~1 MiB (bench/bench_lxd.py).
Virtual machines are left out: no host process of theirs is a container to enter.

A container's id is `PROJECT/NAME` (names are unique within a project), its name the
instance's, `runtime_namespace` its project. No socket, or no daemon behind it, is
`RuntimeAbsent`; an error answer, or one that is not LXD's, `RuntimeFailed`.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.process import ProcessInfo
from cntr_tui.attach.runtimes.base import ListContext, RuntimeAbsent, RuntimeFailed
from cntr_tui.linux.procfs import read_bytes

RUNTIME = "lxd"
INSTANCES_PATH = "/1.0/instances?recursion=1&all-projects=true"
MONITOR_COMM = "lxd"
MONITOR_TITLE = b"[lxc monitor] "
LIVE = frozenset({"running", "paused", "pausing"})
MAX_REPLY_BYTES = 256 * 1024 * 1024
STATUS = {
    "Running": "running",
    "Frozen": "paused",
    "Freezing": "pausing",
    "Stopped": "stopped",
}


def request(socket_path: str, path: str, timeout: float) -> tuple[int, bytes]:
    """GET `path` from the daemon on `socket_path`: the reply's status and body."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    with sock:
        sock.settimeout(timeout)
        try:
            sock.connect(socket_path)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise RuntimeAbsent(f"no LXD daemon at {socket_path}: {error.strerror}") from None
        except OSError as error:
            raise RuntimeFailed(f"cannot reach LXD at {socket_path}: {error}") from None
        try:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: lxd\r\n\r\n".encode())
            chunks: list[bytes] = []
            received = 0
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
                received += len(chunk)
                if received > MAX_REPLY_BYTES:
                    raise RuntimeFailed("LXD's reply is too large")
        except TimeoutError:
            raise RuntimeFailed(f"LXD did not answer within {timeout:g} s") from None
        except OSError as error:
            raise RuntimeFailed(f"reading LXD's reply: {error}") from None
    head, separator, body = b"".join(chunks).partition(b"\r\n\r\n")
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    if not separator or len(parts) < 2 or not parts[1].isdigit():
        raise RuntimeFailed(f"LXD sent no HTTP reply: {head[:80]!r}")
    return int(parts[1]), body


def get_metadata(socket_path: str, path: str, timeout: float) -> Any:
    """The `metadata` of LXD's answer to GET `path`; RuntimeFailed for an error answer."""
    status, body = request(socket_path, path, timeout)
    try:
        reply = json.loads(body)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        text = " ".join(body[:200].decode(errors="replace").split())
        raise RuntimeFailed(f"LXD answered {status} for {path.split('?')[0]}, not JSON: {text}")
    if status != 200 or reply.get("type") == "error":
        message = reply.get("error") or f"status {status}"
        raise RuntimeFailed(f"LXD answered {status} for {path.split('?')[0]}: {message}")
    return reply.get("metadata")


def _started_at(instance: dict[str, Any]) -> float | None:
    from datetime import datetime  # here: only a listing with LXD containers needs it

    text = instance.get("last_used_at") or ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    seconds = moment.timestamp()
    return seconds if seconds > 0 else None  # never used: 1970-01-01T00:00:00Z


def instance_key(project: str, name: str) -> str:
    """How LXD names an instance to liblxc (its folder, its monitor, its cgroup)."""
    return name if project == "default" else f"{project}_{name}"


def container(instance: dict[str, Any], pid: int = 0) -> Container | None:
    """The Container of one instance of the instance list; None for a VM. `pid`: its
    init's host PID (else the answer's state.pid, present with recursion=2)."""
    if instance.get("type", "container") != "container":
        return None
    name = str(instance["name"])
    project = str(instance.get("project") or "default")
    state = instance.get("state") or {}
    status = str(state.get("status") or instance.get("status") or "unknown")
    status = STATUS.get(status, status.lower())
    config = instance.get("config") or {}
    base_image = str(config.get("volatile.base_image") or "")
    pid = pid or int(state.get("pid") or 0)
    pid = max(pid, 0) if status in LIVE else 0
    return Container(
        runtime=RUNTIME,
        id=f"{project}/{name}",
        name=name,
        pid=pid,
        image=config.get("image.description") or base_image[:12] or None,
        status=status,
        started_at=_started_at(instance) if pid > 0 else None,
        runtime_namespace=project,
    )


def instances(metadata: Any) -> list[dict[str, Any]]:
    """The instances of a `GET /1.0/instances?recursion=1` (or 2) answer's metadata."""
    if not isinstance(metadata, list):
        raise RuntimeFailed("LXD's instance list is not a list")
    if not all(isinstance(item, dict) and "name" in item for item in metadata):
        raise RuntimeFailed("LXD's instance list holds something that is not an instance")
    return metadata


def parse_instances(metadata: Any, pids: dict[str, int] | None = None) -> list[Container]:
    """Containers from an instance list; `pids`: init PIDs by `instance_key`."""
    found = []
    for instance in instances(metadata):
        key = instance_key(str(instance.get("project") or "default"), str(instance["name"]))
        record = container(instance, (pids or {}).get(key, 0))
        if record is not None:
            found.append(record)
    return found


def monitor_key(pid: int) -> str | None:
    """The instance key of LXD's monitor process `pid`; None for any other process."""
    try:
        title = read_bytes(pid, "cmdline").rstrip(b"\0")
    except (ProcessLookupError, PermissionError):
        return None
    if not title.startswith(MONITOR_TITLE):
        return None
    path, _, key = title.removeprefix(MONITOR_TITLE).decode(errors="replace").rpartition(" ")
    return key if path.endswith("/containers") and key else None


def init_pids(processes: dict[int, ProcessInfo]) -> dict[str, int]:
    """Instance key -> host PID of its init: the child of its monitor in a PID
    namespace of its own."""
    monitors = {
        pid: key
        for pid, info in processes.items()
        if info.comm == MONITOR_COMM and (key := monitor_key(pid)) is not None
    }
    found = {}
    for pid, info in processes.items():
        monitor = processes.get(info.ppid)
        if info.ppid in monitors and monitor is not None and info.pid_ns != monitor.pid_ns:
            found[monitors[info.ppid]] = pid
    return found


def state_pid(socket_path: str, project: str, name: str, timeout: float) -> int:
    """A container's init PID from its state (LXD's own look-up; ~75 ms)."""
    path = f"/1.0/instances/{quote(name)}/state?project={quote(project)}"
    state = get_metadata(socket_path, path, timeout)
    return int(state.get("pid") or 0) if isinstance(state, dict) else 0


UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str) -> str:
    """`text` percent-encoded as one URL component (urllib.parse costs imports)."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode())


def list_containers(context: ListContext) -> list[Container]:
    config = context.config
    socket_path = config.resolved_lxd_socket()
    listed = instances(get_metadata(socket_path, INSTANCES_PATH, config.timeout))
    live = [
        i
        for i in listed
        if i.get("type", "container") == "container"
        and STATUS.get(str(i.get("status")), "") in LIVE
    ]
    pids = init_pids(context.processes) if live else {}
    for instance in live:
        project, name = str(instance.get("project") or "default"), str(instance["name"])
        key = instance_key(project, name)
        if key not in pids:
            pids[key] = state_pid(socket_path, project, name, config.timeout)
    found = parse_instances(listed, pids)
    if context.include_stopped:
        return found
    return [c for c in found if c.pid > 0]
