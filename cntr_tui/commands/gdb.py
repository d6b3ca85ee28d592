"""`cntr-tui gdb`: filled in by the gdb engine work."""

import argparse

from cntr_tui.errors import UserError


def run_gdb(args: argparse.Namespace) -> int:
    raise UserError("gdb is not available in this build yet")
