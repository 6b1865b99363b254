"""The host link: frame codec, payloads, and the client's retransmission policy
against a fake guest on a unix socket."""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.hostlink.client import (
    CorruptFrame,
    GuestError,
    GuestNotRunning,
    HostLink,
    LinkDropped,
    LinkTimeout,
)
from finch.hostlink.codec import (
    MAX_PAYLOAD,
    REPLY,
    CodecError,
    DecodeError,
    Frame,
    FrameDecoder,
    MsgType,
    encode,
    encode_frame,
    hello_inside,
)
from finch.hostlink.messages import (
    EVENT_LOG,
    KERNEL_READY,
    KMOD_STARTING,
    ErrorReply,
    Event,
    HelloReply,
    HelloRequest,
    KmodAllocReply,
    KmodAllocRequest,
    KmodEntry,
    KmodFreeRequest,
    KmodListReply,
    KmodListRequest,
    KmodLoadReply,
    KmodLoadRequest,
    KmodUnloadReply,
    KmodUnloadRequest,
    KmodWriteRequest,
    Message,
    MonitorReply,
    MonitorRequest,
    PayloadError,
    StatusReply,
)
from finch.session import write_requests

# -- frames ---------------------------------------------------------------


def test_a_frame_is_magic_version_type_seq_length_payload_crc() -> None:
    data = encode(MsgType.KMOD_ALLOC, 0x1234, b"\x00\x10\x00\x00")

    assert data[:10] == b"FN" + bytes([1, 0x02]) + struct.pack("<HI", 0x1234, 4)
    assert data[10:14] == b"\x00\x10\x00\x00"
    assert data[14:] == struct.pack("<I", zlib.crc32(data[:14]))


def test_frames_round_trip() -> None:
    frames = [Frame(MsgType.HELLO, 1), Frame(MsgType.KMOD_WRITE, 65535, bytes(range(256)) * 4)]

    decoded = FrameDecoder().feed(b"".join(encode_frame(f) for f in frames))

    assert decoded == frames


def test_frames_split_into_any_chunks_decode_the_same() -> None:
    frames = [Frame(MsgType.MONITOR, seq, f"command {seq}".encode()) for seq in range(1, 6)]
    stream = b"".join(encode_frame(f) for f in frames)
    decoder = FrameDecoder()

    decoded = [item for i in range(len(stream)) for item in decoder.feed(stream[i : i + 1])]

    assert decoded == frames
    assert decoder.pending == 0


def test_a_truncated_frame_waits_for_the_rest() -> None:
    data = encode(MsgType.MONITOR, 7, b"kextstat")
    decoder = FrameDecoder()

    assert decoder.feed(data[:-3]) == []
    assert decoder.pending == len(data) - 3
    assert decoder.feed(data[-3:]) == [Frame(MsgType.MONITOR, 7, b"kextstat")]


def test_a_corrupted_byte_is_a_crc_error_and_the_next_frame_still_decodes() -> None:
    bad = bytearray(encode(MsgType.MONITOR, 1, b"version"))
    bad[12] ^= 0x40
    good = encode(MsgType.MONITOR, 2, b"kextstat")

    items = FrameDecoder().feed(bytes(bad) + good)

    assert isinstance(items[0], DecodeError)
    assert items[0].kind == "bad-crc"
    assert "MONITOR seq 1" in items[0].detail
    assert items[-1] == Frame(MsgType.MONITOR, 2, b"kextstat")
    assert all(isinstance(i, DecodeError) for i in items[:-1])


def test_bytes_before_the_magic_are_reported_and_skipped() -> None:
    items = FrameDecoder().feed(b"garbage" + encode(MsgType.HELLO, 3))

    assert items == [
        DecodeError("bad-magic", "7 bytes before a frame", 7),
        Frame(MsgType.HELLO, 3),
    ]


def test_a_split_magic_is_not_mistaken_for_garbage() -> None:
    data = encode(MsgType.HELLO, 3)
    decoder = FrameDecoder()

    assert decoder.feed(b"xyF") == [DecodeError("bad-magic", "2 bytes before a frame", 2)]
    assert decoder.feed(data[1:]) == [Frame(MsgType.HELLO, 3)]


