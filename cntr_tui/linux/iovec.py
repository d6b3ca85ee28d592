"""struct iovec, as readv/writev, process_vm_readv and libfuse's custom io take it."""

from __future__ import annotations

import ctypes


class Iovec(ctypes.Structure):
    _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))
