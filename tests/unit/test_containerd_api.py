"""containerd's messages: generated from the .proto files, read from a real containerd.

The replies come from the test bed's containerd (namespaces k8s.io and moby); `ctr`,
containerd's own client, is the reference for what they say.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import grpc
import pytest

from cntr_tui.attach.discovery import list_containers
from cntr_tui.attach.runtimes import containerd
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.demo.containers import CONTAINERD_SOCKET, K8S_NAMESPACE
from tests.support.grpc import FakeContainerd

REPO = Path(__file__).resolve().parents[2]
PROTOS = Path("cntr_tui/attach/runtimes/protos")


def ctr(*args: str) -> str:
    command = ["ctr", "--address", CONTAINERD_SOCKET, *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def seconds_of(rfc3339: str) -> float:
    """containerd's CreatedAt, nanoseconds kept (datetime keeps microseconds only)."""
    whole, _, fraction = rfc3339.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole + "+00:00").timestamp()
    return seconds + int(fraction.ljust(9, "0")) / 1e9


@pytest.fixture
def client():
    with containerd.Client(CONTAINERD_SOCKET, timeout=10) as opened:
        yield opened


def test_generated_modules_are_what_the_protos_give(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(REPO / "scripts" / "protos.sh"), str(tmp_path)],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    fresh = {p.name: p.read_bytes() for p in (tmp_path / PROTOS).iterdir()}
    committed = {p.name: p.read_bytes() for p in (REPO / PROTOS).glob("*_pb2.py")}
    protos = list((REPO / PROTOS).glob("*.proto"))
    assert len(fresh) == len(protos), sorted(fresh)  # one module a .proto file
    assert sorted(committed) == sorted(fresh), "a generated module without its .proto"
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"run `bash scripts/protos.sh`: {stale} differ from the .proto files"


def test_real_replies_read_as_ctr_shows_them(start_container, client) -> None:
    labels = {
        "io.kubernetes.pod.name": f"api-{uuid.uuid4().hex[:6]}",
        "io.kubernetes.pod.namespace": "shop",
        "io.kubernetes.container.name": "app",
    }
    started = start_container("containerd", labels=labels)

    names = containerd.parse_namespaces(client.namespaces().result())
    assert {K8S_NAMESPACE, "moby"} <= set(names)
    assert sorted(names) == sorted(ctr("namespaces", "ls", "-q").split())

    records = containerd.parse_containers(client.containers(K8S_NAMESPACE).result())
    [record] = [r for r in records if r.id == started.name]
    info = json.loads(ctr("-n", K8S_NAMESPACE, "containers", "info", started.name))
    assert labels.items() <= record.labels.items()
    assert record.labels == info["Labels"]
    assert record.image == info["Image"]
    assert record.created_at == pytest.approx(seconds_of(info["CreatedAt"]), abs=1e-6)

    def task() -> containerd.TaskRecord:
        tasks = containerd.parse_tasks(client.tasks(K8S_NAMESPACE).result())
        [found] = [t for t in tasks if t.id == started.name]
        return found

    assert task() == containerd.TaskRecord(started.name, started.pid, "running")
    ctr("-n", K8S_NAMESPACE, "tasks", "pause", started.name)
    try:
        assert task().status == "paused"
    finally:
        ctr("-n", K8S_NAMESPACE, "tasks", "resume", started.name)
    assert task().status == "running"


def test_docker_containers_in_the_moby_namespace(start_container, client) -> None:
    started = start_container("docker")
    docker_id = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", started.name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tasks = containerd.parse_tasks(client.tasks("moby").result())
    assert containerd.TaskRecord(docker_id, started.pid, "running") in tasks


def test_an_unreadable_reply_is_one_warning(tmp_path: Path) -> None:
    def truncated(request: bytes, context: grpc.ServicerContext) -> bytes:
        return b"\x0a\x80"  # field 1, length-delimited, its length cut short

    with FakeContainerd(tmp_path / "containerd.sock", truncated) as fake:
        config = DiscoveryConfig(containerd_sockets=(fake.path,), timeout=3)
        listing = list_containers(["containerd"], config=config)
    assert listing.containers == []
    assert listing.warnings == [f"containerd: {fake.path}: Exception deserializing response!"]


def test_protobuf_is_imported_only_when_containerd_is_asked() -> None:
    script = """
import json, sys
from cntr_tui import cli
from cntr_tui.attach import discovery
loaded = lambda: sorted({"grpc", "google.protobuf"} & set(sys.modules))
imported = loaded()
discovery.list_containers(["containerd"])
print(json.dumps([imported, loaded()]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert json.loads(result.stdout) == [[], ["google.protobuf", "grpc"]]