def test_an_oversized_length_is_reported_and_the_decoder_resyncs() -> None:
    header = b"FN" + bytes([1, MsgType.KMOD_WRITE]) + struct.pack("<HI", 9, MAX_PAYLOAD + 1)
    good = encode(MsgType.HELLO, 10)

    items = FrameDecoder().feed(header + b"junk" + good)

    assert isinstance(items[0], DecodeError)
    assert items[0].kind == "oversized"
    assert "claims 65537 payload bytes" in items[0].detail
    assert items[-1] == Frame(MsgType.HELLO, 10)


def test_an_unsupported_version_is_reported_and_skipped() -> None:
    body = b"FN" + bytes([2, MsgType.HELLO]) + struct.pack("<HI", 4, 0)
    other = body + struct.pack("<I", zlib.crc32(body))

    items = FrameDecoder().feed(other + encode(MsgType.HELLO, 5))

    assert [getattr(i, "kind", None) for i in items] == ["bad-version", None]
    assert items[1] == Frame(MsgType.HELLO, 5)


def test_a_corrupted_length_is_given_up_by_drop_partial() -> None:
    bad = bytearray(encode(MsgType.MONITOR, 1, b"abc"))
    bad[6] = 200  # claims 200 bytes: the decoder would wait for them
    good = encode(MsgType.HELLO, 2)
    decoder = FrameDecoder()

    assert decoder.feed(bytes(bad) + good) == []
    items = decoder.drop_partial()

    assert items[0].kind == "abandoned"  # type: ignore[union-attr]
    assert items[-1] == Frame(MsgType.HELLO, 2)


def test_a_payload_over_the_limit_cannot_be_encoded() -> None:
    with pytest.raises(CodecError, match="over the 65536-byte limit"):
        encode(MsgType.KMOD_WRITE, 1, bytes(MAX_PAYLOAD + 1))


# -- a HELLO resynchronises --------------------------------------------------

HELLO_FRAME = encode(MsgType.HELLO, 1, HelloRequest(0).encode())


def half_sent_write() -> bytes:
    """The first part of a large KMOD_WRITE: what a killed kextload leaves."""
    return encode(MsgType.KMOD_WRITE, 9, bytes(40000))[:20000]


def test_a_hello_ends_the_wait_for_a_frame_that_will_never_complete() -> None:
    guest = FrameDecoder(resync_type=MsgType.HELLO)

    assert guest.feed(half_sent_write()) == []
    items = guest.feed(HELLO_FRAME)

    assert items == [
        DecodeError("resync", "KMOD_WRITE seq 9 ended after 20000 of its 40014 bytes by a HELLO",
                    20000),
        Frame(MsgType.HELLO, 1, bytes(4)),
    ]  # fmt: skip
    assert guest.pending == 0


def test_a_hello_arriving_byte_by_byte_comes_out_with_its_last_byte() -> None:
    guest = FrameDecoder(resync_type=MsgType.HELLO)
    guest.feed(half_sent_write())

    items = [guest.feed(HELLO_FRAME[i : i + 1]) for i in range(len(HELLO_FRAME))]

    assert items[:-1] == [[]] * (len(HELLO_FRAME) - 1)
    assert items[-1][-1] == Frame(MsgType.HELLO, 1, bytes(4))


def test_the_host_resyncs_on_a_hello_reply_after_an_earlier_sessions_partial_reply() -> None:
    reply = HelloReply(1, KERNEL_READY, MAX_PAYLOAD, "0123456789abcdef", "0.1.0", "b1")
    hello_reply = encode(MsgType.HELLO_REPLY, 1, reply.encode())
    host = FrameDecoder()  # resync_type=HELLO_REPLY

    items = host.feed(encode(MsgType.MONITOR_REPLY, 40, bytes(30000))[:100] + hello_reply)

    assert [getattr(i, "kind", None) for i in items] == ["resync", None]
    assert items[-1] == Frame(MsgType.HELLO_REPLY, 1, reply.encode())


