"""The tcplog sample (kexts/tcplog): a global socket filter on TCP that
logs each connection when it closes -- addresses, who opened it, bytes
and packets each way, duration, how it ended -- in a ring a kernel
control client reads, to clients that follow the log, and on the
console.

Real traffic through QEMU's user networking: the host reaches inetd's
echo and discard through hostfwd ports (the guest sees it as 10.0.2.2),
and the guest's `tcp connect` reaches listeners on the host.  One guest
for the module, with inetd and tcplog loaded; each test empties the ring
first.  The last test unloads tcplog.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from finch.cli import main as finch_main
from finch.kctl import KctlError, KernelControl, close_all
from finch.kext.guest import KextGuest, kext_options
from finch.kext.unload import UnloadRefused
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.services import DISCARD, ECHO, INETD, Forward, hostfwd_rules
from finch.tcpbench import free_tcp_port
from finch.tcplog import CONTROL, Record, TcpLog

BUNDLE = CONTROL
GUEST = "10.0.2.15"
HOST = "10.0.2.2"  # the host, as slirp shows it to the guest
TIMEOUT = 10.0
NO_TCP = "this kernel has no TCP"


@dataclass
class Logged:
    guest: KextGuest
    echo: int  # host ports forwarded to inetd's services
    discard: int


@pytest.fixture(scope="module")
def logged(module_machine_factory: MachineFactory, built_kexts: Path) -> Logged:
    echo, discard = free_tcp_port(), free_tcp_port()
    forwards = [Forward("tcp", echo, ECHO, ""), Forward("tcp", discard, DISCARD, "")]
    options = QemuOptions(
        netdevs=[f"user,id=net0{hostfwd_rules(forwards)}"], devices=["e1000,netdev=net0"]
    )
    machine = module_machine_factory(kext_options(options))
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    guest.load(guest.bundle(INETD))
    machine.expect(r"inetd: serving[^\n]*\n", timeout=TIMEOUT)
    if NO_TCP in machine.console_text():
        pytest.skip("the kernel has no TCP")
    guest.load(guest.bundle("tcplog"))
    machine.expect("tcplog: logging the TCP connections made from now on; a summary every 10 s")
    return Logged(guest, echo, discard)


@pytest.fixture
def log(logged: Logged) -> Iterator[TcpLog]:
    with logged.guest.session() as session, TcpLog.connect(session) as log:
        log.clear()
        yield log


def wait_for(what: str, probe: Callable[[], list[Record]], count: int = 1) -> list[Record]:
    """The ring once it holds `count` records: a socket closes (and is
    logged) when inetd or `tcp connect` gets round to closing it."""
    deadline = time.monotonic() + TIMEOUT
    while len(records := probe()) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: {len(records)} of {count} records after {TIMEOUT:g} s")
        time.sleep(0.1)
    return records


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exchange(port: int, payload: bytes) -> bytes:
    """Send payload, shut down the sending side, read until the guest closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def console_line(record: Record) -> str:
    """The line the kext printed for `record`, as a pattern."""
    return re.escape(f"tcplog: {record}")


def test_an_echo_from_the_host_is_logged_with_its_exact_bytes_each_way(
    logged: Logged, log: TcpLog
) -> None:
    payload = os.urandom(200_000)

    back = exchange(logged.echo, payload)
    [record] = wait_for("the echo", log.table)

    assert sha(back) == sha(payload)
    assert record.direction == "in"
    assert record.local == (GUEST, ECHO)
    assert record.foreign[0] == HOST
    assert (record.bytes_in, record.bytes_out) == (len(payload), len(payload))
    assert record.packets_in >= len(payload) // 1460
    assert record.packets_out >= 1
    assert record.end == "closed by peer"  # the host shut down first
    assert 0 < record.seconds < TIMEOUT
    assert record.start > 0  # Finch's clock: seconds since boot
    logged.guest.machine.expect(console_line(record))


def test_discard_is_logged_with_the_count_it_answered(logged: Logged, log: TcpLog) -> None:
    reply = exchange(logged.discard, bytes(65_536))
    [record] = wait_for("the discard", log.table)

    assert reply == b"65536\n"
    assert (record.bytes_in, record.bytes_out) == (65_536, len(reply))
    assert record.local == (GUEST, DISCARD)
    assert record.end == "closed by peer"


