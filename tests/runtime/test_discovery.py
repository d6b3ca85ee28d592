"""Discovery against real containers of all six runtimes, and runtimes that are absent or fail."""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import grpc
import pytest

from cntr_tui.attach.discovery import list_containers
from cntr_tui.attach.lookup import resolve
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from tests.support.grpc import FakeContainerd

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")


# Fakes of runtimes that answer, but only with errors


class FailingDockerHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"message": "boom"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: object) -> None:
        pass


class FailingDockerDaemon:
    """An HTTP server on a unix socket answering every docker API call with 500."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"unix://{path}"
        self.server = socketserver.ThreadingUnixStreamServer(str(path), FailingDockerHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FailingDockerDaemon:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.path.unlink(missing_ok=True)


def fail(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.abort(grpc.StatusCode.INTERNAL, "boom")


def failing_command(folder: Path, name: str, message: str) -> str:
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 125\n")
    script.chmod(0o755)
    return str(script)


def ls_json(*args: str, env: dict[str, str] | None = None) -> list[dict]:
    result = subprocess.run(
        [CNTR_TUI, "ls", "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pid_namespace(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/pid")


def test_ls_json_finds_each_runtime_and_forgets_it_after_removal(any_container) -> None:
    started = any_container
    entries = ls_json()
    matching = [e for e in entries if e["pid"] == started.pid]
    assert len(matching) == 1, f"{started} not listed once in {entries}"
    entry = matching[0]
    assert entry["runtime"] == started.runtime
    assert entry["status"] == "running"
    if started.runtime == "containerd":
        assert entry["id"] == started.name and entry["runtime_namespace"] == "k8s.io"
    elif started.runtime == "process":
        assert entry["id"] == str(started.pid)
    else:
        assert entry["name"] == started.name
    assert {"mnt", "pid"} <= set(entry["namespaces"])
    assert entry["namespaces"] == sorted(entry["namespaces"])
    assert entry["command"] == "/app/threads"
    assert datetime.fromisoformat(entry["started_at"]).tzinfo is not None
    assert set(entry) == {
        "runtime",
        "id",
        "name",
        "image",
        "pid",
        "status",
        "started_at",
        "namespaces",
        "command",
        "kubernetes",
        "runtime_namespace",
    }
    # Never twice: not as containerd `moby`, not again as a plain process.
    own_namespace = pid_namespace(started.pid)
    for other in entries:
        if other is not entry and other["pid"] > 0 and os.path.exists(f"/proc/{other['pid']}"):
            assert pid_namespace(other["pid"]) != own_namespace, other

    started.remove()
    assert all(e["pid"] != started.pid for e in ls_json())


def test_type_filter_lists_only_those_runtimes(start_container) -> None:
    docker = start_container("docker")
    plain = start_container("process")
    only_docker = ls_json("-t", "docker")
    assert {e["runtime"] for e in only_docker} == {"docker"}
    assert docker.pid in [e["pid"] for e in only_docker]
    only_plain = list_containers(["process"]).containers
    assert {c.runtime for c in only_plain} == {"process"}
    assert plain.pid in [c.pid for c in only_plain]
    assert docker.pid not in [c.pid for c in only_plain], "docker's container is not a process"


def test_kubernetes_container_shows_its_pod_and_resolves(start_container) -> None:
    pod = f"web-{uuid.uuid4().hex[:6]}"
    labels = {
        "io.kubernetes.pod.name": pod,
        "io.kubernetes.pod.namespace": "shop",
        "io.kubernetes.container.name": "nginx",
        "io.kubernetes.pod.uid": str(uuid.uuid4()),
    }
    started = start_container("containerd", labels=labels)
    [entry] = [e for e in ls_json("-t", "containerd") if e["pid"] == started.pid]
    assert entry["kubernetes"] == {
        "namespace": "shop",
        "pod": pod,
        "container": "nginx",
        "uid": labels["io.kubernetes.pod.uid"],
        "restart_count": None,  # not made through the CRI: no kubelet's count
    }
    assert entry["runtime_namespace"] == "k8s.io"
    assert entry["name"] == f"shop/{pod}/nginx"

    found = resolve(f"shop/{pod}/nginx")
    assert (found.runtime, found.pid, found.id) == ("containerd", started.pid, started.name)
    [shown] = ls_json(f"shop/{pod}/nginx")
    assert shown["pid"] == started.pid


def all_broken(tmp_path: Path, docker_url: str, containerd_socket: str) -> DiscoveryConfig:
    return DiscoveryConfig(
        docker_host=docker_url,
        containerd_sockets=(containerd_socket,),
        podman_command=failing_command(tmp_path, "podman", "Error: database is locked"),
        lxc_ls_command=str(tmp_path / "no-such-lxc-ls"),
        machinectl_command=str(tmp_path / "no-such-machinectl"),
        timeout=3,
    )


def test_absent_runtimes_are_silent(start_container, tmp_path: Path) -> None:
    plain = start_container("process")
    config = DiscoveryConfig(
        docker_host=f"unix://{tmp_path}/no-docker.sock",
        containerd_sockets=(str(tmp_path / "no-containerd.sock"),),
        podman_command=str(tmp_path / "no-podman"),
        lxc_ls_command=str(tmp_path / "no-lxc-ls"),
        machinectl_command=str(tmp_path / "no-machinectl"),
    )
    listing = list_containers(config=config)
    assert listing.warnings == []
    assert plain.pid in [c.pid for c in listing.containers if c.runtime == "process"]


def test_failing_runtimes_warn_once_and_the_rest_still_lists(
    start_container, tmp_path: Path
) -> None:
    plain = start_container("process")
    with (
        FailingDockerDaemon(tmp_path / "docker.sock") as docker,
        FakeContainerd(tmp_path / "containerd.sock", fail) as containerd,
    ):
        listing = list_containers(config=all_broken(tmp_path, docker.url, containerd.path))
    assert plain.pid in [c.pid for c in listing.containers if c.runtime == "process"]
    by_runtime = {line.split(":", 1)[0]: line for line in listing.warnings}
    assert sorted(by_runtime) == ["containerd", "docker", "podman"], listing.warnings
    assert len(listing.warnings) == 3
    assert "database is locked" in by_runtime["podman"]
    assert "boom" in by_runtime["containerd"]
    assert "500" in by_runtime["docker"]
    assert listing.failed_runtimes == {"docker", "podman", "containerd"}


def test_cli_warns_on_stderr_and_exits_zero(start_container, tmp_path: Path) -> None:
    plain = start_container("process")
    with FailingDockerDaemon(tmp_path / "docker.sock") as docker:
        result = subprocess.run(
            [CNTR_TUI, "ls", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DOCKER_HOST": docker.url},
        )
    assert result.returncode == 0
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("cntr-tui: warning: docker:")
    assert plain.pid in [e["pid"] for e in json.loads(result.stdout)]


def test_table_is_aligned(start_container) -> None:
    started = start_container("docker")
    result = subprocess.run(
        [CNTR_TUI, "ls", "-t", "docker"], capture_output=True, text=True, timeout=60, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "RUNTIME",
        "ID",
        "NAME",
        "PID",
        "STATUS",
        "STARTED",
        "IMAGE",
        "NAMESPACES",
        "COMMAND",
    ]
    [row] = [line for line in lines if started.name in line]
    for column in ("NAME", "PID", "STATUS", "COMMAND"):
        start = lines[0].index(column)
        assert row[start - 2 : start] == "  " and row[start] != " ", (column, row)
    assert str(started.pid) in row.split()


@pytest.mark.parametrize("word", ["nonexistent-container-zzz", "9" * 9])
def test_cli_no_match_is_one_line(word: str) -> None:
    result = subprocess.run([CNTR_TUI, "ls", word], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"cntr-tui: no container matches '{word}' (tried process id")


def test_docker_pids_by_inspect_when_containerd_is_not_reachable(start_container) -> None:
    started = start_container("docker")
    without_containerd = DiscoveryConfig(containerd_sockets=())
    listing = list_containers(["docker"], config=without_containerd)
    assert listing.warnings == []
    [found] = [c for c in listing.containers if c.name == started.name]
    assert found.pid == started.pid
    # and with containerd reachable, the PID (taken from the moby namespace) is the same
    [same] = [c for c in list_containers(["docker"]).containers if c.name == started.name]
    assert same.pid == started.pid and same.runtime == "docker"
