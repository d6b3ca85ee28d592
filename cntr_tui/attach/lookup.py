"""A user's word -> exactly one container, the way cntr resolves its CONTAINER argument.

`resolve(word, types)` tries, in cntr's order, each kind of name and stops at the
first kind that matches:

1. process id: a number is the host PID of a container's main process, or (when the
   `process` type is allowed) any process on the host;
2. podman, 3. docker: full id, name, or unique id prefix;
4. nspawn, 5. lxc, lxd: machine / container name;
6. containerd: id or unique id prefix (in any containerd namespace);
7. process: the name `ls` shows for a plain-namespace container (its main process's);
8. kubernetes: from the CRI labels, `namespace/pod/container`, `namespace/pod
   (container)` as the details pane shows it, `pod/container` (in any namespace:
   two pods of that name in two namespaces make it ambiguous, and the error lists
   each `namespace/pod/container` to type), or `namespace/pod` (its container, or of
   several the first started, with a note naming the others). A container the
   kubelet restarted is its latest attempt; a pod's sandbox (pause) container is
   never a target; a pod that is not here is said so, with `kubectl cntr`, which
   finds the pod's node; a container that exited (CrashLoopBackOff) is said so,
   with its restart count;
9. command: a substring of a container's command line (for a plain-namespace one, also
   a whole argument of its launcher's: `unshare ... NAME`, its parent outside its
   namespaces), then (with `process`) of any process's command line.

A name never lands the user outside a container: a match by command line (nothing
vouches that it is the container meant) that shares the host's PID or mount
namespace is skipped, and if nothing else matches, the error names what matched, why
it was refused and the PID to give instead. A PID, or a runtime's own id or name, is
taken at its word: such a target outside a container is resolved with one warning
(`warn`) saying so.

Two matches within one kind is an error listing them; nothing matching is an error
saying what was tried. A stopped container is an error saying so, and so is a paused
one, or one in a frozen cgroup, unless the caller allows it: `paused_refusal`, the one
sentence attach, exec, gdb and doctor say, with the runtime's thaw command (a PID of a
paused container's process is looked up in full to find that runtime). `types` (the
`-t` option) restricts the runtimes.

A running docker container found by its exact id or name is remembered, and the same
word next time is checked against docker and /proc instead of asking every runtime
(see `lookup_cache`: what is checked, and why a hit gives the same answer). Without
an entry, the same checks are tried first with docker's inspect of the word
(`lookup_cache.direct`): an exact docker id or name that no earlier step can claim
is found without listing every runtime (~0.1 s: containerd's gRPC import, podman).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import (
    LIVE_STATUSES,
    PLAIN_RUNTIME,
    is_live,
    list_containers,
    process_container,
    wanted_runtimes,
)
from cntr_tui.attach.runtime_prefix import split_runtime_prefix
from cntr_tui.attach.runtimes.base import SANDBOX_CONTAINER_NAME, DiscoveryConfig
from cntr_tui.errors import UserError, warn_on_stderr
from cntr_tui.linux import namespaces, proc_stat, procfs
from cntr_tui.linux.cgroups import cgroup_directories, frozen_v1, frozen_v2

PAUSED_STATUSES = frozenset({"paused", "pausing"})
MAX_CANDIDATES_SHOWN = 5
# What makes a process a container's rather than the host's: its own PID namespace
# (its /proc) and its own mount namespace (its files).
CONTAINER_KINDS = ("pid", "mnt")
KIND_NAMES = {"pid": "PID", "mnt": "mount"}

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One kind of name: what it is called in errors, and which runtimes it covers."""

    label: str
    runtimes: frozenset[str] | None  # None: containers of any allowed runtime
    match: Callable[[str, list[Container]], list[Container]]


def _by_id_or_name(word: str, containers: list[Container]) -> list[Container]:
    exact = [c for c in containers if word in (c.id, c.name)]
    if exact:
        return exact
    return [c for c in containers if c.id.startswith(word)]


def _by_name(word: str, containers: list[Container]) -> list[Container]:
    return [c for c in containers if word in (c.id, c.name)]


