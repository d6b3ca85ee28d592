"""Real Kubernetes pods, made through containerd's CRI as the kubelet makes them
(tests/support/cri.py): cntr-tui lists their containers with the pod's namespace, name,
UID, the container's name, restart count and state (`ls`, `ls --json`, the TUI's list
and details), resolves `ns/pod/container` and `ns/pod`, never offers the sandbox (pause)
container, runs `gdb --batch` and `attach` on them, and says in one line what is wrong
with a pod not on this node, one in CrashLoopBackOff and a name in two namespaces.

Every pod is `cntr-test-cri-...`, removed after each test whatever happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import list_containers
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.linux.proc_status import tracer_pid
from cntr_tui.widgets.container_details import container_rows
from cntr_tui.widgets.container_table import status_label
from tests.support import cri
from tests.support.cri import ContainerSpec, Pod, Pods, pod_name
from tests.support.runtimes import require_runtime

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")


@pytest.fixture(scope="session")
def cri_socket() -> Iterator[str]:
    require_runtime("containerd")
    with cri.cri_containerd() as socket_path:
        yield socket_path


@pytest.fixture(scope="session")
def cri_image(cri_socket: str, demo_rootfs: Path) -> str:
    return cri.ensure_images(cri_socket, demo_rootfs)


@pytest.fixture
def pods(cri_socket: str, cri_image: str) -> Iterator[Pods]:
    with Pods(cri_socket, cri_image) as made:
        yield made
    # nothing of ours is left in the CRI's view
    with cri.cri.Client(cri_socket, timeout=30) as client:
        names = [s.name for s in cri.cri.parse_sandboxes(client.list_sandboxes().result())]
    assert not [name for name in names if name.startswith(cri.POD_PREFIX)], names


def cli(pods: Pods, *argv: str) -> subprocess.CompletedProcess[str]:
    """The command line, seeing the pods' containerd at the default socket."""
    return subprocess.run(
        [*cri.cli_prefix(pods.socket_path), CNTR_TUI, *argv],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        env=os.environ,
    )


def listed(pods: Pods) -> list[Container]:
    """What the TUI's list gets: discovery's containers of that containerd."""
    config = DiscoveryConfig(containerd_sockets=(pods.socket_path,))
    return list_containers(["containerd"], config=config).containers


def of_pod(containers: list[Container], pod: Pod) -> list[Container]:
    return [c for c in containers if c.kubernetes and c.kubernetes.uid == pod.uid]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert (result.returncode, result.stdout) == (1, ""), (result.stdout, result.stderr)
    [line] = result.stderr.splitlines()
    assert line.startswith("cntr-tui: ") and "Traceback" not in result.stderr
    return line.removeprefix("cntr-tui: ")


def test_a_pod_lists_with_its_kubernetes_names_and_never_its_sandbox(pods: Pods) -> None:
    name = pod_name("web")
    pod = pods.run("shop", name)
    container_id = pod.containers["app"]
    pid, sandbox_pid = pods.pid(container_id), pods.sandbox_pid(pod)
    result = cli(pods, "ls", "--json")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    entries = json.loads(result.stdout)
    [entry] = [e for e in entries if e["id"] == container_id]
    assert entry["kubernetes"] == {
        "namespace": "shop",
        "pod": name,
        "container": "app",
        "uid": pod.uid,
        "restart_count": 0,
    }
    assert (entry["name"], entry["pid"], entry["status"]) == (f"shop/{name}/app", pid, "running")
    assert entry["runtime_namespace"] == "k8s.io" and entry["command"] == "/app/threads"
    # the sandbox is no row at all: not by its id, not as a plain process
    assert not [e for e in entries if e["id"] == pod.sandbox_id or e["pid"] == sandbox_pid]

    table = cli(pods, "ls").stdout.splitlines()
    header = table[0]
    assert "RESTARTS" in header and "POD UID" in header
    [row] = [line for line in table if line.split()[1] == container_id[:12]]
    cells = row.split()
    assert cells[2] == f"shop/{name}/app" and cells[3] == str(pid)
    restarts_at = header.index("RESTARTS")
    assert row[restarts_at:].split()[:2] == ["0", pod.uid]

    # the TUI: the list's row and the details pane's
    [shown] = of_pod(listed(pods), pod)
    assert status_label(shown) == "running"
    rows = dict(container_rows(shown))
    assert rows["kubernetes"] == f"shop/{name} (app)"
    assert (rows["pod uid"], rows["restarts"], rows["status"]) == (pod.uid, "0", "running")


def test_a_restarted_container_is_its_latest_attempt(pods: Pods) -> None:
    name = pod_name("restart")
    pod = pods.run("shop", name)
    first = pod.containers["app"]
    pods.client.call("StopContainer", pods.messages.StopContainerRequest(container_id=first))
    pods.wait_exited(first)
    second = pods.start(pod, ContainerSpec("app", restart_count=1))
    [shown] = of_pod(listed(pods), pod)  # the exited attempt is not listed
    assert shown.id == second and shown.kubernetes and shown.kubernetes.restart_count == 1
    assert status_label(shown) == "running, 1 restart"
    assert dict(container_rows(shown))["restarts"] == "1"
    # both attempts carry the same names: the word takes the live one, no ambiguity
    result = cli(pods, "ls", "--json", f"shop/{name}/app")
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert (entry["id"], entry["pid"]) == (second, pods.pid(second))
    assert entry["kubernetes"]["restart_count"] == 1


