"""A validated short cut for look-up: the word that named a docker container last time.

A full look-up asks every runtime (~0.3 s, most of it containerd's gRPC and podman's
CLI); `cntr-tui gdb NAME` run again on the same container should not pay that. When a
full look-up finds a running docker container by its exact id or exact name, `remember`
writes `/run/cntr-tui/lookup/KEY.json` (KEY: the word and the allowed runtimes) with the
container and its main process's start time. `recall` trusts such an entry only if all
of these still hold, and otherwise deletes it and returns None (a full look-up follows):

- the entry is for the same word, allowed runtimes and docker address;
- the process still exists with the same start time (a reused PID differs);
- docker, asked for the word (one inspect call on its socket, ~2 ms), answers with the
  same container id and name, running, not paused or restarting, with that PID;
- no earlier step of look-up could claim the word: it is not a number (step 1, process
  id), and no podman container (step 2) has it as id, id prefix or name, checked in
  podman's storage index (`containers.json` under its graphroot) without running podman.

Only exact ids and names are remembered: within docker they name one container, so a
container created later cannot make such a word ambiguous (a unique prefix could).
What a hit does not see: a stopped container is not a hit (the inspect says so), so
every error message comes from the full look-up as before. The entry is root's
(`/run/cntr-tui` is 0700); a user who cannot read it gets a full look-up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
import re
from collections.abc import Sequence

from cntr_tui.attach.container import Container, KubernetesInfo
from cntr_tui.attach.runtimes import docker_api
from cntr_tui.attach.runtimes.base import DiscoveryConfig, RuntimeFailed, kubernetes_from_labels
from cntr_tui.linux.namespaces import namespaces_differing
from cntr_tui.linux.proc_stat import start_ticks, start_time
from cntr_tui.linux.procfs import command_line

CACHE_DIR = "/run/cntr-tui/lookup"
PODMAN_GRAPHROOT = "/var/lib/containers/storage"
PODMAN_STORAGE_CONF = "/etc/containers/storage.conf"
INSPECT_TIMEOUT = 2.0
FORMAT = 1


def entry_path(word: str, allowed: Sequence[str], cache_dir: str = CACHE_DIR) -> str:
    """`docker,podman,...=HEX(word).json`: any word makes a safe file name (a word too
    long for one is simply never remembered)."""
    return os.path.join(cache_dir, f"{','.join(allowed)}={word.encode().hex()}.json")


def remember(
    word: str,
    allowed: Sequence[str],
    container: Container,
    config: DiscoveryConfig,
    cache_dir: str = CACHE_DIR,
) -> None:
    """Keep what a full look-up found, if it is a kind of hit `recall` can check."""
    if (
        container.runtime != "docker"
        or container.status != "running"
        or word not in (container.id, container.name)
        or word.isdigit()
        or config.podman_command != DiscoveryConfig.podman_command
    ):
        return
    start = start_ticks(container.pid)
    if start is None:
        return
    entry = {
        "format": FORMAT,
        "word": word,
        "allowed": list(allowed),
        "docker_host": config.resolved_docker_host(),
        "start": start,
        "container": dataclasses.asdict(container) | {"namespaces": sorted(container.namespaces)},
    }
    path = entry_path(word, allowed, cache_dir)
    temporary = f"{path}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        os.makedirs(cache_dir, mode=0o700, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as file:
            json.dump(entry, file)
        os.replace(temporary, path)  # readers see the old entry or the new one, whole
    with contextlib.suppress(OSError):
        os.unlink(temporary)


def forget(word: str, allowed: Sequence[str], cache_dir: str = CACHE_DIR) -> None:
    with contextlib.suppress(OSError):
        os.unlink(entry_path(word, allowed, cache_dir))


def recall(
    word: str,
    allowed: Sequence[str],
    config: DiscoveryConfig,
    cache_dir: str = CACHE_DIR,
) -> Container | None:
    """The container remembered for `word`, if every check in the module doc holds."""
    path = entry_path(word, allowed, cache_dir)
    try:
        with open(path, encoding="utf-8") as file:
            entry = json.load(file)
    except (OSError, ValueError):
        return None
    container = _confirmed(entry, word, allowed, config)
    if container is None:
        forget(word, allowed, cache_dir)
    return container


def _confirmed(
    entry: object, word: str, allowed: Sequence[str], config: DiscoveryConfig
) -> Container | None:
    try:
        assert isinstance(entry, dict)
        if (
            entry["format"] != FORMAT
            or entry["word"] != word
            or entry["allowed"] != list(allowed)
            or entry["docker_host"] != config.resolved_docker_host()
            or config.podman_command != DiscoveryConfig.podman_command
        ):
            return None
        container = _container(entry["container"])
    except (AssertionError, KeyError, TypeError, ValueError):
        return None
    if start_ticks(container.pid) != entry["start"]:
        return None
    if "podman" in allowed and _podman_may_claim(word):
        return None
    try:
        state = docker_api.inspect(config.resolved_docker_host(), word, INSPECT_TIMEOUT)
    except RuntimeFailed:  # not found, or docker is unwell: let the full look-up say so
        return None
    status = state.get("State") or {}
    if (
        state.get("Id") != container.id
        or state.get("Name") != f"/{container.name}"
        or status.get("Status") != "running"
        or status.get("Paused")
        or status.get("Restarting")
        or status.get("Pid") != container.pid
    ):
        return None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # what /proc says now, as a full look-up would read it
        return dataclasses.replace(
            container,
            namespaces=namespaces_differing(container.pid),
            command=command_line(container.pid),
        )
    return None


def direct(word: str, allowed: Sequence[str], config: DiscoveryConfig) -> Container | None:
    """Without an entry: the running docker container whose exact id or name `word`
    is, by the checks `recall` makes of an entry (not a number, no podman container
    may claim it, docker's inspect of the word says running, not paused or
    restarting, with a PID), with the facts a full look-up would give it (namespaces,
    command line and start time from /proc, image as docker names it); None (a full
    look-up follows) otherwise, and for a Kubernetes pod's container (the full look-up
    knows its pod and refuses its sandbox). A full look-up would pick the same one:
    steps 1 and 2 cannot claim the word, and within docker an exact id or name names
    one container (step 3's exact match before prefixes)."""
    if (
        "docker" not in allowed
        or word.isdigit()
        or not word
        or config.podman_command != DiscoveryConfig.podman_command
    ):
        return None
    if "podman" in allowed and _podman_may_claim(word):
        return None
    try:
        state = docker_api.inspect(config.resolved_docker_host(), word, INSPECT_TIMEOUT)
    except RuntimeFailed:
        return None
    status = state.get("State") or {}
    settings = state.get("Config") or {}
    identifier, name, pid = state.get("Id"), str(state.get("Name") or ""), status.get("Pid")
    if (
        not isinstance(identifier, str)
        or word not in (identifier, name.removeprefix("/"))
        or status.get("Status") != "running"
        or status.get("Paused")
        or status.get("Restarting")
        or not isinstance(pid, int)
        or pid <= 0
        or kubernetes_from_labels(settings.get("Labels")) is not None
    ):
        return None
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        return Container(
            runtime="docker",
            id=identifier,
            name=name.removeprefix("/"),
            pid=pid,
            image=settings.get("Image") or None,
            status="running",
            started_at=start_time(pid),
            namespaces=namespaces_differing(pid),
            command=command_line(pid),
        )
    return None


def _container(fields: dict[str, object]) -> Container:
    kubernetes = fields.get("kubernetes")
    values = dict(fields)
    values["namespaces"] = frozenset(fields.get("namespaces") or ())  # type: ignore[arg-type]
    values["kubernetes"] = KubernetesInfo(**kubernetes) if isinstance(kubernetes, dict) else None
    return Container(**values)  # type: ignore[arg-type]


def podman_graphroot() -> str | None:
    """Where root's podman keeps its containers; None when that cannot be told."""
    if os.environ.get("CONTAINERS_STORAGE_CONF"):
        return None
    try:
        with open(PODMAN_STORAGE_CONF, encoding="utf-8") as conf:
            text = conf.read()
    except FileNotFoundError:
        return PODMAN_GRAPHROOT
    except OSError:
        return None
    found = re.search(r'^\s*graphroot\s*=\s*"([^"]*)"', text, re.MULTILINE)
    return found.group(1) if found else PODMAN_GRAPHROOT


def _podman_may_claim(word: str) -> bool:
    """Whether a podman container might have `word` as id, id prefix or name (podman's
    step comes before docker's); True when in doubt."""
    # no `shutil.which("podman")` first: shutil costs the command's start 5-15 ms, and
    # without podman its storage index is not there either
    graphroot = podman_graphroot()
    if graphroot is None:
        return True
    for index in glob.glob(os.path.join(glob.escape(graphroot), "*-containers/containers.json")):
        try:
            with open(index, encoding="utf-8") as file:
                records = json.load(file) or []
        except (OSError, ValueError):
            return True
        for record in records:
            if not isinstance(record, dict):
                return True
            if str(record.get("id", "")).startswith(word) or word in (record.get("names") or []):
                return True
    return False
