"""Kubernetes containers by the names the UI shows: `ns/pod (container)` (the details
pane), `ns/pod/container`, `pod/container` when only one pod has that name; a word
that fits two containers is an error naming both, one that fits none matches nothing
else and says why. Real containers: containerd's `k8s.io` namespace and docker
(dockershim's labels), both with the CRI labels a kubelet sets but made without the
CRI; pods made through the CRI itself are tests/runtime/test_cri_pods.py's."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.container import Container
from cntr_tui.attach.lookup import PodWord, kubernetes_names, resolve
from cntr_tui.demo import containers
from cntr_tui.errors import UserError
from cntr_tui.widgets.container_details import container_rows
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime

CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")


def pod_labels(namespace: str, pod: str, container: str) -> dict[str, str]:
    return {
        "io.kubernetes.pod.name": pod,
        "io.kubernetes.pod.namespace": namespace,
        "io.kubernetes.container.name": container,
        "io.kubernetes.pod.uid": str(uuid.uuid4()),
    }


def shown_in_details(container: Container) -> str:
    """The `kubernetes` row of the TUI's details pane."""
    [shown] = [value for name, value in container_rows(container) if name == "kubernetes"]
    return shown


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CNTR_TUI, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=os.environ,
    )


@pytest.fixture
def docker_pod_container(demo_rootfs: Path) -> Iterator[tuple[str, int, str]]:
    """A docker container labelled as dockershim labelled a pod's: (name, pid, pod)."""
    require_runtime("docker")
    pod = f"cart-{uuid.uuid4().hex[:6]}"
    name = f"{TEST_PREFIX}docker-k8s-{uuid.uuid4().hex[:8]}"
    tag = containers.ensure_image("docker", demo_rootfs)
    labels = [
        arg
        for key, value in pod_labels("shop", pod, "cart").items()
        for arg in ("--label", f"{key}={value}")
    ]
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "--network", "none", *labels, tag, "/app/threads"],
        check=True,
        capture_output=True,
    )
    try:
        pid = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Pid}}", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        yield name, int(pid), pod
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_the_details_pane_text_and_its_variants_resolve(start_container: StartContainer) -> None:
    pod = f"web-{uuid.uuid4().hex[:6]}"
    started = start_container("containerd", labels=pod_labels("shop", pod, "nginx"))
    found = resolve(f"shop/{pod}/nginx")
    shown = shown_in_details(found)
    assert shown == f"shop/{pod} (nginx)"
    for word in (shown, f"shop/{pod}/nginx", f"{pod}/nginx", f"shop/{pod}(nginx)", f" {shown} "):
        again = resolve(word)
        assert (again.runtime, again.id, again.pid) == ("containerd", started.name, started.pid)
    # the command line, as a user would type what the pane shows
    listed = cli("ls", shown)
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    [row] = listed.stdout.splitlines()[1:]
    assert started.name in row.split() and str(started.pid) in row.split()
    batch = cli("gdb", f"{pod}/nginx", "--batch", "-ex", "info inferiors")
    assert batch.returncode == 0, batch.stderr
    attached = cli("attach", shown, "--", "cat", "/var/lib/cntr/proc/1/cmdline")
    assert attached.returncode == 0, attached.stderr
    assert attached.stdout == "/app/threads\0"


def test_a_docker_pod_container_resolves_by_its_pod_names(docker_pod_container) -> None:
    name, pid, pod = docker_pod_container
    found = resolve(name)
    shown = shown_in_details(found)
    assert shown == f"shop/{pod} (cart)"
    for word in (shown, f"shop/{pod}/cart", f"{pod}/cart"):
        again = resolve(word)
        assert (again.runtime, again.name, again.pid) == ("docker", name, pid), word
    listed = cli("ls", "--json", shown)
    assert listed.returncode == 0, listed.stderr
    assert f'"pid": {pid},' in listed.stdout


def test_a_pod_name_in_two_namespaces_is_ambiguous_and_nothing_else_matches(
    start_container: StartContainer,
) -> None:
    pod = f"api-{uuid.uuid4().hex[:6]}"
    shop = start_container("containerd", labels=pod_labels("shop", pod, "app"))
    staging = start_container("containerd", labels=pod_labels("staging", pod, "app"))
    with pytest.raises(UserError) as error:
        resolve(f"{pod}/app")
    message = str(error.value)
    assert message == (
        f"'{pod}/app' is ambiguous: it names 2 containers, in pods shop/{pod}, staging/{pod}: "
        f"type one of shop/{pod}/app, staging/{pod}/app"
    )
    result = cli("gdb", f"{pod}/app", "--batch", "-ex", "bt")
    assert result.returncode == 1 and result.stderr == f"cntr-tui: {message}\n"
    # the namespace tells them apart, in every form (namespace/pod: its one container)
    for word, started in (
        (f"shop/{pod} (app)", shop),
        (f"staging/{pod}/app", staging),
        (f"shop/{pod}", shop),
    ):
        assert resolve(word).pid == started.pid
    # nearly right is not right: no pod, container or namespace by another name
    for word, why in (
        (f"shop/{pod} (other)", f"pod shop/{pod} has no container other here"),
        (f"prod/{pod}/app", f"no pod prod/{pod} on this node"),
        (f"{pod}x/app", f"no pod {pod}x/app (namespace/pod) and no pod {pod}x with"),
        (f"{pod}/ap", f"no pod {pod}/ap (namespace/pod) and no pod {pod} with a container ap"),
    ):
        with pytest.raises(UserError, match="no container matches") as missed:
            resolve(word)
        assert why in str(missed.value), (word, str(missed.value))


WHOLE = (PodWord("shop", "web-0", "nginx"),)


@pytest.mark.parametrize(
    ("word", "names"),
    [
        ("shop/web-0/nginx", WHOLE),
        ("shop/web-0 (nginx)", WHOLE),
        ("shop/web-0(nginx)", WHOLE),
        ("  shop/web-0 (nginx) ", WHOLE),
        # two parts, two readings: pod/container in any namespace, and namespace/pod
        ("web-0/nginx", (PodWord(None, "web-0", "nginx"), PodWord("web-0", "nginx", None))),
        ("web-0", ()),
        ("a/b/c/d", ()),
        ("/web-0/nginx", ()),
        ("shop//nginx", ()),
        ("web-0/", ()),
        ("shop/web-0 ()", ()),
        ("shop/web-0 (ngi nx)", ()),
        ("shop/web-0/nginx (x)", ()),
        ("shop (nginx)", ()),
        ("shop/ web-0/nginx", ()),
    ],
)
def test_kubernetes_word_shapes(word: str, names: tuple[PodWord, ...]) -> None:
    assert kubernetes_names(word) == names
