"""The few docker Engine API calls cntr-tui makes, as plain HTTP/1.0 over the daemon's socket.

The docker SDK costs ~0.2 s of imports (requests, urllib3, email, ssl) before its first
call; a list or an inspect is one request and one JSON reply, so a socket, an HTTP/1.0
request (the daemon then closes the connection after the reply: no keep-alive, no
chunked encoding) and `json.loads` do the same in ~2 ms. Paths carry no API version:
the daemon answers in its own.

`unix://PATH` and `tcp://HOST:PORT` (plain HTTP) are understood, as the SDK's
`APIClient(base_url)` understood them; a missing socket or a refused connection raises
`RuntimeAbsent`, an error reply or a broken one `RuntimeFailed`.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from cntr_tui.attach.runtimes.base import RuntimeAbsent, RuntimeFailed

MAX_REPLY_BYTES = 256 * 1024 * 1024


class NotFound(RuntimeFailed):
    """The daemon answered 404: no such container (or image, ...)."""


def _connect(base_url: str, timeout: float) -> socket.socket:
    if base_url.startswith("unix://"):
        family, address = socket.AF_UNIX, base_url.removeprefix("unix://")
    elif base_url.startswith(("tcp://", "http://")):
        host, _, port = base_url.split("://", 1)[1].rstrip("/").rpartition(":")
        if not host or not port.isdigit():
            raise RuntimeFailed(f"cannot read the docker address {base_url!r}")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        address = (host.strip("[]"), int(port))
    else:
        raise RuntimeFailed(f"docker address {base_url!r}: only unix:// and tcp:// are supported")
    sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except (FileNotFoundError, ConnectionRefusedError) as error:
        sock.close()
        raise RuntimeAbsent(f"no docker daemon at {base_url}: {error.strerror}") from None
    except OSError as error:
        sock.close()
        raise RuntimeFailed(f"cannot reach docker at {base_url}: {error}") from None
    return sock


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def request(base_url: str, path: str, timeout: float) -> tuple[int, bytes]:
    """GET `path`; the reply's status and body."""
    with _connect(base_url, timeout) as sock:
        try:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
            chunks: list[bytes] = []
            received = 0
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
                received += len(chunk)
                if received > MAX_REPLY_BYTES:
                    raise RuntimeFailed("docker's reply is too large")
        except TimeoutError:
            raise RuntimeFailed(f"docker did not answer within {timeout:g} s") from None
        except OSError as error:
            raise RuntimeFailed(f"reading docker's reply: {error}") from None
    head, separator, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if not separator or len(parts) < 2 or not parts[1].isdigit():
        raise RuntimeFailed(f"docker sent no HTTP reply: {status_line[:80]!r}")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return int(parts[1]), body


def get_json(base_url: str, path: str, timeout: float) -> Any:
    """GET `path` and decode its JSON; `NotFound` for 404, `RuntimeFailed` for other errors."""
    status, body = request(base_url, path, timeout)
    if status != 200:
        try:
            message = str(json.loads(body).get("message", ""))
        except (ValueError, AttributeError):
            message = body[:200].decode(errors="replace")
        error = NotFound if status == 404 else RuntimeFailed
        raise error(
            f"docker answered {status} for {path.split('?')[0]}: {' '.join(message.split())}"
        )
    try:
        return json.loads(body)
    except ValueError as error:
        raise RuntimeFailed(
            f"docker's reply to {path.split('?')[0]} is not JSON: {error}"
        ) from None


def containers(base_url: str, timeout: float, *, all_: bool) -> list[dict[str, Any]]:
    """`GET /containers/json`: summaries of running (or, with `all_`, all) containers."""
    reply = get_json(base_url, f"/containers/json?all={int(all_)}", timeout)
    if not isinstance(reply, list):
        raise RuntimeFailed("docker's container list is not a list")
    return reply


def path_segment(text: str) -> str:
    """`text` percent-encoded as one URL path segment, as urllib.parse.quote(text,
    safe="") does; urllib.parse (with ipaddress) would cost the look-up short cut,
    which calls this, 3-7 ms of import."""
    return "".join(
        chr(byte) if chr(byte) in UNRESERVED else f"%{byte:02X}" for byte in text.encode()
    )


UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def inspect(base_url: str, word: str, timeout: float) -> dict[str, Any]:
    """`GET /containers/WORD/json` (WORD: id, name or id prefix); `NotFound` if none."""
    reply = get_json(base_url, f"/containers/{path_segment(word)}/json", timeout)
    if not isinstance(reply, dict):
        raise RuntimeFailed("docker's inspect reply is not an object")
    return reply
