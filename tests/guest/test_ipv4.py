"""IPv4 in the guest: ARP, IP, ICMP and UDP, seen from the host.

Two kinds of wire.  With QEMU's user networking the guest is 10.0.2.15
behind slirp's gateway 10.0.2.2, and a hostfwd port reaches its UDP echo
service.  With a `-netdev dgram` this test owns the wire: a plain UDP
socket carries each Ethernet frame as one datagram, the test plays the
gateway 10.0.2.2 with scapy, and QEMU's filter-dump keeps every frame in
a pcap that one test reads back.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet
from scapy.utils import rdpcap

from finch.machine import Machine
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.wire import GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire, free_udp_port
from finch.wirepeer import WirePeer as Peer
from finch.wirepeer import netstat_s

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"


def ones_complement_sum(data: bytes) -> int:
    """RFC 1071's sum, folded to 16 bits: 0xffff for intact data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total > 0xFFFF:
        total = (total >> 16) + (total & 0xFFFF)
    return total


def checksums_ok(frame: bytes) -> bool:
    """Are the IP header checksum, and for a whole datagram the ICMP or UDP
    checksum (with its pseudo header), right?  Ethernet padding ignored."""
    ip = bytes(Ether(frame)[IP])
    hlen, total = (ip[0] & 0xF) * 4, int.from_bytes(ip[2:4], "big")
    ip = ip[:total]
    if ones_complement_sum(ip[:hlen]) != 0xFFFF:
        return False
    if int.from_bytes(ip[6:8], "big") & 0x3FFF:  # a fragment: no transport sum
        return True
    body = ip[hlen:]
    if ip[9] == 1:
        return ones_complement_sum(body) == 0xFFFF
    if ip[9] == 17 and body[6:8] != b"\0\0":
        pseudo = ip[12:20] + bytes([0, 17]) + len(body).to_bytes(2, "big")
        return ones_complement_sum(pseudo + body) == 0xFFFF
    return True


# --------------------------------------------------------------------------
# The wire


def ip_to_guest(payload: Packet, **ip: object) -> Packet:
    return Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP, **ip) / payload


def is_echo_reply(seq: int) -> Callable[[Packet], bool]:
    return lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].seq == seq


@pytest.fixture
def peer(finch_log_dir: Path) -> Iterator[Peer]:
    with Wire.open(rcvbuf=1 << 22) as wire:
        yield Peer(wire, finch_log_dir / "net0.pcap")


@pytest.fixture
def wired_guest(machine_factory: MachineFactory, peer: Peer) -> Machine:
    """A guest whose en0 is on the peer's wire, every frame kept in a pcap."""
    machine = machine_factory(peer.options())
    machine.boot()
    return machine


# --------------------------------------------------------------------------
# QEMU user networking


HOSTFWD_OPTIONS = "user,id=net0,hostfwd=udp:127.0.0.1:{port}-:7"


@pytest.fixture
def user_guest(machine_factory: MachineFactory) -> tuple[Machine, int]:
    """A guest behind slirp, its UDP port 7 forwarded to a host port."""
    port = free_udp_port()
    machine = machine_factory(
        QemuOptions(netdevs=[HOSTFWD_OPTIONS.format(port=port)], devices=["e1000,netdev=net0"])
    )
    machine.boot()
    return machine, port


def test_boot_gives_en0_qemu_defaults_and_lo0_its_address(
    user_guest: tuple[Machine, int],
) -> None:
    machine, _ = user_guest
    en0 = machine.command("ifconfig en0")
    assert "inet 10.0.2.15 netmask 0xffffff00 broadcast 10.0.2.255" in en0
    assert "inet 127.0.0.1 netmask 0xff000000" in machine.command("ifconfig lo0")
    routes = machine.command("netstat -r")
    assert re.search(r"^default\s+10\.0\.2\.2\s+UGS\s+\d+\s+en0$", routes, re.M), routes
    assert re.search(r"^10\.0\.2\.0/24\s+link#\d+\s+U\s+\d+\s+en0$", routes, re.M), routes
    assert re.search(r"^127\.0\.0\.0/8\s+link#\d+\s+U\s+\d+\s+lo0$", routes, re.M), routes


def test_guest_pings_the_user_networking_gateway(user_guest: tuple[Machine, int]) -> None:
    machine, _ = user_guest
    out = machine.command("ping -c 3 -i 0.2 10.0.2.2", timeout=20)
    rtts = re.findall(r"^64 bytes from 10\.0\.2\.2: icmp_seq=\d ttl=\d+ time=[\d.]+ ms$", out, re.M)
    assert len(rtts) == 3, out
    assert "3 packets transmitted, 3 packets received, 0.0% packet loss" in out
    assert re.search(r"round-trip min/avg/max/stddev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms", out)
    assert re.search(r"\? \(10\.0\.2\.2\) at 52:55:0a:00:02:02 on en0", machine.command("arp -a"))


