"""The firewall sample's rules (kexts/firewall), on the host.

The kext keeps numbered rules and takes them through the socket options
of its kernel control; kexts/firewall/firewall.h is the format, packed
here byte for byte (little-endian i386).  Rules are written as ipfw
writes them:

    [NUMBER] allow|drop [log] ip|icmp|udp|tcp from SRC [port N] to DST [port N] [in|out]

SRC and DST are `any`, an address or ADDRESS/LENGTH; with neither `in`
nor `out` a rule matches both ways.

    with GuestSession.open(rundir) as session, Firewall.connect(session) as fw:
        fw.add(parse_rule("100 drop log icmp from 10.0.2.2 to any in"))
        for rule in fw.rules():
            print(rule)
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from finch.errors import FinchError
from finch.kctl import ControlClient

CONTROL = "com.finch.sample.firewall"
MAX_RULES = 32
FW_ADD, FW_DELETE, FW_FLUSH, FW_LIST, FW_STATS = 1, 2, 3, 4, 5
FW_IN, FW_OUT, FW_LOG = 0x1, 0x2, 0x4
ACTIONS = {"allow": 0, "drop": 1}
PROTOCOLS = {"ip": 0, "icmp": 1, "tcp": 6, "udp": 17}
RULE = struct.Struct("<HBBB3x4s4s4s4sHHII")  # struct fw_rule
STATS = struct.Struct("<5I")  # struct fw_stats
STATS_FIELDS = ("in", "out", "dropped", "allowed", "default")
ANY = ipaddress.IPv4Network("0.0.0.0/0")


class RuleError(FinchError):
    """A rule written in a way the firewall cannot take."""


@dataclass(frozen=True)
class Rule:
    """One rule, as fw_rule holds it; packets and bytes come from FW_LIST."""

    action: str  # "allow" or "drop"
    proto: str = "ip"
    src: ipaddress.IPv4Network = ANY
    dst: ipaddress.IPv4Network = ANY
    sport: int = 0  # 0: any
    dport: int = 0
    inbound: bool = True
    outbound: bool = True
    log: bool = False
    number: int = 0  # 0: the kext picks the last one + 100
    packets: int = 0
    bytes: int = 0

    def pack(self) -> bytes:
        flags = (FW_IN if self.inbound else 0) | (FW_OUT if self.outbound else 0)
        flags |= FW_LOG if self.log else 0
        return RULE.pack(
            self.number,
            ACTIONS[self.action],
            flags,
            PROTOCOLS[self.proto],
            self.src.network_address.packed,
            self.src.netmask.packed,
            self.dst.network_address.packed,
            self.dst.netmask.packed,
            self.sport,
            self.dport,
            0,
            0,
        )

    @classmethod
    def unpack(cls, data: bytes) -> Rule:
        num, action, flags, proto, src, smask, dst, dmask, sport, dport, pk, by = RULE.unpack(data)
        names = {v: k for k, v in PROTOCOLS.items()}
        return cls(
            action="drop" if action == ACTIONS["drop"] else "allow",
            proto=names.get(proto, str(proto)),
            src=_network(src, smask),
            dst=_network(dst, dmask),
            sport=sport,
            dport=dport,
            inbound=bool(flags & FW_IN),
            outbound=bool(flags & FW_OUT),
            log=bool(flags & FW_LOG),
            number=num,
            packets=pk,
            bytes=by,
        )

    def text(self) -> str:
        """The rule as parse_rule reads it."""
        words = [str(self.number)] if self.number else []
        words += [self.action, *(["log"] if self.log else []), self.proto]
        words += ["from", _side(self.src), *([f"port {self.sport}"] if self.sport else [])]
        words += ["to", _side(self.dst), *([f"port {self.dport}"] if self.dport else [])]
        if self.inbound != self.outbound:
            words.append("in" if self.inbound else "out")
        return " ".join(words)

    def __str__(self) -> str:
        rule = replace_number(self.text(), self.number)
        return f"{rule}  ({self.packets} packets, {self.bytes} bytes)"


def replace_number(text: str, number: int) -> str:
    """ipfw's listing: the number on five digits."""
    return f"{number:05d} {text.split(' ', 1)[1]}" if number else text


def _network(addr: bytes, mask: bytes) -> ipaddress.IPv4Network:
    a, m = ipaddress.IPv4Address(addr), ipaddress.IPv4Address(mask)
    return ipaddress.IPv4Network(f"{a}/{m}", strict=False)


