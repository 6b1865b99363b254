"""Kernel events streamed over the host link are decoded and named as
Darwin names them."""

from __future__ import annotations

import struct

import pytest

from finch.hostlink.messages import PayloadError
from finch.kevents import KernelEvent


def kev_frame(vendor: int, kev_class: int, subclass: int, code: int, data: bytes = b"") -> bytes:
    return struct.pack("<IIII", vendor, kev_class, subclass, code) + data


def net_event_data(name: bytes, unit: int, family: int = 2) -> bytes:
    return struct.pack("<II16s", family, unit, name)


def test_a_link_event_is_named_with_its_interface() -> None:
    event = KernelEvent.decode(kev_frame(1, 1, 2, 12, net_event_data(b"en", 0)))
    assert event.name == "KEV_DL_LINK_OFF"
    assert str(event) == "KEV_DL_LINK_OFF en0"


def test_an_address_event_is_named() -> None:
    event = KernelEvent.decode(kev_frame(1, 1, 1, 1, net_event_data(b"lo", 0) + bytes(24)))
    assert str(event) == "KEV_INET_NEW_ADDR lo0"


def test_a_kernel_control_event_has_no_interface() -> None:
    assert str(KernelEvent.decode(kev_frame(1, 3, 2, 1))) == "KEV_CTL_REGISTERED"


def test_another_vendors_event_is_shown_by_number() -> None:
    event = KernelEvent.decode(kev_frame(1000, 7, 1, 42, b"payload"))
    assert str(event) == "vendor 1000 class 7 subclass 1 code 42"
    assert event.data == b"payload"


def test_a_short_frame_is_refused() -> None:
    with pytest.raises(PayloadError, match="at least 16"):
        KernelEvent.decode(b"\x01\x00\x00\x00")
