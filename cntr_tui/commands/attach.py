"""`cntr-tui attach` and `exec`: filled in by the attach work."""

import argparse

from cntr_tui.errors import UserError


def run_attach(args: argparse.Namespace, cmd: list[str]) -> int:
    raise UserError("attach is not available in this build yet")


def run_exec(args: argparse.Namespace, cmd: list[str]) -> int:
    raise UserError("exec is not available in this build yet")
