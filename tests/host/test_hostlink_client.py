"""The host link client against a scripted guest (fakeguest.FakeGuest,
which follows docs/hostlink.md as the kernel does): what an earlier
session left on the wire, damaged and lost frames, late replies and a
guest that reboots under the connection."""

from __future__ import annotations

import socket
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakeguest import FakeGuest

from finch.hostlink.client import CorruptFrame, GuestRebooted, HostLink, LinkTimeout
from finch.hostlink.codec import DecodeError, Frame, MsgType, encode
from finch.hostlink.messages import (
    ErrorReply,
    KmodAllocReply,
    KmodAllocRequest,
    KmodListReply,
    KmodListRequest,
    KmodWriteRequest,
)

EIO = 5


@pytest.fixture
def path() -> Iterator[Path]:
    # unix socket paths are limited to ~107 bytes: pytest's tmp_path may be longer
    with tempfile.TemporaryDirectory(prefix="finch-") as d:
        yield Path(d) / "com2"


@pytest.fixture
def guest(path: Path) -> Iterator[FakeGuest]:
    guest = FakeGuest(path)
    yield guest
    guest.close()


class FirstFrameDamaged:
    """A Tap that flips bits of byte `offset` in the first frame sent."""

    def __init__(self, offset: int, bits: int) -> None:
        self.offset, self.bits, self.frames = offset, bits, 0

    def sent(self, frame: bytes) -> bytes:
        self.frames += 1
        if self.frames > 1:
            return frame
        damaged = bytearray(frame)
        damaged[self.offset] ^= self.bits
        return bytes(damaged)

    def received(self, data: bytes) -> bytes:
        return data


