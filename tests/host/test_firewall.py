"""finch.firewall: the firewall sample's rules, read from ipfw's words and
packed as kexts/firewall/firewall.h lays them out, without a guest."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from finch.firewall import RULE, Rule, RuleError, parse_rule

HEADER = Path(__file__).parents[2] / "kexts" / "firewall" / "firewall.h"


def test_a_rule_reads_back_as_written() -> None:
    for text in (
        "100 drop log icmp from 10.0.2.2 to any in",
        "allow udp from 10.0.0.0/8 port 53 to any out",
        "300 drop tcp from any to 10.0.2.15 port 80",
        "allow ip from any to any",
    ):
        assert parse_rule(text).text() == text


def test_a_packed_rule_unpacks_to_itself() -> None:
    rule = parse_rule("7 drop log udp from 10.0.2.0/24 port 1000 to 10.0.2.15 port 7 in")

    packed = rule.pack()

    assert len(packed) == RULE.size == 36
    assert Rule.unpack(packed) == rule
    assert packed[:4] == bytes([7, 0, 1, 0x1 | 0x4])  # number, action, flags
    assert packed[8:16] == ipaddress.IPv4Address("10.0.2.0").packed + bytes([255, 255, 255, 0])


def test_the_header_has_the_options_and_flags_the_host_packs() -> None:
    text = HEADER.read_text()
    defines = dict(re.findall(r"#define (FW_\w+)\s+(0x\d+|\d+)", text))

    assert {k: int(v, 0) for k, v in defines.items()} == {
        "FW_ADD": 1,
        "FW_DELETE": 2,
        "FW_FLUSH": 3,
        "FW_LIST": 4,
        "FW_STATS": 5,
        "FW_ALLOW": 0,
        "FW_DROP": 1,
        "FW_IN": 1,
        "FW_OUT": 2,
        "FW_LOG": 4,
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("deny ip from any to any", "'deny' is not allow or drop"),
        ("drop gre from any to any", "protocol 'gre' is not one of ip, icmp, tcp, udp"),
        ("drop ip from 10.0.2.2/24 to any", "no host bits set"),
        ("drop icmp from any port 7 to any", "a port needs udp or tcp, not icmp"),
        ("drop udp from any to any port 0", "port '0' is not a number from 1 to 65535"),
        ("70000 drop ip from any to any", "rule number 70000 is not from 1 to 65535"),
        ("drop ip from any", "the rule stops short"),
        ("drop ip from any to any sideways", "unexpected 'sideways' at the end"),
    ],
)
def test_a_bad_rule_is_refused_saying_what_is_wrong_and_how_to_write_one(
    text: str, words: str
) -> None:
    with pytest.raises(RuleError) as e:
        parse_rule(text)

    assert words in str(e.value)
    assert "[NUMBER] allow|drop [log]" in str(e.value)
