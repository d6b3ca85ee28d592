"""`kubectl-cntr` as a user runs it, against an API server that serves the recorded
pods of tests/data/kube/: a fake `kubectl` on PATH (tests/data/kube/fake_kubectl.py)
answers `get` with them and records every call. Beside it, the real kubectl: it runs
the plugin as `kubectl cntr`, and fails as it does with no server."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cntr_tui.kube.manifest import IMAGE

DATA = Path(__file__).resolve().parents[1] / "data" / "kube"
PLUGIN = [sys.executable, "-m", "cntr_tui.commands.kubectl_cntr"]
SHOP_API = ["-n", "shop", "api-7d9f8c6b5-x2lqp"]
API_ID = "3f1c9a0e8b7d46c2a5e1f0d9c8b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9"
BATCH = ["--", "gdb", "--batch", "-ex", "bt"]


@dataclass
class Cluster:
    """The fake API server's pods and kubectl, and what kubectl was asked."""

    root: Path
    behaviour: dict[str, str] = field(default_factory=dict)

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def pods(self) -> Path:
        return self.root / "pods"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "FAKE_KUBECTL_PODS": str(self.pods),
            "FAKE_KUBECTL_LOG": str(self.root / "calls.jsonl"),
            "FAKE_KUBECTL_DEBUG_POD": str(DATA / "debug-pod-image-pull.json"),
            "FAKE_KUBECTL_BEHAVIOUR": json.dumps(self.behaviour),
        }

    def add_pod(self, answer: dict[str, Any]) -> None:
        (self.pods / f"{answer['metadata']['name']}.json").write_text(json.dumps(answer))

    def run(
        self, *args: str, stdin: int | None = subprocess.DEVNULL
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PLUGIN, *args],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=60,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*PLUGIN, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
        )

    def calls(self) -> list[dict[str, Any]]:
        path = self.root / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def verbs(self) -> list[str]:
        return [call["args"][0] for call in self.calls() if "args" in call]

    def created(self) -> dict[str, Any]:
        (create,) = [call for call in self.calls() if call.get("args", [""])[0] == "create"]
        return json.loads(create["stdin"])


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    cluster = Cluster(tmp_path)
    cluster.bin.mkdir()
    cluster.pods.mkdir()
    fake = cluster.bin / "kubectl"
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} {DATA / "fake_kubectl.py"} "$@"\n')
    fake.chmod(0o755)
    for path in DATA.glob("pod-*.json"):
        cluster.add_pod(json.loads(path.read_text()))
    return cluster


