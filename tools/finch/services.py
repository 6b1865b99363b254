"""inetd's services (kexts/inetd) as the host reaches them: the guest
ports, the host ports `finch run --services` forwards to them, and what
chargen sends, to check it byte for byte.

    forwards = RUN_FORWARDS                      # (proto, host port, guest port, name)
    hostfwd_rules(forwards)                      # ",hostfwd=tcp:127.0.0.1:7007-:7,..."
    chargen_bytes(0, 1 << 20)                    # the first MiB of TCP chargen
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

INETD = "inetd"  # the sample's folder and CFBundleExecutable
INETD_ID = "com.finch.sample.inetd"
# The kernel's boot option that leaves UDP port 7 to inetd (the kernel
# has a built-in UDP echo service there otherwise).
NO_UDP_ECHO = "noudpecho"

ECHO, DISCARD, CHARGEN, HTTP = 7, 9, 19, 80

# chargen (RFC 864): lines of 72 printable characters and CR LF, line i
# starting with character i % 95 of ' '..'~'.
CHARGEN_LINE = 72
CHARGEN_CHARS = 95
CHARGEN_LINELEN = CHARGEN_LINE + 2
CHARGEN_PERIOD = CHARGEN_CHARS * CHARGEN_LINELEN
UDP_CHARGEN_LINES = 6  # lines in each answer of UDP chargen


@dataclass(frozen=True)
class Forward:
    """A host port on 127.0.0.1 forwarded to a guest port."""

    proto: str  # "tcp" or "udp"
    host: int
    guest: int
    name: str  # what a user reads: "TCP echo"


# What `finch run --services` forwards (UDP echo's 7007 is forwarded
# without --services too: the kernel's built-in echo answers there).
RUN_FORWARDS: tuple[Forward, ...] = (
    Forward("udp", 7007, ECHO, "UDP echo"),
    Forward("udp", 9009, DISCARD, "UDP discard"),
    Forward("udp", 19019, CHARGEN, "UDP chargen"),
    Forward("tcp", 7007, ECHO, "TCP echo"),
    Forward("tcp", 9009, DISCARD, "TCP discard"),
    Forward("tcp", 19019, CHARGEN, "TCP chargen"),
    Forward("tcp", 8080, HTTP, "HTTP status page"),
)


def hostfwd_rules(forwards: Sequence[Forward]) -> str:
    """The hostfwd options of QEMU's user networking, each from 127.0.0.1."""
    return "".join(f",hostfwd={f.proto}:127.0.0.1:{f.host}-:{f.guest}" for f in forwards)


def chargen_line(index: int) -> bytes:
    """Line `index` of chargen's text, CR LF included."""
    first = index % CHARGEN_CHARS
    chars = bytes(0x20 + (first + i) % CHARGEN_CHARS for i in range(CHARGEN_LINE))
    return chars + b"\r\n"


_PERIOD = b"".join(chargen_line(i) for i in range(CHARGEN_CHARS))


def chargen_bytes(start: int, size: int) -> bytes:
    """`size` bytes of chargen's endless stream from byte `start`."""
    offset = start % CHARGEN_PERIOD
    repeats = (offset + size) // CHARGEN_PERIOD + 1
    return (_PERIOD * repeats)[offset : offset + size]


def chargen_first_line(answer: bytes) -> int | None:
    """The index (0..94) of the line a chargen answer starts with, if it
    is UDP_CHARGEN_LINES consecutive lines of the text; else None."""
    if len(answer) != UDP_CHARGEN_LINES * CHARGEN_LINELEN:
        return None
    first = answer[0] - 0x20
    if not 0 <= first < CHARGEN_CHARS:
        return None
    return first if answer == chargen_bytes(first * CHARGEN_LINELEN, len(answer)) else None
