"""The tcplog sample's connection log (kexts/tcplog), on the host.

The kext writes a record per TCP connection when its socket closes and
keeps the last 64 in a ring, which a client of its kernel control reads
as an option; a client may also follow the log, one record per
connection as it closes.  kexts/tcplog/tcplog.h is the format, unpacked
here byte for byte (little-endian i386; addresses and ports in network
order, as in a struct sockaddr_in).

    with GuestSession.open(rundir) as session, TcpLog.connect(session) as log:
        for record in log.table():
            print(record)
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from finch.errors import FinchError
from finch.kctl import ControlClient

CONTROL = "com.finch.sample.tcplog"
RING = 64

# Options, <tcplog.h>
TABLE, STATS, CLEAR, PERIOD, FOLLOW = 1, 2, 3, 4, 5

RECORD = struct.Struct("<IBBxx4s4s2s2sQQIIIII")  # struct tcplog_record
STATS_FIELDS = (
    "sockets",
    "open",
    "logged",
    "in_ring",
    "overwritten",
    "unsent",
    "nomem",
    "period",
)
STATS_STRUCT = struct.Struct(f"<{len(STATS_FIELDS)}I")  # struct tcplog_stats

DIRECTIONS = {1: "out", 2: "in"}
ENDS = {
    1: "closed here first",
    2: "closed by peer",
    3: "reset",
    4: "never connected",
    5: "open at unload",
}


@dataclass(frozen=True)
class Record:
    """One connection, as the kext logged it."""

    id: int
    direction: str  # "out": this guest connected; "in": it accepted
    end: str  # one of ENDS' values
    local: tuple[str, int]
    foreign: tuple[str, int]
    bytes_in: int
    bytes_out: int
    packets_in: int
    packets_out: int
    start: float  # the guest's time of day (Finch's: seconds since boot)
    seconds: float  # how long it lasted

    @classmethod
    def unpack(cls, data: bytes) -> Record:
        (
            ident,
            direction,
            end,
            laddr,
            faddr,
            lport,
            fport,
            bin_,
            bout,
            pin,
            pout,
            sec,
            usec,
            ms,
        ) = RECORD.unpack(data)
        return cls(
            id=ident,
            direction=DIRECTIONS.get(direction, f"? ({direction})"),
            end=ENDS.get(end, f"? ({end})"),
            local=(socket.inet_ntoa(laddr), int.from_bytes(lport, "big")),
            foreign=(socket.inet_ntoa(faddr), int.from_bytes(fport, "big")),
            bytes_in=bin_,
            bytes_out=bout,
            packets_in=pin,
            packets_out=pout,
            start=sec + usec / 1e6,
            seconds=ms / 1000,
        )

    def __str__(self) -> str:
        local, foreign = (f"{a}.{p}" for a, p in (self.local, self.foreign))
        src, dst = (foreign, local) if self.direction == "in" else (local, foreign)
        return (
            f"#{self.id} {self.direction:<3} {src} > {dst}: {self.bytes_in} bytes in "
            f"({self.packets_in}), {self.bytes_out} out ({self.packets_out}), "
            f"{self.seconds:.3f} s, {self.end}"
        )


@dataclass
class TcpLog(ControlClient):
    """A client of the tcplog kext's control."""

    NAME = CONTROL
    KEXT = "tcplog"

    def table(self) -> list[Record]:
        """The ring: the last connections that closed, oldest first."""
        data = self.control.getsockopt(TABLE, RING * RECORD.size)
        if len(data) % RECORD.size:
            raise self.wrong_size("TCPLOG_TABLE", len(data), RECORD.size)
        return [Record.unpack(data[i : i + RECORD.size]) for i in range(0, len(data), RECORD.size)]

    def stats(self) -> dict[str, int]:
        data = self.control.getsockopt(STATS, STATS_STRUCT.size)
        if len(data) != STATS_STRUCT.size:
            raise self.wrong_size("TCPLOG_STATS", len(data), STATS_STRUCT.size)
        return dict(zip(STATS_FIELDS, STATS_STRUCT.unpack(data), strict=True))

    def clear(self) -> None:
        self.control.setsockopt(CLEAR, 0)  # the value is ignored

    def set_period(self, seconds: int) -> None:
        self.control.setsockopt(PERIOD, seconds)

    def follow(self, on: bool = True) -> None:
        """Have the kext send this client each record as its connection
        closes (read them with next_record)."""
        self.control.setsockopt(FOLLOW, int(on))

    def next_record(self, timeout: float) -> Record | None:
        data = self.control.recv(RECORD.size, timeout)
        if data is None:
            return None
        if len(data) != RECORD.size:
            raise self.wrong_size("a followed record", len(data), RECORD.size)
        return Record.unpack(data)

    def text(self) -> str:
        """The log as the kext writes it: send any record, read the answer."""
        self.control.send(b"show")
        reply = self.control.recv(timeout=10.0)
        if reply is None:
            raise FinchError("the tcplog control did not answer with its log within 10 s")
        return reply.decode("ascii", errors="replace")