@dataclass(frozen=True)
class PodWord:
    """One reading of a word as Kubernetes names: `namespace` None means any, and
    `container` None the pod's first container."""

    namespace: str | None
    pod: str
    container: str | None

    def fits(self, container: Container) -> bool:
        k8s = container.kubernetes
        return (
            k8s is not None
            and k8s.container != SANDBOX_CONTAINER_NAME
            and k8s.pod == self.pod
            and self.namespace in (None, k8s.namespace)
            and self.container in (None, k8s.container)
        )


def kubernetes_names(word: str) -> tuple[PodWord, ...]:
    """The readings of `word` as Kubernetes names: `ns/pod/container`, `ns/pod
    (container)` (what the details pane shows), and a two-part word both ways,
    `pod/container` (any namespace) and `ns/pod`; none for any other word."""
    text = word.strip()
    if text.endswith(")") and "(" in text:
        head, _, container = text[:-1].rpartition("(")
        parts = [*head.rstrip().split("/"), container]
        if len(parts) != 3:
            return ()
    else:
        parts = text.split("/")
    if (
        len(parts) not in (2, 3)
        or not all(parts)
        or any(char.isspace() or char in "()" for char in "".join(parts))
    ):
        return ()
    if len(parts) == 2:
        return (PodWord(None, parts[0], parts[1]), PodWord(parts[0], parts[1], None))
    return (PodWord(parts[0], parts[1], parts[2]),)


def _identity(container: Container) -> tuple[str, str, str]:
    k8s = container.kubernetes
    assert k8s is not None
    return (k8s.namespace, k8s.pod, k8s.container)


def _latest_attempts(containers: list[Container]) -> list[Container]:
    """One container per namespace/pod/container: the kubelet's latest attempt (the
    live one, else the highest restart count, else the last started)."""
    latest: dict[tuple[str, str, str], Container] = {}
    for container in containers:
        key = _identity(container)
        if key not in latest or _attempt_order(container) > _attempt_order(latest[key]):
            latest[key] = container
    return list(latest.values())


def _attempt_order(container: Container) -> tuple[bool, int, float]:
    k8s = container.kubernetes
    restarts = k8s.restart_count if k8s and k8s.restart_count is not None else -1
    return (is_live(container), restarts, container.started_at or 0.0)


def pod_containers(namespace: str, pod: str, containers: list[Container]) -> list[Container]:
    """The latest attempt of each container of pod `namespace/pod`, first started first
    (the kubelet starts a pod's containers in their spec's order), live ones before."""
    found = _latest_attempts([c for c in containers if PodWord(namespace, pod, None).fits(c)])
    return sorted(found, key=lambda c: (not is_live(c), c.started_at or 0.0, _identity(c)))


def _by_kubernetes(word: str, containers: list[Container]) -> list[Container]:
    found: list[Container] = []
    for reading in kubernetes_names(word):
        fitting = [c for c in containers if reading.fits(c)]
        if reading.container is None:
            pods = {(_identity(c)[0], _identity(c)[1]) for c in fitting}
            fitting = [pod_containers(ns, pod, fitting)[0] for ns, pod in sorted(pods)]
        found += fitting
    return _latest_attempts(found)


def _by_containerd_id(word: str, containers: list[Container]) -> list[Container]:
    """containerd's id (or a unique prefix), or the name of a container without pod
    labels: a pod's container's name (namespace/pod/container) is the kubernetes
    step's, which knows the kubelet's restarts."""
    exact = [c for c in containers if word == c.id or (c.kubernetes is None and word == c.name)]
    if exact:
        return exact
    return [c for c in containers if c.id.startswith(word)]


def _typed(container: Container) -> str:
    namespace, pod, name = _identity(container)
    return f"{namespace}/{pod}/{name}"


def pod_choice_note(word: str, chosen: Container, containers: list[Container]) -> str | None:
    """For `namespace/pod` naming a pod of several containers: which one was taken
    and the others' names; None when the word named the container or there is one."""
    k8s = chosen.kubernetes
    if k8s is None or any(
        r.container == k8s.container and r.pod == k8s.pod for r in kubernetes_names(word)
    ):
        return None
    others = [c for c in pod_containers(k8s.namespace, k8s.pod, containers) if c != chosen]
    if not others:
        return None
    return (
        f"pod {k8s.namespace}/{k8s.pod} has {len(others) + 1} containers: debugging "
        f"{k8s.container} (the first started); to take another, type "
        + " or ".join(_typed(c) for c in others)
    )


