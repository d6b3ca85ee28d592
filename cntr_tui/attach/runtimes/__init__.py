"""One module per container runtime; `registry` lists them for discovery.

This package imports none of them itself: `cntr-tui gdb NAME` with a remembered name
needs only `docker_api`, and should not pay for loading every runtime's module.
"""
