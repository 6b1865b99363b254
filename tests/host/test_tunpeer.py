"""finch.tunpeer: the packets the utun sample's far end reads and writes."""

from __future__ import annotations

import struct

import pytest

from finch.netbench import internet_checksum
from finch.tunpeer import (
    AF_INET,
    PROTO_ICMP,
    TunPacket,
    TunPacketError,
    echo_reply,
    ipv4_packet,
)

GUEST, FAR = bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])


def echo_request(seq: int, data: bytes) -> TunPacket:
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x1234, seq) + data
    icmp = icmp[:2] + struct.pack("!H", internet_checksum(icmp)) + icmp[4:]
    return TunPacket(AF_INET, ipv4_packet(GUEST, FAR, PROTO_ICMP, icmp))


def test_a_record_is_the_family_in_network_order_then_the_packet() -> None:
    packet = TunPacket.parse(b"\0\0\0\2" + ipv4_packet(GUEST, FAR, 17, b"x"))

    assert packet.family == AF_INET
    assert packet.frame()[:4] == b"\0\0\0\2"
    assert packet.summary() == "10.9.0.1 > 10.9.0.2: UDP, 21 bytes"


def test_a_record_without_a_family_is_refused_in_words() -> None:
    with pytest.raises(TunPacketError, match="4-byte address family"):
        TunPacket.parse(b"\0\0")


def test_the_echo_reply_swaps_the_addresses_and_keeps_id_seq_and_data() -> None:
    request = echo_request(7, b"abcdefgh" * 8)

    reply = echo_reply(request)

    assert reply.summary() == "10.9.0.2 > 10.9.0.1: ICMP, 92 bytes"
    assert internet_checksum(reply.data[:20]) == 0
    assert internet_checksum(reply.payload) == 0
    assert reply.payload[0] == 0
    assert reply.payload[4:] == request.payload[4:]


def test_only_an_echo_request_gets_a_reply() -> None:
    with pytest.raises(TunPacketError, match="not an ICMP echo request"):
        echo_reply(TunPacket(AF_INET, ipv4_packet(GUEST, FAR, 17, b"x")))
