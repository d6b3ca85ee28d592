"""cntr-tui: a terminal debugger front-end for containers."""

__version__ = "0.1.0"
