"""The TCP measurements without a guest: the three services played by
threads on 127.0.0.1 (discard-and-count, a source of zeros, echo), the
rounds, the rows and ratios, and the command lines of the networks and
of the client that runs in a namespace."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.benchrow import format_table
from finch.cli import tcpprobe
from finch.netns import Netns
from finch.qemu_args import QemuOptions
from finch.tcpbench import (
    Connections,
    LocalClient,
    NetnsClient,
    TcpBenchError,
    TcpFigures,
    TcpGuest,
    TcpService,
    Transfer,
    Turns,
    hostfwd_netdev,
    measure_rounds,
    parse_count,
    parse_probe_output,
    ratio_rows,
    ratios,
    receive_from_source,
    send_to_discard,
    short_connections,
    tap_network,
    tcp_rows,
    user_network,
    wait_until_echoes,
)

MiB = 1 << 20


@contextlib.contextmanager
def serving(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A listening socket on 127.0.0.1 whose connections `handle` serves,
    one thread each; yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_handle, args=(conn,), daemon=True).start()

    def _handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            handle(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        listener.close()
        thread.join(timeout=2)


def discard_and_count(conn: socket.socket) -> None:
    total = 0
    while chunk := conn.recv(1 << 16):
        total += len(chunk)
    conn.sendall(f"{total}\n".encode())


def zeros(conn: socket.socket) -> None:
    block = bytes(1 << 16)
    while True:
        conn.sendall(block)


def echo(conn: socket.socket) -> None:
    while chunk := conn.recv(4096):
        conn.sendall(chunk)


@pytest.fixture
def service() -> Iterator[TcpService]:
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(serving(h)) for h in (discard_and_count, zeros, echo)]
        yield TcpService("127.0.0.1", *ports)


def test_host_to_guest_is_timed_until_the_discard_service_confirms_every_byte(service):
    transfer = send_to_discard(service, 8 * MiB)

    assert transfer.bytes == 8 * MiB
    assert transfer.seconds > 0
    assert transfer.mb_per_s == pytest.approx(8 * MiB / transfer.seconds / 1e6)


def test_a_discard_service_that_counts_fewer_bytes_fails_the_measurement():
    def short_count(conn: socket.socket) -> None:
        while conn.recv(1 << 16):
            pass
        conn.sendall(b"1000\n")

    with (
        serving(short_count) as port,
        pytest.raises(TcpBenchError, match="received 1000 B of the 1048576 B sent"),
    ):
        send_to_discard(TcpService("127.0.0.1", discard=port), MiB)


def test_guest_to_host_reads_exactly_the_size_from_an_endless_source(service):
    assert receive_from_source(service, 8 * MiB).bytes == 8 * MiB


def test_a_source_that_closes_early_fails_the_measurement():
    with (
        serving(lambda conn: conn.sendall(bytes(1000))) as port,
        pytest.raises(TcpBenchError, match="closed after 1000 of 1048576 B"),
    ):
        receive_from_source(TcpService("127.0.0.1", source=port), MiB)


def test_short_connections_are_counted_over_the_given_time(service):
    result = short_connections(service, seconds=0.2)

    assert result.count > 0
    assert result.seconds >= 0.2
    assert result.per_s == result.count / result.seconds


def test_an_echo_that_answers_other_bytes_fails_the_measurement():
    with (
        serving(lambda conn: conn.sendall(bytes(64)) if conn.recv(64) else None) as port,
        pytest.raises(TcpBenchError, match="differ"),
    ):
        short_connections(TcpService("127.0.0.1", echo=port), seconds=0.1)


def test_waiting_for_a_guest_that_never_answers_gives_up_and_says_where():
    port = socket.create_server(("127.0.0.1", 0))  # listening, never accepting
    try:
        service = TcpService("127.0.0.1", echo=port.getsockname()[1])
        with pytest.raises(TcpBenchError, match=r"did not answer within 0.5 s"):
            wait_until_echoes(service, timeout=0.5)
    finally:
        port.close()


@pytest.mark.parametrize(
    ("reply", "count"), [(b"67108864\n", 67108864), (b"0\n", 0), (b" 12 \r\n", 12)]
)
def test_a_confirmation_is_a_decimal_byte_count(reply, count):
    assert parse_count(reply) == count


@pytest.mark.parametrize("reply", [b"", b"1024+1 records in\n", b"67108864 B and a partial"])
def test_anything_else_is_no_confirmation_and_the_error_quotes_it(reply):
    with pytest.raises(TcpBenchError, match="not a byte count"):
        parse_count(reply)


def test_the_probe_command_prints_one_json_result(service, capsys):
    status = tcpprobe.main(["send", service.host, str(service.discard), str(MiB)])

    got = json.loads(capsys.readouterr().out)
    assert status == 0
    assert got["kind"] == "send"
    assert got["bytes"] == MiB


def test_the_probe_command_prints_a_failure_as_json_and_exits_1(capsys):
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now

    status = tcpprobe.main(["receive", "127.0.0.1", str(port), "1000"])

    assert status == 1
    assert "cannot connect" in json.loads(capsys.readouterr().out)["error"]


def test_the_namespace_client_runs_the_probe_under_ip_netns_exec():
    client = NetnsClient(TcpService("10.0.2.15"), "finch-42", python="/venv/bin/python")

    argv = client.argv("send", 9, 64 * MiB)

    assert argv == ["ip", "netns", "exec", "finch-42", "/venv/bin/python", "-m",
                    "finch.cli.tcpprobe", "send", "10.0.2.15", "9", "67108864"]  # fmt: skip


def test_a_probe_result_is_read_from_its_last_line_and_its_error_raised():
    assert parse_probe_output('noise\n{"seconds": 1.5}\n', "", 0, ["probe"]) == {"seconds": 1.5}
    with pytest.raises(TcpBenchError, match="refused"):
        parse_probe_output('{"error": "refused"}', "", 1, ["probe"])
    with pytest.raises(TcpBenchError, match="exited 2 without a result: Traceback"):
        parse_probe_output("", "Traceback ...", 2, ["probe"])


def test_user_networking_forwards_the_three_services_from_loopback():
    network = user_network([5009, 5019, 5007], extra=[(6007, 1007)])

    assert network.netdev == (
        "user,id=net0,hostfwd=tcp:127.0.0.1:5009-:9,hostfwd=tcp:127.0.0.1:5019-:19,"
        "hostfwd=tcp:127.0.0.1:5007-:7,hostfwd=tcp:127.0.0.1:6007-:1007"
    )
    assert network.client == LocalClient(TcpService("127.0.0.1", 5009, 5019, 5007))


def test_a_guest_network_adds_its_e1000_to_finchs_options():
    options = user_network([1, 2, 3]).qemu_options(QemuOptions(memory_mb=64))

    assert options.memory_mb == 64
    assert options.netdevs == [hostfwd_netdev([(1, 9), (2, 19), (3, 7)])]
    assert options.devices == ["e1000,netdev=net0"]


def test_the_tap_network_runs_qemu_and_the_client_in_the_namespace(tmp_path: Path):
    ns = Netns("finch-42", "finchtap0", "10.0.2.2/24")

    network = tap_network(ns, "10.0.2.15", tmp_path)

    assert network.netdev == "tap,id=net0,ifname=finchtap0,script=no,downscript=no"
    assert network.client == NetnsClient(TcpService("10.0.2.15"), "finch-42", sys.executable)
    wrapper = Path(network.qemu).read_text()
    assert 'exec ip netns exec finch-42 qemu-system-i386 "$@"' in wrapper


class FakeClient:
    def __init__(self, rate: float, log: list[str], name: str, fail_at: int = 0) -> None:
        self.rate, self.log, self.name, self.fail_at = rate, log, name, fail_at

    def send(self, size: int) -> Transfer:
        self.log.append(f"{self.name} send")
        if self.fail_at and len(self.log) >= self.fail_at:
            raise TcpBenchError("the guest stopped answering\nmore")
        return Transfer(size, size / self.rate)

    def receive(self, size: int) -> Transfer:
        self.log.append(f"{self.name} receive")
        return Transfer(size, size / self.rate)

    def connections(self, seconds: float) -> Connections:
        self.log.append(f"{self.name} connect")
        return Connections(int(seconds * 100), seconds)

    def wait_ready(self, timeout: float) -> float:
        return 0.0


def test_rounds_interleave_the_guests_each_on_its_turn():
    log: list[str] = []
    guests = [
        TcpGuest("A", FakeClient(1e8, log, "A"), turn=lambda: log.append("turn A")),
        TcpGuest("B", FakeClient(5e7, log, "B"), turn=lambda: log.append("turn B")),
    ]

    figures = measure_rounds(guests, rounds=2, size=MiB, seconds=1.0)

    assert log[:8] == ["turn A", "A send", "A receive", "A connect",
                       "turn B", "B send", "B receive", "B connect"]  # fmt: skip
    assert len(log) == 16
    assert [t.mb_per_s for t in figures["A"].sent] == pytest.approx([100.0, 100.0])
    assert [c.per_s for c in figures["B"].connections] == [100.0, 100.0]


def test_a_guest_that_fails_keeps_its_first_error_line_and_the_others_go_on():
    log: list[str] = []
    guests = [
        TcpGuest("A", FakeClient(1e8, log, "A", fail_at=5)),
        TcpGuest("B", FakeClient(1e8, log, "B")),
    ]

    figures = measure_rounds(guests, rounds=3, size=MiB, seconds=1.0)

    assert figures["A"].error == "the guest stopped answering"
    assert len(figures["A"].sent) == 1
    assert len(figures["B"].sent) == 3


def test_turns_pause_the_other_guests_and_resume_the_one_whose_turn_it_is():
    class Machine:
        def __init__(self, name: str, log: list[str]) -> None:
            self.name, self.log = name, log

        def qmp(self, cmd: str, /) -> object:
            self.log.append(f"{cmd} {self.name}")
            return {}

    log: list[str] = []
    turns = Turns()
    turn_a = turns.turn_for(Machine("a", log))
    turn_b = turns.turn_for(Machine("b", log))

    turn_a()
    turn_b()
    turn_b()

    assert log == ["stop b", "stop a", "cont b"]


def _figures(sent: list[float], received: list[float], conns: list[float]) -> TcpFigures:
    return TcpFigures(
        sent=[Transfer(int(r * 1e6), 1.0) for r in sent],
        received=[Transfer(int(r * 1e6), 1.0) for r in received],
        connections=[Connections(int(c), 1.0) for c in conns],
    )


def test_each_guest_gets_three_reference_rows_in_mb_per_s_and_per_s():
    rows = tcp_rows("Linux, user net", _figures([120, 100, 110], [68, 70, 66], [600, 650, 700]))

    assert [row.name for row in rows] == [
        "TCP host->guest, 64 MiB into discard (Linux, user net)",
        "TCP guest->host, 64 MiB from source (Linux, user net)",
        "TCP short connections, 64 B echo (Linux, user net)",
    ]
    assert [row.median for row in rows] == [110, 68, 650]
    table = format_table(rows)
    assert "110.0 MB/s  100.0 MB/s - 120.0 MB/s  (reference)" in table
    assert "650/s" in table


def test_ratio_rows_set_finch_against_linux_round_by_round_with_a_100_percent_target():
    finch = _figures([60, 130, 125], [70, 70, 70], [700, 700, 700])
    linux = _figures([120, 100, 100], [70, 70, 70], [700, 1400, 350])

    rows = ratio_rows("Finch", finch, "Linux", linux)

    assert [row.name for row in rows] == [
        "TCP host->guest: Finch / Linux",
        "TCP guest->host: Finch / Linux",
        "TCP connections/s: Finch / Linux",
    ]
    assert rows[0].samples == pytest.approx([50.0, 130.0, 125.0])
    assert [row.passed for row in rows] == [True, True, True]
    assert (
        format_table(rows).splitlines()[2].split()[:5]
        == ["TCP", "host->guest:", "Finch", "/", "Linux", "125%"][:5]
    )


def test_a_ratio_row_fails_when_either_guest_failed():
    finch = _figures([60], [70], [700])
    linux = TcpFigures(error="the Linux guest did not boot")

    rows = ratio_rows("Finch", finch, "Linux", linux)

    assert all(row.passed is False for row in rows)
    assert rows[0].error == "the Linux guest did not boot"


def test_ratios_skip_rounds_without_a_reference():
    assert ratios([10.0, 20.0, 30.0], [20.0, 0.0]) == [50.0]
