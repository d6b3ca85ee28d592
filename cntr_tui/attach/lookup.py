"""A user's word -> exactly one container, the way cntr resolves its CONTAINER argument.

`resolve(word, types)` tries, in cntr's order, each kind of name and stops at the
first kind that matches:

1. process id: a number is the host PID of a container's main process, or (when the
   `process` type is allowed) any process on the host;
2. podman, 3. docker: full id, name, or unique id prefix;
4. nspawn, 5. lxc: machine / container name;
6. containerd: id or unique id prefix (in any containerd namespace);
7. kubernetes: `namespace/pod/container` from the CRI labels;
8. command: a substring of a container's command line, then (with `process`) of any
   host process's command line.

Two matches within one kind is an error listing them; nothing matching is an error
saying what was tried. A stopped container is an error saying so, and so is a paused
one unless the caller allows it. `types` (the `-t` option) restricts the runtimes.

A running docker container found by its exact id or name is remembered, and the same
word next time is checked against docker and /proc instead of asking every runtime
(see `lookup_cache`: what is checked, and why a hit gives the same answer).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cntr_tui.attach import lookup_cache, process
from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import (
    LIVE_STATUSES,
    is_live,
    list_containers,
    process_container,
    wanted_runtimes,
)
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.errors import UserError

PAUSED_STATUSES = frozenset({"paused", "pausing"})
MAX_CANDIDATES_SHOWN = 5


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


def _by_kubernetes(word: str, containers: list[Container]) -> list[Container]:
    if word.count("/") != 2:
        return []
    namespace, pod, name = word.split("/")
    return [
        c
        for c in containers
        if c.kubernetes
        and (c.kubernetes.namespace, c.kubernetes.pod, c.kubernetes.container)
        == (namespace, pod, name)
    ]


def _by_command(word: str, containers: list[Container]) -> list[Container]:
    return [c for c in containers if word in c.command]


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


def _checked(container: Container, allow_paused: bool) -> Container:
    if container.pid <= 0 or container.status not in LIVE_STATUSES:
        raise UserError(
            f"{container.runtime} container {container.name} is {container.status}, "
            "not running: start it first"
        )
    if container.status in PAUSED_STATUSES and not allow_paused:
        raise UserError(
            f"{container.runtime} container {container.name} is paused: unpause it first"
        )
    return container


def _own_processes() -> set[int]:
    """This process and its ancestors: their command lines contain the word itself."""
    return {os.getpid(), *process.ancestors(os.getpid())}


def _processes_by_command(word: str) -> list[Container]:
    own = _own_processes()
    found = []
    for pid in process.pids():
        if pid in own:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            argv = process.read_cmdline(pid)
            if argv and word in " ".join(argv):
                container = process_container(pid)
                if container is not None:
                    found.append(container)
    return found


def resolve(
    word: str,
    types: Sequence[str] | None = None,
    *,
    allow_paused: bool = False,
    config: DiscoveryConfig | None = None,
) -> Container:
    """The one container `word` names; UserError (one line) otherwise. See the module doc."""
    if not word or not word.strip():
        raise UserError("no container given")
    allowed = wanted_runtimes(types)
    config = config or DiscoveryConfig()
    remembered = lookup_cache.recall(word, allowed, config)
    if remembered is not None:
        return _checked(remembered, allow_paused)
    found = _full_look_up(word, allowed, allow_paused, config)
    lookup_cache.remember(word, allowed, found, config)
    return found


def _full_look_up(
    word: str, allowed: tuple[str, ...], allow_paused: bool, config: DiscoveryConfig
) -> Container:
    listing = list_containers(allowed, include_stopped=True, config=config)
    tried: list[str] = []
    for step in STEPS:
        runtimes = set(allowed) if step.runtimes is None else step.runtimes & set(allowed)
        if not runtimes:
            continue
        tried.append(step.label)
        candidates = [c for c in listing.containers if c.runtime in runtimes]
        matches = step.match(word, candidates)
        if not matches and "process" in allowed:
            matches = _host_processes(step, word)
        if len(matches) > 1:
            live = [c for c in matches if is_live(c)]
            if len(live) != 1:
                raise _ambiguous(word, step.label, matches)
            matches = live
        if matches:
            return _checked(matches[0], allow_paused)
    message = f"no container matches {word!r} (tried {', '.join(tried)})"
    if listing.failed_runtimes:
        message += f"; no answer from {', '.join(sorted(listing.failed_runtimes))}"
    raise UserError(message)


def _host_processes(step: Step, word: str) -> list[Container]:
    """Any host process, for the steps cntr also applies to plain processes."""
    if step.match is _by_pid:
        found = process_container(int(word)) if word.isdigit() else None
        return [found] if found else []
    if step.match is _by_command:
        return _processes_by_command(word)
    return []
