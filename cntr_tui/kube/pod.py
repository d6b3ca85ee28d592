"""A pod as the API server describes it (`kubectl get pod -o json`): where it runs, its
containers and their states, and the one container a user's `-c` (or the default) names,
refused with the reason when it cannot be debugged now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cntr_tui.errors import UserError

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


@dataclass(frozen=True)
class ContainerState:
    """One container's status: `state` is running, waiting or terminated (or unknown
    before the kubelet reported it); `reason` and `message` as the kubelet gave them."""

    name: str
    state: str
    container_id: str | None = None
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    restart_count: int = 0
    last_exit_code: int | None = None
    last_reason: str | None = None

    def describe(self) -> str:
        """`waiting (CrashLoopBackOff, 7 restarts, last exit 1: Error): back-off ...`."""
        facts = [self.reason] if self.reason else []
        if self.exit_code is not None:
            facts.append(f"exit code {self.exit_code}")
        if self.restart_count:
            facts.append(f"{self.restart_count} restart{'s' if self.restart_count != 1 else ''}")
        if self.last_exit_code is not None:
            last = f"last exit {self.last_exit_code}"
            facts.append(f"{last}: {self.last_reason}" if self.last_reason else last)
        text = self.state + (f" ({', '.join(facts)})" if facts else "")
        return f"{text}: {one_line(self.message)}" if self.message else text


@dataclass(frozen=True)
class Pod:
    """`node` None: not scheduled yet (`phase`, `unscheduled` say why); `containers` in
    the spec's order, `statuses` by container name (absent before the kubelet reports)."""

    namespace: str
    name: str
    uid: str
    node: str | None
    phase: str
    containers: tuple[str, ...]
    statuses: Mapping[str, ContainerState]
    default_container: str | None = None
    unscheduled: str | None = None

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def _state(status: Mapping[str, Any]) -> ContainerState:
    states = status.get("state") or {}
    kind = next((k for k in ("running", "waiting", "terminated") if k in states), "unknown")
    detail = states.get(kind) or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    return ContainerState(
        name=str(status.get("name", "")),
        state=kind,
        container_id=status.get("containerID") or None,
        reason=detail.get("reason") or None,
        message=detail.get("message") or None,
        exit_code=detail.get("exitCode") if kind == "terminated" else None,
        restart_count=int(status.get("restartCount") or 0),
        last_exit_code=last.get("exitCode"),
        last_reason=last.get("reason") or None,
    )


def _unscheduled(status: Mapping[str, Any]) -> str | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == "PodScheduled" and condition.get("status") != "True":
            reason = condition.get("reason") or "not scheduled"
            message = condition.get("message")
            return f"{reason}: {one_line(message)}" if message else reason
    return None


def pod_from_api(answer: Mapping[str, Any]) -> Pod:
    """The Pod an API answer (a decoded `kubectl get pod NAME -o json`) describes."""
    if answer.get("kind") != "Pod":
        raise UserError(f"the API server answered a {answer.get('kind')!r}, not a Pod")
    metadata = answer.get("metadata") or {}
    spec = answer.get("spec") or {}
    status = answer.get("status") or {}
    statuses = {state.name: state for state in map(_state, status.get("containerStatuses") or ())}
    return Pod(
        namespace=str(metadata.get("namespace", "default")),
        name=str(metadata.get("name", "")),
        uid=str(metadata.get("uid", "")),
        node=spec.get("nodeName") or None,
        phase=str(status.get("phase", "Unknown")),
        containers=tuple(str(c.get("name", "")) for c in spec.get("containers") or ()),
        statuses=statuses,
        default_container=(metadata.get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION),
        unscheduled=_unscheduled(status),
    )


@dataclass(frozen=True)
class Choice:
    """The container to debug, and a note when it was chosen for the user (of several)."""

    state: ContainerState
    note: str | None = None


def choose_container(pod: Pod, wanted: str | None) -> Choice:
    """The running container `wanted` names (None: the pod's default, as kubectl picks
    it: the default-container annotation, else the first); UserError saying why not."""
    if pod.node is None:
        why = f"; {pod.unscheduled}" if pod.unscheduled else ""
        raise UserError(
            f"pod {pod.label} is not scheduled on a node yet ({pod.phase}{why});"
            f" see kubectl describe pod -n {pod.namespace} {pod.name}"
        )
    names = ", ".join(pod.containers) or "none"
    note = None
    if wanted is None:
        if not pod.containers:
            raise UserError(f"pod {pod.label} has no containers")
        default = pod.default_container
        annotated = default in pod.containers
        wanted = default if annotated else pod.containers[0]
        if len(pod.containers) > 1 and not annotated:  # as kubectl says it
            note = f"debugging container {wanted} of {names} (choose with -c)"
    elif wanted not in pod.containers:
        raise UserError(f"pod {pod.label} has no container {wanted!r}; its containers: {names}")
    state = pod.statuses.get(wanted)
    if state is None:
        raise UserError(f"container {wanted} of pod {pod.label} has not started yet ({pod.phase})")
    if state.state != "running":
        raise UserError(
            f"container {wanted} of pod {pod.label} is not running: {state.describe()};"
            f" its output: kubectl logs -n {pod.namespace} {pod.name} -c {wanted}"
            + (" --previous" if state.restart_count else "")
        )
    return Choice(state, note)
