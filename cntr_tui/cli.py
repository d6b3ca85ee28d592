"""Command line: argument parsing, then one function per subcommand.

Heavy modules (textual, pyfuse3, docker) are imported inside the subcommand that
needs them, so `cntr-tui ls` and `--help` start fast.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from cntr_tui import __version__
from cntr_tui.attach.container import RUNTIMES
from cntr_tui.errors import UserError, error_line

PROG = "cntr-tui"
# Commands whose work is over when `run` returns (sessions closed, gdb gone, output
# written): run as the program, they end with the exit handlers and os._exit, without
# the interpreter's teardown of every module and object (30-80 ms, measured on
# `cntr-tui gdb --batch`), which frees nothing the kernel does not free anyway.
QUICK_EXIT_COMMANDS = frozenset({"ls", "attach", "exec", "gdb", "snapshot", "core"})
# Commands that may start a merged root: the resident agent, which keeps a file server's
# imports done, is started right after the parse when none runs (attach/spare_server.py).
SPARE_SERVER_COMMANDS = frozenset({"attach", "gdb"})


def terminal_columns() -> int:
    """As shutil.get_terminal_size() tells them: $COLUMNS, else stdout's terminal, else 80."""
    with contextlib.suppress(KeyError, ValueError):
        if (columns := int(os.environ["COLUMNS"])) > 0:
            return columns
    with contextlib.suppress(AttributeError, ValueError, OSError):
        if (columns := os.get_terminal_size(sys.__stdout__.fileno()).columns) > 0:  # type: ignore[union-attr]
            return columns
    return 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the width: left to find it, argparse imports shutil
    (with bz2 and lzma: 5-15 ms of every command's start, measured)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2, with
    the prefix of every other error: `cntr-tui: gdb: argument --pid: ... (see
    cntr-tui gdb --help)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        subcommand = self.prog.removeprefix(PROG).strip()
        where = f"{subcommand}: " if subcommand else ""
        self.exit(2, error_line(f"{where}{message} (see {self.prog} --help)") + "\n")


Subparsers = argparse._SubParsersAction


def runtime_types(text: str) -> tuple[str, ...]:
    """Parse `-t docker,podman` into a tuple of known runtime names."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in RUNTIMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown runtime {','.join(unknown) or repr(text)}; choose from {','.join(RUNTIMES)}"
        )
    return names


def add_ls(sub: Subparsers) -> None:
    ls = sub.add_parser("ls", help="list running containers of every runtime")
    ls.add_argument("-t", "--type", dest="types", type=runtime_types, help="runtimes to list")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.add_argument(
        "container",
        nargs="?",
        metavar="CONTAINER",
        help="show only the container this word names (as attach would resolve it)",
    )


def add_attach(sub: Subparsers) -> None:
    attach = sub.add_parser(
        "attach",
        help="start a command inside a container, host tools at /, its root at /var/lib/cntr",
    )
    attach.add_argument("-t", "--type", dest="types", type=runtime_types)
    attach.add_argument(
        "--fs",
        choices=("fuse", "mount"),
        default="fuse",
        help="how the merged root is built (default: fuse)",
    )
    attach.add_argument("--effective-user", metavar="USER")
    attach.add_argument(
        "--no-cgroup", action="store_true", help="do not join the container's cgroup"
    )
    attach.add_argument("container", metavar="CONTAINER")
    attach.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")


def add_exec(sub: Subparsers) -> None:
    exec_ = sub.add_parser("exec", help="run a command chrooted into the container's own root")
    exec_.add_argument("-t", "--type", dest="types", type=runtime_types)
    exec_.add_argument("container", metavar="CONTAINER")
    exec_.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")


def add_gdb(sub: Subparsers) -> None:
    gdb = sub.add_parser("gdb", help="attach gdb to a container process inside the merged root")
    gdb.add_argument("-t", "--type", dest="types", type=runtime_types)
    gdb.add_argument("--pid", type=int, help="PID in the container's PID namespace")
    gdb.add_argument(
        "--follow-fork",
        choices=("parent", "child"),
        default="parent",
        help="the process gdb debugs after a fork (gdb's follow-fork-mode; default parent)",
    )
    gdb.add_argument(
        "--no-detach-on-fork",
        dest="detach_on_fork",
        action="store_false",
        help="keep the other process of a fork under gdb too, held (an inferior of its own)",
    )
    gdb.add_argument("--batch", action="store_true", help="run the -ex commands, then detach")
    gdb.add_argument("-ex", dest="ex", action="append", default=[], metavar="CMD")
    gdb.add_argument("--core", metavar="FILE", help="open a core kept by `cntr-tui core`")
    gdb.add_argument(
        "--non-stop",
        action="store_true",
        help="gdb's non-stop mode: a thread stops alone, the others run on",
    )
    gdb.add_argument("container", nargs="?", metavar="CONTAINER")


def positive_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of milliseconds: {text!r}")
    return value


def add_snapshot(sub: Subparsers) -> None:
    snapshot = sub.add_parser(
        "snapshot",
        help="every thread's stack of a container process, then it runs on; says the pause",
    )
    snapshot.add_argument("-t", "--type", dest="types", type=runtime_types)
    snapshot.add_argument("--pid", type=int, help="PID in the container's PID namespace")
    snapshot.add_argument("--json", action="store_true", help="every thread, as JSON (schema v3)")
    snapshot.add_argument(
        "--locals", action="store_true", help="the locals of each thread's innermost frames"
    )
    snapshot.add_argument(
        "--max-pause",
        type=positive_ms,
        metavar="MS",
        help="stop reading (and say what is missing) rather than stop the program longer",
    )
    snapshot.add_argument(
        "--core", metavar="FILE", help="the snapshot of a core kept by `cntr-tui core`"
    )
    snapshot.add_argument(
        "--via-gdb",
        action="store_true",
        help="stop the program through gdb (the old path), not with the fast stop",
    )
    snapshot.add_argument(
        "--keep-core",
        nargs="?",
        const="",
        metavar="FILE",
        help="keep the fast stop's core and its objects (default under /var/lib/cntr-tui/cores/)",
    )
    snapshot.add_argument("container", nargs="?", metavar="CONTAINER")


def add_core(sub: Subparsers) -> None:
    core = sub.add_parser(
        "core",
        help="a core of a container process on the host, with the objects it maps kept beside it",
    )
    core.add_argument("-t", "--type", dest="types", type=runtime_types)
    core.add_argument("--pid", type=int, help="PID in the container's PID namespace")
    core.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where the core goes (default: under /var/lib/cntr-tui/cores/)",
    )
    core.add_argument("container", metavar="CONTAINER")


def add_cores(sub: Subparsers) -> None:
    cores = sub.add_parser(
        "cores",
        help="cores of containers: kept by `cntr-tui core`, and written by the kernel in them",
    )
    cores.add_argument("-t", "--type", dest="types", type=runtime_types)
    cores.add_argument("--json", action="store_true", help="print a JSON array")
    cores.add_argument(
        "--keep",
        metavar="PATH",
        help="copy the kernel's core at PATH in CONTAINER, and the files it maps, to the host",
    )
    cores.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where --keep puts it (default: under /var/lib/cntr-tui/cores/)",
    )
    cores.add_argument("container", nargs="?", metavar="CONTAINER")


def add_demo(sub: Subparsers) -> None:
    demo = sub.add_parser(
        "demo", help="start a slim demo container and open the UI on it; stops it on quit"
    )
    demo.add_argument(
        "--runtime",
        choices=("auto", "docker", "process"),
        default="auto",
        help="docker when dockerd answers, else plain namespaces (default: auto)",
    )
    demo.add_argument(
        "--no-ui",
        action="store_true",
        help="start the demo container, print its runtime, name and PID, keep it until "
        "interrupted (Ctrl-C or SIGTERM), then remove it",
    )


def add_doctor(sub: Subparsers) -> None:
    doctor = sub.add_parser(
        "doctor", help="check what an attach needs (host, and CONTAINER when given); 1 on a fail"
    )
    doctor.add_argument("-t", "--type", dest="types", type=runtime_types)
    doctor.add_argument("--json", action="store_true", help="print a JSON array of checks")
    doctor.add_argument("container", nargs="?", metavar="CONTAINER")


def add_agent(sub: Subparsers) -> None:
    agent = sub.add_parser(
        "agent", help="the resident agent that keeps file servers ready: status or stop"
    )
    agent.add_argument("action", choices=("status", "stop"))


def add_ui(sub: Subparsers) -> None:
    ui = sub.add_parser(
        "ui", help="the terminal UI, with CONTAINER selected (kubectl cntr's node pod runs it)"
    )
    ui.add_argument("-t", "--type", dest="types", type=runtime_types)
    ui.add_argument(
        "--debugger", action="store_true", help="open the debugger on CONTAINER at once"
    )
    ui.add_argument("container", nargs="?", metavar="CONTAINER")


SUBCOMMANDS = {
    "ls": add_ls,
    "attach": add_attach,
    "exec": add_exec,
    "gdb": add_gdb,
    "snapshot": add_snapshot,
    "core": add_core,
    "cores": add_cores,
    "demo": add_demo,
    "doctor": add_doctor,
    "ui": add_ui,
    "agent": add_agent,
}


def build_parser(only: str | None = None) -> OneLineParser:
    """The whole command line, or with `only` (a subcommand's name) the top level and
    that subcommand: what parsing `only`'s arguments needs, at a fraction of the cost
    (argparse's add_argument is slow; every command pays it before it can start)."""
    parser = OneLineParser(
        prog=PROG,
        description="Debug slim containers with the host's tools: list containers of every "
        "runtime, attach a shell or gdb through a FUSE-merged root. "
        "Without a subcommand, starts the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, add in SUBCOMMANDS.items():
        if only is None or name == only:
            add(sub)
    return parser


def requested_subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` starts with, when it starts with one (anything else, such
    as `--help` or a mistyped name, needs the whole parser for its answer)."""
    return argv[0] if argv and argv[0] in SUBCOMMANDS else None


def strip_separator(cmd: Sequence[str]) -> list[str]:
    args = list(cmd)
    if args and args[0] == "--":
        args = args[1:]
    return args


def run(args: argparse.Namespace) -> int:
    match args.command:
        case None:
            from cntr_tui.app.main import run_app

            return run_app()
        case "ls":
            from cntr_tui.commands.ls import run_ls

            return run_ls(types=args.types, as_json=args.json, word=args.container)
        case "attach":
            from cntr_tui.commands.attach import run_attach

            return run_attach(args, strip_separator(args.cmd))
        case "exec":
            from cntr_tui.commands.attach import run_exec

            return run_exec(args, strip_separator(args.cmd))
        case "gdb":
            from cntr_tui.attach.spare import spare_helpers

            # gdb's and gdbserver's attach helpers start their Python now, while we look
            # the container up; those left unused are ended on the way out
            with spare_helpers(2 if args.batch and args.core is None else 0) as spares:
                from cntr_tui.commands.gdb import run_gdb

                return run_gdb(args, spares)
        case "snapshot":
            from cntr_tui.attach.spare import spare_helpers

            with spare_helpers(0 if args.core else 2) as spares:
                from cntr_tui.commands.snapshot import run_snapshot

                return run_snapshot(args, spares)
        case "core":
            from cntr_tui.attach.spare import spare_helpers

            with spare_helpers(2) as spares:
                from cntr_tui.commands.core import run_core

                return run_core(args, spares)
        case "cores":
            from cntr_tui.commands.cores import run_cores

            return run_cores(args)
        case "demo":
            from cntr_tui.commands.demo import run_demo

            return run_demo(runtime=args.runtime, with_ui=not args.no_ui)
        case "doctor":
            from cntr_tui.commands.doctor import run_doctor

            return run_doctor(types=args.types, as_json=args.json, word=args.container)
        case "agent":
            from cntr_tui.commands.agent import run_agent

            return run_agent(args.action)
        case "ui":
            from cntr_tui.commands.ui import run_ui

            return run_ui(word=args.container, types=args.types, debugger=args.debugger)
    raise AssertionError(args.command)


def start_spare_server(args: argparse.Namespace) -> bool:
    """The resident agent, for the merged root this command may start, begun now when
    none runs (attach/spare_server.py): it imports while we import and look up. True
    if this command started it."""
    if args.container is None or getattr(args, "core", None) is not None:
        return False
    from cntr_tui.attach import spare_server

    return spare_server.start(args.container, getattr(args, "fs", "fuse"))


def quick_exit(code: int) -> None:
    """End the process now with `code`, as a normal exit would but without the
    interpreter's teardown; returns (and lets the normal exit happen) while a
    non-daemon thread still runs, since a normal exit would wait for it."""
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(not thread.daemon for thread in others):
        return
    atexit._run_exitfuncs()  # logging's flush, weakref finalizers (temporary folders)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """The program; `argv` None means this process is cntr-tui itself (console script
    or `python -m`), and a finished command may end it at once (see quick_exit)."""
    words = sys.argv[1:] if argv is None else list(argv)
    command = None
    started_agent = False
    try:
        parser = build_parser(requested_subcommand(words))
        args = parser.parse_args(words)
        command = args.command
        if argv is None and command in SPARE_SERVER_COMMANDS:
            started_agent = start_spare_server(args)
        code = run(args)
        sys.stdout.flush()  # a reader that left shows here, not at the interpreter's exit
    except UserError as error:
        print(error_line(str(error)), file=sys.stderr)
        code = error.exit_code
        if started_agent:  # bad input leaves nothing behind
            from cntr_tui.attach import spare_server

            spare_server.stop_started()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        if not stdout_is_broken():
            raise
        code = EXIT_BROKEN_PIPE
    if argv is None and command in QUICK_EXIT_COMMANDS:
        quick_exit(code)
    return code


# `cntr-tui ls | head`: the reader left. End quietly with the status of a command
# killed by SIGPIPE, as coreutils' would (Python ignores SIGPIPE and raises instead).
EXIT_BROKEN_PIPE = 128 + 13


def stdout_is_broken() -> bool:
    """True when our standard output is a pipe with no reader left (poll says POLLERR);
    stdout is then pointed at /dev/null, so the interpreter's final flush does not fail
    a second time."""
    import select

    poller = select.poll()
    poller.register(sys.stdout.fileno(), 0)
    if not any(events & select.POLLERR for _, events in poller.poll(0)):
        return False
    devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return True


if __name__ == "__main__":
    sys.exit(main())
