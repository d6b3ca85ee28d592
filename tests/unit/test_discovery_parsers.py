"""Parsers of runtime replies, on recorded output (the real runtimes are in test_discovery).

machinectl cannot run on these machines (no systemd as PID 1), so its parser is only
tested here, on output recorded from a systemd host.
"""

from __future__ import annotations

import json

from cntr_tui.attach.container import KubernetesInfo
from cntr_tui.attach.runtimes import containerd, lxc, nspawn, podman
from cntr_tui.attach.runtimes.base import kubernetes_from_labels
from cntr_tui.attach.runtimes.protos import task_pb2, tasks_pb2

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


# containerd: its real replies are read in test_containerd_api; here what is made of them


def test_containerd_records_become_containers() -> None:
    pod = {"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop"}
    records = [
        containerd.ContainerRecord("abc", pod, "nginx:1", 1_795_742_023.5),
        containerd.ContainerRecord("idle", {}, "", None),
        containerd.ContainerRecord("starting", {}, "", None),
    ]
    tasks = [
        containerd.TaskRecord("abc", 4321, "running"),
        containerd.TaskRecord("starting", 4400, "created"),
    ]
    listed = containerd.containers_of_namespace("k8s.io", records, tasks, include_stopped=False)
    assert [(c.id, c.pid, c.name, c.image) for c in listed] == [
        ("abc", 4321, "shop/web-0/POD", "nginx:1"),
        ("starting", 4400, "starting", None),
    ]
    with_idle = containerd.containers_of_namespace("k8s.io", records, tasks, include_stopped=True)
    assert [(c.id, c.pid, c.status) for c in with_idle][1] == ("idle", 0, "created")


def test_containerd_task_status_a_newer_containerd_added_is_unknown() -> None:
    reply = tasks_pb2.ListTasksResponse(
        tasks=[
            task_pb2.Process(id="a", pid=7, status=task_pb2.PAUSED),
            task_pb2.Process(id="b", status=9),
        ]
    )
    # through the wire format, as gRPC delivers it: an open enum keeps the number 9
    read = tasks_pb2.ListTasksResponse.FromString(reply.SerializeToString())
    assert containerd.parse_tasks(read) == [
        containerd.TaskRecord("a", 7, "paused"),
        containerd.TaskRecord("b", 0, "unknown"),
    ]
