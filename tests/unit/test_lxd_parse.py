"""The LXD runtime on answers recorded from the test bed's daemon (LXD 5.0.2):
tests/data/lxd/instances_recursion2.http is `GET /1.0/instances?recursion=2&all-projects=true`
with one running container in a project of its own and one stopped in `default`;
not_found.http an error answer. The HTTP is served by a unix socket in the test, byte
for byte as the daemon sent it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from cntr_tui.attach.runtimes import lxd
from cntr_tui.attach.runtimes.base import (
    DiscoveryConfig,
    ListContext,
    RuntimeAbsent,
    RuntimeFailed,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "lxd"
RECORDED = DATA / "instances_recursion2.http"
RUNNING = "cntr-test-lxd-084beb58"
PROJECT = "cntr-test-lxd-p829519"
STOPPED = "cntr-test-lxd-09215aec"


def body(path: Path) -> bytes:
    return path.read_bytes().partition(b"\r\n\r\n")[2]


def recorded_metadata() -> list[dict]:
    return json.loads(body(RECORDED))["metadata"]


def test_recorded_answer_gives_name_project_state_pid_image():
    found = {c.name: c for c in lxd.parse_instances(recorded_metadata())}
    assert set(found) == {RUNNING, STOPPED}
    running = found[RUNNING]
    assert (running.runtime, running.id, running.runtime_namespace) == (
        "lxd",
        f"{PROJECT}/{RUNNING}",
        PROJECT,
    )
    assert (running.pid, running.status, running.image) == (1419, "running", "cntr-tui slim demo")
    assert running.started_at == pytest.approx(1796287391.356856)  # its last_used_at
    stopped = found[STOPPED]
    assert (stopped.id, stopped.pid, stopped.status, stopped.started_at) == (
        f"default/{STOPPED}",
        0,
        "stopped",
        None,
    )


def test_states_and_virtual_machines():
    [instance, _] = recorded_metadata()
    frozen = {**instance, "state": {**instance["state"], "status": "Frozen"}}
    vm = {**instance, "type": "virtual-machine"}
    no_description = {**instance, "config": {"volatile.base_image": "f013a88f9e39db63cc64"}}
    [paused, unnamed] = lxd.parse_instances([frozen, vm, no_description])
    assert (paused.status, paused.pid) == ("paused", 1419)
    assert unnamed.image == "f013a88f9e39"


@pytest.mark.parametrize("reply", [{"name": "x"}, 3, None, [3], [{"type": "container"}]], ids=repr)
def test_what_is_not_a_list_of_instances_is_a_failure(reply):
    with pytest.raises(RuntimeFailed, match="instance list"):
        lxd.parse_instances(reply)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """`serve(raw_bytes)` -> a socket path answering each connection with those bytes."""
    servers: list[socket.socket] = []

    def start(*replies: bytes) -> str:
        path = str(tmp_path / f"unix{len(servers)}.socket")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        server.bind(path)
        server.listen()
        servers.append(server)

        def answer() -> None:
            for reply in replies:
                connection, _ = server.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(reply)

        threading.Thread(target=answer, daemon=True).start()
        return path

    yield start
    for server in servers:
        server.close()


def context(socket_path: str, include_stopped: bool) -> ListContext:
    scan: Future = Future()
    scan.set_result({})
    return ListContext(
        config=DiscoveryConfig(lxd_socket=socket_path, timeout=5),
        include_stopped=include_stopped,
        process_scan=scan,
    )


def test_list_containers_over_the_socket(serve):
    """recursion=1 (no PIDs); no monitor in this fake /proc scan: one state call."""
    answers = (
        (DATA / "instances_recursion1.http").read_bytes(),
        (DATA / "state.http").read_bytes(),
    )
    listed = lxd.list_containers(context(serve(*answers), include_stopped=False))
    [running] = listed
    assert running.status == "running" and running.pid > 0
    listed = lxd.list_containers(context(serve(*answers), include_stopped=True))
    assert sorted(c.status for c in listed) == ["running", "stopped"]


def test_error_answer_is_a_failure_with_lxds_message(serve):
    path = serve((DATA / "not_found.http").read_bytes())
    with pytest.raises(RuntimeFailed, match=r"^LXD answered 404 for /1.0/instances: not found$"):
        lxd.list_containers(context(path, include_stopped=True))


def test_an_answer_that_is_not_lxds_is_a_failure(serve):
    path = serve(b"SSH-2.0-OpenSSH_9.2\r\n")
    with pytest.raises(RuntimeFailed, match="no HTTP reply"):
        lxd.list_containers(context(path, include_stopped=True))


def test_no_socket_or_no_daemon_is_absent(tmp_path: Path):
    with pytest.raises(RuntimeAbsent, match="no LXD daemon"):
        lxd.list_containers(context(str(tmp_path / "unix.socket"), include_stopped=True))
    dead = tmp_path / "dead.socket"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(dead))
    server.close()  # bound, never listening: connection refused
    with pytest.raises(RuntimeAbsent, match="Connection refused"):
        lxd.list_containers(context(str(dead), include_stopped=True))


def test_socket_under_host_root_and_lxd_dir(monkeypatch):
    monkeypatch.setenv("CNTR_TUI_HOST_ROOT", "/host")
    monkeypatch.setenv("LXD_DIR", "/srv/lxd/")
    assert DiscoveryConfig().resolved_lxd_socket() == "/host/srv/lxd/unix.socket"
