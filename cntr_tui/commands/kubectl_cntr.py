"""`kubectl cntr [-n NS] POD [-c CONTAINER] [--dry-run] [--image IMAGE] [--timeout SECONDS]
[-- CNTR-TUI ARGS]` (the `kubectl-cntr` program, which kubectl runs as its `cntr` plugin).

Asks the API server (through kubectl) where the pod runs and which runtime id its
container has, then runs cntr-tui on that container from a short-lived node debug pod
on the pod's node (cntr_tui/kube/): the TUI by default, or the cntr-tui command given
after `--` (`-- gdb --batch -ex bt`, `-- snapshot`). `--dry-run` prints the debug pod's
manifest (JSON, which kubectl takes as it takes YAML) and creates nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from cntr_tui.errors import UserError, error_line, warn_on_stderr
from cntr_tui.kube.address import cntr_tui_command, parse_container_id
from cntr_tui.kube.kubectl import NOT_FOUND, Kubectl, KubectlFailed
from cntr_tui.kube.manifest import DEFAULT_TIMEOUT, IMAGE, DebugPod, debug_pod_name, manifest
from cntr_tui.kube.pod import Pod, choose_container, pod_from_api

PROG = "kubectl cntr"


class Parser(argparse.ArgumentParser):
    """Usage errors as one line, `cntr-tui: kubectl cntr: ... (see kubectl cntr --help)`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, error_line(f"{PROG}: {message} (see {PROG} --help)") + "\n")


def seconds(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return int(text)


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Debug a pod's container with cntr-tui, from a short-lived node debug "
        "pod on its node (deleted when this ends). After --, a cntr-tui command to run on "
        "the container instead of the TUI: -- gdb --batch -ex bt, -- snapshot, ...",
    )
    parser.add_argument("-n", "--namespace", help="the pod's namespace (default: the context's)")
    parser.add_argument("pod", metavar="POD")
    parser.add_argument("-c", "--container", help="the pod's container (default: as kubectl's)")
    parser.add_argument("--dry-run", action="store_true", help="print the manifest, create none")
    parser.add_argument("--image", default=IMAGE, help=f"the node image (default: {IMAGE})")
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"the debug pod's time limit (default: {DEFAULT_TIMEOUT})",
    )
    return parser


def split_at_separator(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    words = list(argv)
    if "--" in words:
        at = words.index("--")
        return words[:at], words[at + 1 :]
    return words, []


def look_up(kubectl: Kubectl, name: str, namespace: str | None) -> Pod:
    where = ["-n", namespace] if namespace else []
    try:
        answer: dict[str, Any] = kubectl.get_json(["pod", name, *where])
    except KubectlFailed as failed:
        if NOT_FOUND in failed.stderr:
            scope = f"namespace {namespace!r}" if namespace else "the context's namespace"
            raise UserError(
                f"pod {name!r} not found in {scope} (another one: -n NAMESPACE)"
            ) from None
        raise
    return pod_from_api(answer)


def run(args: argparse.Namespace, rest: Sequence[str]) -> int:
    kubectl = Kubectl.find()
    pod = look_up(kubectl, args.pod, args.namespace)
    choice = choose_container(pod, args.container)
    if choice.state.container_id is None:
        raise UserError(f"container {choice.state.name} of pod {pod.label} has no runtime id yet")
    address = parse_container_id(choice.state.container_id)
    command = cntr_tui_command(address, rest)
    interactive = sys.stdin.isatty()
    if command[1] == "ui" and not interactive and not args.dry_run:
        raise UserError(
            "the TUI needs a terminal; without one, give a command: -- gdb --batch -ex bt"
        )
    assert pod.node is not None  # choose_container refuses a pod on no node
    debug_pod = DebugPod(
        namespace=pod.namespace,
        name=debug_pod_name(pod.name),
        node=pod.node,
        image=args.image,
        timeout=args.timeout,
        command=tuple(command),
        target=f"{pod.label}/{choice.state.name}",
    )
    if args.dry_run:
        print(json.dumps(manifest(debug_pod), indent=2))
        return 0
    if choice.note is not None:
        warn_on_stderr(choice.note)
    from cntr_tui.kube.session import Session

    return Session(kubectl, debug_pod).run(interactive)


def main(argv: Sequence[str] | None = None) -> int:
    own, rest = split_at_separator(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(own)
    try:
        code = run(args, rest)
        sys.stdout.flush()
    except UserError as error:
        print(error_line(str(error)), file=sys.stderr)
        return error.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
