#!/opt/svc/bin/python3
"""cntr-tui demo Python service: threads with known call chains.

- `crunch` runs Python code without end: handle_batch -> compute_total -> square.
- `sleeper` waits in a C call: wait_for_work -> time.sleep.
- `listener` is blocked in a socket wait: serve_forever -> read_request -> recv.
- `ticker` wakes every millisecond and keeps the largest gap between two wakes in
  /tmp/service.stats, laid out as stalls.c's (eight little-endian u64: ticks,
  max_gap_ns, -, -, reset, seen, -, -; writing `reset` starts a new largest gap): how
  long the program was stopped, as it saw it (bench/bench_python_stacks.py).
- the main thread waits on an event: main -> wait_for_shutdown.
SIGTERM ends it (exit 0). Prints `ready` once every thread runs.
"""

import mmap
import os
import signal
import socket
import struct
import threading
import time

STATS = "/tmp/service.stats"
stopping = threading.Event()
started = threading.Barrier(5)


def square(value):
    return value * value


def compute_total(values):
    total = 0
    for value in values:
        total += square(value)
    return total


def handle_batch(batch):
    return compute_total(range(batch, batch + 1000))


def crunch():
    started.wait()
    batch = 0
    while not stopping.is_set():
        batch = (batch + 1) % 97
        handle_batch(batch)


def wait_for_work(seconds):
    time.sleep(seconds)


def sleeper():
    started.wait()
    while not stopping.is_set():
        wait_for_work(3600)


def read_request(connection):
    return connection.recv(1)


def serve_forever():
    ours, _theirs = socket.socketpair()  # both ends stay open: recv waits
    started.wait()
    while not stopping.is_set():
        read_request(ours)


def tick_forever(stats):
    ticks, largest, last = 0, 0, time.monotonic_ns()
    started.wait()
    while not stopping.is_set():
        time.sleep(0.001)
        now = time.monotonic_ns()
        ticks, largest, last = ticks + 1, max(largest, now - last), now
        reset, seen = struct.unpack_from("<2Q", stats, 32)
        if reset != seen:
            largest = 0
            struct.pack_into("<Q", stats, 40, reset)
        struct.pack_into("<2Q", stats, 0, ticks, largest)


def ticker():
    fd = os.open(STATS, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    os.ftruncate(fd, 64)
    with mmap.mmap(fd, 64) as stats:
        os.close(fd)
        tick_forever(stats)


def wait_for_shutdown():
    stopping.wait()


def main():
    # SIGTERM ends it at once: sys.exit() from the handler let the interpreter finalize
    # under the daemon threads, and one of them aborted (as PID 1 it cannot take its own
    # SIGABRT: abort()'s hlt, a general protection fault in dmesg) in 2 of 6 plain runs
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threads = (
        ("crunch", crunch),
        ("sleeper", sleeper),
        ("listener", serve_forever),
        ("ticker", ticker),
    )
    for name, target in threads:
        threading.Thread(target=target, name=name, daemon=True).start()
    started.wait()
    print("ready", flush=True)
    wait_for_shutdown()


if __name__ == "__main__":
    main()