def test_namespace_pod_names_its_container_or_the_first_with_a_note(pods: Pods) -> None:
    single = pods.run("shop", pod_name("single"))
    pair = pods.run("shop", pod_name("pair"), [ContainerSpec("app"), ContainerSpec("sidecar")])
    result = cli(pods, "ls", "--json", f"shop/{single.name}")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert [e["id"] for e in json.loads(result.stdout)] == [single.containers["app"]]

    result = cli(pods, "ls", "--json", f"shop/{pair.name}")
    assert result.returncode == 0, result.stderr
    assert [e["id"] for e in json.loads(result.stdout)] == [pair.containers["app"]]
    assert result.stderr == (
        f"cntr-tui: warning: pod shop/{pair.name} has 2 containers: debugging app (the first "
        f"started); to take another, type shop/{pair.name}/sidecar\n"
    )
    for word in (f"shop/{pair.name}/sidecar", f"shop/{pair.name} (sidecar)"):
        chosen = cli(pods, "ls", "--json", word)
        assert chosen.returncode == 0 and chosen.stderr == "", chosen.stderr
        assert [e["id"] for e in json.loads(chosen.stdout)] == [pair.containers["sidecar"]]


def test_the_sandbox_is_never_resolved(pods: Pods) -> None:
    pod = pods.run("shop", pod_name("sandbox"))
    typed = f"shop/{pod.name}/app"
    for word in (pod.sandbox_id, pod.sandbox_id[:12], str(pods.sandbox_pid(pod))):
        line = one_line_error(cli(pods, "gdb", "--batch", "-ex", "bt", word))
        assert line.endswith(
            f"is the sandbox (pause) container of pod shop/{pod.name}, not a debug target: "
            f"type {typed}"
        ), line
    # nor by the name the sandbox would have
    line = one_line_error(cli(pods, "ls", f"shop/{pod.name}/POD"))
    assert f"pod shop/{pod.name} has no container POD here (its containers: app)" in line


def test_gdb_batch_and_attach_on_a_pod_container(pods: Pods) -> None:
    pod = pods.run("shop", pod_name("debug"))
    pid = pods.pid(pod.containers["app"])
    word = f"shop/{pod.name}/app"
    batch = cli(pods, "gdb", "--batch", "-ex", "thread apply all bt", word)
    assert batch.returncode == 0, batch.stderr
    assert "main" in batch.stdout and "worker" in batch.stdout, batch.stdout
    assert tracer_pid(pid) == 0, "gdb left the program traced"
    attached = cli(pods, "attach", word, "--", "cat", "/var/lib/cntr/etc/os-release")
    assert attached.returncode == 0, attached.stderr
    assert "ID=cntr-demo" in attached.stdout
    assert os.path.exists(f"/proc/{pid}"), "the pod's program died"


def test_a_pod_not_on_this_node(pods: Pods) -> None:
    pods.run("shop", pod_name("here"))  # a pod is here, not that one
    absent = pod_name("elsewhere")
    line = one_line_error(cli(pods, "gdb", "--batch", "-ex", "bt", f"shop/{absent}/app"))
    assert line == (
        f"no container matches 'shop/{absent}/app': no pod shop/{absent} on this node: "
        f"`kubectl cntr -n shop {absent} -c app` finds the pod's node"
    )
    line = one_line_error(cli(pods, "attach", f"shop/{absent}", "--", "true"))
    assert f"no pod shop/{absent} (namespace/pod)" in line and "kubectl cntr -n shop" in line


def test_a_pod_in_crash_loop_back_off(pods: Pods) -> None:
    crashing = ContainerSpec("app", command=("/bin/false",))
    pod = pods.run("shop", pod_name("crash"), [crashing])
    pods.wait_exited(pod.containers["app"])
    # the kubelet's restart after the back-off; it exits again
    pods.start(pod, ContainerSpec("app", command=("/bin/false",), restart_count=1))
    pods.wait_exited(pod.containers["app"])
    word = f"shop/{pod.name}/app"
    for argv in (("gdb", "--batch", "-ex", "bt", word), ("attach", word, "--", "true")):
        line = one_line_error(cli(pods, *argv))
        assert line.startswith(
            f"kubernetes container {word} is not running: its state is exited, restart count 1 "
        ), line
        assert f"`kubectl logs -n shop {pod.name} -c app --previous`" in line
    assert not of_pod(listed(pods), pod), "an exited container is no row of the list"


def test_a_pod_name_in_two_namespaces(pods: Pods) -> None:
    name = pod_name("twice")
    shop = pods.run("shop", name)
    staging = pods.run("staging", name)
    line = one_line_error(cli(pods, "gdb", "--batch", "-ex", "bt", f"{name}/app"))
    assert line == (
        f"'{name}/app' is ambiguous: it names 2 containers, in pods shop/{name}, "
        f"staging/{name}: type one of shop/{name}/app, staging/{name}/app"
    )
    for namespace, pod in (("shop", shop), ("staging", staging)):
        result = cli(pods, "ls", "--json", f"{namespace}/{name}/app")
        assert result.returncode == 0, result.stderr
        assert [e["id"] for e in json.loads(result.stdout)] == [pod.containers["app"]]