def _kubernetes_ambiguous(word: str, matches: list[Container]) -> UserError:
    typed = sorted(_typed(c) for c in matches)
    pods = sorted({f"{_identity(c)[0]}/{_identity(c)[1]}" for c in matches})
    return UserError(
        f"{word!r} is ambiguous: it names {len(typed)} containers, in pods "
        f"{', '.join(pods)}: type one of {', '.join(typed)}"
    )


def _sandbox_refusal(container: Container, containers: list[Container]) -> UserError | None:
    """A pod's sandbox (pause) container is no debug target: say which pod, and what to type."""
    k8s = container.kubernetes
    if k8s is None or k8s.container != SANDBOX_CONTAINER_NAME:
        return None
    inside = pod_containers(k8s.namespace, k8s.pod, containers)
    instead = (
        "type " + " or ".join(_typed(c) for c in inside)
        if inside
        else "the pod has no container here yet"
    )
    return UserError(
        f"{describe(container)} is the sandbox (pause) container of pod "
        f"{k8s.namespace}/{k8s.pod}, not a debug target: {instead}"
    )


def _kubernetes_not_running(container: Container) -> UserError:
    """A pod's container that is not running (exited: CrashLoopBackOff when it keeps
    doing so): its state, restart count, and what to run instead."""
    k8s = container.kubernetes
    assert k8s is not None
    restarts = "unknown" if k8s.restart_count is None else str(k8s.restart_count)
    return UserError(
        f"kubernetes container {_typed(container)} is not running: its state is "
        f"{container.status}, restart count {restarts} (a container that keeps exiting is "
        f"in CrashLoopBackOff "
        f"and waits out the kubelet's back-off): see why with `kubectl logs -n "
        f"{k8s.namespace} {k8s.pod} -c {k8s.container} --previous`, and try again once "
        f"`kubectl get pod -n {k8s.namespace} {k8s.pod}` says Running"
    )


def _kubernetes_miss(word: str, containers: list[Container]) -> str | None:
    """Why a Kubernetes-shaped word matched nothing here: the pod is here without that
    container (its containers named), or no such pod is on this node (`kubectl cntr`
    finds its node)."""
    readings = kubernetes_names(word)
    if not readings:
        return None
    pods = {
        (c.kubernetes.namespace, c.kubernetes.pod) for c in containers if c.kubernetes is not None
    }
    for reading in readings:
        if reading.namespace and reading.container and (reading.namespace, reading.pod) in pods:
            inside = pod_containers(reading.namespace, reading.pod, containers)
            names = ", ".join(_identity(c)[2] for c in inside) or "none yet"
            typed = f": type {_typed(inside[0])}" if inside else ""
            return (
                f"pod {reading.namespace}/{reading.pod} has no container {reading.container} "
                f"here (its containers: {names}){typed}"
            )
    if len(readings) == 1:
        [only] = readings
        return (
            f"no pod {only.namespace}/{only.pod} on this node: `kubectl cntr -n "
            f"{only.namespace} {only.pod} -c {only.container}` finds the pod's node"
        )
    by_pod, by_namespace = readings
    return (
        f"no pod {by_namespace.namespace}/{by_namespace.pod} (namespace/pod) and no pod "
        f"{by_pod.pod} with a container {by_pod.container} on this node: `kubectl cntr -n "
        f"{by_namespace.namespace} {by_namespace.pod}` (or `kubectl cntr {by_pod.pod} -c "
        f"{by_pod.container}`) finds the pod's node"
    )


def host_kinds(container: Container) -> list[str]:
    """Which of the PID and mount namespaces `container`'s process shares with the host."""
    return [kind for kind in CONTAINER_KINDS if kind not in container.namespaces]


def _launcher_arguments(container: Container) -> list[str]:
    """The command line that started a plain-namespace container (`unshare ... NAME`):
    its main process's parent, outside its PID namespace. Empty for other runtimes,
    whose containers have names of their own."""
    if container.runtime != PLAIN_RUNTIME or container.pid <= 0:
        return []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        parent = proc_stat.parent_pid(container.pid)
        if parent > 0 and namespaces.namespace_ids(parent).get("pid") != namespaces.namespace_ids(
            container.pid
        ).get("pid"):
            return procfs.read_cmdline(parent)
    return []