def test_only_a_whole_good_hello_ends_the_wait() -> None:
    damaged = bytearray(HELLO_FRAME)
    damaged[12] ^= 1
    too_long = encode(MsgType.HELLO, 2, bytes(5))
    other = encode(MsgType.KMOD_LIST, 3)
    guest = FrameDecoder(resync_type=MsgType.HELLO)

    items = guest.feed(half_sent_write() + bytes(damaged) + too_long + other + HELLO_FRAME[:-1])

    assert items == []


def test_an_image_holding_a_hello_is_written_in_pieces_that_do_not() -> None:
    image = bytes(100) + HELLO_FRAME + bytes(70000)

    requests = write_requests(0xC000_0000, image, MAX_PAYLOAD)

    assert all(hello_inside(r.encode()) < 0 for _, r in requests)
    assert b"".join(r.data for _, r in requests) == image
    assert [r.address - 0xC000_0000 for _, r in requests] == [o for o, _ in requests]
    assert len(requests[0][1].data) == 100 + len(HELLO_FRAME) // 2  # cut inside the HELLO


def test_no_frame_may_carry_a_whole_hello_in_its_payload() -> None:
    with pytest.raises(CodecError, match="holds a whole HELLO frame at byte 4"):
        encode(MsgType.KMOD_WRITE, 5, b"\0\0\x10\xc0" + HELLO_FRAME + b"rest")

    assert hello_inside(b"xx" + HELLO_FRAME[:-1] + b"yy") == -1


# -- payloads -------------------------------------------------------------

MESSAGES: list[Message] = [
    HelloRequest(1),
    HelloReply(1, KERNEL_READY, 65536, "0123456789abcdef", "0.1.0", "5eed0000cafe0001"),
    KmodAllocRequest(4096),
    KmodAllocReply(0, 0xC000_0000, 0x0040_0000),
    KmodWriteRequest(0xC000_0000, b"\x90" * 100),
    StatusReply(12),
    KmodFreeRequest(0xC000_0000),
    KmodLoadRequest(0xC000_0000, 4096, 0xC000_0100, 0xDEADBEEF, (3, 5), "1.0"),
    KmodLoadReply(0, 0, 7, ""),
    KmodLoadReply(17, 0, 0, "com.example.hello is already loaded"),
    KmodLoadReply(36, 0, 7, "com.ex.k: its start routine has run for 2.0 s", 2003),
    KmodUnloadRequest(7),
    KmodUnloadReply(16, 5, "stop returned KERN_FAILURE"),
    KmodUnloadReply(36, 0, "com.ex.k: its stop routine has run for 2.0 s", 2001),
    KmodListRequest(),
    KmodListReply(
        (
            KmodEntry(1, 3, 0, 0, 0, 0, 1, (), "com.apple.kpi.bsd", "8.0.0", "8.0.0b1"),
            KmodEntry(7, 0, 0xC000_0000, 4096, 4096, 0xDEADBEEF, 0, (1, 2), "com.ex.k", "1.0"),
            KmodEntry(
                *(8, 0, 0xC000_1000, 4096, 4096, 1, 0, (1,), "com.ex.s", "1.0"),
                state=KMOD_STARTING,
                reason="its start routine has run for 8.2 s (thread 14 in `ps`)",
                busy_ms=8200,
            ),
        )
    ),
    MonitorRequest("kextstat -l"),
    MonitorReply(0, "Index Refs ...\n"),
    Event(EVENT_LOG, b"hello: start\n"),
    ErrorReply(78, 0x33, "unknown request type"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_each_message_round_trips(message: Message) -> None:
    assert type(message).decode(message.encode()) == message


def test_how_long_a_routine_ran_comes_before_the_message_as_the_kernel_writes_it() -> None:
    load = KmodLoadReply(36, 0, 7, "x", 2003).encode()
    unload = KmodUnloadReply(36, 0, "y", 2001).encode()

    assert load == struct.pack("<iiIIH", 36, 0, 7, 2003, 1) + b"x"
    assert unload == struct.pack("<iiIH", 36, 0, 2001, 1) + b"y"


def test_a_kmod_list_row_gives_state_then_busy_ms_then_reason() -> None:
    entry = KmodEntry(
        *(8, 0, 0x1000, 4096, 4096, 1, 0, (), "a", "1"), state=3, reason="r", busy_ms=8200
    )

    payload = KmodListReply((entry,)).encode()

    assert payload.endswith(struct.pack("<HIH", 3, 8200, 1) + b"r")


def test_a_short_payload_is_reported_not_misread() -> None:
    with pytest.raises(PayloadError, match="KMOD_ALLOC reply: payload of 6 bytes"):
        KmodAllocReply.decode(bytes(6))


def test_extra_bytes_after_the_fields_are_reported() -> None:
    with pytest.raises(PayloadError, match="2 unexpected bytes"):
        KmodAllocRequest.decode(bytes(6))


# -- the client against a fake guest ---------------------------------------

Guest = Callable[[socket.socket, FrameDecoder], None]


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    # unix socket paths are limited to ~107 bytes: pytest's tmp_path may be longer
    with tempfile.TemporaryDirectory(prefix="finch-") as d:
        yield Path(d)


def frames_from(
    conn: socket.socket, decoder: FrameDecoder, *, answer_hello: bool = True
) -> Iterator[Frame]:
    """The requests the host sends; HELLOs are answered here unless asked
    not to (the client says HELLO first on every connection)."""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        for item in decoder.feed(data):
            if not isinstance(item, Frame):
                continue
            if answer_hello and item.type == MsgType.HELLO:
                conn.sendall(reply_to(item, HELLO))
                continue
            yield item


def start_guest(path: Path, guest: Guest) -> threading.Thread:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def run() -> None:
        conn, _ = server.accept()
        with conn:
            guest(conn, FrameDecoder(resync_type=MsgType.HELLO))
        server.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def reply_to(request: Frame, message: Message) -> bytes:
    return encode(request.type | REPLY, request.seq, message.encode())


HELLO = HelloReply(1, KERNEL_READY, MAX_PAYLOAD, "0123456789abcdef", "0.1.0")


def test_a_request_gets_its_reply(socket_dir: Path) -> None:
    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder, answer_hello=False):
            conn.sendall(encode(MsgType.EVENT, 0, Event(EVENT_LOG, b"booted\n").encode()))
            conn.sendall(reply_to(request, HELLO))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=2) as link:
        reply = link.hello()

    assert reply == HELLO
    assert link.events() == [Event(EVENT_LOG, b"booted\n")]


