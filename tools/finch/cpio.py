"""A cpio archive in the "newc" format (SVR4 without CRC), the format a
Linux kernel unpacks as its initramfs: what finch.linuxguest packs the
Linux reference guest into.

Each member is a header of "070701" and thirteen 8-digit hex fields, the
name with its NUL padded to a multiple of 4 bytes, then the data padded
the same way; "TRAILER!!!" ends the archive.  Members are written in the
order given (a directory before what it holds), owned by root, with
mtime 0 so that the same members always make the same bytes.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass

MAGIC = b"070701"
TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Member:
    """One file, directory, symlink or device node.  `name` is relative
    ("bin/busybox", no leading slash); `mode` holds the file type bits as
    in stat(2); a symlink's data is its target; `rdev` is (major, minor)
    for a device node."""

    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def directory(name: str, perm: int = 0o755) -> Member:
    return Member(name, stat.S_IFDIR | perm)


def regular(name: str, data: bytes, perm: int = 0o644) -> Member:
    return Member(name, stat.S_IFREG | perm, data)


def symlink(name: str, target: str) -> Member:
    return Member(name, stat.S_IFLNK | 0o777, target.encode())


def char_device(name: str, major: int, minor: int, perm: int = 0o600) -> Member:
    return Member(name, stat.S_IFCHR | perm, rdev=(major, minor))


def _pad(length: int) -> bytes:
    return bytes(-length % 4)


def _entry(name: str, mode: int, data: bytes, ino: int, rdev: tuple[int, int]) -> bytes:
    encoded = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
    header = MAGIC + b"".join(f"{value:08x}".encode() for value in fields)
    return header + encoded + _pad(len(header) + len(encoded)) + data + _pad(len(data))


def newc_archive(members: Iterable[Member]) -> bytes:
    """The archive holding `members`, in order, and the trailer."""
    parts: list[bytes] = []
    seen: set[str] = set()
    for ino, member in enumerate(members, start=1):
        if member.name.startswith("/") or not member.name or member.name in seen:
            raise ValueError(f"cpio member name {member.name!r} is absolute, empty or repeated")
        if member.data and not (stat.S_ISREG(member.mode) or stat.S_ISLNK(member.mode)):
            raise ValueError(f"cpio member {member.name!r} is not a file but has data")
        seen.add(member.name)
        parts.append(_entry(member.name, member.mode, member.data, ino, member.rdev))
    parts.append(_entry(TRAILER, 0, b"", 0, (0, 0)))
    return b"".join(parts)
