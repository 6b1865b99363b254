"""The host end of the guest's Ethernet, against a plain UDP socket playing
QEMU's end of the `-netdev dgram`: frames both ways, ARP answered for the
peer, quiet wires, and the QEMU options that join the two ends."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether

from finch.wire import GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire, ip_bytes, is_arp_request_for


class QemuEnd:
    """A UDP socket where QEMU's dgram netdev would be."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def send_to(self, wire: Wire, frame: bytes) -> None:
        self.sock.sendto(frame, ("127.0.0.1", wire.port))

    def recv(self) -> bytes:
        return self.sock.recv(65536)


@pytest.fixture
def ends() -> Iterator[tuple[QemuEnd, Wire]]:
    qemu = QemuEnd()
    with Wire.open(guest_port=qemu.port) as wire:
        yield qemu, wire
    qemu.sock.close()


def arp_request(psrc: str = GUEST_IP, pdst: str = PEER_IP, op: int = 1) -> bytes:
    return bytes(
        Ether(dst="ff:ff:ff:ff:ff:ff", src=GUEST_MAC)
        / ARP(op=op, hwsrc=GUEST_MAC, psrc=psrc, pdst=pdst)
    )


def test_frames_cross_the_wire_both_ways_as_they_are(ends):
    qemu, wire = ends
    frame = bytes(Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(dst=GUEST_IP) / ICMP())

    wire.send(frame)
    qemu.send_to(wire, frame[::-1])

    assert qemu.recv() == frame
    assert wire.recv(2.0) == frame[::-1]


def test_a_quiet_wire_gives_none_even_for_the_shortest_wait(ends):
    _, wire = ends
    assert wire.recv(0.05) is None
    assert wire.recv(1e-9) is None  # not SO_RCVTIMEO's zero, which waits for ever


@pytest.mark.parametrize("asker_ip", [GUEST_IP, "10.0.2.20"])
def test_an_arp_request_for_the_peer_is_answered_to_whoever_asked(ends, asker_ip):
    qemu, wire = ends

    assert wire.answer_arp(arp_request(psrc=asker_ip))

    answer = qemu.recv()
    expected = Ether(dst=GUEST_MAC, src=PEER_MAC) / ARP(
        op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=GUEST_MAC, pdst=asker_ip
    )
    assert answer == bytes(expected).ljust(60, b"\0")  # padded to Ethernet's minimum
    assert wire.arp_answered == 1


def test_only_an_arp_request_for_the_peer_is_one():
    peer = ip_bytes(PEER_IP)
    assert is_arp_request_for(arp_request(), peer)
    assert not is_arp_request_for(arp_request(pdst="10.0.2.3"), peer)
    assert not is_arp_request_for(arp_request(op=2), peer)
    assert not is_arp_request_for(bytes(Ether() / IP() / ICMP()), peer)
    assert not is_arp_request_for(b"short", peer)


def test_drain_reads_until_the_wire_is_quiet_and_answers_on_the_way(ends):
    qemu, wire = ends
    for frame in (arp_request(), b"x" * 60, b"y" * 60):
        qemu.send_to(wire, frame)

    assert wire.drain(0.2) == 3
    assert wire.arp_answered == 1


def test_the_options_join_qemus_end_to_this_socket(ends, tmp_path: Path):
    qemu, wire = ends

    plain = wire.options("-append", "e1000echo")
    dumped = wire.options(pcap=tmp_path / "net0.pcap")

    [netdev] = plain.netdevs
    assert f"local.port={qemu.port}," in netdev
    assert netdev.endswith(f"remote.port={wire.port}")
    assert plain.devices == [f"e1000,netdev=net0,mac={GUEST_MAC}"]
    assert list(plain.extra_args) == ["-append", "e1000echo"]
    assert list(dumped.extra_args) == [
        "-object", f"filter-dump,id=f0,netdev=net0,file={tmp_path / 'net0.pcap'}",
    ]  # fmt: skip
