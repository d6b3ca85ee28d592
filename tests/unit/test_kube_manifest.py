"""The node debug pod's manifest and deploy/daemonset.yaml, as the real `kubectl` (the
client on this machine, no server) reads them.

Without an API server kubectl cannot validate a manifest against the server's schema:
`kubectl create --dry-run=client` (and `apply`, with or without `--validate=false`)
first asks the server which kinds exist (the test below holds that). What it does
offline is decode a manifest into its own compiled-in Go types (`kubectl set env
--local`): a field of the wrong type fails the decoding, and a field the types do not
have is dropped. So a manifest is taken as valid here when kubectl decodes it and
loses nothing of what kubectl's schemaless reading (`kubectl label --local`, which
also parses the YAML) found in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cntr_tui.kube.manifest import IMAGE, DebugPod, manifest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "kube"
CHECK_VARIABLE = "CNTR_TUI_KUBECTL_CHECK"


@pytest.fixture
def kubectl(tmp_path: Path):
    """Run the real kubectl on a manifest, offline (no kubeconfig: a server would be
    localhost:8080, where none answers); (exit status, stdout, stderr)."""
    executable = shutil.which("kubectl")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl must be installed in CI (scripts/setup.sh)")
        pytest.skip("kubectl is not installed")
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-config"), "HOME": str(tmp_path)}

    def run(args: list[str], text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [executable, *args],
            input=text,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    return run


def lost(read: Any, decoded: Any, path: str = "") -> list[str]:
    """What of `read` is not in `decoded` (which may hold more: defaults, our marker)."""
    if isinstance(read, dict):
        if not isinstance(decoded, dict):
            return [path or "/"]
        return [
            missing
            for key, value in read.items()
            for missing in (
                lost(value, decoded[key], f"{path}/{key}") if key in decoded else [f"{path}/{key}"]
            )
        ]
    if isinstance(read, list):
        if not isinstance(decoded, list) or len(decoded) < len(read):
            return [path]
        return [
            m
            for i, (a, b) in enumerate(zip(read, decoded, strict=False))
            for m in lost(a, b, f"{path}[{i}]")
        ]
    return [] if read == decoded else [f"{path}: {read!r} became {decoded!r}"]


def kubectl_reads(kubectl, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(kubectl's schemaless reading, its decoding into its types) of one object."""
    plain = kubectl(["label", "--local", "-f", "-", "-o", "json", "cntr-tui.io/check=1"], text)
    assert plain.returncode == 0, plain.stderr
    read = json.loads(plain.stdout)
    del read["metadata"]["labels"]["cntr-tui.io/check"]
    if not read["metadata"]["labels"]:
        del read["metadata"]["labels"]
    typed = kubectl(["set", "env", "--local", "-f", "-", "-o", "json", f"{CHECK_VARIABLE}=1"], text)
    assert typed.returncode == 0, typed.stderr
    return read, json.loads(typed.stdout)


def debug_pod() -> dict[str, Any]:
    return manifest(
        DebugPod(
            namespace="shop",
            name="cntr-tui-api-7d9f8c6b5-x2lqp-k5w2q",
            node="worker-2",
            image=IMAGE,
            timeout=3600,
            command=("cntr-tui", "ui", "-t", "containerd", "3f1c9a0e8b7d"),
            target="shop/api-7d9f8c6b5-x2lqp/api",
        )
    )


def test_kubectl_decodes_the_debug_pod_without_losing_a_field(kubectl) -> None:
    read, decoded = kubectl_reads(kubectl, json.dumps(debug_pod()))
    assert read == debug_pod()  # the schemaless reading is the manifest itself
    assert decoded["kind"] == "Pod"
    assert lost(read, decoded) == []


def test_the_check_finds_a_misspelt_field_and_a_wrong_type(kubectl) -> None:
    misspelt = debug_pod()
    misspelt["spec"]["hostPid"] = misspelt["spec"].pop("hostPID")
    read, decoded = kubectl_reads(kubectl, json.dumps(misspelt))
    assert lost(read, decoded) == ["/spec/hostPid"]
    wrong = debug_pod()
    wrong["spec"]["activeDeadlineSeconds"] = "3600"
    result = kubectl(
        ["set", "env", "--local", "-f", "-", "-o", "json", f"{CHECK_VARIABLE}=1"], json.dumps(wrong)
    )
    assert result.returncode != 0
    assert "activeDeadlineSeconds" in result.stderr


def test_kubectl_create_dry_run_client_still_asks_a_server(kubectl) -> None:
    """Why the checks here decode instead: kubectl's client-side dry run needs the
    server's list of kinds even with --validate=false."""
    for validate in ([], ["--validate=false"]):
        result = kubectl(
            ["create", "--dry-run=client", *validate, "-o", "json", "-f", "-"],
            json.dumps(debug_pod()),
        )
        assert result.returncode != 0
        assert "localhost:8080" in result.stderr, result.stderr


def test_the_daemonset_has_the_debug_pods_image_and_settings(kubectl) -> None:
    read, decoded = kubectl_reads(kubectl, (REPO / "deploy" / "daemonset.yaml").read_text())
    assert lost(read, decoded) == []
    assert (decoded["apiVersion"], decoded["kind"]) == ("apps/v1", "DaemonSet")
    template = read["spec"]["template"]
    assert read["spec"]["selector"]["matchLabels"] == template["metadata"]["labels"]
    agent, pod = template["spec"], debug_pod()["spec"]
    for setting in ("hostPID", "hostNetwork", "hostIPC", "tolerations", "volumes"):
        assert agent[setting] == pod[setting], setting
    assert agent["automountServiceAccountToken"] is False
    (container,) = agent["containers"]
    (expected,) = pod["containers"]
    assert container["image"] == IMAGE
    for setting in ("imagePullPolicy", "env", "securityContext", "volumeMounts"):
        assert container[setting] == expected[setting], setting
    assert container["command"] == ["sleep", "infinity"]


@pytest.mark.parametrize("name", sorted(path.name for path in DATA.glob("*.json")))
def test_the_recorded_api_answers_are_pods_kubectl_decodes_whole(kubectl, name: str) -> None:
    """The recorded answers have the shape a real API server gives: kubectl's own Pod
    type holds every field of them."""
    text = (DATA / name).read_text()
    typed = kubectl(["set", "env", "--local", "-f", "-", "-o", "json", f"{CHECK_VARIABLE}=1"], text)
    assert typed.returncode == 0, typed.stderr
    assert lost(json.loads(text), json.loads(typed.stdout)) == []
