"""inetd (kexts/inetd): the small services on the socket KPI, reached from
the host through QEMU's user networking (slirp hostfwd), as `finch run
--services` offers them.

One guest serves the module, booted with `noudpecho` so that UDP port 7
is inetd's, with inetd loaded once.  Every transfer is checked by its
bytes (a hash), not its count.  The TCP cases need the kernel's TCP: on
a kernel without it inetd offers UDP only and says so, and they skip.
The last test unloads inetd and reads what it counted.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import zlib
from dataclasses import dataclass, field

import pytest

from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.services import (
    CHARGEN,
    DISCARD,
    ECHO,
    HTTP,
    INETD,
    INETD_ID,
    NO_UDP_ECHO,
    UDP_CHARGEN_LINES,
    Forward,
    chargen_bytes,
    chargen_first_line,
    hostfwd_rules,
)
from finch.tcpbench import TcpService, free_tcp_port, send_to_discard
from finch.wire import free_udp_port
from finch.wirepeer import netstat_s

MIB = 1 << 20
TIMEOUT = 10.0
NO_TCP = "inetd: TCP echo (port 7) not offered: this kernel has no TCP"


@dataclass
class Services:
    guest: KextGuest
    udp: dict[int, int]  # guest port -> host port
    tcp: dict[int, int]
    load_output: str  # the console from kextload to inetd's "serving" line
    discarded: list[int] = field(default_factory=list)  # sizes sent to UDP discard

    @property
    def machine(self) -> Machine:
        return self.guest.machine

    @property
    def has_tcp(self) -> bool:
        return NO_TCP not in self.load_output


def services_options(udp: dict[int, int], tcp: dict[int, int], append: str) -> QemuOptions:
    forwards = [Forward("udp", host, guest, "") for guest, host in udp.items()]
    forwards += [Forward("tcp", host, guest, "") for guest, host in tcp.items()]
    return kext_options(
        QemuOptions(
            netdevs=[f"user,id=net0{hostfwd_rules(forwards)}"],
            devices=["e1000,netdev=net0"],
            extra_args=("-append", append) if append else (),
        )
    )


def load_inetd(guest: KextGuest) -> str:
    """kextload inetd; the console from there to its "inetd: serving" line."""
    start = len(guest.machine.console_text())
    guest.load(guest.bundle(INETD))
    guest.machine.expect(r"inetd: serving[^\n]*\n", timeout=TIMEOUT)
    return guest.machine.console_text()[start:]


@pytest.fixture(scope="module")
def services(module_machine_factory: MachineFactory, built_kexts) -> Services:
    udp = {port: free_udp_port() for port in (ECHO, DISCARD, CHARGEN)}
    tcp = {port: free_tcp_port() for port in (ECHO, DISCARD, CHARGEN, HTTP)}
    machine = module_machine_factory(services_options(udp, tcp, NO_UDP_ECHO))
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    return Services(guest, udp, tcp, load_inetd(guest))


@pytest.fixture
def tcp_services(services: Services) -> Services:
    if not services.has_tcp:
        pytest.skip("the kernel has no TCP yet: inetd offers its UDP services only")
    return services


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def udp_exchange(port: int, payload: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT)
        client.sendto(payload, ("127.0.0.1", port))
        data, _ = client.recvfrom(65536)
    return data


def tcp_connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def recv_all(sock: socket.socket, limit: int = 64 * MIB) -> bytes:
    """Everything until the guest closes (at most `limit` bytes)."""
    chunks = []
    total = 0
    while total < limit and (chunk := sock.recv(65536)):
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(min(65536, size - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


# --------------------------------------------------------------------------
# Loading


def test_inetd_says_what_it_serves(services: Services) -> None:
    serving = re.search(r"inetd: serving([^\n]*)", services.load_output)
    assert serving, services.load_output
    for service in ("echo/udp 7", "discard/udp 9", "chargen/udp 19"):
        assert service in serving.group(1)
    if services.has_tcp:
        for service in ("echo/tcp 7", "discard/tcp 9", "chargen/tcp 19", "http/tcp 80"):
            assert service in serving.group(1)
    assert "no built-in echo service on port 7 (boot option noudpecho)" in (
        services.machine.console_text()
    )


# --------------------------------------------------------------------------
# UDP


def test_udp_echo_sends_each_datagram_back_unchanged(services: Services) -> None:
    port = services.udp[ECHO]
    # 3000 bytes: fragmented by slirp, reassembled, fragmented back.
    for payload in (
        b"hello, inetd",
        bytes(range(256)) * 4,
        bytes((i * 7) & 0xFF for i in range(3000)),
    ):
        assert sha(udp_exchange(port, payload)) == sha(payload)


def test_udp_chargen_answers_each_datagram_with_the_next_lines(services: Services) -> None:
    port = services.udp[CHARGEN]
    firsts = []
    for _ in range(3):
        answer = udp_exchange(port, b"lines, please")
        first = chargen_first_line(answer)
        assert first is not None, answer[:160]
        firsts.append(first)
    assert firsts == [(firsts[0] + i * UDP_CHARGEN_LINES) % 95 for i in range(3)]


def send_to_udp_discard(services: Services, sizes: tuple[int, ...]) -> socket.socket:
    """Datagrams of `sizes` to UDP discard, from a socket left open to
    listen for an answer that must not come."""
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for size in sizes:
        client.sendto(b"x" * size, ("127.0.0.1", services.udp[DISCARD]))
        services.discarded.append(size)
    return client


def test_udp_discard_answers_nothing(services: Services) -> None:
    with send_to_udp_discard(services, (1, 100, 1000)) as client:
        client.settimeout(0.5)
        with pytest.raises(TimeoutError):
            client.recvfrom(65536)
    # What it counted: the last test reads it from inetd's report.


# --------------------------------------------------------------------------
# TCP


def test_tcp_echo_returns_a_mebibyte_unchanged(tcp_services: Services) -> None:
    payload = bytes((i * 31 + (i >> 8)) & 0xFF for i in range(MIB))
    with tcp_connect(tcp_services.tcp[ECHO]) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        back = recv_all(sock)
    assert len(back) == len(payload)
    assert sha(back) == sha(payload)


def test_tcp_discard_counts_a_mebibyte_and_closes(tcp_services: Services) -> None:
    service = TcpService("127.0.0.1", discard=tcp_services.tcp[DISCARD])
    transfer = send_to_discard(service, MIB, timeout=60)  # checks the count
    assert transfer.bytes == MIB


def test_tcp_chargen_sends_the_rfc_864_text(tcp_services: Services) -> None:
    with tcp_connect(tcp_services.tcp[CHARGEN]) as sock:
        data = recv_exactly(sock, MIB)
    assert sha(data) == sha(chargen_bytes(0, MIB))


def test_http_status_page_lists_services_sockets_and_interfaces(tcp_services: Services) -> None:
    with tcp_connect(tcp_services.tcp[HTTP]) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nHost: finch\r\n\r\n")
        reply = recv_all(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n"), head
    length = re.search(rb"Content-Length: (\d+)", head)
    assert length
    assert int(length.group(1)) == len(body)
    text = body.decode("ascii")
    assert re.search(r"^echo\s+tcp\s+7\s+\d+", text, re.M), text
    assert re.search(r"^tcp4\s+\d+\s+\d+\s+\*\.80\s+\*\.\*\s+LISTEN$", text, re.M), text
    assert re.search(r"^tcp4\s+\d+\s+\d+\s+10\.0\.2\.15\.80\s+10\.0\.2\.2\.\d+\s+connected$",
                     text, re.M), text  # fmt: skip
    assert re.search(r"^udp4\s+\d+\s+\d+\s+\*\.9\s+\*\.\*$", text, re.M), text
    assert re.search(r"^en0\s+1500\s+10\.0\.2\.15\s+\d+", text, re.M), text


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST / HTTP/1.0\r\n\r\n", b"405 Method Not Allowed"),
        (b"GET /nothing HTTP/1.0\r\n\r\n", b"404 Not Found"),
        (b"hello\r\n\r\n", b"400 Bad Request"),
        (b"GET /" + b"a" * 3000, b"400 Bad Request"),
    ],
)
def test_http_answers_bad_requests_with_their_status(
    tcp_services: Services, request_bytes: bytes, status: bytes
) -> None:
    with tcp_connect(tcp_services.tcp[HTTP]) as sock:
        sock.sendall(request_bytes)
        reply = recv_all(sock)
    assert reply.startswith(b"HTTP/1.0 " + status + b"\r\n"), reply[:200]


def test_the_monitors_tcp_client_reaches_inetd_inside_the_guest(tcp_services: Services) -> None:
    """`tcp connect` in the guest's monitor, to inetd on lo0 and on en0's
    own address: both ends are Finch's TCP."""
    sent = bytes(i % 251 for i in range(100_000))  # what `tcp connect` sends
    crc = f"{zlib.crc32(sent):08x}"
    echo = tcp_services.machine.command("tcp connect 127.0.0.1 7 100000", timeout=TIMEOUT)
    assert f"received 100000 bytes, crc32 {crc}" in echo, echo
    discard = tcp_services.machine.command("tcp connect 10.0.2.15 9 100000", timeout=TIMEOUT)
    count = f"{zlib.crc32(b'100000' + bytes([10])):08x}"  # the count and a newline
    assert f"received 7 bytes, crc32 {count}" in discard, discard


