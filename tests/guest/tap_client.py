"""Linux clients of the guest's services, run inside the tap test's network
namespace (`ip netns exec NS python tap_client.py KIND HOST PORT SIZE`):
Linux's own stack at one end, Finch's at the other, nothing between.
Prints one JSON object: the SHA-256 of what was sent and of what came
back, and its length; or "error".

    ping HOST 0 SIZE      one ICMP echo (a raw socket), SIZE data bytes
    udp-echo HOST PORT SIZE   one datagram, its echo
    tcp-echo HOST PORT SIZE   SIZE bytes sent, shut down, all read back
    tcp-discard HOST PORT SIZE  SIZE bytes sent, shut down, the count read

"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import struct
import sys
import time

TIMEOUT = 30.0


def data(size: int) -> bytes:
    """The payload of SIZE bytes every client sends."""
    return bytes((i * 131 + (i >> 10)) & 0xFF for i in range(size))


def digests(sent: bytes, back: bytes) -> dict[str, object]:
    return {
        "sent_sha256": hashlib.sha256(sent).hexdigest(),
        "sha256": hashlib.sha256(back).hexdigest(),
        "bytes": len(back),
    }


def checksum(packet: bytes) -> int:
    if len(packet) % 2:
        packet += b"\0"
    total = sum(struct.unpack(f"!{len(packet) // 2}H", packet))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping(host: str, size: int) -> dict[str, object]:
    ident, payload = 0xF1C5, data(size)
    request = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + payload
    request = request[:2] + struct.pack("!H", checksum(request)) + request[4:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.settimeout(TIMEOUT)
        start = time.perf_counter()
        sock.sendto(request, (host, 0))
        while True:
            packet, _ = sock.recvfrom(65536)
            icmp = packet[(packet[0] & 0x0F) * 4 :]
            if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
                break
        rtt = time.perf_counter() - start
    return {**digests(payload, icmp[8:]), "rtt": rtt}


def udp_echo(host: str, port: int, size: int) -> dict[str, object]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(data(size), (host, port))
        back, _ = sock.recvfrom(65536)
    return digests(data(size), back)


def tcp_exchange(host: str, port: int, size: int) -> bytes:
    """Send SIZE bytes (while reading, so that an echo never stalls on a
    full window), shut down, read to the end."""
    payload = memoryview(data(size))
    received = bytearray()
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.setblocking(False)
        sent = 0
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if sent < size:
                with contextlib.suppress(BlockingIOError):
                    sent += sock.send(payload[sent : sent + 65536])
                if sent == size:
                    sock.shutdown(socket.SHUT_WR)
            try:
                chunk = sock.recv(65536)
                if not chunk:
                    return bytes(received)
                received += chunk
            except BlockingIOError:
                time.sleep(0.001)
        raise TimeoutError(f"{host}:{port}: {sent} of {size} B sent, {len(received)} B read")


def main(argv: list[str]) -> int:
    kind, host, port, size = argv[0], argv[1], int(argv[2]), int(argv[3])
    try:
        if kind == "ping":
            result = ping(host, size)
        elif kind == "udp-echo":
            result = udp_echo(host, port, size)
        elif kind == "tcp-echo":
            back = tcp_exchange(host, port, size)
            result = digests(data(size), back)
        elif kind == "tcp-discard":
            result = {"reply": tcp_exchange(host, port, size).decode("ascii", "replace")}
        else:
            result = {"error": f"unknown kind {kind!r}"}
    except OSError as e:
        result = {"error": f"{kind} {host}:{port}: {e}"}
    print(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