def one_error_line(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cntr-tui: "), lines[0]
    return lines[0].removeprefix("cntr-tui: ")


# --- --dry-run: the manifest -----------------------------------------------------------


def test_dry_run_prints_the_node_debug_pod_and_creates_nothing(cluster: Cluster) -> None:
    result = cluster.run(*SHOP_API, "--dry-run", "--timeout", "900")
    assert result.returncode == 0, result.stderr
    pod = json.loads(result.stdout)
    assert cluster.verbs() == ["get"]  # asked, created nothing
    assert (pod["apiVersion"], pod["kind"]) == ("v1", "Pod")
    metadata, spec = pod["metadata"], pod["spec"]
    assert metadata["namespace"] == "shop"
    assert (
        metadata["name"].startswith("cntr-tui-api-7d9f8c6b5-x2lqp-") and len(metadata["name"]) <= 63
    )
    assert metadata["annotations"]["cntr-tui.io/target"] == "shop/api-7d9f8c6b5-x2lqp/api"
    assert spec["nodeName"] == "worker-2"
    assert spec["hostPID"] is True and spec["hostNetwork"] is True and spec["hostIPC"] is True
    assert spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == 900
    assert spec["tolerations"] == [{"operator": "Exists"}]  # any node, whatever its taints
    assert spec["volumes"] == [{"name": "host-root", "hostPath": {"path": "/"}}]
    (container,) = spec["containers"]
    assert container["image"] == IMAGE == "cntr-tui-node:0.1.0"
    assert container["securityContext"] == {"privileged": True}
    assert container["volumeMounts"] == [{"name": "host-root", "mountPath": "/host"}]
    assert {"name": "CNTR_TUI_HOST_ROOT", "value": "/host"} in container["env"]
    assert container["command"] == ["sleep", "900"]  # it ends by itself too
    command = shlex.split(metadata["annotations"]["cntr-tui.io/command"])
    assert command == ["cntr-tui", "ui", "-t", "containerd", API_ID]


def test_dry_run_for_a_docker_node_with_a_command_and_an_image(cluster: Cluster) -> None:
    result = cluster.run(
        "web-0", "--dry-run", "--image", "registry.local/cntr-tui-node:dev", *BATCH
    )
    assert result.returncode == 0, result.stderr
    pod = json.loads(result.stdout)
    assert pod["metadata"]["namespace"] == "default"
    assert pod["spec"]["nodeName"] == "minikube"
    assert pod["spec"]["containers"][0]["image"] == "registry.local/cntr-tui-node:dev"
    assert shlex.split(pod["metadata"]["annotations"]["cntr-tui.io/command"]) == [
        "cntr-tui", "gdb", "-t", "docker",
        "d8e1e33309272b4a4267e15f995ff7b6612532240cb61dc03a118659620226f2",
        "--batch", "-ex", "bt",
    ]  # fmt: skip


# --- the session: get -> create -> wait -> exec -> delete ----------------------------


def exec_call(cluster: Cluster) -> list[str]:
    (call,) = [c["args"] for c in cluster.calls() if c.get("args", [""])[0] == "exec"]
    return call


def test_the_flow_runs_the_command_in_the_pod_and_deletes_it(cluster: Cluster) -> None:
    result = cluster.run(*SHOP_API, *BATCH)
    assert result.returncode == 0, result.stderr
    assert cluster.verbs() == ["get", "create", "wait", "exec", "delete"]
    pod = cluster.created()
    name = pod["metadata"]["name"]
    assert pod["spec"]["nodeName"] == "worker-2"
    calls = [call["args"] for call in cluster.calls()]
    assert calls[2] == [
        "wait",
        "--for=condition=Ready",
        f"pod/{name}",
        "-n",
        "shop",
        "--timeout=300s",
    ]
    command = shlex.split(pod["metadata"]["annotations"]["cntr-tui.io/command"])
    assert exec_call(cluster) == ["exec", "-n", "shop", name, "-c", "cntr-tui", "--", *command]
    assert command == ["cntr-tui", "gdb", "-t", "containerd", API_ID, "--batch", "-ex", "bt"]
    assert calls[4] == ["delete", "pod", name, "-n", "shop", "--wait=false", "--ignore-not-found"]
    assert "fake-exec-ran isatty=False" in result.stdout  # kubectl exec's output is ours
    assert f"debug pod shop/{name} on node worker-2" in result.stderr


def test_on_a_terminal_the_tui_with_the_terminal_attached(cluster: Cluster) -> None:
    controller, terminal = os.openpty()
    try:
        result = cluster.run(*SHOP_API, stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert cluster.verbs() == ["get", "create", "wait", "exec", "delete"]
    call = exec_call(cluster)
    assert call[call.index("--") - 2 : call.index("--")] == ["-i", "-t"]
    assert call[call.index("--") + 1 :] == ["cntr-tui", "ui", "-t", "containerd", API_ID]
    assert "fake-exec-ran isatty=True" in result.stdout


def test_a_failing_command_is_the_exit_status_and_the_pod_is_deleted(cluster: Cluster) -> None:
    cluster.behaviour["exec"] = "exit:3"
    result = cluster.run(*SHOP_API, *BATCH)
    assert result.returncode == 3
    assert "command terminated with exit code 3" in result.stderr
    assert cluster.verbs() == ["get", "create", "wait", "exec", "delete"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_session_ends_exec_and_deletes_the_pod(
    cluster: Cluster, signum: signal.Signals
) -> None:
    cluster.behaviour["exec"] = "block"
    plugin = cluster.start(*SHOP_API, *BATCH)
    try:
        assert plugin.stdout is not None
        assert plugin.stdout.readline() == "fake-exec-started\n"  # kubectl exec runs
        plugin.send_signal(signum)
        assert plugin.wait(timeout=30) == 128 + signum
    finally:
        if plugin.poll() is None:
            plugin.kill()
        plugin.wait()
    assert cluster.verbs() == ["get", "create", "wait", "exec", "delete"]
    assert {"signal": "SIGTERM"} in cluster.calls()  # kubectl exec was asked to end
    name = cluster.created()["metadata"]["name"]
    assert cluster.calls()[-1]["args"][:3] == ["delete", "pod", name]
    assert "Traceback" not in (plugin.stderr.read() if plugin.stderr else "")


def test_a_pod_that_does_not_start_says_why_and_is_deleted(cluster: Cluster) -> None:
    cluster.behaviour["wait"] = "error: timed out waiting for the condition on pods/cntr-tui-x"
    result = cluster.run(*SHOP_API, *BATCH)
    assert result.returncode == 1
    name = cluster.created()["metadata"]["name"]
    announced, error = result.stderr.splitlines()
    assert announced.startswith(f"cntr-tui: debug pod shop/{name} on node worker-2")
    assert error.startswith(
        f"cntr-tui: debug pod shop/{name} did not start: waiting (ErrImagePull): "
        "rpc error: code = NotFound desc = failed to pull and unpack image"
    )
    assert cluster.verbs()[-3:] == ["wait", "get", "delete"]


def test_a_failed_delete_says_what_to_run(cluster: Cluster) -> None:
    cluster.behaviour["delete"] = "error: You must be logged in to the server (Unauthorized)"
    result = cluster.run(*SHOP_API, *BATCH)
    assert result.returncode == 0
    (warning,) = [line for line in result.stderr.splitlines() if "warning" in line]
    name = cluster.created()["metadata"]["name"]
    assert warning.startswith(
        f"cntr-tui: warning: debug pod shop/{name} is left (kubectl delete pod failed: "
        "error: You must be logged in"
    )
    assert warning.endswith(f"or run: kubectl delete pod {name} -n shop --wait=false")


# --- errors: one line, nothing created ------------------------------------------------


NOT_RUNNING = (
    "container worker of pod jobs/worker-5c7b9d6f48-8kq2n is not running: "
    "waiting (CrashLoopBackOff, 7 restarts, last exit 1: Error)"
)
NOT_SCHEDULED = (
    "pod ml/trainer-q7m4d is not scheduled on a node yet (Pending; Unschedulable: "
    "0/3 nodes are available"
)
NO_SUCH_CONTAINER = (
    "pod shop/api-7d9f8c6b5-x2lqp has no container 'apii'; its containers: api, log-shipper"
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-n", "shop", "nosuch"], "pod 'nosuch' not found in namespace 'shop' (another one: -n"),
        (["nosuch"], "pod 'nosuch' not found in the context's namespace (another one: -n"),
        ([*SHOP_API, "-c", "apii"], NO_SUCH_CONTAINER),
        (["-n", "jobs", "worker-5c7b9d6f48-8kq2n"], NOT_RUNNING),
        (["-n", "ml", "trainer-q7m4d"], NOT_SCHEDULED),
        (["-n", "demo", "hello"], "the container runs under CRI-O (cri-o://4b8e1d7c"),
        ([*SHOP_API], "the TUI needs a terminal; without one, give a command: -- gdb --batch"),
        ([*SHOP_API, "--", "demo"], "cntr-tui demo does not take a container"),
    ],
)
def test_errors_are_one_line_and_create_nothing(
    cluster: Cluster, args: list[str], expected: str
) -> None:
    assert one_error_line(cluster.run(*args)).startswith(expected)
    assert cluster.verbs() == ["get"]


def test_an_unknown_runtime_scheme(cluster: Cluster) -> None:
    answer = json.loads((DATA / "pod-web-docker.json").read_text())
    answer["metadata"]["name"] = "web-1"
    answer["status"]["containerStatuses"][0]["containerID"] = "rkt://1f2e3d4c"
    cluster.add_pod(answer)
    assert one_error_line(cluster.run("web-1", *BATCH)) == (
        "unknown container runtime 'rkt' in rkt://1f2e3d4c; cntr-tui knows containerd://, docker://"
    )


def test_kubectl_missing(cluster: Cluster, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**cluster.env(), "PATH": str(empty)}
    result = subprocess.run(
        [*PLUGIN, *SHOP_API, *BATCH], capture_output=True, text=True, env=env, timeout=60
    )
    assert (
        one_error_line(result)
        == "kubectl is not on PATH: kubectl cntr asks the API server through it"
    )


def test_kubectl_failing_says_its_last_line(cluster: Cluster) -> None:
    cluster.behaviour["get"] = (
        "E1203 08:40:03.008479 memcache.go:265] couldn't get current server API group list\n"
        "error: You must be logged in to the server (Unauthorized)"
    )
    assert one_error_line(cluster.run(*SHOP_API, *BATCH)) == (
        "kubectl get pod failed: error: You must be logged in to the server (Unauthorized)"
    )


def test_the_real_kubectl_without_a_server(tmp_path: Path) -> None:
    """The real client, no kubeconfig, nothing at localhost:8080: its own last line."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path)}
    result = subprocess.run(
        [*PLUGIN, *SHOP_API, *BATCH], capture_output=True, text=True, env=env, timeout=120
    )
    message = one_error_line(result)
    assert message.startswith(
        "kubectl get pod failed: The connection to the server localhost:8080 was refused"
    )


@pytest.mark.parametrize("args", [[], ["pod", "--timeout", "0"], ["pod", "--bogus"]])
def test_usage_errors_are_one_line_and_exit_2(cluster: Cluster, args: list[str]) -> None:
    message = one_error_line(cluster.run(*args), code=2)
    assert message.startswith("kubectl cntr: ") and message.endswith("(see kubectl cntr --help)")
    assert cluster.verbs() == []


# --- as a kubectl plugin --------------------------------------------------------------


def test_kubectl_runs_it_as_kubectl_cntr(cluster: Cluster) -> None:
    """The real kubectl finds `kubectl-cntr` on PATH (the console script) and runs it
    as its `cntr` command; the plugin's own kubectl calls go to the fake."""
    kubectl = shutil.which("kubectl")
    script = Path(sys.executable).with_name("kubectl-cntr")
    if kubectl is None or not script.exists():
        pytest.skip("kubectl, or the installed kubectl-cntr script, is missing")
    (cluster.bin / "kubectl-cntr").symlink_to(script)
    result = subprocess.run(
        [kubectl, "cntr", *SHOP_API, "--dry-run"],
        capture_output=True,
        text=True,
        env=cluster.env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["nodeName"] == "worker-2"
    assert cluster.verbs() == ["get"]
