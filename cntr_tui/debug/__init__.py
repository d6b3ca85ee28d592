"""The debug service: a target -> an attach session (or the host's gdb) -> a gdb session
attached to one process, for every front end (the TUI, `cntr-tui gdb`, `--batch`).

`protocol` is the seam the front ends program against; `service.open_debug` is the one
way to get a live session behind it.
"""
