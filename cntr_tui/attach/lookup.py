"""A user's word -> exactly one container, the way cntr resolves its CONTAINER argument.

`resolve(word, types)` tries, in cntr's order, each kind of name and stops at the
first kind that matches:

1. process id: a number is the host PID of a container's main process, or (when the
   `process` type is allowed) any process on the host;
2. podman, 3. docker: full id, name, or unique id prefix;
4. nspawn, 5. lxc: machine / container name;
6. containerd: id or unique id prefix (in any containerd namespace);
7. process: the name `ls` shows for a plain-namespace container (its main process's);
8. kubernetes: from the CRI labels, `namespace/pod/container`, `namespace/pod
   (container)` as the details pane shows it, or `pod/container` (in any namespace:
   two pods of that name in two namespaces make it ambiguous);
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
(see `lookup_cache`: what is checked, and why a hit gives the same answer).
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
from cntr_tui.attach.runtimes.base import DiscoveryConfig
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


def kubernetes_names(word: str) -> tuple[str | None, str, str] | None:
    """(namespace, pod, container) as `word` names them: `ns/pod/container`,
    `ns/pod (container)` (what the details pane shows) or `pod/container` (namespace
    None: any); None for any other word. A two-part word is never `ns/pod`: one
    shape, one meaning."""
    text = word.strip()
    if text.endswith(")") and "(" in text:
        head, _, container = text[:-1].rpartition("(")
        parts = [*head.rstrip().split("/"), container]
        if len(parts) != 3:
            return None
    else:
        parts = text.split("/")
    if (
        len(parts) not in (2, 3)
        or not all(parts)
        or any(char.isspace() or char in "()" for char in "".join(parts))
    ):
        return None
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return parts[0], parts[1], parts[2]


def _by_kubernetes(word: str, containers: list[Container]) -> list[Container]:
    names = kubernetes_names(word)
    if names is None:
        return []
    namespace, pod, name = names
    return [
        c
        for c in containers
        if c.kubernetes
        and (c.kubernetes.pod, c.kubernetes.container) == (pod, name)
        and namespace in (None, c.kubernetes.namespace)
    ]


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
    Step("containerd id", frozenset({"containerd"}), _by_id_or_name),
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
    allowed = wanted_runtimes(types)
    config = config or DiscoveryConfig()
    remembered = lookup_cache.recall(word, allowed, config)
    if remembered is not None:
        return _warned(_checked(remembered, allow_paused), warn)
    found = _full_look_up(word, allowed, allow_paused, config)
    lookup_cache.remember(word, allowed, found, config)
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
) -> Container:
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
        if len(matches) > 1:
            live = [c for c in matches if is_live(c)]
            if len(live) != 1:
                raise _ambiguous(word, step.label, matches)
            matches = live
        if matches:
            return _checked(matches[0], allow_paused)
    if refused:
        raise _refused(word, "command line", refused)
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
