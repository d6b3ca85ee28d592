"""Every container on the machine, whatever started it: `list_containers()`.

The runtimes are asked concurrently (threads: this is I/O and subprocess waiting, no
namespace work), next to one scan of /proc. Then:
- docker's containers get their PIDs from containerd's `moby` namespace, where docker
  keeps them under the same ids (docker inspect only for the ones not found there);
  `moby` itself is not shown when docker answered, so nothing is listed twice;
- a host PID reported by two runtimes is kept once, by the runtime listed first in
  `runtimes.registry.RUNTIME_LISTERS`;
- processes in namespaces no runtime claimed become `process` containers;
- each container's namespaces, command line and start time come from /proc.
A runtime that is not there is silently absent; one that fails adds a warning.
With 200 running containers a listing takes about 0.15 s here (bench/bench_listing.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from cntr_tui.attach.container import RUNTIMES, Container
from cntr_tui.attach.process import ProcessInfo, process_info, scan_processes
from cntr_tui.attach.runtimes.base import (
    DiscoveryConfig,
    ListContext,
    RuntimeAbsent,
    RuntimeFailed,
)
from cntr_tui.errors import UserError
from cntr_tui.linux.namespaces import namespaces_differing
from cntr_tui.linux.proc_stat import start_time
from cntr_tui.linux.procfs import command_line

# The runtime modules and the thread pool are imported by the functions that list:
# a look-up answered from its short cut (lookup_cache) needs none of them.
PLAIN_RUNTIME = "process"

DOCKER_CONTAINERD_NAMESPACE = "moby"
LIVE_STATUSES = frozenset({"running", "paused", "pausing", "restarting"})


@dataclass(frozen=True)
class Listing:
    """The containers found, and one line per runtime that answered with an error.

    `failed_runtimes` names those runtimes: their containers may be missing.
    """

    containers: list[Container]
    warnings: list[str] = field(default_factory=list)
    failed_runtimes: frozenset[str] = frozenset()


def wanted_runtimes(types: Iterable[str] | None) -> tuple[str, ...]:
    """`types` checked against RUNTIMES, in RUNTIMES order; None means all."""
    if types is None:
        return RUNTIMES
    requested = set(types)
    unknown = requested - set(RUNTIMES)
    if unknown:
        raise UserError(
            f"unknown runtime {','.join(sorted(unknown))}; choose from {','.join(RUNTIMES)}"
        )
    return tuple(name for name in RUNTIMES if name in requested)


def _needed(wanted: tuple[str, ...]) -> set[str]:
    """Runtimes to ask so that `wanted` ones are listed without duplicates.

    Docker's containers are also containerd `moby` ones (where their PIDs are), and
    `process` lists what no runtime claimed: asking for those means asking the others.
    """
    from cntr_tui.attach.runtimes.registry import RUNTIME_LISTERS

    needed = set(wanted)
    if PLAIN_RUNTIME in needed:
        needed |= set(RUNTIME_LISTERS)
    if "containerd" in needed or "docker" in needed:
        # moby is docker's namespace: docker's PIDs come from there, and its
        # containers are not shown twice
        needed |= {"docker", "containerd"}
    return needed


def is_live(container: Container) -> bool:
    return container.pid > 0 and container.status in LIVE_STATUSES


def _drop_duplicates(found: list[Container], docker_answered: bool) -> list[Container]:
    """Keep the first container per host PID; drop containerd's `moby` namespace when
    docker answered, since that namespace is docker's own bookkeeping (its containers
    show there before and after docker calls them running)."""
    kept: list[Container] = []
    pids: set[int] = set()
    for container in found:
        if container.pid > 0 and container.pid in pids:
            continue
        if (
            docker_answered
            and container.runtime == "containerd"
            and container.runtime_namespace == DOCKER_CONTAINERD_NAMESPACE
        ):
            continue
        pids.add(container.pid)
        kept.append(container)
    return kept


def _with_docker_pids(found: list[Container], context: ListContext) -> list[Container]:
    """Docker's containers with their PIDs: from containerd's `moby` tasks (same ids),
    else from docker inspect. A live one whose PID cannot be had is gone: dropped."""
    from cntr_tui.attach.runtimes import docker as docker_runtime

    moby_pids = {
        c.id: c.pid
        for c in found
        if c.runtime == "containerd" and c.runtime_namespace == DOCKER_CONTAINERD_NAMESPACE
    }
    unknown = [
        c.id
        for c in found
        if c.runtime == "docker" and c.status in LIVE_STATUSES and not moby_pids.get(c.id)
    ]
    inspected: dict[str, int] = {}
    if unknown:
        try:
            inspected = docker_runtime.inspect_pids(context.config, unknown)
        except (RuntimeAbsent, RuntimeFailed) as error:
            context.warn("docker", str(error))
    result = []
    for container in found:
        if container.runtime == "docker" and container.status in LIVE_STATUSES:
            pid = moby_pids.get(container.id) or inspected.get(container.id, 0)
            if not pid:
                continue
            container = dataclasses.replace(container, pid=pid)
        result.append(container)
    return result


def _with_process_facts(container: Container, processes: dict[int, ProcessInfo]) -> Container:
    """The container with namespaces, command and start time read from /proc."""
    if container.pid <= 0:
        return container
    try:
        namespaces = namespaces_differing(container.pid)
        command = command_line(container.pid)
        info = processes.get(container.pid)
        started_at = info.started_at if info else start_time(container.pid)
    except (ProcessLookupError, PermissionError):
        return container
    return dataclasses.replace(
        container, namespaces=namespaces, command=command, started_at=started_at
    )


def list_containers(
    types: Iterable[str] | None = None,
    *,
    include_stopped: bool = False,
    config: DiscoveryConfig | None = None,
) -> Listing:
    """Containers of the runtimes in `types` (default: all), running and paused ones.

    `include_stopped` adds stopped/created containers (pid 0) that runtimes still know,
    which look-up uses to say "stopped" rather than "not found". `config` says where
    each runtime listens (tests point it at fakes).
    """
    from concurrent.futures import ThreadPoolExecutor

    from cntr_tui.attach.runtimes.procfs import plain_containers
    from cntr_tui.attach.runtimes.registry import RUNTIME_LISTERS

    wanted = wanted_runtimes(types)
    config = config or DiscoveryConfig()
    queried = {name: lister for name, lister in RUNTIME_LISTERS.items() if name in _needed(wanted)}
    warnings: list[str] = []
    failed: set[str] = set()
    found: list[Container] = []
    answered: set[str] = set()
    with ThreadPoolExecutor(len(queried) + 1, thread_name_prefix="discovery") as pool:
        scan = pool.submit(scan_processes)
        context = ListContext(config=config, include_stopped=include_stopped, process_scan=scan)
        futures = {name: pool.submit(lister, context) for name, lister in queried.items()}
        for name, future in futures.items():
            try:
                found += future.result()
                answered.add(name)
            except RuntimeAbsent:
                continue
            except RuntimeFailed as error:
                context.warn(name, str(error))
            except Exception as error:  # a bug or an unexpected reply: still list the rest
                context.warn(name, f"unexpected {type(error).__name__}: {error}")
        processes = scan.result()
        if "docker" in answered:
            found = _with_docker_pids(found, context)
    # Only the runtimes asked for are reported; the others were asked to remove
    # duplicates, and without their answer the duplicates are simply shown.
    for name, message in context.warnings:
        if name in wanted:
            warnings.append(f"{name}: {message}")
            failed.add(name)

    # Every PID a runtime reported, even of a container it is still creating.
    claimed = [c.pid for c in found if c.pid > 0]
    found = _drop_duplicates(found, docker_answered="docker" in answered)
    if PLAIN_RUNTIME in wanted:
        found += plain_containers(processes, claimed)
    selected = [
        _with_process_facts(c, processes)
        for c in found
        if c.runtime in wanted and (include_stopped or is_live(c))
    ]
    order = {name: index for index, name in enumerate(RUNTIMES)}
    selected.sort(key=lambda c: (order[c.runtime], c.runtime_namespace or "", c.name, c.id))
    return Listing(selected, warnings, frozenset(failed))


def process_container(pid: int) -> Container | None:
    """A `process` Container for any host PID (look-up by PID), None if it does not exist."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        info = process_info(pid)
        return _with_process_facts(
            Container(runtime=PLAIN_RUNTIME, id=str(pid), name=info.comm, pid=pid),
            {pid: info},
        )
    return None
