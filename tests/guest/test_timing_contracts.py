"""The timing contracts of the KPI headers (issue 12), in the real kernel.

The pktcount sample counts en0's frames per ethertype, prints a summary
every 5 s from a thread call, and stops in the safe order: the timer
(thread_call_cancel_wait), then the filter (iflt_detach and a bounded
wait for iff_detached), then the rest in reverse.  It unloads with no
leak, nothing pinned, and its timer never runs again."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.qemu_args import QemuOptions

PKTCOUNT = "com.finch.sample.pktcount"
PERIOD = 5.0  # seconds between two summaries (PKTCOUNT_PERIOD)
SUMMARY = re.compile(
    r"pktcount: summary (\d+): frames on en0 since start\r?\n((?:pktcount:   .*\n)*)"
)
COUNTS = re.compile(
    r"pktcount:   0x([0-9a-f]{4}) (\S+)\s+in (\d+) frames (\d+) bytes, out (\d+) frames (\d+) bytes"
)


@pytest.fixture
def net_kext_guest(machine_factory: Callable[..., Machine], built_kexts: Path) -> KextGuest:
    """A guest with en0 on user networking (the gateway is 10.0.2.2) and
    the host link, ready for kexts."""
    options = kext_options(QemuOptions(netdevs=["user,id=net0"], devices=["e1000,netdev=net0"]))
    machine = machine_factory(options)
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    return guest


def counts(lines: str) -> dict[str, tuple[int, int, int, int]]:
    """Ethertype name -> (frames in, bytes in, frames out, bytes out)."""
    return {
        m.group(2): (int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)))
        for m in COUNTS.finditer(lines)
    }


def summary_with_traffic(machine: Machine) -> dict[str, tuple[int, int, int, int]]:
    """The first summary that counts the ping (3 echoes each way) and
    the ARP exchange before it."""
    deadline = time.monotonic() + 4 * PERIOD
    while True:
        match = machine.expect(SUMMARY, timeout=max(deadline - time.monotonic(), 0.1))
        seen = counts(match.group(2))
        ipv4, arp = seen.get("IPv4", (0,) * 4), seen.get("ARP", (0,) * 4)
        if ipv4[0] >= 3 and ipv4[2] >= 3 and arp[0] >= 1 and arp[2] >= 1:
            return seen


def test_pktcount_counts_en0_per_ethertype_and_stops_its_timer_and_filter_for_good(
    net_kext_guest: KextGuest,
) -> None:
    guest = net_kext_guest
    guest.load(guest.bundle("pktcount"))
    guest.machine.expect("pktcount: counting frames on en0; a summary every 5 s")
    guest.monitor("arp -d 10.0.2.2")  # so that ping asks for the gateway's address
    assert "3 packets received" in guest.monitor("ping -c 3 -i 0.2 10.0.2.2")

    seen = summary_with_traffic(guest.machine)
    result = guest.unload(PKTCOUNT)
    unloaded = time.monotonic()

    ipv4, arp = seen["IPv4"], seen["ARP"]
    assert min(ipv4[1], ipv4[3]) >= 3 * 98  # bytes of 3 echoes: 14 + 20 + 8 + 56 each
    assert min(arp[1], arp[3]) >= 42  # 14 + 28
    assert result.leaks == ""  # lock, group, table and tag: all freed
    assert guest.machine.expect(r"pktcount: stopped; (\d+) summar(y|ies) printed")
    assert PKTCOUNT not in [k.identifier for k in guest.kextstat()]  # not pinned
    left = guest.monitor(f"kextres {PKTCOUNT}").strip()
    assert left == f"{PKTCOUNT} is not loaded; unloaded kexts of that name left: nothing"
    # The next summary would have come within a period of the last one.
    time.sleep(max(0.0, unloaded + PERIOD + 1.0 - time.monotonic()))
    after = guest.machine.console_text().split("pktcount: stopped", 1)[1]
    assert "pktcount: summary" not in after
    assert "pktcount" not in guest.monitor("callout")
