"""Kexts written the Mac OS X 10.4 way (tests/guest/data/tigerkexts), built
unchanged, load, work and unload in the real guest: an Ethernet logger
whose Xcode Info.plist asks for KPI 9.0.0 (a warning, not a refusal); a
kext linked against the older com.apple.kernel.* ids that reports who
and when it runs through proc, kauth, the clocks and inet_ntop; a TCP
connection logger built from its Xcode project (a global socket filter
and a privileged control) that logs a real connection to inetd's echo;
and an IPv4 filter that drops, then lets through, real pings."""

from __future__ import annotations

import hashlib
import os
import re
import socket
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
from finch.services import ECHO, INETD, INETD_ID, Forward, hostfwd_rules
from finch.tcpbench import free_tcp_port

TIGER_KEXTS = Path(__file__).resolve().parent / "data" / "tigerkexts"
ENETLOG = "com.example.tiger.enetlog"
OLDSTYLE = "com.example.tiger.oldstyle"
TCPLOG = "com.example.tiger.tcplog"
IPFILTER = "com.example.tiger.ipfilter"
TIMEOUT = 10.0
# struct TCPLogInfo (tcplogger.h): len, genid, local and remote
# sockaddr_in, bytes and packets in and out, three timevals, pid, uid.
TCPLOGINFO = struct.Struct("<II16s16sIIIIiiiiiiiI")
IPFILTER_BLOCK_PING, IPFILTER_STATS = 1, 3
IPFILTER_STATS_STRUCT = struct.Struct("<5I")
ENETLOG_GET_STATS, ENETLOG_CLEAR_STATS = 1, 2
STATS = struct.Struct("<6I")  # struct enetlog_stats


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, finch_tree: Tree) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("tigerkexts")
    return {
        name: build_kext(
            TIGER_KEXTS / name, tree=finch_tree, out_dir=out, echo=lambda _: None
        ).bundle.path
        for name in ("enetlog", "oldstyle", "tcplog", "ipfilter")
    }


def load(guest: KextGuest, bundle: Path) -> list[str]:
    """Load `bundle`; the notes kextload printed."""
    notes: list[str] = []
    load_kexts(guest.rundir, [bundle], notify=notes.append)
    return notes


@pytest.fixture(scope="module")
def echo_port() -> int:
    """The host's port forwarded to the guest's TCP echo (inetd)."""
    return free_tcp_port()


@pytest.fixture(scope="module")
def guest(module_machine_factory: MachineFactory, built_kexts: Path, echo_port: int) -> KextGuest:
    """One guest for the module, with en0 on user networking."""
    netdev = f"user,id=net0{hostfwd_rules([Forward('tcp', echo_port, ECHO, '')])}"
    options = QemuOptions(netdevs=[netdev], devices=["e1000,netdev=net0"])
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

    machine.expect(r"oldstyle: scratch of 512 bytes from MALLOC, zeroed 1")
    machine.expect(r"oldstyle: pid 0 \(kernel_task\) ppid 0 uid 0 gid 0 root 1 suser 0")
    machine.expect(r"oldstyle: addresses 10\.0\.2\.15 fe80::1")
    machine.expect(r"oldstyle: up \d+\.\d{6} s, 100 clock ticks a second")
    time.sleep(0.5)  # its bsd_timeout (50 ms) fires
    guest.unload(OLDSTYLE)
    machine.expect(r"oldstyle: stopping after 2 events \(1 timeouts\), flags 0x3")


def echo_through(port: int, data: bytes) -> bytes:
    """Send `data` to the guest's TCP echo and read it back; then close."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = client.recv(65536)
            if not chunk:
                break
            got += chunk
    return got


def test_a_tcp_logger_built_from_its_xcode_project_logs_a_real_connection(
    guest: KextGuest, bundles: dict[str, Path], echo_port: int
) -> None:
    machine = guest.machine
    assert load(guest, bundles["tcplog"]) == []
    machine.expect(f"tcplog: logging TCP connections, control {TCPLOG}")
    # Registered for PF_INET6 too, as on a Mac; Finch has no IPv6 sockets.
    table = guest.monitor("sflt")
    assert re.search(rf"^{TCPLOG}\s+handle 0x54636c36 .* domain 30 .*no such sockets", table, re.M)
    guest.load(guest.bundle(INETD))  # after tcplog: its sockets get the filter
    machine.expect(r"inetd: serving[^\n]*\n", timeout=TIMEOUT)
    data = os.urandom(3000)

    with guest.session() as session, KernelControl.connect(session, TCPLOG) as ctl:
        got = echo_through(echo_port, data)
        record = ctl.recv(TCPLOGINFO.size, timeout=TIMEOUT)

    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    assert record is not None
    fields = TCPLOGINFO.unpack(record)
    length, _genid, local, remote, bytes_in, _pkts_in, bytes_out = fields[:7]
    pid, uid = fields[-2:]
    assert length == TCPLOGINFO.size
    assert (local[1], struct.unpack("!H", local[2:4])[0]) == (socket.AF_INET, ECHO)
    assert socket.inet_ntoa(remote[4:8]) == "10.0.2.2"
    assert (bytes_in, bytes_out) == (len(data), len(data))
    assert (pid, uid) == (0, 0)  # inetd's socket: the kernel's, root
    machine.expect(r"tcplog: closed 10\.0\.2\.2:\d+ after \d+\.\d{6} s: in 3000 bytes")
    guest.unload(INETD_ID)
    guest.unload(TCPLOG)
    machine.expect(r"tcplog: stopped after \d+ connections")


def test_a_tiger_ip_filter_drops_pings_and_lets_them_through_again(
    guest: KextGuest, bundles: dict[str, Path]
) -> None:
    machine = guest.machine
    assert load(guest, bundles["ipfilter"]) == []
    machine.expect(f"ipfilter: filtering IPv4, control {IPFILTER}")

    with guest.session() as session, KernelControl.connect(session, IPFILTER) as ctl:
        ctl.setsockopt(IPFILTER_BLOCK_PING, 1)
    blocked = machine.command("ping -c 2 -i 0.2 10.0.2.2", timeout=30)
    with guest.session() as session, KernelControl.connect(session, IPFILTER) as ctl:
        ctl.setsockopt(IPFILTER_BLOCK_PING, 0)
    passed = machine.command("ping -c 2 -i 0.2 10.0.2.2", timeout=30)
    with guest.session() as session, KernelControl.connect(session, IPFILTER) as ctl:
        in_icmp, _tcp, _udp, out_total, dropped = IPFILTER_STATS_STRUCT.unpack(
            ctl.getsockopt(IPFILTER_STATS, IPFILTER_STATS_STRUCT.size)
        )

    assert "0 packets received" in blocked
    assert "2 packets received" in passed
    assert dropped == 2
    assert in_icmp >= 4
    assert out_total >= 4
    guest.unload(IPFILTER)
    machine.expect(r"ipfilter: stopped; icmp \d+ tcp \d+ udp \d+ in, \d+ out, 2 dropped")