def _by_command(word: str, containers: list[Container]) -> list[Container]:
    # of the launcher's, a whole argument only: its options and paths name nothing
    return [c for c in containers if word in c.command or word in _launcher_arguments(c)]


def _by_pid(word: str, containers: list[Container]) -> list[Container]:
    if not word.isdigit():
        return []
    return [c for c in containers if c.pid == int(word)]


STEPS = (
    Step("process id", None, _by_pid),
    Step("podman id/name", frozenset({"podman"}), _by_id_or_name),
    Step("docker id/name", frozenset({"docker"}), _by_id_or_name),
    Step("nspawn machine", frozenset({"nspawn"}), _by_name),
    Step("lxc name", frozenset({"lxc"}), _by_name),
    Step("lxd name", frozenset({"lxd"}), _by_name),
    Step("containerd id", frozenset({"containerd"}), _by_containerd_id),
    Step("process name", frozenset({PLAIN_RUNTIME}), _by_name),
    Step("kubernetes namespace/pod/container", None, _by_kubernetes),
    Step("command line", None, _by_command),
)


def describe(container: Container) -> str:
    """`docker web (3f4e5d6c7b8a, pid 1234)`: enough to tell candidates apart."""
    short_id = container.id[:12] if len(container.id) == 64 else container.id
    details = (
        f"pid {container.pid}" if container.name == short_id else f"{short_id}, pid {container.pid}"
    )
    return f"{container.runtime} {container.name} ({details})"


def _ambiguous(word: str, label: str, matches: list[Container]) -> UserError:
    shown = "; ".join(describe(c) for c in matches[:MAX_CANDIDATES_SHOWN])
    more = len(matches) - MAX_CANDIDATES_SHOWN
    if more > 0:
        shown += f"; and {more} more"
    return UserError(f"{word!r} is ambiguous: {len(matches)} containers match by {label}: {shown}")


@dataclass(frozen=True)
class Refusal:
    """Why no attach can take a paused or frozen target, and the command that thaws it.
    `sentence` is the one line every front end (attach, exec, gdb, doctor) says."""

    reason: str
    fix: str

    @property
    def sentence(self) -> str:
        return f"{self.reason} (fix: {self.fix})"


def frozen_cgroup(pid: int) -> tuple[str, str] | None:
    """The first cgroup of `pid` that is frozen or freezing, and the file saying so
    (`freezer.state`, cgroup v1, or `cgroup.freeze`, v2); None when none is."""
    for entry, directory in cgroup_directories(pid):
        if "freezer" in entry.controllers and frozen_v1(directory):
            return directory, "freezer.state"
        if entry.is_v2 and frozen_v2(directory):
            return directory, "cgroup.freeze"
    return None


def unpause_fix(container: Container, cgroup: str | None = None, file: str = "") -> str:
    """The runtime's own way to thaw a container (or the write that thaws `cgroup`,
    frozen by its `file`: v1's freezer.state or v2's cgroup.freeze)."""
    match container.runtime:
        case "docker" | "podman":
            return f"{container.runtime} unpause {container.name}"
        case "containerd":
            namespace = container.runtime_namespace or "default"
            return f"ctr -n {namespace} task resume {container.id}"
        case "lxc":
            return f"lxc-unfreeze -n {container.name}"
        case "lxd":
            return (
                f"lxc start --project {container.runtime_namespace or 'default'} {container.name}"
            )
    if cgroup is None:
        return f"thaw the cgroup that froze it (see the freezer line for {container.pid})"
    value = "THAWED" if file == "freezer.state" else "0"
    return f"echo {value} > {cgroup}/{file}"


def _named(container: Container) -> str:
    if container.runtime == PLAIN_RUNTIME:
        return f"process {container.name} (PID {container.pid})"
    return f"{container.runtime} container {container.name}"


def paused_refusal(container: Container) -> Refusal | None:
    """A target paused by its runtime, or in a frozen cgroup: it cannot run, so gdb (or
    any session command) would wait for it forever. None when it can run."""
    if container.status in PAUSED_STATUSES:
        return Refusal(
            f"{_named(container)} is paused: its processes are frozen, so nothing can "
            "attach to them",
            unpause_fix(container),
        )
    try:
        frozen = frozen_cgroup(container.pid)
    except (ProcessLookupError, PermissionError):
        return None
    if frozen is None:
        return None
    directory, file = frozen
    return Refusal(
        f"{_named(container)} is frozen (cgroup {directory}, {file}): it cannot run, "
        "so nothing can attach to it",
        unpause_fix(container, directory, file),
    )


