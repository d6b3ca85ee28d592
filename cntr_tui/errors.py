"""Errors a user can act on: printed as one line, never as a traceback.

Every line cntr-tui itself writes to stderr starts with `cntr-tui: ` (PREFIX):
errors, usage errors (cli.OneLineParser) and warnings (`cntr-tui: warning: `).
"""

import sys

PREFIX = "cntr-tui: "


class UserError(Exception):
    """A problem with the user's input or machine, reported in one line.

    `exit_code` is the process exit status the command line uses for it.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def error_line(message: str) -> str:
    return f"{PREFIX}{message}"


def warning_line(message: str) -> str:
    return f"{PREFIX}warning: {message}"


def warn_on_stderr(message: str) -> None:
    print(warning_line(message), file=sys.stderr, flush=True)