def test_host_udp_client_reaches_the_echo_service_through_hostfwd(
    user_guest: tuple[Machine, int],
) -> None:
    machine, port = user_guest
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(5)
        # 4000 bytes: fragmented by slirp, reassembled and fragmented back.
        for payload in (b"hello, finch", bytes(range(256)) * 4, b"\xa5" * 4000):
            client.sendto(payload, ("127.0.0.1", port))
            data, _ = client.recvfrom(65536)
            assert data == payload
    counters = netstat_s(machine)
    assert counters["udp.echoed"] == 3
    assert counters["ip.reassembled"] >= 1
    assert counters["ip.fragmented"] >= 1


def test_a_big_echo_before_the_gateway_is_resolved_comes_back_whole(
    user_guest: tuple[Machine, int],
) -> None:
    """The first datagram after boot: the guest does not know 10.0.2.2 yet,
    and all three fragments of the answer wait for ARP.  (When ARP held
    only the last one, slirp, given that fragment alone, killed QEMU.)"""
    machine, port = user_guest
    payload = bytes((i * 5) & 0xFF for i in range(3000))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(5)
        client.sendto(payload, ("127.0.0.1", port))
        data, _ = client.recvfrom(65536)
    assert data == payload
    counters = netstat_s(machine)
    assert counters["arp.requests_out"] == 1
    assert counters["ip.ofragments"] == 3
    assert counters["arp.hold_overflow"] == 0


def test_loopback_and_own_address_answer_pings(user_guest: tuple[Machine, int]) -> None:
    machine, _ = user_guest
    for address in ("127.0.0.1", "10.0.2.15"):
        out = machine.command(f"ping -c 2 -i 0.1 -s 2000 {address}")
        assert "2 packets transmitted, 2 packets received" in out, out
        assert f"2008 bytes from {address}" in out


def test_a_machine_without_an_e1000_boots_with_loopback_only(guest: Machine) -> None:
    assert "inet 127.0.0.1" in guest.command("ifconfig lo0")
    assert "default" not in guest.command("netstat -r")
    assert "1 packets received" in guest.command("ping -c 1 127.0.0.1")
    out = guest.command("ping -c 1 10.0.2.2")
    assert "network unreachable" in out
    assert "0 packets received" in out


def test_route_add_delete_and_get(user_guest: tuple[Machine, int]) -> None:
    machine, _ = user_guest
    assert machine.command("route add -net 192.168.7.0/24 10.0.2.3") == (
        "add net 192.168.7.0/24: gateway 10.0.2.3"
    )
    assert re.search(r"^192\.168\.7\.0/24\s+10\.0\.2\.3\s+UGS", machine.command("netstat -r"), re.M)
    assert "gateway: 10.0.2.3" in machine.command("route get 192.168.7.9")
    assert "gateway: 10.0.2.2" in machine.command("route get 8.8.8.8")
    assert "route already in table" in machine.command("route add default 10.0.2.2")
    assert "network unreachable" in machine.command("route add -host 1.2.3.4 172.16.0.1")
    assert machine.command("route delete 192.168.7.0/24") == "delete net 192.168.7.0/24"
    assert machine.command("route delete default") == "delete net default"
    assert "network unreachable" in machine.command("route get 8.8.8.8")
    assert machine.command("route add default 10.0.2.2") == "add net default: gateway 10.0.2.2"


# --------------------------------------------------------------------------
# Our own wire


def test_guest_announces_itself_and_answers_arp(wired_guest: Machine, peer: Peer) -> None:
    announce = peer.expect(lambda p: ARP in p and p[ARP].psrc == GUEST_IP == p[ARP].pdst)
    assert announce.dst == BROADCAST_MAC
    assert announce[ARP].op == 1
    assert announce[ARP].hwsrc == GUEST_MAC
    peer.wait_guest_ready()
    peer.send(
        Ether(dst=BROADCAST_MAC, src="02:00:00:00:00:07")
        / ARP(op=1, hwsrc="02:00:00:00:00:07", psrc="10.0.2.7", pdst=GUEST_IP)
    )
    reply = peer.expect(lambda p: ARP in p and p[ARP].op == 2)
    assert reply.dst == "02:00:00:00:00:07"
    assert reply.src == GUEST_MAC
    assert (reply[ARP].hwsrc, reply[ARP].psrc) == (GUEST_MAC, GUEST_IP)
    assert (reply[ARP].hwdst, reply[ARP].pdst) == ("02:00:00:00:00:07", "10.0.2.7")
    assert re.search(r"\(10\.0\.2\.7\) at 02:00:00:00:00:07 on en0", wired_guest.command("arp -a"))


