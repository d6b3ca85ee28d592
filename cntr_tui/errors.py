"""Errors a user can act on: printed as one line, never as a traceback."""


class UserError(Exception):
    """A problem with the user's input or machine, reported in one line.

    `exit_code` is the process exit status the command line uses for it.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