def _side(net: ipaddress.IPv4Network) -> str:
    if net == ANY:
        return "any"
    return str(net.network_address) if net.prefixlen == 32 else str(net)


def _address(word: str) -> ipaddress.IPv4Network:
    if word == "any":
        return ANY
    try:
        return ipaddress.IPv4Network(word, strict=True)
    except ValueError as e:
        raise RuleError(
            f"{word!r} is not `any`, an IPv4 address or ADDRESS/LENGTH with no host bits set ({e})"
        ) from None


def _port(word: str) -> int:
    if not word.isdigit() or not 1 <= int(word) <= 65535:
        raise RuleError(f"port {word!r} is not a number from 1 to 65535")
    return int(word)


USAGE = (
    "write a rule as [NUMBER] allow|drop [log] ip|icmp|udp|tcp from SRC [port N] "
    "to DST [port N] [in|out], e.g. `100 drop log icmp from 10.0.2.2 to any in`"
)


def parse_rule(text: str | Sequence[str]) -> Rule:
    """A Rule from its ipfw-like words; RuleError says what is wrong."""
    words = text.split() if isinstance(text, str) else list(text)
    rule: dict[str, object] = {}
    try:
        if words and words[0].isdigit():
            number = int(words.pop(0))
            if not 1 <= number <= 65535:
                raise RuleError(f"rule number {number} is not from 1 to 65535")
            rule["number"] = number
        action = words.pop(0)
        if action not in ACTIONS:
            raise RuleError(f"{action!r} is not allow or drop")
        rule["action"] = action
        if words[0] == "log":
            rule["log"] = words.pop(0) == "log"
        proto = words.pop(0)
        if proto not in PROTOCOLS:
            raise RuleError(f"protocol {proto!r} is not one of {', '.join(PROTOCOLS)}")
        rule["proto"] = proto
        for side in ("src", "dst"):
            keyword = words.pop(0)
            if keyword != ("from" if side == "src" else "to"):
                raise RuleError(f"expected {'from' if side == 'src' else 'to'}, not {keyword!r}")
            rule[side] = _address(words.pop(0))
            if words and words[0] == "port":
                words.pop(0)
                if proto not in ("udp", "tcp"):
                    raise RuleError(f"a port needs udp or tcp, not {proto}")
                rule["sport" if side == "src" else "dport"] = _port(words.pop(0))
        if words and words[0] in ("in", "out"):
            rule["inbound" if words.pop(0) == "out" else "outbound"] = False
        if words:
            raise RuleError(f"unexpected {' '.join(words)!r} at the end")
    except IndexError:
        raise RuleError(f"the rule stops short: {USAGE}") from None
    except RuleError as e:
        raise RuleError(f"{e}: {USAGE}") from None
    return Rule(**rule)  # type: ignore[arg-type]


@dataclass
class Firewall(ControlClient):
    """A client of the firewall kext's control."""

    NAME = CONTROL
    KEXT = "firewall"

    def add(self, rule: Rule) -> None:
        """Add a rule; the kext refuses a number in use (EEXIST) and a
        33rd rule (ENOSPC)."""
        self.control.setsockopt(FW_ADD, rule.pack())

    def delete(self, number: int) -> None:
        self.control.setsockopt(FW_DELETE, number)

    def flush(self) -> None:
        self.control.setsockopt(FW_FLUSH, 0)  # the value is ignored

    def rules(self) -> list[Rule]:
        """Every rule in the order they match, with its counters."""
        data = self.control.getsockopt(FW_LIST, MAX_RULES * RULE.size)
        if len(data) % RULE.size:
            raise self.wrong_size("FW_LIST", len(data), RULE.size)
        return [Rule.unpack(data[i : i + RULE.size]) for i in range(0, len(data), RULE.size)]

    def rule(self, number: int) -> Rule:
        for rule in self.rules():
            if rule.number == number:
                return rule
        raise FinchError(f"the firewall has no rule {number}")

    def stats(self) -> dict[str, int]:
        data = self.control.getsockopt(FW_STATS, STATS.size)
        if len(data) != STATS.size:
            raise self.wrong_size("FW_STATS", len(data), STATS.size)
        return dict(zip(STATS_FIELDS, STATS.unpack(data), strict=True))