def test_a_lost_reply_is_retransmitted_with_the_same_seq(socket_dir: Path) -> None:
    seen: list[int] = []

    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder):
            seen.append(request.seq)
            if len(seen) > 1:  # the first reply is "lost"
                conn.sendall(reply_to(request, KmodAllocReply(0, 0xC0000000)))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=0.2) as link:
        reply = link.call(KmodAllocRequest(4096))

    assert reply == KmodAllocReply(0, 0xC0000000)
    assert seen == [2, 2]  # seq 1 was the HELLO


def test_every_connection_says_hello_before_its_first_request(socket_dir: Path) -> None:
    seen: list[str] = []

    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder, answer_hello=False):
            seen.append(MsgType(request.type).name)
            reply = HELLO if request.type == MsgType.HELLO else KmodListReply(())
            conn.sendall(reply_to(request, reply))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=2) as link:
        link.call(KmodListRequest())
        link.call(KmodListRequest())

    assert seen == ["HELLO", "KMOD_LIST", "KMOD_LIST"]


def test_a_large_request_goes_out_while_the_guest_talks(socket_dir: Path) -> None:
    chatter = encode(MsgType.EVENT, 0, Event(EVENT_LOG, b"x" * 60000).encode())

    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder, answer_hello=False):
            conn.sendall(reply_to(request, HELLO))
            for _ in range(20):  # the guest talks before it listens again
                conn.sendall(chatter)
            break
        for request in frames_from(conn, decoder):
            conn.sendall(reply_to(request, StatusReply(0)))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=5) as link:
        link.hello()
        # A small send buffer: the request cannot all go out at once.
        link._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # type: ignore[union-attr]
        reply = link.call(KmodWriteRequest(0, bytes(MAX_PAYLOAD - 4)))

    assert reply == StatusReply(0)
    assert len(link.events()) == 20


