"""finch.tcplog: the records of kexts/tcplog/tcplog.h, unpacked as the
kext packs them, and printed as the kext prints them on the console."""

from __future__ import annotations

import socket

import pytest

from finch.errors import FinchError
from finch.tcplog import RECORD, Record, TcpLog


def packed(**fields: int) -> bytes:
    f = {
        "id": 7, "dir": 2, "end": 2, "laddr": "10.0.2.15", "faddr": "10.0.2.2",
        "lport": 9, "fport": 40000, "bin": 65536, "bout": 6, "pin": 45, "pout": 1,
        "sec": 12, "usec": 500000, "ms": 179,
    } | fields  # fmt: skip
    return RECORD.pack(
        f["id"], f["dir"], f["end"],
        socket.inet_aton(str(f["laddr"])), socket.inet_aton(str(f["faddr"])),
        int(f["lport"]).to_bytes(2, "big"), int(f["fport"]).to_bytes(2, "big"),
        f["bin"], f["bout"], f["pin"], f["pout"], f["sec"], f["usec"], f["ms"],
    )  # fmt: skip


def test_a_record_is_56_bytes_as_in_the_header() -> None:
    assert RECORD.size == 56


def test_an_accepted_connection_unpacks_and_prints_as_the_console_line() -> None:
    record = Record.unpack(packed())

    assert record.local == ("10.0.2.15", 9)
    assert record.foreign == ("10.0.2.2", 40000)
    assert (record.direction, record.end, record.start, record.seconds) == (
        "in", "closed by peer", 12.5, 0.179
    )  # fmt: skip
    assert str(record) == (
        "#7 in  10.0.2.2.40000 > 10.0.2.15.9: 65536 bytes in (45), 6 out (1), 0.179 s, "
        "closed by peer"
    )


def test_an_outbound_connection_prints_from_the_local_side() -> None:
    record = Record.unpack(packed(dir=1, end=1, lport=1025, fport=5000, ms=2500))

    assert str(record).startswith("#7 out 10.0.2.15.1025 > 10.0.2.2.5000: ")
    assert str(record).endswith(", 2.500 s, closed here first")


def test_unknown_codes_are_shown_not_hidden() -> None:
    record = Record.unpack(packed(dir=9, end=42))

    assert (record.direction, record.end) == ("? (9)", "? (42)")


class FakeControl:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def getsockopt(self, option: int, max_bytes: int = 4) -> bytes:
        return self.data[:max_bytes]


def test_a_table_of_another_size_says_the_kext_does_not_match() -> None:
    log = TcpLog(FakeControl(packed() + b"xx"))  # type: ignore[arg-type]

    with pytest.raises(FinchError, match=r"built from this tree's kexts/tcplog/tcplog\.h"):
        log.table()


def test_the_table_is_the_records_in_order() -> None:
    log = TcpLog(FakeControl(packed(id=1) + packed(id=2)))  # type: ignore[arg-type]

    assert [r.id for r in log.table()] == [1, 2]
