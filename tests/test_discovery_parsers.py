"""Parsers of runtime replies, on recorded output (the real runtimes are in test_discovery).

machinectl cannot run on these machines (no systemd as PID 1), so its parser is only
tested here, on output recorded from a systemd host.
"""

from __future__ import annotations

import json

import pytest

from cntr_tui.attach.container import KubernetesInfo
from cntr_tui.attach.runtimes import containerd, lxc, nspawn, podman, protowire
from cntr_tui.attach.runtimes.base import kubernetes_from_labels

MACHINECTL_SHOW = """\
Name=debian-dev
Class=container
State=running
RootDirectory=/var/lib/machines/debian-dev
Leader=4242

Name=qemu-vm
Class=vm
State=running
Leader=5151

Name=fedora
Class=container
State=running
RootDirectory=/var/lib/machines/fedora
Leader=6161
"""

LXC_FANCY = """\
NAME        STATE   PID
builder     RUNNING 7506
frozen-one  FROZEN  7600
old         STOPPED -
"""


def test_machinectl_show_keeps_containers_only() -> None:
    found = nspawn.parse_show(MACHINECTL_SHOW)
    assert [(c.name, c.pid, c.image) for c in found] == [
        ("debian-dev", 4242, "/var/lib/machines/debian-dev"),
        ("fedora", 6161, "/var/lib/machines/fedora"),
    ]
    assert {c.runtime for c in found} == {"nspawn"}


def test_nspawn_machine_name_from_arguments() -> None:
    argv = ["systemd-nspawn", "--quiet", "-D", "/srv/root", "--machine", "web", "/app/x", "-M"]
    assert nspawn.machine_name(argv, 1) == ("web", "/srv/root")
    assert nspawn.machine_name(["systemd-nspawn", "--directory=/srv/box/"], 1) == (
        "box",
        "/srv/box/",
    )
    assert nspawn.machine_name(["systemd-nspawn", "-Mshort", "-D/x"], 1) == ("short", "/x")
    assert nspawn.machine_name(["systemd-nspawn"], 77) == ("nspawn-77", None)
    with_bind = ["systemd-nspawn", "--bind", "/a:/b", "-M", "late", "-D", "/r", "/bin/sh"]
    assert nspawn.machine_name(with_bind, 1) == ("late", "/r")


def test_lxc_fancy_states() -> None:
    found = lxc.parse_fancy(LXC_FANCY)
    assert [(c.name, c.pid, c.status) for c in found] == [
        ("builder", 7506, "running"),
        ("frozen-one", 7600, "paused"),
        ("old", 0, "stopped"),
    ]


def test_podman_ps_json() -> None:
    text = json.dumps(
        [
            {
                "Id": "b89f86123b712df820b43bcccfdfdda7f20ae41d974a8938180c86243ca607a9",
                "Names": ["web"],
                "Image": "localhost/demo:1",
                "Pid": 7419,
                "State": "running",
                "StartedAt": 1795742024,
                "Command": ["/app/threads", "-v"],
                "Labels": {
                    "io.kubernetes.pod.name": "p",
                    "io.kubernetes.pod.namespace": "n",
                    "io.kubernetes.container.name": "c",
                },
            },
            {"Id": "c" * 64, "Names": None, "Pid": 0, "State": "exited", "StartedAt": -1},
        ]
    )
    web, stopped = podman.parse_ps_json(text)
    assert (web.name, web.pid, web.command, web.started_at) == (
        "web",
        7419,
        "/app/threads -v",
        1795742024.0,
    )
    assert web.kubernetes == KubernetesInfo("n", "p", "c")
    assert (stopped.name, stopped.pid, stopped.status, stopped.started_at) == (
        "c" * 12,
        0,
        "exited",
        None,
    )
    assert podman.parse_ps_json("") == [] and podman.parse_ps_json("null") == []


def test_kubernetes_labels() -> None:
    assert kubernetes_from_labels(None) is None
    assert kubernetes_from_labels({"io.kubernetes.pod.name": "p"}) is None
    sandbox = {"io.kubernetes.pod.name": "p", "io.kubernetes.pod.namespace": "n"}
    assert kubernetes_from_labels(sandbox) == KubernetesInfo("n", "p", "POD")


# containerd: messages encoded by hand, field numbers from containerd's .proto files


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def test_containerd_replies() -> None:
    namespaces = field(1, field(1, "k8s.io")) + field(1, field(1, "moby"))
    assert containerd.parse_namespaces(namespaces) == ["k8s.io", "moby"]

    label = field(2, field(1, "io.kubernetes.pod.name") + field(2, "web-0"))
    label2 = field(2, field(1, "io.kubernetes.pod.namespace") + field(2, "shop"))
    spec = field(5, field(1, "types.containerd.io/opencontainers/runtime-spec/1/Spec"))
    created = field(8, field(1, 1_795_742_023) + field(2, 500_000_000))
    reply = field(1, field(1, "abc") + label + label2 + field(3, "nginx:1") + spec + created)
    reply += field(1, field(1, "idle"))
    records = containerd.parse_containers(reply)
    assert records[0] == containerd.ContainerRecord(
        "abc",
        {"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop"},
        "nginx:1",
        1_795_742_023.5,
    )
    tasks = containerd.parse_tasks(field(1, field(2, "abc") + field(3, 4321) + field(4, 2)))
    assert tasks == [containerd.TaskRecord("abc", 4321, "running")]

    listed = containerd.containers_of_namespace("k8s.io", records, tasks, include_stopped=False)
    assert [(c.id, c.pid, c.name) for c in listed] == [("abc", 4321, "shop/web-0/POD")]
    with_idle = containerd.containers_of_namespace("k8s.io", records, tasks, include_stopped=True)
    assert [(c.id, c.pid, c.status) for c in with_idle][1] == ("idle", 0, "created")


def test_protowire_rejects_truncated_input() -> None:
    with pytest.raises(protowire.WireError):
        list(protowire.fields(field(1, "abcdef")[:-2]))
    with pytest.raises(protowire.WireError):
        list(protowire.fields(b"\x08\x80"))
