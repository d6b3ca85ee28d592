"""The Linux layer: what the kernel says about processes, read from /proc and /sys.

One kernel concept per module; nothing here imports any other part of cntr-tui, and
nothing here enters a namespace (the syscalls for that are in `syscalls`, called only
by single-threaded helper processes).

Cheap modules (the standard library's os, select, types, ctypes only; no dataclasses,
enum, contextlib, functools, re): `procfs`, `proc_stat`, `proc_status`, `namespaces`,
`pidfd`, `syscalls`. The attach helper (`python -S`) imports them on its start path,
and the trap guard (`python -I -S`) can. The record modules use frozen dataclasses:
`process_status`, `capabilities`, `cgroups`, `mountinfo`, `idmaps`, `users`.

psutil is not used: its import alone costs 70-140 ms here (more than the attach path
it would serve), and it has none of NSpid, namespaces, mountinfo or capability sets.
"""