def _checked(container: Container, allow_paused: bool) -> Container:
    if container.pid <= 0 or container.status not in LIVE_STATUSES:
        if container.kubernetes is not None:
            raise _kubernetes_not_running(container)
        raise UserError(
            f"{container.runtime} container {container.name} is {container.status}, "
            "not running: start it first"
        )
    if not allow_paused and (refusal := paused_refusal(container)) is not None:
        raise UserError(refusal.sentence)
    return container


def _own_processes() -> set[int]:
    """This process and its ancestors: their command lines contain the word itself."""
    return {os.getpid(), *proc_stat.ancestors(os.getpid())}


def _processes_by_command(word: str) -> list[Container]:
    own = _own_processes()
    found = []
    for pid in procfs.pids():
        if pid in own:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            argv = procfs.read_cmdline(pid)
            if argv and word in " ".join(argv):
                container = process_container(pid)
                if container is not None:
                    found.append(container)
    return found


def _shared(container: Container) -> str:
    """`the host's PID and mount namespaces`: what makes `container` not one."""
    kinds = host_kinds(container)
    names = " and ".join(KIND_NAMES[kind] for kind in kinds)
    return f"the host's {names} namespace{'s' if len(kinds) > 1 else ''}"


def _outside(container: Container) -> str:
    if container.runtime == PLAIN_RUNTIME:
        return f"host process {container.pid} ({container.name})"
    return describe(container)


def _refused(word: str, label: str, refused: list[Container]) -> UserError:
    """Only matches outside containers: say which, why, and the PID that would name one."""
    if len(refused) == 1:
        [only] = refused
        return UserError(
            f"no container matches {word!r}: only {_outside(only)} matches by {label}, "
            f"refused: it shares {_shared(only)}; to attach to it anyway, give its PID: "
            f"{only.pid}"
        )
    pids = ", ".join(str(c.pid) for c in refused[:MAX_CANDIDATES_SHOWN])
    if len(refused) > MAX_CANDIDATES_SHOWN:
        pids += f" and {len(refused) - MAX_CANDIDATES_SHOWN} more"
    return UserError(
        f"no container matches {word!r}: only {len(refused)} processes outside containers "
        f"match by {label} (pids {pids}), refused: they share the host's PID or mount "
        "namespace; to attach to one anyway, give its PID"
    )


def not_a_container_warning(container: Container) -> str | None:
    """The one line for a target that shares the host's PID or mount namespace."""
    if container.pid <= 0 or not host_kinds(container):
        return None
    if container.runtime == PLAIN_RUNTIME:
        return f"{_outside(container)} is not a container: it shares {_shared(container)}"
    return f"{describe(container)} shares {_shared(container)}: it is not isolated there"


def _warned(container: Container, warn: Warn) -> Container:
    message = not_a_container_warning(container)
    if message is not None:
        warn(message)
    return container


def resolve(
    word: str,
    types: Sequence[str] | None = None,
    *,
    allow_paused: bool = False,
    config: DiscoveryConfig | None = None,
    warn: Warn = warn_on_stderr,
) -> Container:
    """The one container `word` names; UserError (one line) otherwise. See the module doc.

    A target outside a container (only a PID or a runtime's own name can give one) is
    reported through `warn`, once."""
    from cntr_tui.attach import lookup_cache  # not needed by resolve_process's short cut

    if not word or not word.strip():
        raise UserError("no container given")
    word, types = split_runtime_prefix(word, types)
    allowed = wanted_runtimes(types)
    config = config or DiscoveryConfig()
    remembered = lookup_cache.recall(word, allowed, config)
    if remembered is not None:
        return _warned(_checked(remembered, allow_paused), warn)
    direct = lookup_cache.direct(word, allowed, config)
    if direct is not None and paused_refusal(direct) is None:
        lookup_cache.remember(word, allowed, direct, config)
        return _warned(direct, warn)
    found, note = _full_look_up(word, allowed, allow_paused, config)
    lookup_cache.remember(word, allowed, found, config)
    if note is not None:
        warn(note)
    return _warned(found, warn)


