"""Linux as the peer: inetd's services reached by Linux's own stack over
a tap, with no user-space network stack in between.

The module makes a private network namespace holding a tap at 10.0.2.2/24
(finch.netns), boots Finch on it (`-netdev tap`, QEMU started inside the
namespace, every frame kept in a pcap) with inetd loaded, and runs the
clients there with `ip netns exec`: Python sockets (tap_client.py) and
curl.  The namespace is deleted and QEMU shut down even when a test
fails; the pcap and the console log stay in build/test-logs/ then.
Needs root (ip netns, /dev/net/tun); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from finch.kext.guest import KextGuest, kext_options
from finch.netns import Netns, NetnsError, private_netns
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.services import DISCARD, ECHO, HTTP, INETD, NO_UDP_ECHO

GUEST = "10.0.2.15"
PEER = "10.0.2.2"
CLIENT = Path(__file__).parent / "tap_client.py"
MIB = 1 << 20
NO_TCP = "not offered: this kernel has no TCP"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the tap path needs root (ip netns)")


@dataclass
class TapGuest:
    guest: KextGuest
    ns: Netns
    has_tcp: bool

    def run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A command inside the namespace."""
        return subprocess.run(
            self.ns.exec_argv(argv), capture_output=True, text=True, timeout=timeout, check=False
        )

    def client(self, kind: str, port: int, size: int) -> dict[str, object]:
        """tap_client.py KIND in the namespace; its JSON answer."""
        proc = self.run([sys.executable, str(CLIENT), kind, GUEST, str(port), str(size)])
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            pytest.fail(f"tap_client {kind} printed nothing: {proc.stderr.strip()[-800:]}")
        assert "error" not in result, result["error"]
        return result


@pytest.fixture(scope="module")
def tap(
    module_machine_factory: MachineFactory,
    built_kexts: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TapGuest]:
    scratch = tmp_path_factory.mktemp("tap")  # QEMU's wrapper, the pcap while it runs
    pcap = scratch / "tap.pcap"
    try:
        with private_netns(f"{PEER}/24", name=f"finch-{os.getpid()}-svc") as ns:
            machine = module_machine_factory(
                kext_options(
                    QemuOptions(
                        netdevs=[ns.netdev],
                        devices=["e1000,netdev=net0"],
                        qemu=str(ns.qemu_wrapper(scratch)),
                        extra_args=(
                            "-object",
                            f"filter-dump,id=f0,netdev=net0,file={pcap}",
                            "-append",
                            NO_UDP_ECHO,
                        ),
                    )
                )
            )
            try:
                machine.boot()
                guest = KextGuest(machine, built_kexts)
                guest.wait_ready()
                start = len(machine.console_text())
                guest.load(guest.bundle(INETD))
                machine.expect(r"inetd: serving[^\n]*\n", timeout=30)
                yield TapGuest(guest, ns, NO_TCP not in machine.console_text()[start:])
            finally:
                machine.shutdown()  # before the namespace goes
                with contextlib.suppress(OSError):  # beside the console log, kept on failure
                    shutil.move(pcap, machine.paths.rundir / pcap.name)
    except NetnsError as e:
        pytest.skip(f"no tap: {e}")


@pytest.fixture
def tcp_tap(tap: TapGuest) -> TapGuest:
    if not tap.has_tcp:
        pytest.skip("the kernel has no TCP yet: inetd offers its UDP services only")
    return tap


def test_linux_pings_finch_and_finch_pings_linux(tap: TapGuest) -> None:
    got = tap.client("ping", 0, 1000)
    assert got["bytes"] == 1000
    assert got["sha256"] == got["sent_sha256"]
    out = tap.guest.machine.command(f"ping -c 2 -i 0.2 {PEER}", timeout=20)
    assert "2 packets transmitted, 2 packets received" in out, out


def test_udp_echo_answers_linux(tap: TapGuest) -> None:
    for size in (1, 1472, 4000):  # 4000: fragmented both ways
        got = tap.client("udp-echo", ECHO, size)
        assert got["bytes"] == size
        assert got["sha256"] == got["sent_sha256"]


def test_tcp_echo_returns_a_mebibyte_to_linux(tcp_tap: TapGuest) -> None:
    got = tcp_tap.client("tcp-echo", ECHO, MIB)
    assert got["bytes"] == MIB
    assert got["sha256"] == got["sent_sha256"]


def test_tcp_discard_counts_a_mebibyte_from_linux(tcp_tap: TapGuest) -> None:
    got = tcp_tap.client("tcp-discard", DISCARD, MIB)
    assert got["reply"] == f"{MIB}\n"


def test_curl_reads_the_status_page(tcp_tap: TapGuest) -> None:
    proc = tcp_tap.run(["curl", "-sS", "--max-time", "20", "-i", f"http://{GUEST}:{HTTP}/"])
    assert proc.returncode == 0, proc.stderr
    # text=True reads CRLF as \n: the blank line after the head is "\n\n".
    head, _, body = proc.stdout.partition("\n\n")
    assert head.startswith("HTTP/1.0 200 OK"), head
    assert re.search(rf"^tcp4\s+\d+\s+\d+\s+{re.escape(GUEST)}\.80\s+{re.escape(PEER)}\.\d+", body,
                     re.M), body  # fmt: skip
    assert re.search(rf"^en0\s+1500\s+{re.escape(GUEST)}\s+\d+", body, re.M), body
