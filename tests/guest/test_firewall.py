"""The firewall sample (kexts/firewall): an IP filter whose rules the host
sets through its kernel control.  The test owns the guest's wire (a
`-netdev dgram` socket, scapy on the far end as 10.0.2.2): it pings the
guest and sends datagrams to its UDP echo service, and sees them blocked
by a rule and let through again once the rule is deleted, each rule
counting what it matched.

One guest for the module; every test leaves no rule behind.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from finch.cli import firewall as firewall_cli
from finch.firewall import Firewall, RuleError, parse_rule
from finch.kctl import KctlError
from finch.kext.guest import KextGuest, kext_options
from finch.pytest_plugin import MachineFactory
from finch.session import GuestSession
from finch.wire import GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire
from finch.wirepeer import WirePeer, netstat_s

BUNDLE = "com.finch.sample.firewall"
EEXIST, ENOENT, EINVAL = 17, 2, 22
ECHO_PORT, CLIENT_PORT = 7, 40007


def to_guest(payload: Packet) -> Packet:
    return Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP) / payload


def pinged(peer: WirePeer, seq: int, timeout: float = 2.0) -> bool:
    """Does the guest answer an echo request from the wire?"""
    peer.send(to_guest(ICMP(id=0x4657, seq=seq) / b"firewall?"))
    for pkt in peer.frames(timeout):
        if ICMP in pkt and pkt[ICMP].type == 0 and pkt[ICMP].seq == seq:
            return True
    return False


def echoed(peer: WirePeer, payload: bytes, timeout: float = 2.0) -> bool:
    """Does the echo service send payload back, intact?"""
    peer.send(to_guest(UDP(sport=CLIENT_PORT, dport=ECHO_PORT) / payload))
    want = hashlib.sha256(payload).hexdigest()
    for pkt in peer.frames(timeout):
        if UDP in pkt and pkt[UDP].dport == CLIENT_PORT and Raw in pkt:
            return hashlib.sha256(bytes(pkt[Raw].load)).hexdigest() == want
    return False


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WirePeer]:
    with Wire.open() as wire:
        yield WirePeer(wire, tmp_path_factory.mktemp("firewall") / "net0.pcap")


@pytest.fixture(scope="module")
def guest(module_machine_factory: MachineFactory, built_kexts: Path, peer: WirePeer) -> KextGuest:
    """The guest on the peer's wire, the firewall loaded, answering pings."""
    machine = module_machine_factory(kext_options(peer.options()))
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    guest.load(guest.bundle("firewall"))
    machine.expect("firewall: filtering IPv4")
    for seq in range(50):  # QEMU holds received frames until RCTL is set
        if pinged(peer, seq, 0.2):
            break
    else:
        pytest.fail("the guest never answered a ping on the wire")
    return guest


@pytest.fixture
def fw(guest: KextGuest) -> Iterator[Firewall]:
    with GuestSession.open(guest.rundir) as session, Firewall.connect(session) as fw:
        yield fw
        fw.flush()


def test_with_no_rules_ping_and_udp_echo_pass(peer: WirePeer, fw: Firewall) -> None:
    assert pinged(peer, 100)
    assert echoed(peer, os.urandom(200))
    assert fw.rules() == []
    assert fw.stats()["default"] >= 2


def test_a_drop_rule_blocks_ping_from_the_host_counts_and_logs_it_until_deleted(
    guest: KextGuest, peer: WirePeer, fw: Firewall
) -> None:
    fw.add(parse_rule("100 drop log icmp from 10.0.2.2 to any in"))

    blocked = pinged(peer, 101, 1.0)
    udp_still = echoed(peer, b"not icmp")
    rule = fw.rule(100)
    fw.delete(100)
    unblocked = pinged(peer, 102)

    assert not blocked
    assert udp_still
    assert (rule.packets, rule.bytes) == (1, 20 + 8 + len(b"firewall?"))
    guest.machine.expect(r"firewall: rule 100 drop icmp 10\.0\.2\.2 -> 10\.0\.2\.15 in")
    assert unblocked
    assert fw.rules() == []


