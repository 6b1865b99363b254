"""Kexts written the Mac OS X 10.4 way (tests/guest/data/tigerkexts), built
unchanged, load, work and unload in the real guest: an Ethernet logger
whose Xcode Info.plist asks for KPI 9.0.0 (a warning, not a refusal) and
a kext linked against the older com.apple.kernel.* ids that reports who
and when it runs through proc, kauth, the clocks and inet_ntop."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from finch.build import Tree
from finch.kctl import KernelControl
from finch.kext.build import build_kext
from finch.kext.guest import KextGuest, kext_options
from finch.kext.load import load_kexts
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions

TIGER_KEXTS = Path(__file__).resolve().parent / "data" / "tigerkexts"
ENETLOG = "com.example.tiger.enetlog"
OLDSTYLE = "com.example.tiger.oldstyle"
ENETLOG_GET_STATS, ENETLOG_CLEAR_STATS = 1, 2
STATS = struct.Struct("<6I")  # struct enetlog_stats


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, finch_tree: Tree) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("tigerkexts")
    return {
        name: build_kext(
            TIGER_KEXTS / name, tree=finch_tree, out_dir=out, echo=lambda _: None
        ).bundle.path
        for name in ("enetlog", "oldstyle")
    }


def load(guest: KextGuest, bundle: Path) -> list[str]:
    """Load `bundle`; the notes kextload printed."""
    notes: list[str] = []
    load_kexts(guest.rundir, [bundle], notify=notes.append)
    return notes


@pytest.fixture(scope="module")
def guest(module_machine_factory: MachineFactory, built_kexts: Path) -> KextGuest:
    """One guest for the module, with en0 on user networking."""
    options = QemuOptions(netdevs=["user,id=net0"], devices=["e1000,netdev=net0"])
    machine = module_machine_factory(kext_options(options))
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    return guest


@pytest.fixture
def enetlog(guest: KextGuest, bundles: dict[str, Path]) -> Iterator[list[str]]:
    notes = load(guest, bundles["enetlog"])
    yield notes
    if any(k.identifier == ENETLOG for k in guest.kextstat()):
        guest.unload(ENETLOG)


def stats(guest: KextGuest) -> tuple[int, ...]:
    with guest.session() as session, KernelControl.connect(session, ENETLOG) as ctl:
        return STATS.unpack(ctl.getsockopt(ENETLOG_GET_STATS, STATS.size))


def test_an_xcode_kext_asking_for_newer_kpis_loads_with_a_warning(
    guest: KextGuest, enetlog: list[str]
) -> None:
    assert [n.split(",")[0] for n in enetlog] == [
        f"{ENETLOG} asks for com.apple.kpi.bsd 9.0.0",
        f"{ENETLOG} asks for com.apple.kpi.libkern 9.0.0",
        f"{ENETLOG} asks for com.apple.kpi.mach 9.0.0",
        f"{ENETLOG} asks for com.apple.kpi.iokit 9.0.0",
        f"{ENETLOG} asks for com.apple.kpi.unsupported 9.0.0",
    ]
    guest.machine.expect(f"enetlog: filtering en0, control {ENETLOG}")
    row = next(k for k in guest.kextstat() if k.identifier == ENETLOG)
    assert row.version == "1.0.0d1"


def test_the_ethernet_logger_counts_real_traffic_and_unloads(
    guest: KextGuest, enetlog: list[str]
) -> None:
    machine = guest.machine
    with guest.session() as session, KernelControl.connect(session, ENETLOG) as ctl:
        ctl.setsockopt(ENETLOG_CLEAR_STATS, 0)

    out = machine.command("ping -c 3 -i 0.2 10.0.2.2", timeout=20)

    assert "3 packets received" in out
    in_frames, in_bytes, out_frames, out_bytes, in_ip, _in_arp = stats(guest)
    assert in_ip >= 3
    assert in_frames >= in_ip
    assert out_frames >= 3
    assert in_bytes >= 3 * (14 + 84)
    assert out_bytes >= 3 * (14 + 84)
    guest.unload(ENETLOG)
    machine.expect(r"enetlog: in \d+ frames \d+ bytes, out \d+ frames \d+ bytes")
    assert all(k.identifier != ENETLOG for k in guest.kextstat())


def test_a_kext_linked_against_the_older_kernel_ids_runs_as_tiger_would(
    guest: KextGuest, bundles: dict[str, Path]
) -> None:
    machine = guest.machine

    assert load(guest, bundles["oldstyle"]) == []

    machine.expect(r"oldstyle: pid 0 \(kernel_task\) ppid 0 uid 0 gid 0 root 1 suser 0")
    machine.expect(r"oldstyle: addresses 10\.0\.2\.15 fe80::1")
    machine.expect(r"oldstyle: up \d+\.\d{6} s, 100 clock ticks a second")
    time.sleep(0.5)  # its bsd_timeout (50 ms) fires
    guest.unload(OLDSTYLE)
    machine.expect(r"oldstyle: stopping after 2 events \(1 timeouts\), flags 0x3")