def resolve_process(
    word: str, types: Sequence[str] | None = None, warn: Warn = warn_on_stderr
) -> Container:
    """For a command that needs only the target's process (attach, exec): a number
    without `types` that is a live PID names that process at once, as the process id
    step of `resolve` would (listing every runtime costs ~0.5 s); anything else, and
    a number no process has, goes through `resolve`, so both say the same. So does a
    frozen process: `resolve` finds the runtime that paused it, whose command thaws it."""
    if word.isdigit() and types is None:
        found = process_container(int(word))
        if found is not None and paused_refusal(found) is None:
            return _warned(found, warn)
    return resolve(word, types, warn=warn)


def _full_look_up(
    word: str, allowed: tuple[str, ...], allow_paused: bool, config: DiscoveryConfig
) -> tuple[Container, str | None]:
    """The container, and a note for the user when a pod's container was chosen."""
    listing = list_containers(allowed, include_stopped=True, config=config)
    tried: list[str] = []
    refused: list[Container] = []
    for step in STEPS:
        runtimes = set(allowed) if step.runtimes is None else step.runtimes & set(allowed)
        if not runtimes:
            continue
        tried.append(step.label)
        candidates = [c for c in listing.containers if c.runtime in runtimes]
        matches, outside = _step_matches(step, word, candidates, allowed)
        refused += outside
        if len(matches) > 1 and step.match is _by_kubernetes:
            raise _kubernetes_ambiguous(word, matches)
        if len(matches) > 1:
            live = [c for c in matches if is_live(c)]
            if len(live) != 1:
                raise _ambiguous(word, step.label, matches)
            matches = live
        if matches:
            if (sandbox := _sandbox_refusal(matches[0], listing.containers)) is not None:
                raise sandbox
            note = (
                pod_choice_note(word, matches[0], listing.containers)
                if step.match is _by_kubernetes
                else None
            )
            return _checked(matches[0], allow_paused), note
    tried_kubernetes = "kubernetes namespace/pod/container" in tried
    miss = _kubernetes_miss(word, listing.containers) if tried_kubernetes else None
    if refused and miss is None:
        raise _refused(word, "command line", refused)
    if miss is not None:
        # a pod's name also appears in host command lines (kubectl, a debug pod's exec):
        # the pod is what the user meant, the refused processes come after it
        message = f"no container matches {word!r}: {miss}"
        if refused:
            pids = ", ".join(str(c.pid) for c in refused[:MAX_CANDIDATES_SHOWN])
            message += (
                f"; processes outside containers match by command line (pids {pids}), "
                "refused: give a PID to attach to one anyway"
            )
    else:
        message = f"no container matches {word!r} (tried {', '.join(tried)})"
    if listing.failed_runtimes:
        message += f"; no answer from {', '.join(sorted(listing.failed_runtimes))}"
    raise UserError(message)


def _step_matches(
    step: Step, word: str, candidates: list[Container], allowed: tuple[str, ...]
) -> tuple[list[Container], list[Container]]:
    """What one step matches: the containers, else (with `process`) host processes;
    and apart, the matches refused as outside containers."""
    matches = step.match(word, candidates)
    refused = _outside_containers(step, matches)
    matches = [c for c in matches if c not in refused]
    if not matches and PLAIN_RUNTIME in allowed:
        found = _host_processes(step, word)
        outside = _outside_containers(step, found)
        matches = [c for c in found if c not in outside]
        known = {c.pid for c in refused}
        refused += [c for c in outside if c.pid not in known]
    return matches, refused


def _outside_containers(step: Step, matches: list[Container]) -> list[Container]:
    """The matches by command line that share the host's PID or mount namespace: a
    command line names no container, and nothing vouches that such a one is meant."""
    if step.match is not _by_command:
        return []
    return [c for c in matches if is_live(c) and host_kinds(c)]


def _host_processes(step: Step, word: str) -> list[Container]:
    """Any host process, for the steps cntr also applies to plain processes."""
    if step.match is _by_pid:
        found = process_container(int(word)) if word.isdigit() else None
        return [found] if found else []
    if step.match is _by_command:
        return _processes_by_command(word)
    return []
