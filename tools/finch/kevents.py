"""Kernel events as the host sees them -- the struct kern_event_msg records
a PF_SYSTEM event socket receives (finch.kctl.EventSocket), or the EVENT
KEV frames the guest's host link streams (docs/hostlink.md, section 6) --
decoded and named.

    vendor class subclass code  ->  KEV_DL_LINK_OFF en0

The numbers are those of the guest's <sys/kern_event.h>, which are
Darwin's.  Events of other vendors (posted by kexts with a code from
kev_vendor_code_find) are shown by number.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from finch.hostlink.messages import PayloadError

KEV_VENDOR_APPLE = 1
KEV_NETWORK_CLASS = 1
KEV_SYSTEM_CLASS = 3
KEV_INET_SUBCLASS = 1
KEV_DL_SUBCLASS = 2
KEV_CTL_SUBCLASS = 2

_DL = [
    "SIFFLAGS",
    "SIFMETRICS",
    "SIFMTU",
    "SIFPHYS",
    "SIFMEDIA",
    "SIFGENERIC",
    "ADDMULTI",
    "DELMULTI",
    "IF_ATTACHED",
    "IF_DETACHING",
    "IF_DETACHED",
    "LINK_OFF",
    "LINK_ON",
    "PROTO_ATTACHED",
    "PROTO_DETACHED",
    "LINK_ADDRESS_CHANGED",
]
_INET = [
    "NEW_ADDR",
    "CHANGED_ADDR",
    "ADDR_DELETED",
    "SIFDSTADDR",
    "SIFBRDADDR",
    "SIFNETMASK",
    "ARPCOLLISION",
]
_CTL = ["REGISTERED", "DEREGISTERED"]

# (class, subclass) -> (name prefix, event names from code 1)
_APPLE_EVENTS: dict[tuple[int, int], tuple[str, list[str]]] = {
    (KEV_NETWORK_CLASS, KEV_DL_SUBCLASS): ("KEV_DL_", _DL),
    (KEV_NETWORK_CLASS, KEV_INET_SUBCLASS): ("KEV_INET_", _INET),
    (KEV_SYSTEM_CLASS, KEV_CTL_SUBCLASS): ("KEV_CTL_", _CTL),
}

KEV_ANY = 0  # KEV_ANY_VENDOR, KEV_ANY_CLASS, KEV_ANY_SUBCLASS

_HEADER = struct.Struct("<IIII")  # vendor, class, subclass, event code
# struct kern_event_msg: total_size, vendor, class, subclass, id, event code
_KERN_EVENT_MSG = struct.Struct("<IIIIII")
_NET_EVENT_DATA = struct.Struct("<II16s")  # if_family, if_unit, if_name[IFNAMSIZ]


@dataclass(frozen=True)
class KernelEvent:
    vendor: int
    kev_class: int
    subclass: int
    code: int
    data: bytes
    id: int = 0  # the guest's event id (0 for host-link EVENT frames, which carry none)

    @classmethod
    def from_kern_event_msg(cls, record: bytes) -> KernelEvent:
        """One record read from an event socket: a struct kern_event_msg."""
        if len(record) < _KERN_EVENT_MSG.size:
            raise PayloadError(
                f"kern_event_msg: {len(record)} bytes, at least {_KERN_EVENT_MSG.size} expected"
            )
        total, vendor, kev_class, subclass, event_id, code = _KERN_EVENT_MSG.unpack_from(record)
        if not _KERN_EVENT_MSG.size <= total <= len(record):
            raise PayloadError(
                f"kern_event_msg: total_size {total} does not fit the {len(record)}-byte record"
            )
        return cls(
            vendor, kev_class, subclass, code, record[_KERN_EVENT_MSG.size : total], event_id
        )

    @classmethod
    def decode(cls, payload: bytes) -> KernelEvent:
        """An EVENT KEV frame's data (after its u16 kind)."""
        if len(payload) < _HEADER.size:
            raise PayloadError(
                f"kernel event: {len(payload)} bytes, at least {_HEADER.size} expected"
            )
        vendor, kev_class, subclass, code = _HEADER.unpack_from(payload)
        return cls(vendor, kev_class, subclass, code, payload[_HEADER.size :])

    @property
    def name(self) -> str:
        """KEV_DL_LINK_ON, or the numbers when the event is not Apple's."""
        if self.vendor == KEV_VENDOR_APPLE:
            known = _APPLE_EVENTS.get((self.kev_class, self.subclass))
            if known and 1 <= self.code <= len(known[1]):
                return known[0] + known[1][self.code - 1]
        return f"vendor {self.vendor} class {self.kev_class} subclass {self.subclass} " + (
            f"code {self.code}"
        )

    @property
    def interface(self) -> str | None:
        """en0 for the network events, whose data starts with net_event_data."""
        if self.vendor != KEV_VENDOR_APPLE or self.kev_class != KEV_NETWORK_CLASS:
            return None
        if len(self.data) < _NET_EVENT_DATA.size:
            return None
        _family, unit, raw = _NET_EVENT_DATA.unpack_from(self.data)
        name = raw.split(b"\0", 1)[0].decode("ascii", "replace")
        return f"{name}{unit}"

    def __str__(self) -> str:
        where = self.interface
        return f"{self.name} {where}" if where else self.name
