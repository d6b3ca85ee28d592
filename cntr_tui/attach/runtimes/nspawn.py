"""systemd-nspawn containers: machines registered with machined, and unregistered ones.

Registered machines come from `machinectl list` and one `machinectl show` for all of
them. A machine started with `--register=no` (or where machined does not run) is
found in the process table: the first process under a `systemd-nspawn` process that
lives in another PID namespace is its leader.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict

from cntr_tui.attach.container import Container
from cntr_tui.attach.process import ProcessInfo
from cntr_tui.attach.runtimes.base import ListContext, RuntimeAbsent, RuntimeFailed, run_cli
from cntr_tui.linux.procfs import read_cmdline

RUNTIME = "nspawn"
LAUNCHER = "systemd-nspawn"
# Options of systemd-nspawn whose value may be the next argument: skipping them keeps
# a value like `/src:/dst` from being taken for the command.
_OPTIONS_WITH_VALUE = (
    "-u --user -E --setenv -p --port -S --slice -L --selinux-context --chdir --bind "
    "--bind-ro --tmpfs --overlay --overlay-ro --inaccessible --hostname --uuid "
    "--property --capability --drop-capability --network-interface --network-macvlan "
    "--network-ipvlan --network-bridge --network-zone --network-veth-extra "
    "--network-namespace-path --link-journal --register --console --resolv-conf "
    "--timezone --kill-signal --personality --pivot-root --rlimit --oom-score-adjust "
    "--cpu-affinity --system-call-filter --template --notify-ready --load-credential "
    "--set-credential --oci-bundle --private-users-ownership"
)
OPTIONS_WITH_VALUE = frozenset(_OPTIONS_WITH_VALUE.split())
NO_MACHINED = ("Failed to connect to bus", "has not been booted with systemd")


def parse_show(text: str) -> list[Container]:
    """Containers from `machinectl show -p Name -p Leader -p Class ... NAME...`."""
    containers = []
    for block in text.strip().split("\n\n"):
        properties = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if properties.get("Class", "container") != "container" or "Name" not in properties:
            continue
        leader = properties.get("Leader", "0")
        containers.append(
            Container(
                runtime=RUNTIME,
                id=properties["Name"],
                name=properties["Name"],
                pid=int(leader) if leader.isdigit() else 0,
                image=properties.get("RootDirectory") or None,
                status=properties.get("State", "running"),
            )
        )
    return containers


def registered_machines(context: ListContext) -> list[Container]:
    config = context.config
    listing = run_cli(
        [config.machinectl_command, "list", "--no-legend", "--no-pager"],
        RUNTIME,
        config.timeout,
        absent_markers=NO_MACHINED,
    )
    names = [line.split()[0] for line in listing.splitlines() if line.strip()]
    if not names:
        return []
    shown = run_cli(
        [
            config.machinectl_command,
            "show",
            "--property=Name,Leader,Class,State,RootDirectory",
            *names,
        ],
        RUNTIME,
        config.timeout,
    )
    return parse_show(shown)


def machine_name(argv: list[str], launcher_pid: int) -> tuple[str, str | None]:
    """(machine name, root directory) from systemd-nspawn's arguments.

    nspawn names a machine after `--machine`, else after its directory or image.
    """
    name = root = None
    arguments = iter(argv[1:])
    for argument in arguments:
        option, has_value, value = argument.partition("=")
        if option in ("-M", "--machine", "-D", "--directory", "-i", "--image"):
            if not has_value:
                value = next(arguments, "")
            if option in ("-M", "--machine"):
                name = value
            else:
                root = value
        elif argument in OPTIONS_WITH_VALUE:
            next(arguments, None)
        elif argument.startswith("-M") and len(argument) > 2:
            name = argument[2:]
        elif argument.startswith("-D") and len(argument) > 2:
            root = argument[2:]
        elif not argument.startswith("-"):
            break  # the command to run inside
    if not name and root:
        name = os.path.basename(root.rstrip("/"))
    return name or f"nspawn-{launcher_pid}", root


def leader_of(launcher: ProcessInfo, processes: dict[int, ProcessInfo]) -> ProcessInfo | None:
    """The first descendant of `launcher` in another PID namespace (breadth first)."""
    children: dict[int, list[ProcessInfo]] = defaultdict(list)
    for info in processes.values():
        children[info.ppid].append(info)
    queue = sorted(children[launcher.pid], key=lambda info: info.pid)
    while queue:
        candidate = queue.pop(0)
        if candidate.pid_ns and candidate.pid_ns != launcher.pid_ns:
            return candidate
        queue += sorted(children[candidate.pid], key=lambda info: info.pid)
    return None


def unregistered_machines(processes: dict[int, ProcessInfo]) -> list[Container]:
    containers = []
    for launcher in processes.values():
        if launcher.comm != LAUNCHER:
            continue
        leader = leader_of(launcher, processes)
        if leader is None:
            continue  # still starting, or only its own helper processes
        argv: list[str] = []
        with contextlib.suppress(ProcessLookupError, PermissionError):
            argv = read_cmdline(launcher.pid)
        name, root = machine_name(argv, launcher.pid)
        containers.append(
            Container(runtime=RUNTIME, id=name, name=name, pid=leader.pid, image=root)
        )
    return containers


def list_containers(context: ListContext) -> list[Container]:
    registered: list[Container] = []
    machined = True
    try:
        registered = registered_machines(context)
    except RuntimeAbsent:
        machined = False
    except RuntimeFailed as error:
        context.warn(RUNTIME, str(error))
    leaders = {container.pid for container in registered}
    unregistered = [
        container
        for container in unregistered_machines(context.processes)
        if container.pid not in leaders
    ]
    if not machined and not unregistered:
        raise RuntimeAbsent("no machined and no systemd-nspawn process")
    return registered + unregistered