# --------------------------------------------------------------------------
# Unloading (last: the module's guest is done with inetd after it)


def test_inetd_unloads_with_connections_open_and_leaves_nothing(services: Services) -> None:
    """Stop resets the connections still open (chargen mid-stream, an idle
    echo, a discard mid-transfer): nothing inetd made outlives it, and it
    reports what each service did."""
    send_to_udp_discard(services, (7, 70)).close()
    # An echo sent after them on the same path comes back once they are in.
    udp_exchange(services.udp[ECHO], b"after the discards")
    with contextlib.ExitStack() as stack:
        clients = []
        if services.has_tcp:
            clients = [
                stack.enter_context(tcp_connect(services.tcp[p])) for p in (CHARGEN, ECHO, DISCARD)
            ]
            assert len(recv_exactly(clients[0], 100_000)) == 100_000
            clients[2].sendall(bytes(100_000))
        start = len(services.machine.console_text())
        result = services.guest.unload(INETD_ID)
        assert result.leaks == ""
        services.machine.expect("inetd: stopped", timeout=TIMEOUT)
        for client in clients:  # each sees its connection end (slirp may turn a reset into a FIN)
            with contextlib.suppress(ConnectionResetError):
                recv_all(client)
    report = services.machine.console_text()[start:]
    discarded = rf"{len(services.discarded)} datagrams, {sum(services.discarded)} bytes in"
    assert re.search(rf"inetd: discard/udp 9: {discarded}, 0 bytes out", report), report
    assert re.search(r"inetd: echo/udp 7: \d+ datagrams, (\d+) bytes in, \1 bytes out", report)
    assert INETD_ID not in [k.identifier for k in services.guest.kextstat()]
    sockets = services.machine.command("netstat -a")
    for port in (7, 9, 19, 80):
        assert not re.search(rf"\*\.{port}\s", sockets), sockets


def test_without_noudpecho_inetd_leaves_udp_port_7_to_the_kernel_and_says_so(
    kext_guest: KextGuest,
) -> None:
    output = load_inetd(kext_guest)
    assert (
        "inetd: UDP echo (port 7) not offered: the port is in use (EADDRINUSE) by the "
        "kernel's built-in echo service" in output
    ), output
    serving = re.search(r"inetd: serving[^\n]*", output)
    assert serving
    assert "echo/udp 7" not in serving.group(0)
    # The kernel's echo still answers there.
    kext_guest.machine.command("udp send 127.0.0.1 7 still-here")
    assert netstat_s(kext_guest.machine)["udp.echoed"] == 1
    kext_guest.unload(INETD_ID)
    kext_guest.machine.expect("inetd: stopped", timeout=TIMEOUT)
