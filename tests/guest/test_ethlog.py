"""The ethlog sample (kexts/ethlog): an interface filter on en0 counting
frames and bytes in and out per ethertype, on the console and over its
kernel control.  Real traffic: the guest pings QEMU's user-networking
gateway, after forgetting its Ethernet address, so that ARP and IPv4
frames cross en0 both ways.

One guest for the module, behind slirp.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from finch.cli import kctl as kctl_cli
from finch.kctl import KernelControl, close_all
from finch.kext.guest import KextGuest, kext_options
from finch.kext.unload import UnloadRefused
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.session import GuestSession

BUNDLE = CONTROL = "com.finch.sample.ethlog"
TABLE, RESET, PERIOD = 1, 2, 3
COUNT = struct.Struct("<HxxIIII")  # struct ethlog_count
IPV4, ARP = 0x0800, 0x0806
FRAME = 14 + 20 + 8 + 56  # a default ping: Ethernet, IP, ICMP, 56 bytes


@pytest.fixture(scope="module")
def guest(module_machine_factory: MachineFactory, built_kexts: Path) -> Iterator[KextGuest]:
    options = QemuOptions(netdevs=["user,id=net0"], devices=["e1000,netdev=net0"])
    machine = module_machine_factory(kext_options(options))
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    guest.load(guest.bundle("ethlog"))
    machine.expect("ethlog: counting frames on en0; a summary every 10 s")
    yield guest
    guest.unload(BUNDLE)
    machine.expect("ethlog: stopped")


@pytest.fixture
def session(guest: KextGuest) -> Iterator[GuestSession]:
    with guest.session() as session:
        yield session


def table(ctl: KernelControl) -> dict[int, tuple[int, int, int, int]]:
    raw = ctl.getsockopt(TABLE, 16 * COUNT.size)
    rows = [COUNT.unpack_from(raw, i) for i in range(0, len(raw), COUNT.size)]
    return {row[0]: row[1:] for row in rows}


def ping_gateway(session: GuestSession) -> str:
    session.monitor("arp -d 10.0.2.2")
    return session.monitor("ping -c 3 -i 0.2 10.0.2.2")


def test_a_ping_is_counted_per_ethertype_frames_and_bytes_each_way(
    session: GuestSession,
) -> None:
    with KernelControl.connect(session, CONTROL) as ctl:
        ctl.setsockopt(RESET, 0)
        out = ping_gateway(session)
        counts = table(ctl)

    assert "3 packets received" in out, out
    assert counts[IPV4] == (3, 3 * FRAME, 3, 3 * FRAME)
    arp_in_frames, _, arp_out_frames, arp_out_bytes = counts[ARP]
    assert (arp_in_frames, arp_out_frames, arp_out_bytes) == (1, 1, 42)


def test_any_record_sent_to_the_control_is_answered_with_the_table_as_text(
    guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    with guest.session() as session, KernelControl.connect(session, CONTROL) as ctl:
        ctl.setsockopt(RESET, 0)
        ping_gateway(session)

    status = kctl_cli.main(["--rundir", str(guest.rundir), CONTROL, "--send", "show", "--recv"])

    out = capsys.readouterr().out
    assert status == 0
    assert "ethlog: en0 since start (type, frames and bytes in, out)" in out
    assert f"0x0800 IPv4  in 3 frames {3 * FRAME} bytes, out 3 frames {3 * FRAME} bytes" in out
    assert "0x0806 ARP   in 1 frames" in out


def test_the_summary_comes_on_the_console_at_the_period_set(
    guest: KextGuest, session: GuestSession
) -> None:
    with KernelControl.connect(session, CONTROL) as ctl:
        ctl.setsockopt(PERIOD, 1)
        period = ctl.getsockopt_int(PERIOD)
        ctl.setsockopt(RESET, 0)
        ping_gateway(session)

        guest.machine.expect(
            rf"ethlog:   0x0800 IPv4  in 3 frames {3 * FRAME} bytes, out 3 frames", timeout=5
        )
        ctl.setsockopt(PERIOD, 0)

    assert period == 1


def test_unloading_is_refused_while_a_client_is_connected(guest: KextGuest) -> None:
    with guest.session() as session:
        KernelControl.connect(session, CONTROL)  # left open in the guest

    with pytest.raises(UnloadRefused):
        guest.unload(BUNDLE)

    guest.machine.expect(f"ethlog: cannot stop: {CONTROL} has a client")
    with guest.session() as session:
        close_all(session)
    assert "0 clients" in guest.monitor("kctl")