def test_a_connection_from_the_guest_is_logged_outbound(logged: Logged, log: TcpLog) -> None:
    size = 50_000
    sent = bytes(i % 251 for i in range(size))  # `tcp connect`'s pattern
    got = bytearray()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(TIMEOUT)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                while chunk := conn.recv(65536):
                    got.extend(chunk)
                conn.sendall(b"thanks\n")

        server = threading.Thread(target=serve)
        server.start()
        out = logged.guest.machine.command(f"tcp connect {HOST} {port} {size}", timeout=30)
        server.join(TIMEOUT)
    [record] = wait_for("tcp connect", log.table)

    assert sha(bytes(got)) == sha(sent)
    assert "received 7 bytes" in out, out
    assert record.direction == "out"
    assert record.local[0] == GUEST
    assert record.foreign == (HOST, port)
    assert (record.bytes_out, record.bytes_in) == (size, 7)
    assert record.end == "closed here first"  # tcp connect shut down first
    assert f"tcplog: {record}" in out  # printed as the command closed it


def test_a_reset_from_the_host_is_logged_as_a_reset(logged: Logged, log: TcpLog) -> None:
    with socket.create_connection(("127.0.0.1", logged.echo), timeout=TIMEOUT) as sock:
        sock.sendall(b"hello")
        assert sock.recv(5) == b"hello"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    [record] = wait_for("the reset", log.table)

    assert (record.bytes_in, record.bytes_out) == (5, 5)
    assert record.end == "reset"


def test_a_refused_connect_is_logged_as_never_connected(logged: Logged, log: TcpLog) -> None:
    port = free_tcp_port()  # nobody listens there
    out = logged.guest.machine.command(f"tcp connect {HOST} {port}", timeout=30)
    [record] = wait_for("the refused connect", log.table)

    assert "connection refused" in out
    assert record.direction == "out"
    assert record.foreign == (HOST, port)
    assert (record.bytes_in, record.bytes_out, record.end) == (0, 0, "never connected")


def test_a_follower_gets_each_record_as_its_connection_closes(logged: Logged, log: TcpLog) -> None:
    log.follow()
    exchange(logged.discard, b"x" * 1000)
    followed = log.next_record(timeout=TIMEOUT)
    log.follow(False)

    assert followed is not None
    assert followed == log.table()[-1]
    assert (followed.bytes_in, followed.local) == (1000, (GUEST, DISCARD))


def test_the_text_view_and_the_console_summary(logged: Logged, log: TcpLog) -> None:
    exchange(logged.discard, b"y" * 123)
    [record] = wait_for("the discard", log.table)
    log.set_period(1)
    try:
        logged.guest.machine.expect(r"tcplog: 0 open, \d+ closed since start", timeout=5)
    finally:
        log.set_period(10)
    stats = log.stats()
    text = log.text()

    assert f"tcplog: #{record.id} in  {HOST}.{record.foreign[1]} > {GUEST}.9: 123 bytes in" in text
    assert "tcplog: 0 open," in text
    assert "; 1 in the ring" in text
    assert (stats["in_ring"], stats["open"], stats["nomem"]) == (1, 0, 0)


def test_finch_tcplog_prints_the_table(logged: Logged, capsys: pytest.CaptureFixture[str]) -> None:
    rundir = ["--rundir", str(logged.guest.rundir)]
    assert finch_main(["tcplog", *rundir, "--clear"]) == 0
    exchange(logged.discard, b"z" * 77)
    with logged.guest.session() as session, TcpLog.connect(session) as log:
        [record] = wait_for("the discard", log.table)
    capsys.readouterr()

    status = finch_main(["tcplog", *rundir])

    out = capsys.readouterr().out
    assert status == 0
    assert f"{record}\n" in out
    assert "77 bytes in (1), 3 out (1)" in out
    assert "1 logged here of" in out


def test_the_log_is_for_root_only(logged: Logged) -> None:
    with logged.guest.session() as session, pytest.raises(KctlError, match="CTL_FLAG_PRIVILEGED"):
        KernelControl.connect(session, CONTROL, privileged=False)


def test_unload_is_refused_with_a_client_and_then_logs_what_is_open(logged: Logged) -> None:
    guest = logged.guest
    with guest.session() as session:
        KernelControl.connect(session, CONTROL)  # left open in the guest
    with pytest.raises(UnloadRefused):
        guest.unload(BUNDLE)
    guest.machine.expect(f"tcplog: cannot stop: {CONTROL} has a client")
    with guest.session() as session:
        close_all(session)

    with socket.create_connection(("127.0.0.1", logged.echo), timeout=TIMEOUT) as sock:
        sock.sendall(b"still here")
        assert sock.recv(10) == b"still here"
        result = guest.unload(BUNDLE)
        sock.sendall(b"unfiltered")  # the connection outlives the filter
        assert sock.recv(10) == b"unfiltered"

    assert result.leaks == ""
    guest.machine.expect(
        rf"tcplog: #\d+ in  {HOST}\.\d+ > {GUEST}\.7: 10 bytes in \(1\), 10 out \(1\), "
        r"[\d.]+ s, open at unload"
    )
    guest.machine.expect(r"tcplog: stopped; \d+ connections logged")
    assert "tcplog" not in guest.monitor("sflt")
    assert CONTROL not in guest.monitor("kctl")
