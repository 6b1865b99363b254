"""The kernel-control client (finch.kctl) checks its arguments before it
asks the guest: a bad name, unit, option, value or timeout is refused
with a sentence saying what is wrong, and nothing goes over the link."""

from __future__ import annotations

import argparse
import struct

import pytest

from finch.cli import events as events_cli
from finch.cli import kctl as kctl_cli
from finch.errors import FinchError
from finch.hostlink.messages import (
    Message,
    SysDataReply,
    SysOpenReply,
    SysRecvReply,
    SysRecvRequest,
    SysStatusReply,
)
from finch.kctl import (
    CTLIOCGINFO,
    SIOCSKEVFILT,
    ControlSocket,
    EventFilter,
    EventSocket,
    KctlError,
    KernelControl,
    lookup,
    sockaddr_ctl,
)
from finch.kevents import KernelEvent


class NoGuest:
    """A caller that fails the test if anything is sent."""

    def call(self, message: Message, timeout: float | None = None) -> Message:
        raise AssertionError(f"{message} was sent to the guest")


class Scripted:
    """A caller that answers from a list and records what was asked."""

    def __init__(self, *replies: Message) -> None:
        self.replies = list(replies)
        self.sent: list[Message] = []

    def call(self, message: Message, timeout: float | None = None) -> Message:
        self.sent.append(message)
        return self.replies.pop(0)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "the control name is empty"),
        ("a" * 96, "is 96 bytes; a kernel control name is at most 95"),
        ("bad\0name", "holds a NUL byte"),
    ],
)
def test_a_bad_control_name_is_refused_before_asking_the_guest(name: str, says: str) -> None:
    with pytest.raises(KctlError, match=says):
        KernelControl.connect(NoGuest(), name)
    with pytest.raises(KctlError, match=says):
        lookup(NoGuest(), name)


def test_a_name_that_is_not_text_is_refused() -> None:
    with pytest.raises(KctlError, match="a control name is text, not bytes"):
        lookup(NoGuest(), b"com.example.x")  # type: ignore[arg-type]


@pytest.mark.parametrize("unit", [-1, 2**32, 1.5, True])
def test_a_unit_outside_32_bits_is_refused(unit: object) -> None:
    with pytest.raises(KctlError, match="the unit must be an integer from 0 to 4294967295"):
        KernelControl.connect(NoGuest(), "com.example.x", unit)  # type: ignore[arg-type]


def connected() -> tuple[KernelControl, Scripted]:
    caller = Scripted()
    return KernelControl(ControlSocket(caller, 1), "com.example.x", 7, 0), caller


def test_sending_text_instead_of_bytes_says_to_encode_it() -> None:
    ctl, caller = connected()
    with pytest.raises(KctlError, match=r"the data must be bytes, not str \(encode text first\)"):
        ctl.send("hello")  # type: ignore[arg-type]
    assert caller.sent == []


def test_an_option_value_over_32_bits_is_refused() -> None:
    ctl, caller = connected()
    with pytest.raises(KctlError, match="does not fit the guest's 32-bit int"):
        ctl.setsockopt(1, 2**31)
    with pytest.raises(KctlError, match="the option must be an integer"):
        ctl.setsockopt(-1, 0)
    assert caller.sent == []


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"timeout": -1.0}, "the timeout must be a number of seconds, 0 or more"),
        ({"max_bytes": 0}, "max_bytes must be from 1 to 61440"),
        ({"max_bytes": 1 << 20}, "max_bytes must be from 1 to 61440"),
    ],
)
def test_a_bad_receive_argument_is_refused(kwargs: dict[str, float], says: str) -> None:
    ctl, caller = connected()
    with pytest.raises(KctlError, match=says):
        ctl.recv(**kwargs)  # type: ignore[arg-type]
    assert caller.sent == []


def test_a_refused_connect_names_the_reason_and_closes_the_socket() -> None:
    info = struct.pack("<I96s", 7, b"com.example.x")
    caller = Scripted(
        SysOpenReply(0, 3), SysDataReply(0, info), SysStatusReply(1), SysStatusReply(0)
    )
    with pytest.raises(KctlError, match=r"said EPERM .*CTL_FLAG_PRIVILEGED") as e:
        KernelControl.connect(caller, "com.example.x", privileged=False)
    assert e.value.errno == 1
    assert [type(m).__name__ for m in caller.sent] == [
        "SysOpenRequest",
        "SysIoctlRequest",
        "SysConnectRequest",
        "SysCloseRequest",
    ]
    assert caller.sent[0].flags == 1  # type: ignore[attr-defined]
    assert caller.sent[1].command == CTLIOCGINFO  # type: ignore[attr-defined]


def test_a_long_wait_is_cut_into_guest_waits_of_a_second() -> None:
    caller = Scripted(SysRecvReply(35, 0), SysRecvReply(35, 0), SysRecvReply(0, 0, b"x"))
    ctl = KernelControl(ControlSocket(caller, 1), "com.example.x", 7, 0)
    assert ctl.recv(timeout=2.5) == b"x"
    assert [m.wait_ms for m in caller.sent if isinstance(m, SysRecvRequest)] == [1000, 1000, 500]


def test_nothing_within_the_timeout_is_none() -> None:
    caller = Scripted(SysRecvReply(35, 0))
    assert KernelControl(ControlSocket(caller, 1), "x", 7, 0).recv(timeout=0.0) is None


def test_sockaddr_ctl_has_darwins_layout() -> None:
    assert sockaddr_ctl(5, 2) == struct.pack("<BBHII5I", 32, 32, 2, 5, 2, 0, 0, 0, 0, 0)


def test_an_event_socket_sets_its_kev_request_filter() -> None:
    caller = Scripted(SysOpenReply(0, 2), SysDataReply(0))
    EventSocket.open(caller, EventFilter(1, 3, 2))
    assert caller.sent[1].command == SIOCSKEVFILT  # type: ignore[attr-defined]
    assert caller.sent[1].argument == struct.pack("<III", 1, 3, 2)  # type: ignore[attr-defined]


def test_a_kern_event_msg_is_decoded_with_its_id() -> None:
    record = struct.pack("<IIIIII", 32, 1, 3, 2, 17, 1) + struct.pack("<II", 4, 0)
    event = KernelEvent.from_kern_event_msg(record)
    assert (event.name, event.id, event.data) == ("KEV_CTL_REGISTERED", 17, bytes([4]) + bytes(7))


def test_events_refuses_a_class_without_a_vendor() -> None:
    parser = argparse.ArgumentParser()
    events_cli.add_arguments(parser)
    args = parser.parse_args(["--class", "system"])
    with pytest.raises(FinchError, match="--class needs --vendor"):
        events_cli.event_filter(args)
    args = parser.parse_args(["--vendor", "apple", "--class", "system", "--subclass", "ctl"])
    assert events_cli.event_filter(args) == EventFilter(1, 3, 2)


def test_kctl_options_are_numbers_or_hex_bytes() -> None:
    assert kctl_cli._option("1=42") == (1, 42)
    assert kctl_cli._option("0x10=0x2a") == (16, 42)
    assert kctl_cli._option("2=hex:00ff") == (2, b"\x00\xff")
    for bad in ("1", "x=1", "1=hex:zz"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"OPT=VALUE|hex:BYTES"):
            kctl_cli._option(bad)


def test_kctl_without_a_name_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert kctl_cli.main([]) == 1
    assert "name a kernel control (or give --close-all)" in capsys.readouterr().err
