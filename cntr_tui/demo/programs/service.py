#!/opt/svc/bin/python3
"""cntr-tui demo Python service: threads with known call chains.

- `crunch` runs Python code without end: handle_batch -> compute_total -> square.
- `sleeper` waits in a C call: wait_for_work -> time.sleep.
- `listener` is blocked in a socket wait: serve_forever -> read_request -> recv.
- the main thread waits on an event: main -> wait_for_shutdown.
SIGTERM ends it. Prints `ready` once every thread runs.
"""

import signal
import socket
import sys
import threading
import time

stopping = threading.Event()
started = threading.Barrier(4)


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


def wait_for_shutdown():
    stopping.wait()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for name, target in (("crunch", crunch), ("sleeper", sleeper), ("listener", serve_forever)):
        threading.Thread(target=target, name=name, daemon=True).start()
    started.wait()
    print("ready", flush=True)
    wait_for_shutdown()


if __name__ == "__main__":
    main()