def test_echo_requests_get_replies_with_correct_checksums(wired_guest: Machine, peer: Peer) -> None:
    peer.wait_guest_ready()
    for seq, data in enumerate((b"", b"x", b"finch" * 100, bytes(range(256)) * 5), start=1):
        peer.send(ip_to_guest(ICMP(id=0x1234, seq=seq) / data))
        reply = peer.expect(is_echo_reply(seq))
        assert reply[IP].src == GUEST_IP
        assert reply[IP].dst == PEER_IP
        assert reply[ICMP].id == 0x1234
        assert bytes(reply[ICMP].payload) == data
        assert checksums_ok(bytes(reply))


def test_udp_echo_and_port_unreachable(wired_guest: Machine, peer: Peer) -> None:
    peer.wait_guest_ready()
    peer.send(ip_to_guest(UDP(sport=40000, dport=7) / b"echo me"))
    reply = peer.expect(lambda p: UDP in p and p[UDP].dport == 40000)
    assert (reply[IP].src, reply[UDP].sport) == (GUEST_IP, 7)
    assert bytes(reply[UDP].payload) == b"echo me"
    assert checksums_ok(bytes(reply))

    before = netstat_s(wired_guest)
    peer.send(ip_to_guest(UDP(sport=40001, dport=9999) / b"anyone?"))
    err = peer.expect(lambda p: ICMP in p and p[ICMP].type == 3)
    assert err[ICMP].code == 3
    assert checksums_ok(bytes(err))
    quoted = IP(bytes(err[ICMP].payload))
    assert (quoted.dst, quoted[UDP].dport) == (GUEST_IP, 9999)
    after = netstat_s(wired_guest)
    assert after["udp.noport"] == before["udp.noport"] + 1
    assert after["icmp.unreach_port_out"] == before["icmp.unreach_port_out"] + 1


def test_fragmented_datagram_is_reassembled_and_echoed(wired_guest: Machine, peer: Peer) -> None:
    peer.wait_guest_ready()
    payload = bytes((i * 7) & 0xFF for i in range(5000))
    frags = fragment(ip_to_guest(UDP(sport=40002, dport=7) / payload, id=777)[IP], fragsize=1200)
    for frag in reversed(frags):  # out of order
        peer.send(Ether(dst=GUEST_MAC, src=PEER_MAC) / frag)
    got: dict[int, bytes] = {}
    total = None
    for pkt in peer.frames(5.0):
        if IP in pkt and pkt[IP].src == GUEST_IP and pkt[IP].proto == 17:
            assert checksums_ok(bytes(pkt))
            got[pkt[IP].frag * 8] = bytes(pkt[IP].payload)
            if not pkt[IP].flags.MF:
                total = pkt[IP].frag * 8 + len(pkt[IP].payload)
            if total is not None and sum(map(len, got.values())) == total:
                break
    assert total == 8 + len(payload), f"fragments back: {sorted(got)}"
    whole = b"".join(got[off] for off in sorted(got))
    assert whole[8:] == payload  # past the UDP header
    counters = netstat_s(wired_guest)
    assert counters["ip.reassembled"] >= 1
    assert counters["ip.fragmented"] >= 1


STRANGER_IP, STRANGER_MAC = "10.0.2.7", "02:00:00:00:00:07"  # a host the guest never met


def udp_fragments_from_stranger(payload: bytes, ident: int) -> list[Packet]:
    """A UDP datagram from STRANGER_IP to the echo port, in 1200-byte fragments."""
    datagram = IP(src=STRANGER_IP, dst=GUEST_IP, id=ident) / UDP(sport=40004, dport=7) / payload
    return [Ether(dst=GUEST_MAC, src=STRANGER_MAC) / f for f in fragment(datagram, fragsize=1200)]


def arp_reply_from_stranger() -> Packet:
    return Ether(dst=GUEST_MAC, src=STRANGER_MAC) / ARP(
        op=2, hwsrc=STRANGER_MAC, psrc=STRANGER_IP, hwdst=GUEST_MAC, pdst=GUEST_IP
    )


def is_arp_request_for(ip: str) -> Callable[[Packet], bool]:
    return lambda p: ARP in p and p[ARP].op == 1 and p[ARP].pdst == ip


