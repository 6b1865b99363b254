"""The utun sample (kexts/utun): a tunnel interface whose far end is a
kernel-control client on the host.  The guest's `ping` goes out through
utun0 and the host answers it; a UDP datagram the host writes comes in on
utun0, and the guest's echo service sends it back the same way, byte for
byte; bad records are refused with an error the client sees; the kext
refuses to stop while a client is connected; and once it is unloaded,
utun0, its address and its route are gone.

The tests share one guest and run in order: the last one unloads.
"""

from __future__ import annotations

import hashlib
import re
import struct
import threading
from collections.abc import Iterator

import pytest

from finch.cli import main as finch_main
from finch.kctl import KctlError
from finch.kext.guest import KextGuest
from finch.kext.load import LoadResult
from finch.kext.unload import UnloadRefused, unload_kext
from finch.netbench import internet_checksum
from finch.session import GuestSession
from finch.tunpeer import AF_INET, PROTO_UDP, TunPacket, TunPeer, ipv4_packet

NAME = "com.finch.sample.utun"
GUEST, FAR = "10.9.0.1", "10.9.0.2"
EINVAL, EAFNOSUPPORT, EBUSY = 22, 47, 16


@pytest.fixture(scope="module")
def utun(module_kext_guest: KextGuest) -> LoadResult:
    [result] = module_kext_guest.load(module_kext_guest.bundle("utun"))
    out = module_kext_guest.machine.command(f"ifconfig utun0 inet {GUEST}/24")
    assert out == "", out
    return result


@pytest.fixture
def session(module_kext_guest: KextGuest, utun: LoadResult) -> Iterator[GuestSession]:
    with module_kext_guest.session() as session:
        yield session


@pytest.fixture
def peer(session: GuestSession) -> Iterator[TunPeer]:
    with TunPeer.connect(session) as peer:
        yield peer


def udp_packet(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    """A UDP datagram in IPv4, checksummed."""
    s, d = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    header = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    pseudo = s + d + struct.pack("!BBH", 0, PROTO_UDP, 8 + len(data))
    csum = internet_checksum(pseudo + header + data) or 0xFFFF
    return ipv4_packet(s, d, PROTO_UDP, header[:6] + struct.pack("!H", csum) + data)


def test_utun0_is_a_point_to_point_interface_with_the_address_given(
    module_kext_guest: KextGuest, utun: LoadResult
) -> None:
    out = module_kext_guest.machine.command("ifconfig utun0")

    assert re.search(r"utun0: flags=\w+<UP,POINTOPOINT,RUNNING", out), out
    assert f"inet {GUEST} netmask 0xffffff00" in out
    assert re.search(
        r"^10\.9\.0\.0/24\s.*utun0", module_kext_guest.machine.command("netstat -r"), re.M
    )


def test_the_guests_ping_is_answered_by_the_host_through_the_control(
    module_kext_guest: KextGuest, peer: TunPeer
) -> None:
    machine = module_kext_guest.machine
    # -i 2: each reply may take 2 s, time for the host's round trip
    # through the host link on a busy machine.
    machine.sendline(f"ping -c 3 -i 2 -s 300 {FAR}")
    seen = list(peer.serve(replies=3, timeout=10.0))
    out = machine.expect(r"\d+ packets transmitted, [^\r\n]*", timeout=20).group(0)

    assert "3 packets transmitted, 3 packets received, 0.0% packet loss" in out
    requests = [p.summary() for p in seen if p.is_echo_request()]
    assert len(requests) == 3
    for seq, summary in enumerate(requests):
        assert re.fullmatch(
            rf"{GUEST} > {FAR}: ICMP echo request id 0x[0-9a-f]{{4}} seq {seq}, 328 bytes", summary
        )
    assert peer.stats()["to_client"] >= 3


def test_finch_tunpeer_answers_the_guests_ping_and_prints_each_packet(
    module_kext_guest: KextGuest, utun: LoadResult, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = module_kext_guest.machine
    status: list[int] = []
    argv = ["tunpeer", "--rundir", str(module_kext_guest.rundir), "-c", "2", "-t", "10"]
    peer = threading.Thread(target=lambda: status.append(finch_main(argv)))
    peer.start()
    machine.expect(r"utun: a client connected", timeout=10)
    out = machine.command(f"ping -c 2 -i 2 {FAR}", timeout=20)
    peer.join(timeout=20)

    assert status == [0]
    assert "2 packets transmitted, 2 packets received" in out
    printed = capsys.readouterr().out
    assert f"tunpeer: connected to {NAME}; the far end of utun0" in printed
    assert printed.count("-> echo reply") == 2
    assert "tunpeer: answered 2 of 2; the kext counted: to_client " in printed


def test_a_datagram_written_to_the_control_comes_back_through_utun0_intact(
    peer: TunPeer,
) -> None:
    data = bytes(range(256)) * 4
    peer.send(TunPacket(AF_INET, udp_packet(FAR, GUEST, 40000, 7, data)))
    reply = peer.recv(timeout=5.0)

    assert reply is not None
    assert reply.summary() == f"{GUEST} > {FAR}: UDP, {20 + 8 + len(data)} bytes"
    sport, dport = struct.unpack_from("!HH", reply.payload)
    assert (sport, dport) == (7, 40000)
    assert hashlib.sha256(reply.payload[8:]).hexdigest() == hashlib.sha256(data).hexdigest()
    assert peer.stats()["from_client"] >= 1


def test_records_that_are_not_ipv4_packets_are_refused_and_counted(
    module_kext_guest: KextGuest, peer: TunPeer
) -> None:
    with pytest.raises(KctlError) as short:
        peer.control.send(b"\0\0")
    with pytest.raises(KctlError) as family:
        peer.control.send(struct.pack("!I", 30) + bytes(40))  # AF_INET6

    assert short.value.errno == EINVAL
    assert family.value.errno == EAFNOSUPPORT
    stats = peer.stats()
    assert stats["bad_header"] >= 1
    assert stats["bad_family"] >= 1
    assert "1 packets received" in module_kext_guest.machine.command("ping -c 1 127.0.0.1")


def test_with_no_client_the_packets_are_dropped_and_counted(
    module_kext_guest: KextGuest, utun: LoadResult
) -> None:
    out = module_kext_guest.machine.command(f"ping -c 1 {FAR}", timeout=20)

    assert "1 packets transmitted, 0 packets received" in out
    with module_kext_guest.session() as session, TunPeer.connect(session) as peer:
        assert peer.stats()["no_client"] >= 1


def test_stop_is_refused_while_a_client_is_connected(
    module_kext_guest: KextGuest, session: GuestSession, peer: TunPeer
) -> None:
    machine = module_kext_guest.machine
    start = len(machine.console_text())
    with pytest.raises(UnloadRefused) as e:
        unload_kext(session, NAME)

    assert e.value.stop_result == 5
    machine.console_since(start, f"utun: cannot stop: {NAME} has a client", timeout=5)
    assert "inet 10.9.0.1" in session.monitor("ifconfig utun0")


def test_unloading_takes_utun0_its_address_and_its_route_away(
    module_kext_guest: KextGuest, utun: LoadResult
) -> None:
    machine = module_kext_guest.machine
    start = len(machine.console_text())
    result = module_kext_guest.unload(NAME)
    machine.console_since(start, "utun: stopped;", timeout=5)

    assert "interface utun0 does not exist" in machine.command("ifconfig utun0")
    assert "10.9.0." not in machine.command("netstat -r")
    assert GUEST not in machine.command("ifconfig")
    assert result.leaks == ""
    assert "1 packets received" in machine.command("ping -c 1 127.0.0.1")
