"""A stand-in for `kubectl` in front of an API server that has the recorded pods of
this folder: `get pod NAME -o json` answers `pods/NAME.json` of FAKE_KUBECTL_PODS (a
debug pod, `cntr-tui-*`, answers FAKE_KUBECTL_DEBUG_POD), `create`, `wait`, `exec` and
`delete` do what FAKE_KUBECTL_BEHAVIOUR (JSON) says. Every call is appended to
FAKE_KUBECTL_LOG as one JSON line: its arguments, and its standard input for create."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def log(entry: dict[str, object]) -> None:
    with open(os.environ["FAKE_KUBECTL_LOG"], "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


def option(args: list[str], name: str) -> str | None:
    if name in args:
        return args[args.index(name) + 1]
    return None


def fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def get(args: list[str], behaviour: dict[str, object]) -> int:
    if "get" in behaviour:
        return fail(str(behaviour["get"]))
    name = args[args.index("pod") + 1]
    namespace = option(args, "-n") or "default"
    path = Path(os.environ["FAKE_KUBECTL_PODS"]) / f"{name}.json"
    if name.startswith("cntr-tui-") and os.environ.get("FAKE_KUBECTL_DEBUG_POD"):
        path = Path(os.environ["FAKE_KUBECTL_DEBUG_POD"])
    if not path.exists():
        return fail(f'Error from server (NotFound): pods "{name}" not found')
    answer = json.loads(path.read_text())
    if answer["metadata"]["namespace"] != namespace and not name.startswith("cntr-tui-"):
        return fail(f'Error from server (NotFound): pods "{name}" not found')
    print(json.dumps(answer, indent=4))
    return 0


def exec_(behaviour: dict[str, object]) -> int:
    what = str(behaviour.get("exec", "exit:0"))
    if what == "block":

        def on_term(signum: int, frame: object) -> None:
            log({"signal": signal.Signals(signum).name})
            sys.exit(128 + signum)

        signal.signal(signal.SIGTERM, on_term)
        print("fake-exec-started", flush=True)
        while True:
            signal.pause()
    code = int(what.removeprefix("exit:"))
    print(f"fake-exec-ran isatty={os.isatty(0)}", flush=True)
    if code:
        print(f"command terminated with exit code {code}", file=sys.stderr)
    return code


def main(args: list[str]) -> int:
    behaviour = json.loads(os.environ.get("FAKE_KUBECTL_BEHAVIOUR", "{}"))
    verb = next(arg for arg in args if not arg.startswith("-"))
    entry: dict[str, object] = {"args": args}
    if verb == "create":
        entry["stdin"] = sys.stdin.read()
    log(entry)
    match verb:
        case "get":
            return get(args, behaviour)
        case "create":
            manifest = json.loads(str(entry["stdin"]))
            if "create" in behaviour:
                return fail(str(behaviour["create"]))
            print(f"pod/{manifest['metadata']['name']}")
            return 0
        case "wait":
            if "wait" in behaviour:
                return fail(str(behaviour["wait"]))
            name = next(arg for arg in args if arg.startswith("pod/"))
            print(f"{name} condition met")
            return 0
        case "exec":
            return exec_(behaviour)
        case "delete":
            if "delete" in behaviour:
                return fail(str(behaviour["delete"]))
            name = args[args.index("pod") + 1]
            print(f'pod "{name}" deleted')
            return 0
    return fail(f"error: unknown command {verb!r} for kubectl")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