def test_a_port_rule_blocks_udp_echo_and_leaves_ping_alone(peer: WirePeer, fw: Firewall) -> None:
    payload = os.urandom(1000)
    fw.add(parse_rule("drop udp from any to any port 7"))

    blocked = echoed(peer, payload, 1.0)
    ping_still = pinged(peer, 110)
    [rule] = fw.rules()
    fw.delete(rule.number)
    unblocked = echoed(peer, payload)

    assert not blocked
    assert ping_still
    assert rule.number == 100  # numbered by the kext: last + 100
    assert rule.packets == 1
    assert unblocked


def test_an_outbound_rule_drops_the_guests_reply_in_ip_output(
    guest: KextGuest, peer: WirePeer, fw: Firewall
) -> None:
    before = netstat_s(guest.machine)
    fw.add(parse_rule("drop icmp from any to 10.0.2.2 out"))

    blocked = pinged(peer, 120, 1.0)

    after = netstat_s(guest.machine)
    assert not blocked
    assert after["ipf.out_rejected"] - before["ipf.out_rejected"] == 1
    assert after["ipf.in_passed"] - before["ipf.in_passed"] >= 1  # the request came in


def test_the_first_matching_rule_decides(peer: WirePeer, fw: Firewall) -> None:
    fw.add(parse_rule("200 drop icmp from any to any in"))
    fw.add(parse_rule("100 allow icmp from 10.0.2.0/24 to any in"))

    answered = pinged(peer, 130)

    assert answered
    counts = {r.number: r.packets for r in fw.rules()}
    assert counts[100] == 1
    assert counts[200] == 0  # rule 100 took the request first
    assert [r.number for r in fw.rules()] == [100, 200]


def test_bad_rules_are_refused_in_words_and_leave_the_firewall_as_it_was(fw: Firewall) -> None:
    fw.add(parse_rule("100 allow ip from any to any"))
    with pytest.raises(KctlError) as taken:
        fw.add(parse_rule("100 drop ip from any to any"))
    with pytest.raises(KctlError) as unknown:
        fw.delete(4242)
    with pytest.raises(RuleError) as host_bits:
        parse_rule("drop ip from 10.0.2.2/24 to any")
    with pytest.raises(RuleError) as short:
        parse_rule("drop icmp from")
    raw = bytearray(parse_rule("drop ip from any to any").pack())
    raw[2] = 9  # no such action
    with pytest.raises(KctlError) as bad_action:
        fw.control.setsockopt(1, bytes(raw))

    assert taken.value.errno == EEXIST
    assert unknown.value.errno == ENOENT
    assert bad_action.value.errno == EINVAL
    assert "no host bits set" in str(host_bits.value)
    assert "the rule stops short" in str(short.value)
    assert [r.text() for r in fw.rules()] == ["100 allow ip from any to any"]


def test_the_firewall_command_adds_lists_and_deletes(
    guest: KextGuest, peer: WirePeer, capsys: pytest.CaptureFixture[str]
) -> None:
    rundir = ["--rundir", str(guest.rundir)]

    added = firewall_cli.main([*rundir, "add", "300", "drop", "udp", "from", "any", "to", "any"])
    blocked = echoed(peer, b"cli", 1.0)
    listed = firewall_cli.main([*rundir, "list"])
    deleted = firewall_cli.main([*rundir, "delete", "300"])

    out = capsys.readouterr().out
    assert (added, listed, deleted) == (0, 0, 0)
    assert not blocked
    assert "00300 drop udp from any to any  (1 packets, 31 bytes)" in out
    assert out.rstrip().splitlines()[-1].startswith("0 rules; datagrams: in ")


def test_unloading_removes_the_filter_and_ping_still_works(
    guest: KextGuest, peer: WirePeer
) -> None:
    guest.unload(BUNDLE)

    guest.machine.expect("firewall: stopped")
    assert "0 filters registered" in guest.monitor("ipf")
    assert pinged(peer, 140)
