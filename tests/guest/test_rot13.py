"""rot13 (kexts/rot13): a socket filter that keeps every datagram a
socket receives, turns it by rot13 in a thread call and puts it back with
sock_inject_data_in, in order.

One guest serves the module, booted with `noudpecho` so that UDP port 7
is inetd's, reached from the host through QEMU's user networking.  rot13
is loaded before inetd, so its global filter sits on inetd's sockets:
what the host sends to UDP echo comes back rot13'd, and every datagram
of a long run comes back whole and in order (checked by a hash).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import socket
from dataclasses import dataclass

import pytest

from finch.kext.guest import KextGuest, kext_options
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.services import ECHO, INETD, INETD_ID, NO_UDP_ECHO, Forward, hostfwd_rules
from finch.tcpbench import free_tcp_port
from finch.wire import free_udp_port
from finch.wirepeer import netstat_s

ROT13 = "rot13"
ROT13_ID = "com.finch.sample.rot13"
TIMEOUT = 10.0


@dataclass
class Guest:
    kexts: KextGuest
    echo_port: int  # the host's port forwarded to the guest's UDP 7
    tcp_echo_port: int  # ... and to its TCP 7
    rot13_output: str  # the console of rot13's kextload

    @property
    def has_tcp(self) -> bool:
        return "filtering the UDP and TCP sockets" in self.rot13_output


def rot13(data: bytes) -> bytes:
    return codecs.encode(data.decode("latin-1"), "rot13").encode("latin-1")


@pytest.fixture(scope="module")
def guest(module_machine_factory: MachineFactory, built_kexts) -> Guest:
    port, tcp_port = free_udp_port(), free_tcp_port()
    forwards = [Forward("udp", port, ECHO, ""), Forward("tcp", tcp_port, ECHO, "")]
    machine = module_machine_factory(
        kext_options(
            QemuOptions(
                netdevs=[f"user,id=net0{hostfwd_rules(forwards)}"],
                devices=["e1000,netdev=net0"],
                extra_args=("-append", NO_UDP_ECHO),
            )
        )
    )
    machine.boot()
    kexts = KextGuest(machine, built_kexts)
    kexts.wait_ready()
    start = len(machine.console_text())
    kexts.load(kexts.bundle(ROT13))
    machine.expect(r"rot13: filtering[^\n]*\n", timeout=TIMEOUT)
    loaded = machine.console_text()[start:]
    kexts.load(kexts.bundle(INETD))
    machine.expect(r"inetd: serving[^\n]*\n", timeout=TIMEOUT)
    return Guest(kexts, port, tcp_port, loaded)


def test_rot13_joins_the_udp_sockets_made_after_it(guest: Guest) -> None:
    assert "rot13: filtering the UDP" in guest.rot13_output
    table = guest.kexts.monitor("sflt")
    assert re.search(r"^rot13 \(UDP\)\s+handle 0x726f7431\s+global\s", table, re.M), table
    # inetd's echo, discard and chargen sockets, made after rot13 loaded.
    assert re.search(r"attached 3 \(ever 3\)", table), table
    assert "UDP 0.0.0.0:7" in table


def test_what_the_host_sends_to_echo_comes_back_rot13d(guest: Guest) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT)
        client.sendto(b"Hello, Finch!", ("127.0.0.1", guest.echo_port))
        answer, _ = client.recvfrom(65536)
    assert answer == b"Uryyb, Svapu!"


def test_the_monitors_socket_is_filtered_too_so_rot13_twice_is_the_text(guest: Guest) -> None:
    # `udp send` makes a socket after rot13 loaded: the echo is turned on
    # its way into inetd's socket and again on its way into this one.
    out = guest.kexts.machine.command("udp send 127.0.0.1 7 Hello, Finch", timeout=20)
    assert "12 bytes from 127.0.0.1.7: Hello, Finch" in out


def test_a_long_run_comes_back_whole_and_in_order(guest: Guest) -> None:
    count, window = 1500, 8
    sent, got = hashlib.sha256(), hashlib.sha256()
    before = netstat_s(guest.kexts.machine)
    answers: list[int] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for first in range(0, count, window):
            for seq in range(first, min(first + window, count)):
                payload = b"%06d " % seq + bytes(
                    (65 + (seq * 7 + i) % 58) for i in range(seq % 1200)
                )
                sent.update(rot13(payload))
                client.sendto(payload, ("127.0.0.1", guest.echo_port))
            for _ in range(first, min(first + window, count)):
                answer, _ = client.recvfrom(65536)
                answers.append(int(answer[:6]))
                got.update(answer)
    assert answers == list(range(count))  # none lost, none overtaken
    assert got.hexdigest() == sent.hexdigest()
    after = netstat_s(guest.kexts.machine)
    # Each datagram held and put back once, on its way into inetd's socket.
    assert after["sflt.held_in"] - before["sflt.held_in"] == count
    assert after["sflt.injected_in"] - before["sflt.injected_in"] == count


def test_a_tcp_stream_comes_back_rot13d_whole_and_in_order(guest: Guest) -> None:
    if not guest.has_tcp:
        pytest.skip("the kernel has no TCP: rot13 filters UDP only")
    size = 256 * 1024
    text = bytes(65 + (i * 7 + i // 1000) % 58 for i in range(size))
    with socket.create_connection(("127.0.0.1", guest.tcp_echo_port), timeout=TIMEOUT) as conn:
        conn.sendall(text)
        back = bytearray()
        while len(back) < size:  # all of it before our FIN (see docs/samples.md)
            chunk = conn.recv(65536)
            assert chunk, f"the connection closed after {len(back)} of {size} bytes"
            back += chunk
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(rot13(text)).hexdigest()
    table = guest.kexts.monitor("sflt")
    assert re.search(r"^rot13 \(TCP\)\s+handle 0x726f7432\s+global\s", table, re.M), table


def test_unloading_detaches_from_every_socket_then_stops(guest: Guest) -> None:
    machine = guest.kexts.machine
    guest.kexts.unload(INETD_ID)  # its sockets close: sf_detach for each

    guest.kexts.unload(ROT13_ID)

    stopped = machine.expect(
        r"rot13: stopped; held (\d+), put back (\d+), lost (\d+), refused (\d+)",
        timeout=TIMEOUT,
    )
    held, put_back, lost, refused = map(int, stopped.groups())
    assert held == put_back > 1500
    assert (lost, refused) == (0, 0)
    assert "0 socket filters registered" in guest.kexts.monitor("sflt")
