"""The GDB/MI engine: gdb over MI inside an attach session, no UI code.

Entry points: `session.GdbSession`, `attached.AttachLauncher` (gdb inside the
container), `launch.HostLauncher` (host gdb), `events` and `records` (typed data),
`symbols` (setup and the symbol report), `gdbserver` (the tracer, run from host files
through a descriptor the attach session hands it), `guard_process` (the trap guard, its own
process: detaches gdbserver and takes traps out when gdb dies; `trap_guard` is its
handle, `trap_rescue` what it does to the program).
"""