def test_fragments_waiting_for_arp_all_go_out_in_order_once_it_answers(
    wired_guest: Machine, peer: Peer
) -> None:
    peer.wait_guest_ready()
    payload = bytes((i * 11) & 0xFF for i in range(6000))
    for frag in udp_fragments_from_stranger(payload, ident=901):
        peer.send(frag)
    peer.expect(is_arp_request_for(STRANGER_IP))
    # Nothing leaves before the answer: the five fragments of the echo wait.
    early = [p for p in peer.frames(0.3) if IP in p]
    assert early == []
    peer.send(arp_reply_from_stranger())
    out: list[Packet] = []
    for pkt in peer.frames(5.0):
        if IP in pkt and pkt[IP].dst == STRANGER_IP:
            out.append(pkt)
            if not pkt[IP].flags.MF:
                break
    assert [p.dst for p in out] == [STRANGER_MAC] * 5
    assert [p[IP].frag * 8 for p in out] == [1480 * n for n in range(5)]  # in order
    whole = b"".join(bytes(p[IP].payload) for p in out)
    assert whole[8:] == payload  # past the UDP header
    counters = netstat_s(wired_guest)
    assert counters["arp.hold_overflow"] == 0
    assert counters["ip.ofragments"] >= 5


def test_past_16_waiting_packets_arp_drops_the_oldest_and_counts_them(
    wired_guest: Machine, peer: Peer
) -> None:
    peer.wait_guest_ready()
    payload = bytes(1480 * 20 - 8)  # the echo is 20 fragments of 1480 bytes
    for frag in udp_fragments_from_stranger(payload, ident=902):
        peer.send(frag)
    peer.expect(is_arp_request_for(STRANGER_IP))
    peer.drain()
    peer.send(arp_reply_from_stranger())
    out = [p for p in peer.frames(2.0) if IP in p and p[IP].dst == STRANGER_IP]
    assert [p[IP].frag * 8 for p in out] == [1480 * n for n in range(4, 20)]
    assert netstat_s(wired_guest)["arp.hold_overflow"] == 4


def test_new_address_and_link_up_are_announced(wired_guest: Machine, peer: Peer) -> None:
    peer.wait_guest_ready()
    assert wired_guest.command("ifconfig en0 inet 10.0.2.20/24") == ""
    peer.expect(lambda p: ARP in p and p[ARP].psrc == "10.0.2.20" == p[ARP].pdst)
    assert "inet 10.0.2.20 netmask 0xffffff00" in wired_guest.command("ifconfig en0")
    assert re.search(r"KEV_INET_NEW_ADDR\s+en0 10\.0\.2\.20", wired_guest.command("kevents 5"))
    wired_guest.command("ifconfig en0 inet 10.0.2.20 netmask 0xffff0000")
    assert re.search(r"KEV_INET_CHANGED_ADDR\s+en0 10\.0\.2\.20", wired_guest.command("kevents 1"))
    assert re.search(r"^10\.0\.0\.0/16\s", wired_guest.command("netstat -r"), re.M)
    wired_guest.qmp("set_link", name="net0", up=False)
    time.sleep(0.5)
    wired_guest.qmp("set_link", name="net0", up=True)
    peer.expect(lambda p: ARP in p and p[ARP].psrc == "10.0.2.20" == p[ARP].pdst, timeout=10)


def test_pcap_holds_the_whole_conversation(wired_guest: Machine, peer: Peer) -> None:
    peer.wait_guest_ready()
    out = wired_guest.command("ping -c 2 -i 0.1 10.0.2.2")
    assert "2 packets transmitted" in out  # the peer does not answer pings
    peer.send(ip_to_guest(UDP(sport=40003, dport=7) / b"for the record"))
    peer.expect(lambda p: UDP in p and p[UDP].dport == 40003)
    wired_guest.shutdown()  # flushes the pcap
    frames = rdpcap(str(peer.pcap))
    from_guest = [Ether(bytes(f)) for f in frames if Ether(bytes(f)).src == GUEST_MAC]
    requests = [p for p in from_guest if ICMP in p and p[ICMP].type == 8 and p[IP].dst == PEER_IP]
    assert len(requests) == 2
    assert all(checksums_ok(bytes(p)) for p in requests)
    assert any(ARP in p and p[ARP].op == 1 and p[ARP].pdst == PEER_IP for p in from_guest)
    echoes = [p for p in from_guest if UDP in p and p[UDP].dport == 40003]
    assert len(echoes) == 1
    assert bytes(echoes[0][UDP].payload) == b"for the record"
    assert all(checksums_ok(bytes(p)) for p in from_guest if IP in p and not p[IP].frag)
