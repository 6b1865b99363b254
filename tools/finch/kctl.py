"""Talk to a kext's kernel control, and listen to kernel events, from the
host: the client side of <sys/kern_control.h> and <sys/kern_event.h>.

Finch has no user processes yet, so the host plays the client: each
socket here is a PF_SYSTEM socket in the guest, opened and driven over
the host link (the SYS_* requests of docs/hostlink.md), the same socket
a user program will open later.

    with GuestSession.open(rundir) as session:
        with KernelControl.connect(session, "com.example.echo") as ctl:
            ctl.send(b"hello")
            print(ctl.recv(timeout=1.0))
            ctl.setsockopt(1, 42)
            print(ctl.getsockopt_int(1))

The host acts as root; `privileged=False` opens the socket without
root's credential, and a control registered with CTL_FLAG_PRIVILEGED
then refuses the connection (EPERM).

A socket lives in the guest until closed, across host sessions: close it
(or use `with`).  The guest holds at most 16 of them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Protocol, Self

from finch.errors import FinchError
from finch.hostlink.messages import (
    SYS_STREAM,
    SYS_UNPRIVILEGED,
    Message,
    PayloadError,
    SysCloseRequest,
    SysConnectRequest,
    SysDataReply,
    SysGetoptRequest,
    SysIoctlRequest,
    SysOpenReply,
    SysOpenRequest,
    SysRecvReply,
    SysRecvRequest,
    SysSendReply,
    SysSendRequest,
    SysSetoptRequest,
    SysStatusReply,
    errno_name,
)
from finch.kevents import KEV_ANY, KernelEvent

# <sys/socket.h>, <sys/sys_domain.h>, <sys/kern_control.h>, <sys/kern_event.h>
AF_SYSTEM = 32
SYSPROTO_EVENT = 1
SYSPROTO_CONTROL = 2
AF_SYS_CONTROL = 2
MAX_KCTL_NAME = 96
MSG_TRUNC = 0x10
EAGAIN = 35

IOC_OUT = 0x40000000
IOC_IN = 0x80000000
_CTL_INFO = struct.Struct(f"<I{MAX_KCTL_NAME}s")  # struct ctl_info
_SOCKADDR_CTL = struct.Struct("<BBHII20x")  # struct sockaddr_ctl: 32 bytes
_KEV_REQUEST = struct.Struct("<III")  # struct kev_request


def _ioc(inout: int, group: str, num: int, length: int) -> int:
    return inout | ((length & 0x1FFF) << 16) | (ord(group) << 8) | num


CTLIOCGINFO = _ioc(IOC_IN | IOC_OUT, "N", 3, _CTL_INFO.size)
SIOCSKEVFILT = _ioc(IOC_IN, "e", 2, _KEV_REQUEST.size)
SIOCGKEVFILT = _ioc(IOC_OUT, "e", 3, _KEV_REQUEST.size)

RECV_MAX = 60 * 1024  # the most one receive asks for (a host-link payload holds 64 KiB)
WAIT_SLICE = 1.0  # seconds the guest waits in one SYS_RECV; longer waits repeat it
U32_MAX = 0xFFFFFFFF


class Caller(Protocol):
    """What sends the requests: a GuestSession or a HostLink."""

    def call(self, message: Message, timeout: float | None = None) -> Message: ...


class KctlError(FinchError):
    """A kernel-control or event-socket operation the guest refused, or an
    argument it would refuse.  `errno` is the guest's errno (0 for an
    argument the host refused before asking)."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.errno = errno


def check_name(name: str) -> bytes:
    """A control's name as struct ctl_info holds it (NUL-padded)."""
    if not isinstance(name, str):
        raise KctlError(f"a control name is text, not {type(name).__name__}")
    raw = name.encode("utf-8")
    if not raw:
        raise KctlError("the control name is empty: give the name the kext registered")
    if b"\0" in raw:
        raise KctlError(f"the control name {name!r} holds a NUL byte")
    if len(raw) >= MAX_KCTL_NAME:
        raise KctlError(
            f"the control name {name[:20]!r}... is {len(raw)} bytes; a kernel control name "
            f"is at most {MAX_KCTL_NAME - 1} (MAX_KCTL_NAME, with its NUL)"
        )
    return raw