def test_a_corrupted_reply_is_retried_at_once_and_reported(socket_dir: Path) -> None:
    count = 0

    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        nonlocal count
        for request in frames_from(conn, decoder):
            count += 1
            data = bytearray(reply_to(request, StatusReply(0)))
            if count == 1:
                data[11] ^= 0xFF
            conn.sendall(bytes(data))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=5) as link:
        reply = link.request(MsgType.KMOD_WRITE, KmodWriteRequest(0, b"x").encode())

    assert StatusReply.decode(reply.payload) == StatusReply(0)
    assert [e.kind for e in link.decode_errors] == ["bad-crc"]


def test_stray_bytes_before_the_reply_cost_no_retransmission(socket_dir: Path) -> None:
    seen: list[int] = []

    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder):
            seen.append(request.seq)
            conn.sendall(b"\x5a")  # the tail of some earlier frame
            time.sleep(0.05)
            conn.sendall(reply_to(request, StatusReply(0)))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=5) as link:
        reply = link.request(MsgType.KMOD_FREE, KmodFreeRequest(0).encode())

    assert StatusReply.decode(reply.payload) == StatusReply(0)
    assert seen == [2]  # seq 1 was the HELLO; no retransmission
    assert [e.kind for e in link.decode_errors] == ["bad-magic"]


def test_a_reply_with_a_damaged_magic_is_retried_soon(socket_dir: Path) -> None:
    seen: list[int] = []

    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder):
            seen.append(request.seq)
            data = bytearray(reply_to(request, StatusReply(0)))
            if len(seen) == 1:
                data[0] ^= 0xFF  # all of it reads as bytes before a frame
            conn.sendall(bytes(data))

    start_guest(socket_dir / "com2", guest)

    start = time.monotonic()
    with HostLink(socket_dir / "com2", timeout=60) as link:
        reply = link.request(MsgType.KMOD_FREE, KmodFreeRequest(0).encode())

    assert StatusReply.decode(reply.payload) == StatusReply(0)
    assert seen == [2, 2]
    assert time.monotonic() - start < 30  # after the 0.5 s grace, not the 60 s timeout


def test_corruption_twice_raises_corrupt_frame(socket_dir: Path) -> None:
    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder):
            data = bytearray(reply_to(request, StatusReply(0)))
            data[-1] ^= 0xFF
            conn.sendall(bytes(data))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=0.3) as link, pytest.raises(CorruptFrame):
        link.request(MsgType.KMOD_FREE, KmodFreeRequest(0).encode())


def test_no_reply_even_to_the_retransmission_times_out(socket_dir: Path) -> None:
    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for _ in frames_from(conn, decoder):
            pass

    start_guest(socket_dir / "com2", guest)

    with (
        HostLink(socket_dir / "com2", timeout=0.1) as link,
        pytest.raises(LinkTimeout, match=r"KMOD_LIST \(seq 2\): no reply to 2 copies in "),
    ):
        link.call(KmodListRequest())


def test_an_error_frame_is_raised_with_its_status(socket_dir: Path) -> None:
    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder):
            error = ErrorReply(78, request.type, "unknown request type")
            conn.sendall(encode(MsgType.ERROR, request.seq, error.encode()))

    start_guest(socket_dir / "com2", guest)

    with HostLink(socket_dir / "com2", timeout=2) as link, pytest.raises(GuestError) as excinfo:
        link.request(0x33)

    assert excinfo.value.status == 78
    assert "ENOSYS: unknown request type" in str(excinfo.value)


def test_the_link_dropping_mid_frame_is_reported(socket_dir: Path) -> None:
    def guest(conn: socket.socket, decoder: FrameDecoder) -> None:
        for request in frames_from(conn, decoder):
            conn.sendall(reply_to(request, MonitorReply(0, "x" * 100))[:20])
            return

    start_guest(socket_dir / "com2", guest)

    with (
        HostLink(socket_dir / "com2", timeout=2) as link,
        pytest.raises(LinkDropped, match=r"closed in the middle of a frame \(20 bytes received\)"),
    ):
        link.call(MonitorRequest("kextstat"))


def test_no_guest_is_reported_as_not_running(socket_dir: Path) -> None:
    with pytest.raises(GuestNotRunning, match="start the guest with `finch run`"):
        HostLink(socket_dir / "com2").connect()
