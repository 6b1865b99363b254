"""Host link framing: turn frames into bytes and a byte stream back into frames.

The host and the kernel talk over COM2 (a unix-socket chardev on the host).
Every message travels in one frame (docs/hostlink.md is the specification):

    offset  size  field
    0       2     magic b"FN"
    2       1     version (1)
    3       1     type
    4       2     seq            little-endian
    6       4     payload length little-endian, at most MAX_PAYLOAD
    10      n     payload
    10+n    4     CRC-32 (zlib.crc32) of bytes 0 .. 10+n-1, little-endian

FrameDecoder is fed the stream in chunks of any size and hands back, in
order, the frames it completed and the errors it met (bad magic, bad CRC,
oversized length, unsupported version).  It never raises on bad input: it
reports, skips and resynchronises on the next b"FN".

A HELLO resynchronises: while a frame is incomplete, a whole, good HELLO
behind its first byte (a HELLO request for the guest's decoder, a HELLO
reply for the host's) ends the wait, so that a new session gets through
whatever an earlier one left half-sent.  For that, no frame may carry a
whole HELLO inside its payload: encode_frame() refuses one (and the host
cuts KMOD_WRITE pieces so that none does: see hello_inside()).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

MAGIC = b"FN"
PROTOCOL_VERSION = 1
HEADER = struct.Struct("<2sBBHI")  # magic, version, type, seq, length
TRAILER = struct.Struct("<I")  # CRC-32
HEADER_SIZE = HEADER.size  # 10
OVERHEAD = HEADER.size + TRAILER.size  # 14
MAX_PAYLOAD = 64 * 1024
REPLY = 0x80  # a reply's type is its request's type | REPLY
HELLO_SIZE = OVERHEAD + 4  # a HELLO request: its payload is the u32 flags


class MsgType(IntEnum):
    """Frame types.  Requests go host -> guest; a reply has the request's
    type | 0x80 and the request's seq; EVENT frames go guest -> host unasked."""

    HELLO = 0x01
    KMOD_ALLOC = 0x02
    KMOD_WRITE = 0x03
    KMOD_LOAD = 0x04
    KMOD_UNLOAD = 0x05
    KMOD_LIST = 0x06
    KMOD_FREE = 0x07
    MONITOR = 0x08
    SYS_OPEN = 0x09
    SYS_CLOSE = 0x0A
    SYS_IOCTL = 0x0B
    SYS_CONNECT = 0x0C
    SYS_SEND = 0x0D
    SYS_RECV = 0x0E
    SYS_SETOPT = 0x0F
    SYS_GETOPT = 0x10
    EVENT = 0x40
    HELLO_REPLY = HELLO | REPLY
    KMOD_ALLOC_REPLY = KMOD_ALLOC | REPLY
    KMOD_WRITE_REPLY = KMOD_WRITE | REPLY
    KMOD_LOAD_REPLY = KMOD_LOAD | REPLY
    KMOD_UNLOAD_REPLY = KMOD_UNLOAD | REPLY
    KMOD_LIST_REPLY = KMOD_LIST | REPLY
    KMOD_FREE_REPLY = KMOD_FREE | REPLY
    MONITOR_REPLY = MONITOR | REPLY
    SYS_OPEN_REPLY = SYS_OPEN | REPLY
    SYS_CLOSE_REPLY = SYS_CLOSE | REPLY
    SYS_IOCTL_REPLY = SYS_IOCTL | REPLY
    SYS_CONNECT_REPLY = SYS_CONNECT | REPLY
    SYS_SEND_REPLY = SYS_SEND | REPLY
    SYS_RECV_REPLY = SYS_RECV | REPLY
    SYS_SETOPT_REPLY = SYS_SETOPT | REPLY
    SYS_GETOPT_REPLY = SYS_GETOPT | REPLY
    ERROR = 0xFF


def type_name(value: int) -> str:
    try:
        return MsgType(value).name
    except ValueError:
        return f"type {value:#04x}"


class CodecError(Exception):
    """A frame that cannot be encoded (a bug in the caller, not bad input)."""


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes = b""
    version: int = PROTOCOL_VERSION

    def __repr__(self) -> str:
        return f"Frame({type_name(self.type)}, seq={self.seq}, {len(self.payload)} bytes)"


@dataclass(frozen=True)
class DecodeError:
    """Something the decoder dropped.  kind: bad-magic, bad-crc, oversized,
    bad-version, abandoned (a partial frame given up by drop_partial()), or
    resync (a partial frame that a HELLO ended: an earlier session's)."""

    kind: str
    detail: str
    skipped: int  # bytes thrown away


def encode_frame(frame: Frame, max_payload: int = MAX_PAYLOAD) -> bytes:
    """The bytes of one frame, CRC included."""
    if not 0 <= frame.type <= 0xFF:
        raise CodecError(f"frame type {frame.type} does not fit in one byte")
    if not 0 <= frame.seq <= 0xFFFF:
        raise CodecError(f"seq {frame.seq} does not fit in 16 bits")
    if len(frame.payload) > max_payload:
        raise CodecError(
            f"{type_name(frame.type)} payload of {len(frame.payload)} bytes is over the "
            f"{max_payload}-byte limit: split it"
        )
    inside = hello_inside(frame.payload)
    if inside >= 0:
        raise CodecError(
            f"{type_name(frame.type)} payload holds a whole HELLO frame at byte {inside}, "
            "which the guest would take for a new session: split it there"
        )
    body = (
        HEADER.pack(MAGIC, frame.version, frame.type, frame.seq, len(frame.payload)) + frame.payload
    )
    return body + TRAILER.pack(zlib.crc32(body))