def check_u32(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= U32_MAX:
        raise KctlError(f"{what} must be an integer from 0 to {U32_MAX}, not {value!r}")
    return value


def check_bytes(data: bytes, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise KctlError(f"{what} must be bytes, not {type(data).__name__} (encode text first)")
    data = bytes(data)
    if len(data) > RECV_MAX:
        raise KctlError(f"{what} of {len(data)} bytes is over the {RECV_MAX}-byte limit")
    return data


def check_timeout(timeout: float) -> float:
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout < 0:
        raise KctlError(f"the timeout must be a number of seconds, 0 or more, not {timeout!r}")
    return float(timeout)


def option_value(value: int | bytes) -> bytes:
    """A socket option's value: an int as the guest's 32-bit int, or bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(2**31) <= value < 2**31:
            raise KctlError(f"the option value {value} does not fit the guest's 32-bit int")
        return struct.pack("<i", value)
    return check_bytes(value, "the option value")  # type: ignore[arg-type]


def sockaddr_ctl(ctl_id: int, unit: int = 0) -> bytes:
    """struct sockaddr_ctl for control ctl_id, unit (0: the lowest free)."""
    return _SOCKADDR_CTL.pack(
        _SOCKADDR_CTL.size,
        AF_SYSTEM,
        AF_SYS_CONTROL,
        check_u32(ctl_id, "the control id"),
        check_u32(unit, "the unit"),
    )


def _refused(what: str, status: int, hint: str = "") -> KctlError:
    return KctlError(f"{what}: the guest said {errno_name(status)}{hint}", status)


class SystemSocket:
    """A PF_SYSTEM socket in the guest, named by its handle."""

    PROTOCOL = 0
    KIND = "PF_SYSTEM socket"

    def __init__(self, caller: Caller, handle: int) -> None:
        self.caller = caller
        self.handle = handle

    @classmethod
    def _open(cls, caller: Caller, privileged: bool = True, stream: bool = False) -> int:
        flags = (0 if privileged else SYS_UNPRIVILEGED) | (SYS_STREAM if stream else 0)
        reply = caller.call(SysOpenRequest(cls.PROTOCOL, flags))
        assert isinstance(reply, SysOpenReply)
        if reply.status != 0:
            raise _refused(
                f"cannot open a {cls.KIND} in the guest",
                reply.status,
                " (it holds 16 host sockets at most: close some, or reboot it)"
                if reply.status == 23
                else "",
            )
        return reply.handle

    def _call(self, message: Message) -> Message:
        return self.caller.call(message)

    def ioctl(self, command: int, argument: bytes = b"") -> bytes:
        reply = self._call(SysIoctlRequest(self.handle, command, argument))
        assert isinstance(reply, SysDataReply)
        if reply.status != 0:
            raise _refused(f"ioctl {command:#010x} on {self.KIND} {self.handle}", reply.status)
        return reply.data

    def recv_record(self, max_bytes: int = RECV_MAX, timeout: float = 0.0) -> bytes | None:
        """One record (or stream bytes), waiting up to `timeout` seconds;
        None if nothing came.  KctlError if the record was over max_bytes
        (its rest is lost)."""
        check_u32(max_bytes, "max_bytes")
        if not 0 < max_bytes <= RECV_MAX:
            raise KctlError(f"max_bytes must be from 1 to {RECV_MAX}, not {max_bytes}")
        left = check_timeout(timeout)
        while True:
            wait = min(left, WAIT_SLICE)
            reply = self._call(SysRecvRequest(self.handle, max_bytes, int(wait * 1000)))
            assert isinstance(reply, SysRecvReply)
            if reply.status == 0:
                if reply.flags & MSG_TRUNC:
                    raise KctlError(
                        f"a record on {self.KIND} {self.handle} was longer than {max_bytes} "
                        "bytes: its rest was dropped; receive with a larger max_bytes"
                    )
                return reply.data
            if reply.status != EAGAIN:
                raise _refused(f"receive on {self.KIND} {self.handle}", reply.status)
            left -= wait
            if left <= 0:
                return None

    def close(self) -> None:
        reply = self._call(SysCloseRequest(self.handle))
        assert isinstance(reply, SysStatusReply)
        if reply.status != 0:
            raise _refused(f"close {self.KIND} {self.handle}", reply.status)

    def __enter__(self) -> SystemSocket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def close_all(caller: Caller) -> None:
    """Close every PF_SYSTEM socket the host has open in the guest: those
    a tool that died left behind (the guest's `hostsock` lists them),
    whose connections keep their controls from being deregistered."""
    reply = caller.call(SysCloseRequest(0))
    assert isinstance(reply, SysStatusReply)
    if reply.status != 0:
        raise _refused("close every host socket", reply.status)


def lookup(caller: Caller, name: str) -> int:
    """The id of the control registered as `name` (CTLIOCGINFO)."""
    raw = check_name(name)
    with ControlSocket(caller, ControlSocket._open(caller)) as sock:
        return sock.info(raw)


class ControlSocket(SystemSocket):
    """A SYSPROTO_CONTROL socket, before or after it connects."""

    PROTOCOL = SYSPROTO_CONTROL
    KIND = "kernel control socket"

    def info(self, raw_name: bytes) -> int:
        try:
            out = self.ioctl(CTLIOCGINFO, _CTL_INFO.pack(0, raw_name))
        except KctlError as e:
            if e.errno == 2:  # ENOENT
                shown = raw_name.decode("utf-8", "replace")
                raise KctlError(
                    f"no kernel control is registered as {shown!r}: load the kext that "
                    "registers it (`kctl` on the guest's monitor lists those registered)",
                    e.errno,
                ) from None
            raise
        try:
            (ctl_id, _name) = _CTL_INFO.unpack(out)
        except struct.error:
            raise PayloadError(f"CTLIOCGINFO answered {len(out)} bytes") from None
        return int(ctl_id)


@dataclass
class KernelControl:
    """A connected client of a kext's control."""

    socket: ControlSocket
    name: str
    ctl_id: int
    unit: int  # the unit asked for (0: the guest chose one)

    @classmethod
    def connect(
        cls,
        caller: Caller,
        name: str,
        unit: int = 0,
        *,
        privileged: bool = True,
        stream: bool = False,
    ) -> KernelControl:
        """Look the control up by name and connect to `unit` (0: the
        lowest free; a control registered with CTL_FLAG_REG_ID_UNIT wants
        its own unit).  privileged=False connects without root's
        credential; stream=True with a SOCK_STREAM socket, which a control
        registered with CTL_FLAG_REG_SOCK_STREAM requires."""
        raw = check_name(name)
        check_u32(unit, "the unit")
        sock = ControlSocket(caller, ControlSocket._open(caller, privileged, stream))
        try:
            ctl_id = sock.info(raw)
            reply = sock._call(SysConnectRequest(sock.handle, sockaddr_ctl(ctl_id, unit)))
            assert isinstance(reply, SysStatusReply)
            if reply.status != 0:
                hint = {
                    1: " (the control is CTL_FLAG_PRIVILEGED and this client is not root)",
                    2: f" (it has no unit {unit}: a fixed-unit control wants its own)",
                    16: f" (unit {unit} already has a client)",
                    41: " (the control wants the other socket type: "
                    + ("SOCK_DGRAM" if stream else "SOCK_STREAM, stream=True")
                    + ")",
                }.get(reply.status, " (its ctl_connect refused)")
                raise _refused(f"connect to kernel control {name!r}", reply.status, hint)
        except BaseException:
            sock.close()
            raise
        return cls(sock, name, ctl_id, unit)

    def send(self, data: bytes) -> int:
        """Send one record to the kext's ctl_send; returns the bytes sent."""
        data = check_bytes(data, "the data")
        reply = self.socket._call(SysSendRequest(self.socket.handle, 0, data))
        assert isinstance(reply, SysSendReply)
        if reply.status != 0:
            raise _refused(f"send to kernel control {self.name!r}", reply.status)
        return reply.sent

    def recv(self, max_bytes: int = RECV_MAX, timeout: float = 0.0) -> bytes | None:
        """The next record the kext enqueued, waiting up to `timeout`
        seconds; None if none came."""
        return self.socket.recv_record(max_bytes, timeout)

    def setsockopt(self, option: int, value: int | bytes) -> None:
        """setsockopt(SYSPROTO_CONTROL, option): the kext's ctl_setopt."""
        check_u32(option, "the option")
        reply = self.socket._call(
            SysSetoptRequest(self.socket.handle, SYSPROTO_CONTROL, option, option_value(value))
        )
        assert isinstance(reply, SysStatusReply)
        if reply.status != 0:
            raise _refused(f"setsockopt {option} on kernel control {self.name!r}", reply.status)

    def getsockopt(self, option: int, max_bytes: int = 4) -> bytes:
        """getsockopt(SYSPROTO_CONTROL, option): what the kext's ctl_getopt
        wrote, at most max_bytes."""
        check_u32(option, "the option")
        check_u32(max_bytes, "max_bytes")
        if max_bytes > RECV_MAX:
            raise KctlError(f"max_bytes must be at most {RECV_MAX}, not {max_bytes}")
        reply = self.socket._call(
            SysGetoptRequest(self.socket.handle, SYSPROTO_CONTROL, option, max_bytes)
        )
        assert isinstance(reply, SysDataReply)
        if reply.status != 0:
            raise _refused(f"getsockopt {option} on kernel control {self.name!r}", reply.status)
        return reply.data

    def getsockopt_int(self, option: int) -> int:
        data = self.getsockopt(option, 4)
        if len(data) != 4:
            raise KctlError(f"option {option} of {self.name!r} is {len(data)} bytes, not an int")
        return int(struct.unpack("<i", data)[0])

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> KernelControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class ControlClient:
    """A typed client of one kext's control, for the host commands of the
    sample kexts (finch firewall, tcplog, tunpeer): a KernelControl under
    the kext's protocol.  Subclasses name their control in NAME and their
    kext in KEXT (for the message when a record's size is wrong)."""

    control: KernelControl

    NAME: ClassVar[str]
    KEXT: ClassVar[str]

    @classmethod
    def connect(cls, caller: Caller, name: str | None = None) -> Self:
        return cls(KernelControl.connect(caller, name or cls.NAME))

    def wrong_size(self, option: str, got: int, size: int) -> KctlError:
        """The refusal of an answer that is not whole records: a kext
        built from another tree's header."""
        return KctlError(
            f"{option} answered {got} bytes, not a multiple of {size}: is the loaded "
            f"{self.KEXT} kext built from this tree's kexts/{self.KEXT}/{self.KEXT}.h?"
        )

    def close(self) -> None:
        self.control.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class EventFilter:
    """struct kev_request: KEV_ANY (0) in a field matches anything, and
    makes the fields after it match anything too."""

    vendor: int = KEV_ANY
    kev_class: int = KEV_ANY
    subclass: int = KEV_ANY

    def pack(self) -> bytes:
        return _KEV_REQUEST.pack(
            check_u32(self.vendor, "the vendor code"),
            check_u32(self.kev_class, "the event class"),
            check_u32(self.subclass, "the event subclass"),
        )


class EventSocket(SystemSocket):
    """A SYSPROTO_EVENT socket: the kernel events its filter lets through."""

    PROTOCOL = SYSPROTO_EVENT
    KIND = "kernel event socket"

    @classmethod
    def open(cls, caller: Caller, event_filter: EventFilter = EventFilter()) -> EventSocket:
        """A new event socket hearing what `event_filter` lets through
        (by default: every event)."""
        packed = event_filter.pack()
        sock = cls(caller, cls._open(caller))
        try:
            sock.ioctl(SIOCSKEVFILT, packed)
        except BaseException:
            sock.close()
            raise
        return sock

    def filter(self) -> EventFilter:
        """The filter in force (SIOCGKEVFILT)."""
        vendor, kev_class, subclass = _KEV_REQUEST.unpack(self.ioctl(SIOCGKEVFILT))
        return EventFilter(vendor, kev_class, subclass)

    def next(self, timeout: float = 0.0) -> KernelEvent | None:
        """The next event, waiting up to `timeout` seconds; None if none came."""
        record = self.recv_record(RECV_MAX, timeout)
        return KernelEvent.from_kern_event_msg(record) if record is not None else None

    def events(self, timeout: float) -> Iterator[KernelEvent]:
        """Events as they come, until `timeout` seconds pass with none."""
        while (event := self.next(timeout)) is not None:
            yield event
