"""`cntr-tui ls`: filled in by the discovery work."""

from cntr_tui.errors import UserError


def run_ls(types: tuple[str, ...] | None, as_json: bool) -> int:
    raise UserError("ls is not available in this build yet")