def leave_on_the_wire(path: Path, data: bytes) -> None:
    """What a tool killed in the middle of sending leaves behind."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as killed:
        killed.connect(str(path))
        killed.sendall(data)


def kinds(items: list[Frame | DecodeError]) -> list[str]:
    return [i.kind for i in items if isinstance(i, DecodeError)]


def first(limit: int, of: MsgType) -> Callable[[Frame], bool]:
    """A check that says yes to the first `limit` frames of type `of`."""
    seen = 0

    def check(frame: Frame) -> bool:
        nonlocal seen
        if frame.type != of:
            return False
        seen += 1
        return seen <= limit

    return check


# -- what an earlier session left behind -----------------------------------


def test_a_new_session_gets_through_a_frame_a_killed_tool_left_half_sent(path: Path) -> None:
    guest = FakeGuest(path, abandon=60)  # no silence rule: only the HELLO can end the wait
    image = KmodWriteRequest(0xC010_0000, bytes(60000)).encode()
    leave_on_the_wire(path, encode(MsgType.KMOD_WRITE, 7, image)[:30000])

    with HostLink(path, timeout=10) as link:
        reply = link.hello()

    guest.close()
    assert reply.boot_id == guest.boot_id
    assert link.frames_sent == 1  # the first HELLO got through
    assert kinds(guest.received) == ["resync"]  # and was not reported as damage


def test_a_new_session_gets_through_noise_and_a_garbled_length(path: Path) -> None:
    guest = FakeGuest(path, abandon=60)
    noise = b"\x00\xff\x13noise" + b"FN\x01\x03" + struct.pack("<HI", 9, 50000) + b"junk"
    leave_on_the_wire(path, noise)

    with HostLink(path, timeout=10) as link:
        reply = link.hello()

    guest.close()
    assert reply.boot_id == guest.boot_id
    assert kinds(guest.received) == ["bad-magic", "resync"]


# -- damaged and lost frames ---------------------------------------------------


def test_a_damaged_hello_whose_error_comes_before_the_reply_still_gets_the_reply(
    path: Path, guest: FakeGuest
) -> None:
    # Its length says 20 bytes of payload, not 4: the guest waits for the
    # second copy to "complete" it, reports the damage (EIO) and then
    # answers the second copy.  The EIO must not end the request.
    tap = FirstFrameDamaged(offset=6, bits=0x10)

    with HostLink(path, timeout=0.5, tap=tap) as link:
        reply = link.hello()

    assert reply.boot_id == guest.boot_id
    assert kinds(guest.received) == ["bad-crc"]
    assert [f.type for f in guest.acted] == [MsgType.HELLO]


def test_a_damaged_reply_is_asked_again_and_answered_from_memory(
    path: Path, guest: FakeGuest
) -> None:
    guest.damage = first(1, MsgType.KMOD_ALLOC)

    with HostLink(path, timeout=5) as link:
        link.hello()
        reply = link.call(KmodAllocRequest(4096))

    assert reply == KmodAllocReply(0, 0xC010_0000, 0xFFFFFFFF)
    assert [f.type for f in guest.acted] == [MsgType.HELLO, MsgType.KMOD_ALLOC]  # once
    assert [e.kind for e in link.decode_errors] == ["bad-crc"]


def test_a_lost_reply_is_asked_again_and_answered_from_memory(path: Path, guest: FakeGuest) -> None:
    guest.lose = first(1, MsgType.KMOD_ALLOC)

    with HostLink(path, timeout=0.3) as link:
        reply = link.call(KmodAllocRequest(4096))

    assert reply == KmodAllocReply(0, 0xC010_0000, 0xFFFFFFFF)
    assert [f.type for f in guest.acted] == [MsgType.HELLO, MsgType.KMOD_ALLOC]
    assert link.retransmissions == 1


def test_a_reply_to_an_older_seq_is_not_taken_for_the_reply(path: Path, guest: FakeGuest) -> None:
    def late_reply_first(request: Frame) -> None:
        if request.type == MsgType.KMOD_ALLOC:
            stale = KmodAllocReply(0, 0xDEAD_0000, 0xFFFFFFFF).encode()
            guest.send(encode(MsgType.KMOD_ALLOC | 0x80, request.seq - 1, stale))

    guest.on_request = late_reply_first

    with HostLink(path, timeout=5) as link:
        reply = link.call(KmodAllocRequest(4096))

    assert reply == KmodAllocReply(0, 0xC010_0000, 0xFFFFFFFF)


def test_damage_reported_during_the_last_copy_does_not_end_the_request(
    path: Path, guest: FakeGuest
) -> None:
    def report_damage(frame: Frame) -> None:
        if frame.type == MsgType.KMOD_LIST:  # about something else: noise on the line
            guest.send(encode(MsgType.ERROR, 0, ErrorReply(EIO, 0, "damaged").encode()))

    guest.on_frame = report_damage
    guest.lose = first(2, MsgType.KMOD_LIST)

    with HostLink(path, timeout=5) as link:
        link.hello()
        reply = link.call(KmodListRequest())

    assert isinstance(reply, KmodListReply)
    assert link.frames_sent == 1 + 3


def test_no_reply_to_two_timeouts_says_the_guest_does_not_answer(
    path: Path, guest: FakeGuest
) -> None:
    with HostLink(path, timeout=0.1) as link:
        link.hello()
        guest.silent = True
        with pytest.raises(LinkTimeout) as timed_out:
            link.call(KmodListRequest())

    assert not isinstance(timed_out.value, CorruptFrame)
    assert "KMOD_LIST (seq 2): no reply to 2 copies in " in str(timed_out.value)
    assert "the guest does not answer its host link: look at its console log" in str(
        timed_out.value
    )


def test_damage_on_every_copy_says_what_the_link_did(path: Path, guest: FakeGuest) -> None:
    guest.damage = first(3, MsgType.KMOD_LIST)

    with HostLink(path, timeout=0.2) as link:
        link.hello()
        with pytest.raises(CorruptFrame) as garbled:
            link.call(KmodListRequest())

    message = str(garbled.value)
    assert "KMOD_LIST (seq 2): no reply to 3 copies in " in message
    assert "on the way: 3 damaged frames received" in message
    assert "run the command again" in message


# -- a guest that reboots ----------------------------------------------------------


def test_a_guest_that_reboots_instead_of_answering_is_reported_as_rebooted(
    path: Path, guest: FakeGuest
) -> None:
    def reboot(request: Frame) -> None:
        if request.type == MsgType.KMOD_ALLOC:
            guest.reboot("b0000000000000002")

    guest.on_request = reboot

    with HostLink(path, timeout=5) as link, pytest.raises(GuestRebooted) as rebooted:
        link.call(KmodAllocRequest(4096))

    assert str(rebooted.value).startswith(
        "KMOD_ALLOC (seq 2): the guest rebooted (its boot id changed from "
        "b0000000000000001 to b0000000000000002); the kexts loaded before the reboot are gone"
    )
    assert link.boot_id == "b0000000000000002"


def test_a_reboot_whose_ready_was_missed_is_noticed_at_the_next_request(
    path: Path, guest: FakeGuest
) -> None:
    with HostLink(path, timeout=5) as link:
        link.hello()
        guest.reboot("b0000000000000002", say_ready=False)
        with pytest.raises(GuestRebooted) as rebooted:
            link.call(KmodListRequest())

    assert "the guest rebooted (its boot id changed" in str(rebooted.value)
    assert rebooted.value.new_boot == "b0000000000000002"


def test_a_second_hello_to_a_rebooted_guest_says_so(path: Path, guest: FakeGuest) -> None:
    with HostLink(path, timeout=5) as link:
        link.hello()
        guest.reboot("b0000000000000002", say_ready=False)
        with pytest.raises(GuestRebooted):
            link.hello()
