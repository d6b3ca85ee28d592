"""Real Kubernetes pods without a kubelet: sandboxes and containers made through the CRI
(runtime.v1 RuntimeService on containerd's socket) with the requests a kubelet sends.

What the kubelet sets (pkg/kubelet/kuberuntime: labels.go, kuberuntime_sandbox.go,
kuberuntime_container.go) and this module sets too:
- sandbox: metadata (name, uid, namespace, attempt), log directory
  /var/log/pods/NS_NAME_UID, labels io.kubernetes.pod.{name,namespace,uid} plus the
  pod's own, the pod's annotations plus kubernetes.io/config.{seen,source}; Linux
  namespace options: network NODE (host network: no CNI is needed), pid CONTAINER,
  ipc POD;
- container: metadata (name, attempt = restart count), image, command, log path
  NAME/ATTEMPT.log, labels io.kubernetes.container.name and the pod's three,
  annotations io.kubernetes.container.{hash,restartCount,terminationMessagePath,
  terminationMessagePolicy} and io.kubernetes.pod.terminationGracePeriod.
Not set: the pod cgroup parent (the kubelet's /kubepods/...; left empty, containerd's
default cgroup is removed with the container), mounts, devices, resources.

No registry is reachable: the sandbox image (a static C pause program, under the tag
containerd's CRI is configured with) and the container image (the demo's slim root)
are built here and imported into containerd's k8s.io namespace with `ctr images
import`. Images are named by their content and kept, as the demo's docker image is.
Every pod is named `cntr-test-cri-...`; `Pods` removes its pods on close, and
`remove_leftovers` those a killed run left.

The CRI gives every sandbox oom_score_adj -998, which runc cannot set without
CAP_SYS_RESOURCE (root here lacks it): containerd must run with
scripts/containerd.toml (restrict_oom_score_adj). `cri_containerd()` uses the test
bed's containerd when it does, else starts one of its own on PRIVATE_SOCKET with that
file (a containerd that docker uses is never restarted), and `cli_prefix` runs a
command that sees that socket at containerd's default path, in a mount namespace of
its own: cntr-tui's discovery finds it as it finds a node's.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cntr_tui.attach.runtimes import cri
from cntr_tui.demo.containers import CONTAINERD_SOCKET, K8S_NAMESPACE, tar_of
from cntr_tui.demo.rootfs import CACHE_DIR
from cntr_tui.linux.pidfd import open_pidfd, wait_exit, wait_gone

POD_PREFIX = "cntr-test-cri-"
IMAGE_REPOSITORY = "cntr-test-cri/app"
PAUSE_IMAGE = "registry.k8s.io/pause:3.6"  # containerd's CRI sandbox_image here
LOG_ROOT = Path("/var/log/pods")
REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "scripts" / "containerd.toml"
# The test bed's own containerd when the running one's CRI cannot make a sandbox
PRIVATE_ROOT = Path("/var/lib/cntr-test-cri-containerd")
PRIVATE_STATE = Path("/run/cntr-test-cri-containerd")
PRIVATE_SOCKET = str(PRIVATE_STATE / "containerd.sock")
PRIVATE_PID = PRIVATE_STATE / "cntr-test-cri.pid"
PRIVATE_LOG = Path("/var/log/cntr-tui/cntr-test-cri-containerd.log")
CAP_SYS_RESOURCE = 24

PAUSE_SOURCE = b"""\
/* The pod's sandbox: holds its namespaces, reaps orphans, ends on SIGINT/SIGTERM. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int signal_number) { (void)signal_number; _exit(0); }

static void reap(int signal_number) {
    (void)signal_number;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction on_quit = {.sa_handler = quit};
    struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
    sigaction(SIGINT, &on_quit, NULL);
    sigaction(SIGTERM, &on_quit, NULL);
    sigaction(SIGCHLD, &on_child, NULL);
    for (;;) {
        pause();
    }
}
"""


# images


def _docker_archive(layer: bytes, tag: str, config: Mapping[str, object]) -> bytes:
    """A `docker save` archive of one layer: what `ctr images import` reads."""
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    image_config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    config_name = hashlib.sha256(image_config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}]
    ).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in (
            ("layer.tar", layer),
            (config_name, image_config),
            ("manifest.json", manifest),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def ctr(socket_path: str) -> tuple[str, ...]:
    return ("ctr", "--address", socket_path, "-n", K8S_NAMESPACE)


def image_names(socket_path: str) -> set[str]:
    listed = subprocess.run(
        [*ctr(socket_path), "images", "ls", "-q"], capture_output=True, text=True, check=True
    ).stdout
    return set(listed.split())


def _normalized(tag: str) -> str:
    """The name containerd's CRI resolves `tag` to (docker's rules)."""
    first = tag.split("/", 1)[0]
    if "/" in tag and ("." in first or ":" in first or first == "localhost"):
        return tag
    return f"docker.io/{tag}" if "/" in tag else f"docker.io/library/{tag}"


def import_image(socket_path: str, layer_root: Path, tag: str, config: Mapping[str, object]) -> str:
    """`tag` (normalized) in containerd's k8s.io namespace, imported unless it is there."""
    name = _normalized(tag)
    if name in image_names(socket_path):
        return name
    archive = _docker_archive(tar_of(layer_root), tag, config)
    with tempfile.NamedTemporaryFile(prefix="cntr-test-cri-image-", suffix=".tar") as file:
        file.write(archive)
        file.flush()
        subprocess.run(
            [*ctr(socket_path), "images", "import", file.name],
            capture_output=True,
            check=True,
        )
    if name not in image_names(socket_path):
        raise RuntimeError(f"ctr images import did not make {name}")
    return name


def pause_root(cache_dir: Path = CACHE_DIR) -> Path:
    """A root with only /pause, compiled static (cached by the source's hash)."""
    key = hashlib.sha256(PAUSE_SOURCE).hexdigest()[:12]
    root = cache_dir / f"cri-pause-{key}"
    if (root / "pause").exists():
        return root
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="cri-pause-build-", dir=cache_dir))
    try:
        (staging / "pause.c").write_bytes(PAUSE_SOURCE)
        (staging / "root").mkdir()
        subprocess.run(
            ["gcc", "-static", "-Os", "-o", str(staging / "root" / "pause"), "pause.c"],
            cwd=staging,
            capture_output=True,
            check=True,
        )
        with contextlib.suppress(OSError):  # another run made it meanwhile
            os.replace(staging / "root", root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def ensure_images(socket_path: str, demo_rootfs: Path) -> str:
    """Import the pause image and the demo's; the demo image's name for ImageSpec."""
    import_image(socket_path, pause_root(), PAUSE_IMAGE, {"Entrypoint": ["/pause"]})
    key = demo_rootfs.name.removeprefix("rootfs-")
    return import_image(
        socket_path,
        demo_rootfs,
        f"{IMAGE_REPOSITORY}:{key}",
        {"Cmd": ["/app/threads"], "Env": ["PATH=/bin"]},
    )


# pods


@dataclass(frozen=True)
class ContainerSpec:
    """A container of a pod spec: its name, command and (for a restart) its count."""

    name: str
    command: tuple[str, ...] = ("/app/threads",)
    restart_count: int = 0


@dataclass
class Pod:
    namespace: str
    name: str
    uid: str
    sandbox_id: str
    config: object = field(repr=False)  # the PodSandboxConfig, sent again with each container
    containers: dict[str, str] = field(default_factory=dict)  # name -> id of its latest

    @property
    def log_directory(self) -> Path:
        return LOG_ROOT / f"{self.namespace}_{self.name}_{self.uid}"


def pod_name(role: str) -> str:
    return f"{POD_PREFIX}{role}-{uuid.uuid4().hex[:6]}"


class Pods:
    """`with Pods(image) as pods: pods.run(ns, name, [ContainerSpec(...)])`: pods made as
    the kubelet makes them, every one stopped and removed (logs too) on close."""

    def __init__(self, socket_path: str, image: str) -> None:
        self.socket_path = socket_path
        self.image = image
        self.client = cri.Client(socket_path, timeout=60)
        self.messages = self.client.messages
        self.made: list[Pod] = []

    def sandbox_config(
        self,
        namespace: str,
        name: str,
        uid: str,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
    ) -> object:
        m = self.messages
        namespaces = m.NamespaceOption(network=m.NODE, pid=m.CONTAINER, ipc=m.POD)
        return m.PodSandboxConfig(
            metadata=m.PodSandboxMetadata(name=name, uid=uid, namespace=namespace, attempt=0),
            # no hostname: a host-network pod has the node's UTS namespace (the kubelet
            # sets one only for a pod with its own network)
            log_directory=str(LOG_ROOT / f"{namespace}_{name}_{uid}"),
            labels={
                **labels,
                "io.kubernetes.pod.name": name,
                "io.kubernetes.pod.namespace": namespace,
                "io.kubernetes.pod.uid": uid,
            },
            annotations={
                **annotations,
                "kubernetes.io/config.seen": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z"),
                "kubernetes.io/config.source": "api",
            },
            linux=m.LinuxPodSandboxConfig(
                security_context=m.LinuxSandboxSecurityContext(namespace_options=namespaces)
            ),
        )

    def run(
        self,
        namespace: str,
        name: str,
        containers: Iterable[ContainerSpec] = (ContainerSpec("app"),),
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> Pod:
        """RunPodSandbox, then CreateContainer and StartContainer for each container in
        order, as the kubelet starts a pod's containers."""
        assert name.startswith(POD_PREFIX), name
        uid = str(uuid.uuid4())
        config = self.sandbox_config(
            namespace, name, uid, labels or {"app": name}, annotations or {}
        )
        reply = self.client.call("RunPodSandbox", self.messages.RunPodSandboxRequest(config=config))
        pod = Pod(namespace, name, uid, reply.pod_sandbox_id, config)
        self.made.append(pod)
        for spec in containers:
            self.start(pod, spec)
        return pod

    def container_config(self, pod: Pod, spec: ContainerSpec) -> object:
        m = self.messages
        namespaces = m.NamespaceOption(network=m.NODE, pid=m.CONTAINER, ipc=m.POD)
        return m.ContainerConfig(
            metadata=m.ContainerMetadata(name=spec.name, attempt=spec.restart_count),
            image=m.ImageSpec(image=self.image),
            command=list(spec.command),
            labels={
                "io.kubernetes.container.name": spec.name,
                "io.kubernetes.pod.name": pod.name,
                "io.kubernetes.pod.namespace": pod.namespace,
                "io.kubernetes.pod.uid": pod.uid,
            },
            annotations={
                "io.kubernetes.container.hash": hashlib.sha256(
                    repr(spec.command).encode()
                ).hexdigest()[:8],
                cri.RESTART_COUNT_ANNOTATION: str(spec.restart_count),
                "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
                "io.kubernetes.container.terminationMessagePolicy": "File",
                "io.kubernetes.pod.terminationGracePeriod": "30",
            },
            log_path=f"{spec.name}/{spec.restart_count}.log",
            linux=m.LinuxContainerConfig(
                security_context=m.LinuxContainerSecurityContext(namespace_options=namespaces)
            ),
        )

    def start(self, pod: Pod, spec: ContainerSpec) -> str:
        """CreateContainer + StartContainer of `spec` in `pod`: its id (also a restart,
        with the next restart count, as the kubelet restarts an exited container)."""
        m = self.messages
        created = self.client.call(
            "CreateContainer",
            m.CreateContainerRequest(
                pod_sandbox_id=pod.sandbox_id,
                config=self.container_config(pod, spec),
                sandbox_config=pod.config,
            ),
        )
        self.client.call(
            "StartContainer", m.StartContainerRequest(container_id=created.container_id)
        )
        pod.containers[spec.name] = created.container_id
        return created.container_id

    def status(self, container_id: str) -> tuple[object, dict[str, object]]:
        """The ContainerStatus and its verbose info (containerd's JSON: pid, ...)."""
        reply = self.client.call(
            "ContainerStatus",
            self.messages.ContainerStatusRequest(container_id=container_id, verbose=True),
        )
        info = json.loads(reply.info["info"]) if "info" in reply.info else {}
        return reply.status, info

    def pid(self, container_id: str) -> int:
        return int(self.status(container_id)[1].get("pid", 0))

    def sandbox_pid(self, pod: Pod) -> int:
        containers = subprocess.run(
            [*ctr(self.socket_path), "task", "ls"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[1:]
        for line in containers:
            task, pid, *_ = line.split()
            if task == pod.sandbox_id:
                return int(pid)
        raise LookupError(f"no task for sandbox {pod.sandbox_id}")

    def wait_exited(self, container_id: str, timeout: float = 30) -> object:
        """The status once the CRI says the container exited. Its process's end is
        waited on through a pidfd; the CRI records the exit after containerd's event
        (1.6 has no CRI event stream), so it is asked again until it has, bounded."""
        pid = self.pid(container_id)
        pidfd = open_pidfd(pid) if pid > 0 else None
        if pidfd is not None:
            try:
                if not wait_exit(pidfd, timeout):
                    raise TimeoutError(f"container {container_id} still runs after {timeout} s")
            finally:
                os.close(pidfd)
        deadline = time.monotonic() + timeout
        while True:
            status, _ = self.status(container_id)
            if status.state == self.messages.CONTAINER_EXITED:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"the CRI does not say {container_id} exited")
            time.sleep(0.05)  # the CRI's own record lags the process's end

    def remove(self, pod: Pod) -> None:
        """StopPodSandbox and RemovePodSandbox (its containers go with it), its logs."""
        m = self.messages
        with contextlib.suppress(Exception):
            self.client.call(
                "StopPodSandbox", m.StopPodSandboxRequest(pod_sandbox_id=pod.sandbox_id)
            )
        self.client.call(
            "RemovePodSandbox", m.RemovePodSandboxRequest(pod_sandbox_id=pod.sandbox_id)
        )
        shutil.rmtree(pod.log_directory, ignore_errors=True)
        if pod in self.made:
            self.made.remove(pod)

    def close(self) -> list[str]:
        """Remove every pod made here; the errors of those that failed."""
        errors = []
        for pod in reversed(list(self.made)):
            try:
                self.remove(pod)
            except Exception as error:  # the next pods are removed all the same
                errors.append(f"{pod.namespace}/{pod.name}: {error}")
        self.client.channel.close()
        return errors

    def __enter__(self) -> Pods:
        return self

    def __exit__(self, *exc_info: object) -> None:
        errors = self.close()
        if errors and exc_info[0] is None:
            raise RuntimeError("pods not removed: " + "; ".join(errors))


def remove_leftovers(socket_path: str) -> int:
    """Remove every `cntr-test-cri-` sandbox (with its logs) a killed run left; how many."""
    with cri.Client(socket_path, timeout=60) as client:
        m = client.messages
        sandboxes = cri.parse_sandboxes(client.call("ListPodSandbox", m.ListPodSandboxRequest()))
        removed = 0
        for sandbox in sandboxes:
            if not sandbox.name.startswith(POD_PREFIX):
                continue
            with contextlib.suppress(Exception):
                client.call("StopPodSandbox", m.StopPodSandboxRequest(pod_sandbox_id=sandbox.id))
            client.call("RemovePodSandbox", m.RemovePodSandboxRequest(pod_sandbox_id=sandbox.id))
            shutil.rmtree(
                LOG_ROOT / f"{sandbox.namespace}_{sandbox.name}_{sandbox.uid}", ignore_errors=True
            )
            removed += 1
        return removed


# the containerd whose CRI makes the pods


def can_lower_oom_score() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    return False


def makes_sandboxes(socket_path: str) -> bool:
    """Whether the containerd on `socket_path` answers and its CRI can run a sandbox here."""
    try:
        with cri.Client(socket_path, timeout=10) as client:
            reply = client.call("Status", client.messages.StatusRequest(verbose=True))
    except Exception:
        return False
    config = json.loads(reply.info.get("config", "{}"))
    return can_lower_oom_score() or bool(config.get("restrictOOMScoreAdj"))


def _wait_answers(socket_path: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    import grpc

    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        channel = grpc.insecure_channel(f"unix://{socket_path}")
        try:
            # gRPC's own wait for the socket to accept, a second at a time
            grpc.channel_ready_future(channel).result(timeout=1)
            return
        except grpc.FutureTimeoutError:
            continue
        finally:
            channel.close()
    raise RuntimeError(f"containerd did not answer on {socket_path}; see {PRIVATE_LOG}")


@contextlib.contextmanager
def cri_containerd() -> Iterator[str]:
    """The socket of a containerd whose CRI makes sandboxes: the test bed's when it
    can, else one started here (and stopped after) with scripts/containerd.toml."""
    if makes_sandboxes(CONTAINERD_SOCKET):
        yield CONTAINERD_SOCKET
        return
    PRIVATE_STATE.mkdir(parents=True, exist_ok=True)
    PRIVATE_LOG.parent.mkdir(parents=True, exist_ok=True)
    stop_left_over()
    with PRIVATE_LOG.open("ab") as log:
        process = subprocess.Popen(
            [
                "containerd",
                "--config", str(CONFIG),
                "--address", PRIVATE_SOCKET,
                "--root", str(PRIVATE_ROOT),
                "--state", str(PRIVATE_STATE),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )  # fmt: skip
    PRIVATE_PID.write_text(f"{process.pid}\n")
    try:
        _wait_answers(PRIVATE_SOCKET, process, timeout=60)
        if not makes_sandboxes(PRIVATE_SOCKET):
            raise RuntimeError(f"the CRI of the containerd on {PRIVATE_SOCKET} is not restricted")
        remove_leftovers(PRIVATE_SOCKET)
        yield PRIVATE_SOCKET
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        PRIVATE_PID.unlink(missing_ok=True)
        remove_state()


def remove_state() -> None:
    """The stopped containerd's state folder (sockets, task bundles), unless something
    is still mounted there; its root (images, snapshots) stays, a cache like the demo's."""
    mounted = Path("/proc/self/mountinfo").read_text()
    if f" {PRIVATE_STATE}/" not in mounted and f" {PRIVATE_STATE} " not in mounted:
        shutil.rmtree(PRIVATE_STATE, ignore_errors=True)


def stop_left_over() -> None:
    """Stop the containerd an earlier run started here and could not stop (killed): the
    process its pid file names, if that is still our containerd."""
    try:
        pid = int(PRIVATE_PID.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if command[:1] == [b"containerd"] and PRIVATE_SOCKET.encode() in command:
        os.kill(pid, signal.SIGTERM)
        wait_gone(pid, 30)
    PRIVATE_PID.unlink(missing_ok=True)


def cli_prefix(socket_path: str) -> list[str]:
    """What runs a command so that it finds `socket_path` at containerd's default path:
    nothing for the test bed's own; for another, a mount namespace of its own (private:
    nothing propagates to the host's) with that socket bound over the default."""
    if socket_path == CONTAINERD_SOCKET:
        return []
    bind = 'mount --bind "$0" "$1" && shift && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", bind,
            socket_path, CONTAINERD_SOCKET]  # fmt: skip
