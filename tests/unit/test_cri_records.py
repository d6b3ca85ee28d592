"""The CRI's messages (protos/cri_api.proto) as cntr-tui reads them, and what discovery
makes of containerd's records with the CRI's beside them. Real replies: the pods of
tests/runtime/test_cri_pods.py."""

from __future__ import annotations

from cntr_tui.attach.container import KubernetesInfo
from cntr_tui.attach.runtimes import containerd, cri
from cntr_tui.attach.runtimes.base import kubernetes_from_labels
from cntr_tui.attach.runtimes.protos import cri_api_pb2 as m

POD = {
    "io.kubernetes.pod.name": "web-0",
    "io.kubernetes.pod.namespace": "shop",
    "io.kubernetes.pod.uid": "1f0c-uid",
}


def test_list_containers_reply_reads_state_attempt_and_restart_count() -> None:
    reply = m.ListContainersResponse(
        containers=[
            m.Container(
                id="a" * 64,
                pod_sandbox_id="s" * 64,
                metadata=m.ContainerMetadata(name="app", attempt=3),
                state=m.CONTAINER_EXITED,
                created_at=1_795_742_023_500_000_000,
                labels={**POD, "io.kubernetes.container.name": "app"},
                annotations={cri.RESTART_COUNT_ANNOTATION: "4"},
            ),
            m.Container(id="b", metadata=m.ContainerMetadata(name="side", attempt=2)),
        ]
    )
    # the bytes a kubelet's runtime would send, read back by our subset
    exited, created = cri.parse_containers(
        m.ListContainersResponse.FromString(reply.SerializeToString())
    )
    assert (exited.name, exited.state, exited.attempt, exited.restart_count) == (
        "app",
        "exited",
        3,
        4,
    )
    assert exited.created_at == 1_795_742_023.5 and exited.sandbox_id == "s" * 64
    # no annotation (a runtime that drops it): the attempt is the restart count
    assert (created.state, created.restart_count) == ("created", 2)


def test_list_pod_sandbox_reply() -> None:
    reply = m.ListPodSandboxResponse(
        items=[
            m.PodSandbox(
                id="s",
                metadata=m.PodSandboxMetadata(name="web-0", uid="u", namespace="shop", attempt=1),
                state=m.SANDBOX_NOTREADY,
                created_at=2_000_000_000,
            )
        ]
    )
    [sandbox] = cri.parse_sandboxes(reply)
    assert (sandbox.namespace, sandbox.name, sandbox.uid, sandbox.attempt) == (
        "shop",
        "web-0",
        "u",
        1,
    )
    assert not sandbox.ready and sandbox.created_at == 2.0


def test_pod_uid_from_labels() -> None:
    labels = {**POD, "io.kubernetes.container.name": "app"}
    assert kubernetes_from_labels(labels) == KubernetesInfo("shop", "web-0", "app", uid="1f0c-uid")


def cri_record(container_id: str, state: str, restarts: int) -> cri.CriContainer:
    return cri.CriContainer(
        container_id,
        "s",
        "app",
        restarts,
        state,
        0.0,
        {},
        {cri.RESTART_COUNT_ANNOTATION: str(restarts)},
    )


def test_containerd_records_with_the_cris() -> None:
    app = {**POD, "io.kubernetes.container.name": "app", containerd.CRI_KIND_LABEL: "container"}
    sandbox = {**POD, containerd.CRI_KIND_LABEL: "sandbox"}
    records = [
        containerd.ContainerRecord("live", app, "img", 1.0),
        containerd.ContainerRecord("gone", app, "img", 0.5),
        containerd.ContainerRecord("pause", sandbox, "pause:3.6", 0.1),
        containerd.ContainerRecord("plain", {}, "img", 0.2),
    ]
    tasks = [
        containerd.TaskRecord("live", 4242, "running"),
        containerd.TaskRecord("pause", 4100, "running"),
        containerd.TaskRecord("plain", 4300, "running"),
    ]
    known = {"live": cri_record("live", "running", 2), "gone": cri_record("gone", "exited", 1)}
    listed = containerd.containers_of_namespace("k8s.io", records, tasks, False, known)
    # the sandbox is no row; the exited attempt is not live
    assert [c.id for c in listed] == ["live", "plain"]
    live, plain = listed
    assert live.kubernetes == KubernetesInfo(
        "shop", "web-0", "app", uid="1f0c-uid", restart_count=2
    )
    assert plain.kubernetes is None
    every = containerd.containers_of_namespace("k8s.io", records, tasks, True, known)
    by_id = {c.id: c for c in every}
    # a task-less container's state is the CRI's (exited), not "created"
    assert (by_id["gone"].status, by_id["gone"].pid) == ("exited", 0)
    assert by_id["gone"].kubernetes and by_id["gone"].kubernetes.restart_count == 1
    # kept for a look-up to refuse, by the name the kubelet gives no container
    assert by_id["pause"].kubernetes and by_id["pause"].kubernetes.container == "POD"
    # without the CRI's records (docker's containerd serves none): no counts, "created"
    bare = {c.id: c for c in containerd.containers_of_namespace("k8s.io", records, tasks, True)}
    assert bare["gone"].status == "created" and bare["live"].kubernetes.restart_count is None