def encode(type: int, seq: int, payload: bytes = b"") -> bytes:
    return encode_frame(Frame(type, seq, payload))


def _whole_frame_at(data: bytes | bytearray, i: int, ftype: int) -> int:
    """The size of the whole, good frame of type `ftype` at data[i:], or 0.
    A HELLO request is always HELLO_SIZE bytes."""
    if len(data) - i < HEADER_SIZE:
        return 0
    magic, version, t, _seq, length = HEADER.unpack_from(data, i)
    if magic != MAGIC or version != PROTOCOL_VERSION or t != ftype:
        return 0
    if ftype == MsgType.HELLO and length != HELLO_SIZE - OVERHEAD:
        return 0
    end = i + HEADER_SIZE + length
    if end + TRAILER.size > len(data):
        return 0
    (crc,) = TRAILER.unpack_from(data, end)
    return end + TRAILER.size - i if zlib.crc32(data[i:end]) == crc else 0


def find_whole_frame(data: bytes | bytearray, ftype: int, start: int = 0) -> int:
    """The offset of the first whole, good frame of type `ftype` in
    data[start:], or -1."""
    i = data.find(MAGIC, start)
    while i >= 0:
        if _whole_frame_at(data, i, ftype):
            return i
        i = data.find(MAGIC, i + 1)
    return -1


def hello_inside(payload: bytes) -> int:
    """Where a whole HELLO request lies inside `payload`, or -1.  A frame
    must not carry one: the guest would end that frame's wait there."""
    return find_whole_frame(payload, MsgType.HELLO)


class FrameDecoder:
    """Incremental decoder: feed() bytes as they arrive, get frames and errors.

    resync_type is the HELLO this end receives: MsgType.HELLO_REPLY for
    the host (the default), MsgType.HELLO for a guest's decoder."""

    def __init__(
        self, max_payload: int = MAX_PAYLOAD, resync_type: int = MsgType.HELLO_REPLY
    ) -> None:
        self.max_payload = max_payload
        self.resync_type = resync_type
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back, waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame | DecodeError]:
        self._buf += data
        out: list[Frame | DecodeError] = []
        while True:
            item = self._next()
            if item is None:
                return out
            out.append(item)

    def drop_partial(self) -> list[Frame | DecodeError]:
        """Give up on the incomplete frame at the head of the buffer (its
        length was probably corrupted) and look for frames behind it.

        Call it when no byte has arrived for a while but bytes are pending."""
        if not self._buf:
            return []
        out: list[Frame | DecodeError] = [
            DecodeError("abandoned", f"incomplete frame of {len(self._buf)} bytes", 1)
        ]
        del self._buf[:1]
        out += self.feed(b"")
        return out

    def _skip_to_magic(self, start: int) -> int:
        """Drop bytes before the next MAGIC at or after `start`; return how many."""
        i = self._buf.find(MAGIC, start)
        if i < 0:
            # Keep a trailing b"F": it may be the first half of the next magic.
            i = len(self._buf) - 1 if self._buf.endswith(MAGIC[:1]) else len(self._buf)
        del self._buf[:i]
        return i

    def _next(self) -> Frame | DecodeError | None:
        if not self._buf.startswith(MAGIC):
            if len(self._buf) < len(MAGIC) and MAGIC.startswith(self._buf):
                return None
            skipped = self._skip_to_magic(0)
            if skipped:
                return DecodeError("bad-magic", f"{skipped} bytes before a frame", skipped)
            return None
        if len(self._buf) < HEADER_SIZE:
            return None
        _magic, version, ftype, seq, length = HEADER.unpack_from(self._buf)
        if length > self.max_payload:
            del self._buf[:1]
            skipped = 1 + self._skip_to_magic(0)
            return DecodeError(
                "oversized",
                f"{type_name(ftype)} seq {seq} claims {length} payload bytes "
                f"(limit {self.max_payload})",
                skipped,
            )
        total = HEADER_SIZE + length + TRAILER.size
        if len(self._buf) < total:
            hello = find_whole_frame(self._buf, self.resync_type, 1)
            if hello < 0:
                return None
            del self._buf[:hello]
            return DecodeError(
                "resync",
                f"{type_name(ftype)} seq {seq} ended after {hello} of its {total} bytes "
                f"by a {type_name(self.resync_type)}",
                hello,
            )
        (crc,) = TRAILER.unpack_from(self._buf, HEADER_SIZE + length)
        computed = zlib.crc32(self._buf[: HEADER_SIZE + length])
        if crc != computed:
            del self._buf[:1]
            skipped = 1 + self._skip_to_magic(0)
            return DecodeError(
                "bad-crc",
                f"{type_name(ftype)} seq {seq}: CRC {crc:#010x}, computed {computed:#010x}",
                skipped,
            )
        payload = bytes(self._buf[HEADER_SIZE : HEADER_SIZE + length])
        del self._buf[:total]
        if version != PROTOCOL_VERSION:
            return DecodeError(
                "bad-version",
                f"{type_name(ftype)} seq {seq} has protocol version {version}, "
                f"not {PROTOCOL_VERSION}",
                total,
            )
        return Frame(ftype, seq, payload, version)
