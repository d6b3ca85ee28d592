"""The node debug pod: what `kubectl debug node/NODE --profile=sysadmin` would create
(kubectl's generateNodeDebugPod and its sysadmin profile: the node's name, restart
policy Never, a toleration of every taint, the host's PID, network and IPC namespaces,
a privileged container, the node's `/` at `/host`), with the cntr-tui node image and a
time limit of its own.

Its container only keeps the pod alive (`sleep`, as long as the time limit); the
session runs cntr-tui in it with `kubectl exec` (session.py), so its output is never
lost to a late attach and its exit status is the command's. The command the session
runs is in the `cntr-tui.io/command` annotation, for `--dry-run` and `kubectl get`.
"""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass
from typing import Any

from cntr_tui import __version__

IMAGE = f"cntr-tui-node:{__version__}"
CONTAINER_NAME = "cntr-tui"
HOST_ROOT = "/host"
HOST_ROOT_VOLUME = "host-root"  # kubectl debug's name for it
DEFAULT_TIMEOUT = 3600  # s: the debug pod's life, when the user's end never deletes it
# what the TUI's exit needs after the pod is deleted: the debugger detaches on SIGTERM
# (10 s at most, app.HANGUP_EXIT_AFTER 15 s in all)
GRACE_SECONDS = 30
NAME_PREFIX = "cntr-tui-"
NAME_LIMIT = 63  # a pod's hostname is its name, cut at 63
SUFFIX_LETTERS = "bcdfghjklmnpqrstvwxz2456789"  # the API server's generateName alphabet
LABELS = {"app.kubernetes.io/name": "cntr-tui", "app.kubernetes.io/component": "node-debugger"}
TARGET_ANNOTATION = "cntr-tui.io/target"
COMMAND_ANNOTATION = "cntr-tui.io/command"


def debug_pod_name(target_pod: str, suffix: str | None = None) -> str:
    """`cntr-tui-<target pod>-<5 random>`, the target's part cut to fit 63 characters."""
    suffix = suffix or "".join(secrets.choice(SUFFIX_LETTERS) for _ in range(5))
    room = NAME_LIMIT - len(NAME_PREFIX) - len(suffix) - 1
    return f"{NAME_PREFIX}{target_pod[:room].rstrip('-.')}-{suffix}"


@dataclass(frozen=True)
class DebugPod:
    namespace: str
    name: str
    node: str
    image: str
    timeout: int
    command: tuple[str, ...]  # what the session runs in it
    target: str  # namespace/pod/container


def manifest(pod: DebugPod) -> dict[str, Any]:
    """The Pod object to create, as the API's JSON."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "labels": dict(LABELS),
            "annotations": {
                TARGET_ANNOTATION: pod.target,
                COMMAND_ANNOTATION: shlex.join(pod.command),
            },
        },
        "spec": {
            "nodeName": pod.node,
            "restartPolicy": "Never",
            "activeDeadlineSeconds": pod.timeout,
            "terminationGracePeriodSeconds": GRACE_SECONDS,
            "hostPID": True,
            "hostNetwork": True,
            "hostIPC": True,
            "tolerations": [{"operator": "Exists"}],
            "automountServiceAccountToken": False,
            "containers": [
                {
                    "name": CONTAINER_NAME,
                    "image": pod.image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": keep_alive(pod.timeout),
                    "env": [{"name": "CNTR_TUI_HOST_ROOT", "value": HOST_ROOT}],
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"name": HOST_ROOT_VOLUME, "mountPath": HOST_ROOT}],
                    "terminationMessagePolicy": "File",
                }
            ],
            "volumes": [{"name": HOST_ROOT_VOLUME, "hostPath": {"path": "/"}}],
        },
    }


def keep_alive(seconds: int) -> list[str]:
    return ["sleep", str(seconds)]
