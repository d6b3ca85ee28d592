"""LXD containers, from one call to LXD's REST API on its unix socket.

`GET /1.0/instances?recursion=2&all-projects=true` answers every instance of every
project with its state (status and the host PID of its init) in one JSON reply. It is
plain HTTP/1.0 over the socket (the daemon closes the connection after the reply): no
pylxd, whose imports (requests, urllib3, cryptography, ws4py) cost far more than the
call itself (bench/bench_lxd.py). Virtual machines are left out: no host process of
theirs is a container to enter.

A container's id is `PROJECT/NAME` (names are unique within a project), its name the
instance's, `runtime_namespace` its project. No socket, or no daemon behind it, is
`RuntimeAbsent`; an error answer, or one that is not LXD's, `RuntimeFailed`.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import ListContext, RuntimeAbsent, RuntimeFailed

RUNTIME = "lxd"
INSTANCES_PATH = "/1.0/instances?recursion=2&all-projects=true"
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


def container(instance: dict[str, Any]) -> Container | None:
    """The Container of one instance of the recursion=2 answer; None for a VM."""
    if instance.get("type", "container") != "container":
        return None
    name = str(instance["name"])
    project = str(instance.get("project") or "default")
    state = instance.get("state") or {}
    status = str(state.get("status") or instance.get("status") or "unknown")
    status = STATUS.get(status, status.lower())
    config = instance.get("config") or {}
    base_image = str(config.get("volatile.base_image") or "")
    pid = int(state.get("pid") or 0) if status in ("running", "paused", "pausing") else 0
    return Container(
        runtime=RUNTIME,
        id=f"{project}/{name}",
        name=name,
        pid=max(pid, 0),
        image=config.get("image.description") or base_image[:12] or None,
        status=status,
        started_at=_started_at(instance) if pid > 0 else None,
        runtime_namespace=project,
    )


def parse_instances(metadata: Any) -> list[Container]:
    """Containers from the `metadata` of `GET /1.0/instances?recursion=2`."""
    if not isinstance(metadata, list):
        raise RuntimeFailed("LXD's instance list is not a list")
    found = []
    for instance in metadata:
        if not isinstance(instance, dict) or "name" not in instance:
            raise RuntimeFailed("LXD's instance list holds something that is not an instance")
        record = container(instance)
        if record is not None:
            found.append(record)
    return found


def list_containers(context: ListContext) -> list[Container]:
    config = context.config
    socket_path = config.resolved_lxd_socket()
    metadata = get_metadata(socket_path, INSTANCES_PATH, config.timeout)
    found = parse_instances(metadata)
    if context.include_stopped:
        return found
    return [c for c in found if c.pid > 0]
