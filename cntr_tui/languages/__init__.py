"""Language-aware stacks: a Python or Go program's own frames beside the native ones.

Headless: read through a library made for the language (pystack for CPython, the Go
runtime's gdb support for goroutines) from the host, never installing anything in the
container. Records in `records.py`; the UI and the snapshot draw those.
"""
