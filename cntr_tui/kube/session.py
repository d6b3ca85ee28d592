"""One `kubectl cntr` session: create the node debug pod, wait until it runs, run
cntr-tui in it with the user's terminal (`kubectl exec`), delete it.

The pod is deleted when the command ends, when kubectl exec fails, and on SIGINT,
SIGTERM or SIGHUP (the first of them turns into `Interrupted`; from then on they are
ignored, so that the delete is not cut short). If this process dies without its
handlers (SIGKILL, a laptop that sleeps), the pod's own time limit
(activeDeadlineSeconds, and its `sleep`) ends it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from dataclasses import dataclass

from cntr_tui.ending_signals import ignore_signals, signals_raising
from cntr_tui.errors import UserError, error_line, warning_line
from cntr_tui.kube.kubectl import Kubectl
from cntr_tui.kube.manifest import CONTAINER_NAME, DebugPod, manifest
from cntr_tui.kube.pod import pod_from_api

ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
START_TIMEOUT = 300  # s: pulling the node image on a fresh node takes a while
STOP_TIMEOUT = 10.0  # s: kubectl exec's own end after our SIGTERM


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def ignore_ending_signals() -> None:
    ignore_signals(ENDING_SIGNALS)


def ending_signals_raise() -> contextlib.AbstractContextManager[None]:
    """The first ending signal raises Interrupted; the next ones are ignored (the
    caller's handlers are back on the way out)."""
    return signals_raising(ENDING_SIGNALS, Interrupted, then_ignored=True)


def exec_words(pod: DebugPod, interactive: bool) -> list[str]:
    """The kubectl arguments that run the pod's command in it (`-it` on a terminal)."""
    terminal = ["-i", "-t"] if interactive else []
    return [
        "exec", "-n", pod.namespace, pod.name, "-c", CONTAINER_NAME, *terminal, "--",
        *pod.command,
    ]  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    """kubectl exec, asked to end (its stream closes: the command in the pod gets its
    terminal's hang-up), then killed if it does not."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Attempt:
    tried: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class Session:
    kubectl: Kubectl
    pod: DebugPod
    start_timeout: int = START_TIMEOUT

    @property
    def label(self) -> str:
        return f"{self.pod.namespace}/{self.pod.name}"

    def run(self, interactive: bool) -> int:
        """The command's exit status in the pod (128+N after signal N)."""
        attempt = Attempt()
        with ending_signals_raise():
            try:
                try:
                    self.announce()
                    attempt.tried = True  # a create cut short may still have made the pod
                    self.create()
                    self.wait_running()
                    return self.enter(interactive)
                finally:
                    self.clean_up(attempt)
            except Interrupted as interrupted:
                # a signal that came as the clean-up began: it is done now, signals ignored
                self.clean_up(attempt)
                return 128 + interrupted.signum

    def announce(self) -> None:
        print(
            error_line(
                f"debug pod {self.label} on node {self.pod.node} (deleted when this ends;"
                f" its time limit {self.pod.timeout} s)"
            ),
            file=sys.stderr,
            flush=True,
        )

    def clean_up(self, attempt: Attempt) -> None:
        ignore_ending_signals()
        if attempt.tried and not attempt.deleted:
            attempt.deleted = True
            self.delete()

    def create(self) -> None:
        self.kubectl.run(["create", "-f", "-", "-o", "name"], json.dumps(manifest(self.pod)))

    def wait_running(self) -> None:
        words = [
            "wait", "--for=condition=Ready", f"pod/{self.pod.name}", "-n", self.pod.namespace,
            f"--timeout={self.start_timeout}s",
        ]  # fmt: skip
        try:
            self.kubectl.run(words, timeout=self.start_timeout + 30)
        except UserError as error:
            why = self.why_not_running() or str(error)
            raise UserError(f"debug pod {self.label} did not start: {why}") from error

    def why_not_running(self) -> str | None:
        """The debug container's state (ErrImagePull...) or why it is not scheduled."""
        try:
            answer = self.kubectl.get_json(["pod", self.pod.name, "-n", self.pod.namespace])
            pod = pod_from_api(answer)
        except UserError:
            return None
        state = pod.statuses.get(CONTAINER_NAME)
        if state is not None:
            return state.describe()
        return pod.unscheduled or f"it is {pod.phase}"

    def enter(self, interactive: bool) -> int:
        process = subprocess.Popen(self.kubectl.command(exec_words(self.pod, interactive)))
        try:
            return process.wait()
        except Interrupted:
            stop(process)
            raise

    def delete(self) -> None:
        words = ["delete", "pod", self.pod.name, "-n", self.pod.namespace, "--wait=false"]
        try:
            self.kubectl.run([*words, "--ignore-not-found"], timeout=30)
        except UserError as error:
            print(
                warning_line(
                    f"debug pod {self.label} is left ({error}); its time limit ends it,"
                    f" or run: kubectl {' '.join(words)}"
                ),
                file=sys.stderr,
                flush=True,
            )
