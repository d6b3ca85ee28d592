"""kube/pod.py on recorded API answers (tests/data/kube/, `kubectl get pod -o json` as
an API server of Kubernetes 1.32 answers it): where the pod runs, which container is
meant, and why one that cannot be debugged now is refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cntr_tui.errors import UserError
from cntr_tui.kube.pod import choose_container, pod_from_api

DATA = Path(__file__).resolve().parents[1] / "data" / "kube"


def answer(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def test_a_running_pod_with_two_containers() -> None:
    pod = pod_from_api(answer("pod-shop-api-containerd.json"))
    assert (pod.namespace, pod.name, pod.node, pod.phase) == (
        "shop",
        "api-7d9f8c6b5-x2lqp",
        "worker-2",
        "Running",
    )
    assert pod.uid == "5b1e2c7d-93a4-4f6e-8d20-1c7b9e4a3f58"
    assert pod.containers == ("api", "log-shipper")
    assert pod.default_container == "api"
    chosen = choose_container(pod, None)
    assert chosen.state.name == "api" and chosen.note is None  # annotated: kubectl says nothing
    assert chosen.state.container_id == (
        "containerd://3f1c9a0e8b7d46c2a5e1f0d9c8b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9"
    )
    other = choose_container(pod, "log-shipper")
    assert other.state.container_id is not None and other.state.container_id.startswith(
        "containerd://b2a1f0e9"
    )


def test_without_the_annotation_the_first_container_with_a_note() -> None:
    raw = answer("pod-shop-api-containerd.json")
    del raw["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"]
    raw["spec"]["containers"].reverse()
    chosen = choose_container(pod_from_api(raw), None)
    assert chosen.state.name == "log-shipper"
    assert chosen.note == "debugging container log-shipper of log-shipper, api (choose with -c)"


def test_a_name_not_in_the_pod_lists_its_containers() -> None:
    pod = pod_from_api(answer("pod-shop-api-containerd.json"))
    with pytest.raises(UserError) as error:
        choose_container(pod, "apii")
    assert str(error.value) == (
        "pod shop/api-7d9f8c6b5-x2lqp has no container 'apii'; its containers: api, log-shipper"
    )


def test_crash_loop_back_off_says_state_reason_restarts_and_what_to_type() -> None:
    pod = pod_from_api(answer("pod-worker-crashloop.json"))
    with pytest.raises(UserError) as error:
        choose_container(pod, None)
    message = str(error.value)
    assert message.startswith(
        "container worker of pod jobs/worker-5c7b9d6f48-8kq2n is not running: "
        "waiting (CrashLoopBackOff, 7 restarts, last exit 1: Error): back-off 5m0s"
    )
    assert message.endswith(
        "its output: kubectl logs -n jobs worker-5c7b9d6f48-8kq2n -c worker --previous"
    )


def test_a_finished_container_says_how_it_ended() -> None:
    raw = answer("pod-web-docker.json")
    status = raw["status"]["containerStatuses"][0]
    status["state"] = {
        "terminated": {
            "containerID": status["containerID"],
            "exitCode": 0,
            "finishedAt": "2026-12-01T09:30:00Z",
            "reason": "Completed",
            "startedAt": "2026-12-01T09:12:09Z",
        }
    }
    with pytest.raises(UserError, match=r"is not running: terminated \(Completed, exit code 0\);"):
        choose_container(pod_from_api(raw), "nginx")


def test_a_pod_on_no_node_yet_says_why() -> None:
    pod = pod_from_api(answer("pod-trainer-pending.json"))
    assert pod.node is None
    with pytest.raises(UserError) as error:
        choose_container(pod, None)
    assert str(error.value).startswith(
        "pod ml/trainer-q7m4d is not scheduled on a node yet (Pending; Unschedulable: "
        "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory."
    )
    assert str(error.value).endswith("see kubectl describe pod -n ml trainer-q7m4d")


def test_a_container_the_kubelet_has_not_reported_yet() -> None:
    raw = copy.deepcopy(answer("pod-web-docker.json"))
    raw["status"]["phase"] = "Pending"
    del raw["status"]["containerStatuses"]
    with pytest.raises(UserError, match="container nginx of pod default/web-0 has not started yet"):
        choose_container(pod_from_api(raw), None)


def test_an_answer_that_is_no_pod() -> None:
    with pytest.raises(UserError, match="answered a 'List', not a Pod"):
        pod_from_api({"apiVersion": "v1", "kind": "List", "items": []})
