"""Host link payloads: one dataclass per message, encoded as little-endian
fixed fields followed by counted arrays and strings (docs/hostlink.md).

    u8/u16/u32/i32   little-endian integers
    str              u16 byte count, then that many UTF-8 bytes (no NUL)
    rest             everything to the end of the payload

Statuses are errno values from the guest's <sys/errno.h> (0 = success);
start and stop results are kern_return_t values.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from finch.hostlink.codec import MsgType

# HELLO flags
HELLO_EVENTS = 0x1  # send EVENT frames to this host

# HelloReply.state
KERNEL_BOOTING = 0
KERNEL_READY = 1

# KmodAllocReply.phys when the block is not physically contiguous
NO_PHYS = 0xFFFFFFFF

# KmodEntry.flags
KMOD_KERNEL_COMPONENT = 0x1  # the kernel or a KPI pseudo-bundle: never unloaded

# KmodEntry.state
KMOD_RUNNING = 0  # started; its stop routine has not run
KMOD_PINNED = 1  # stopped (or start failed) but kept: something still points into it
KMOD_PINNED_FOREVER = 2  # stopped and kept; nothing will ever release it: until reboot
KMOD_STARTING = 3  # loaded; its start routine has not returned yet
KMOD_STOPPING = 4  # its stop routine has not returned yet

# Event.kind
EVENT_READY = 1  # the link is up: the guest now hears what the host sends
EVENT_LOG = 2  # one console line: text
EVENT_KEV = 3  # a kernel event: u32 vendor code, class, subclass, event code, then data
EVENT_PANIC = 4  # the panic report: text

# errno values the link uses (Darwin's, as in kernel/include/sys/errno.h)
ERRNO_NAMES = {
    0: "success",
    1: "EPERM",
    2: "ENOENT",
    5: "EIO",
    9: "EBADF",
    12: "ENOMEM",
    16: "EBUSY",
    17: "EEXIST",
    22: "EINVAL",
    23: "ENFILE",
    28: "ENOSPC",
    35: "EAGAIN",
    36: "EINPROGRESS",
    40: "EMSGSIZE",
    41: "EPROTOTYPE",
    42: "ENOPROTOOPT",
    43: "EPROTONOSUPPORT",
    45: "ENOTSUP",
    55: "ENOBUFS",
    56: "EISCONN",
    57: "ENOTCONN",
    78: "ENOSYS",
    102: "EOPNOTSUPP",
}
KERN_RETURN_NAMES = {
    0: "KERN_SUCCESS",
    1: "KERN_INVALID_ADDRESS",
    2: "KERN_PROTECTION_FAILURE",
    3: "KERN_NO_SPACE",
    4: "KERN_INVALID_ARGUMENT",
    5: "KERN_FAILURE",
    6: "KERN_RESOURCE_SHORTAGE",
    7: "KERN_NOT_RECEIVER",
    8: "KERN_NO_ACCESS",
    14: "KERN_ABORTED",
    49: "KERN_OPERATION_TIMED_OUT",
}


def errno_name(value: int) -> str:
    return ERRNO_NAMES.get(value, f"errno {value}")


def kern_return_name(value: int) -> str:
    return KERN_RETURN_NAMES.get(value, f"kern_return_t {value}")


class PayloadError(ValueError):
    """A payload too short, too long or otherwise not what its type says."""


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def pack(self, fmt: str, *values: int) -> _Writer:
        self.parts.append(struct.pack("<" + fmt, *values))
        return self

    def string(self, text: str) -> _Writer:
        data = text.encode("utf-8")
        if len(data) > 0xFFFF:
            raise PayloadError(f"string of {len(data)} bytes does not fit a u16 count")
        self.parts.append(struct.pack("<H", len(data)) + data)
        return self

    def raw(self, data: bytes) -> _Writer:
        self.parts.append(bytes(data))
        return self

    def bytes(self) -> bytes:
        return b"".join(self.parts)


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def unpack(self, fmt: str) -> tuple[int, ...]:
        s = struct.Struct("<" + fmt)
        if self.pos + s.size > len(self.data):
            raise PayloadError(
                f"{self.what}: payload of {len(self.data)} bytes ends at byte {self.pos}, "
                f"{s.size} more expected"
            )
        values = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return values

    def string(self) -> str:
        (n,) = self.unpack("H")
        if self.pos + n > len(self.data):
            raise PayloadError(f"{self.what}: a {n}-byte string runs past the payload")
        text = self.data[self.pos : self.pos + n].decode("utf-8", "replace")
        self.pos += n
        return text

    def rest(self) -> bytes:
        data = self.data[self.pos :]
        self.pos = len(self.data)
        return data

    def end(self) -> None:
        if self.pos != len(self.data):
            raise PayloadError(
                f"{self.what}: {len(self.data) - self.pos} unexpected bytes after the fields"
            )


M = TypeVar("M", bound="Message")


class Message:
    """Base of every payload: TYPE is the frame type it travels in."""

    TYPE: ClassVar[MsgType]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls: type[M], payload: bytes) -> M:
        raise NotImplementedError


@dataclass(frozen=True)
class HelloRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.HELLO
    flags: int = 0

    def encode(self) -> bytes:
        return _Writer().pack("I", self.flags).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> HelloRequest:
        r = _Reader(payload, "HELLO")
        (flags,) = r.unpack("I")
        r.end()
        return cls(flags)


@dataclass(frozen=True)
class HelloReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.HELLO_REPLY
    protocol: int
    state: int  # KERNEL_BOOTING or KERNEL_READY
    max_payload: int  # the largest payload the guest accepts
    build_id: str
    kernel_version: str
    boot_id: str = ""  # new at every boot of the guest

    @property
    def ready(self) -> bool:
        return self.state == KERNEL_READY

    def encode(self) -> bytes:
        return (
            _Writer()
            .pack("BBHI", self.protocol, self.state, 0, self.max_payload)
            .string(self.build_id)
            .string(self.kernel_version)
            .string(self.boot_id)
            .bytes()
        )

    @classmethod
    def decode(cls, payload: bytes) -> HelloReply:
        r = _Reader(payload, "HELLO reply")
        protocol, state, _reserved, max_payload = r.unpack("BBHI")
        build_id, version, boot_id = r.string(), r.string(), r.string()
        r.end()
        return cls(protocol, state, max_payload, build_id, version, boot_id)


@dataclass(frozen=True)
class KmodAllocRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_ALLOC
    size: int

    def encode(self) -> bytes:
        return _Writer().pack("I", self.size).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodAllocRequest:
        r = _Reader(payload, "KMOD_ALLOC")
        (size,) = r.unpack("I")
        r.end()
        return cls(size)


@dataclass(frozen=True)
class KmodAllocReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_ALLOC_REPLY
    status: int
    address: int  # kernel virtual address, page-aligned
    phys: int = NO_PHYS  # guest-physical address if contiguous, else NO_PHYS

    def encode(self) -> bytes:
        return _Writer().pack("iII", self.status, self.address, self.phys).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodAllocReply:
        r = _Reader(payload, "KMOD_ALLOC reply")
        status, address, phys = r.unpack("iII")
        r.end()
        return cls(status, address, phys)


@dataclass(frozen=True)
class KmodWriteRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_WRITE
    address: int
    data: bytes = field(repr=False)

    def encode(self) -> bytes:
        return _Writer().pack("I", self.address).raw(self.data).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodWriteRequest:
        r = _Reader(payload, "KMOD_WRITE")
        (address,) = r.unpack("I")
        return cls(address, r.rest())


@dataclass(frozen=True)
class KmodFreeRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_FREE
    address: int

    def encode(self) -> bytes:
        return _Writer().pack("I", self.address).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodFreeRequest:
        r = _Reader(payload, "KMOD_FREE")
        (address,) = r.unpack("I")
        r.end()
        return cls(address)


@dataclass(frozen=True)
class StatusReply(Message):
    """The reply to KMOD_WRITE and KMOD_FREE: just a status."""

    TYPE: ClassVar[MsgType] = MsgType.KMOD_WRITE_REPLY
    status: int

    def encode(self) -> bytes:
        return _Writer().pack("i", self.status).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> StatusReply:
        r = _Reader(payload, "status reply")
        (status,) = r.unpack("i")
        r.end()
        return cls(status)


@dataclass(frozen=True)
class KmodLoadRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_LOAD
    address: int  # where the image is (from KMOD_ALLOC)
    size: int  # image bytes
    kmod_info: int  # address of the kext's kmod_info inside the image
    image_crc: int  # zlib.crc32 of the image: the kernel checks it
    dependencies: tuple[int, ...] = ()  # kmod ids it links against, to retain
    compatible_version: str = ""  # OSBundleCompatibleVersion, "" if none

    def encode(self) -> bytes:
        w = _Writer().pack(
            "IIIIH",
            self.address,
            self.size,
            self.kmod_info,
            self.image_crc,
            len(self.dependencies),
        )
        for dep in self.dependencies:
            w.pack("I", dep)
        return w.string(self.compatible_version).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodLoadRequest:
        r = _Reader(payload, "KMOD_LOAD")
        address, size, kmod_info, crc, ndeps = r.unpack("IIIIH")
        deps = tuple(r.unpack("I")[0] for _ in range(ndeps))
        compatible = r.string()
        r.end()
        return cls(address, size, kmod_info, crc, deps, compatible)


@dataclass(frozen=True)
class KmodLoadReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_LOAD_REPLY
    # 0; EINPROGRESS: loaded, but its start routine has not returned yet;
    # or why the kernel refused (EEXIST: already loaded; EIO: start failed)
    status: int
    start_result: int  # what the start routine returned (kern_return_t)
    kmod_id: int  # the new kmod's id when status is 0 or EINPROGRESS
    message: str = ""  # the kernel's explanation of a refusal
    ran_ms: int = 0  # how long start ran (EINPROGRESS: has run so far)

    def encode(self) -> bytes:
        return (
            _Writer()
            .pack("iiII", self.status, self.start_result, self.kmod_id, self.ran_ms)
            .string(self.message)
            .bytes()
        )

    @classmethod
    def decode(cls, payload: bytes) -> KmodLoadReply:
        r = _Reader(payload, "KMOD_LOAD reply")
        status, start_result, kmod_id, ran_ms = r.unpack("iiII")
        message = r.string()
        r.end()
        return cls(status, start_result, kmod_id, message, ran_ms)


@dataclass(frozen=True)
class KmodUnloadRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_UNLOAD
    kmod_id: int

    def encode(self) -> bytes:
        return _Writer().pack("I", self.kmod_id).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodUnloadRequest:
        r = _Reader(payload, "KMOD_UNLOAD")
        (kmod_id,) = r.unpack("I")
        r.end()
        return cls(kmod_id)


@dataclass(frozen=True)
class KmodUnloadReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_UNLOAD_REPLY
    # 0; EIO: stop refused; EBUSY: depended on or still in use; ENOENT;
    # EAGAIN: its start or stop routine is running; EINPROGRESS: the stop
    # routine this request called has not returned yet
    status: int
    stop_result: int  # what the stop routine returned (kern_return_t)
    message: str = ""
    ran_ms: int = 0  # how long stop ran (EINPROGRESS: has run so far)

    def encode(self) -> bytes:
        return (
            _Writer()
            .pack("iiI", self.status, self.stop_result, self.ran_ms)
            .string(self.message)
            .bytes()
        )

    @classmethod
    def decode(cls, payload: bytes) -> KmodUnloadReply:
        r = _Reader(payload, "KMOD_UNLOAD reply")
        status, stop_result, ran_ms = r.unpack("iiI")
        message = r.string()
        r.end()
        return cls(status, stop_result, message, ran_ms)


@dataclass(frozen=True)
class KmodEntry:
    """One row of KMOD_LIST: a loaded kext or a kernel component."""

    kmod_id: int
    refs: int
    address: int
    size: int
    wired: int
    image_crc: int
    flags: int
    dependencies: tuple[int, ...]
    name: str
    version: str
    compatible_version: str = ""
    state: int = KMOD_RUNNING  # KMOD_RUNNING, KMOD_PINNED, ... KMOD_STOPPING
    reason: str = ""  # pinned: what still points into it; starting, stopping: for how long
    busy_ms: int = 0  # starting, stopping: how long its routine has run

    @property
    def kernel_component(self) -> bool:
        return bool(self.flags & KMOD_KERNEL_COMPONENT)


@dataclass(frozen=True)
class KmodListRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_LIST

    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, payload: bytes) -> KmodListRequest:
        _Reader(payload, "KMOD_LIST").end()
        return cls()


@dataclass(frozen=True)
class KmodListReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.KMOD_LIST_REPLY
    entries: tuple[KmodEntry, ...]

    def encode(self) -> bytes:
        w = _Writer().pack("H", len(self.entries))
        for e in self.entries:
            w.pack(
                "IIIIIIHH",
                e.kmod_id,
                e.refs,
                e.address,
                e.size,
                e.wired,
                e.image_crc,
                e.flags,
                len(e.dependencies),
            )
            for dep in e.dependencies:
                w.pack("I", dep)
            w.string(e.name).string(e.version).string(e.compatible_version)
            w.pack("HI", e.state, e.busy_ms).string(e.reason)
        return w.bytes()

    @classmethod
    def decode(cls, payload: bytes) -> KmodListReply:
        r = _Reader(payload, "KMOD_LIST reply")
        (count,) = r.unpack("H")
        entries = []
        for _ in range(count):
            kid, refs, address, size, wired, crc, flags, ndeps = r.unpack("IIIIIIHH")
            deps = tuple(r.unpack("I")[0] for _ in range(ndeps))
            name, version, compatible = r.string(), r.string(), r.string()
            state, busy_ms = r.unpack("HI")
            reason = r.string()
            entries.append(
                KmodEntry(
                    kid,
                    refs,
                    address,
                    size,
                    wired,
                    crc,
                    flags,
                    deps,
                    name,
                    version,
                    compatible,
                    state,
                    reason,
                    busy_ms,
                )
            )
        r.end()
        return cls(tuple(entries))


@dataclass(frozen=True)
class MonitorRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.MONITOR
    command: str

    def encode(self) -> bytes:
        return self.command.encode("utf-8")

    @classmethod
    def decode(cls, payload: bytes) -> MonitorRequest:
        return cls(payload.decode("utf-8", "replace"))


@dataclass(frozen=True)
class MonitorReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.MONITOR_REPLY
    status: int  # 0, or ENOENT for an unknown command, or the command's error
    text: str  # what the command printed

    def encode(self) -> bytes:
        return _Writer().pack("i", self.status).raw(self.text.encode("utf-8")).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> MonitorReply:
        r = _Reader(payload, "MONITOR reply")
        (status,) = r.unpack("i")
        return cls(status, r.rest().decode("utf-8", "replace"))


@dataclass(frozen=True)
class Event(Message):
    TYPE: ClassVar[MsgType] = MsgType.EVENT
    kind: int  # EVENT_READY, EVENT_LOG, EVENT_KEV, EVENT_PANIC
    data: bytes = b""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def encode(self) -> bytes:
        return _Writer().pack("H", self.kind).raw(self.data).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> Event:
        r = _Reader(payload, "EVENT")
        (kind,) = r.unpack("H")
        return cls(kind, r.rest())


@dataclass(frozen=True)
class ErrorReply(Message):
    """The guest could not act on a request: unknown type (ENOSYS), bad
    payload (EINVAL), too large (EMSGSIZE), or a corrupted frame (EIO, seq 0)."""

    TYPE: ClassVar[MsgType] = MsgType.ERROR
    status: int
    request_type: int
    message: str = ""

    def encode(self) -> bytes:
        return (
            _Writer()
            .pack("iBBH", self.status, self.request_type, 0, 0)
            .string(self.message)
            .bytes()
        )

    @classmethod
    def decode(cls, payload: bytes) -> ErrorReply:
        r = _Reader(payload, "ERROR")
        status, request_type, _r1, _r2 = r.unpack("iBBH")
        message = r.string()
        r.end()
        return cls(status, request_type, message)


# -- PF_SYSTEM sockets in the guest (docs/hostlink.md, section 6) ------------

# SysOpenRequest.flags
SYS_UNPRIVILEGED = 0x1  # the socket is not root's: privileged controls refuse it
SYS_STREAM = 0x2  # a SOCK_STREAM control socket (for CTL_FLAG_REG_SOCK_STREAM controls)


@dataclass(frozen=True)
class SysOpenRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_OPEN
    protocol: int  # SYSPROTO_EVENT (a SOCK_RAW socket) or SYSPROTO_CONTROL (SOCK_DGRAM)
    flags: int = 0  # SYS_UNPRIVILEGED, SYS_STREAM

    def encode(self) -> bytes:
        return _Writer().pack("II", self.protocol, self.flags).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysOpenRequest:
        r = _Reader(payload, "SYS_OPEN")
        protocol, flags = r.unpack("II")
        r.end()
        return cls(protocol, flags)


@dataclass(frozen=True)
class SysOpenReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_OPEN_REPLY
    status: int  # 0; ENFILE: the guest holds as many host sockets as it can
    handle: int  # names the socket in the other SYS_* requests

    def encode(self) -> bytes:
        return _Writer().pack("iI", self.status, self.handle).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysOpenReply:
        r = _Reader(payload, "SYS_OPEN reply")
        status, handle = r.unpack("iI")
        r.end()
        return cls(status, handle)


@dataclass(frozen=True)
class SysCloseRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_CLOSE
    handle: int

    def encode(self) -> bytes:
        return _Writer().pack("I", self.handle).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysCloseRequest:
        r = _Reader(payload, "SYS_CLOSE")
        (handle,) = r.unpack("I")
        r.end()
        return cls(handle)


@dataclass(frozen=True)
class SysStatusReply(Message):
    """The reply to SYS_CLOSE, SYS_CONNECT and SYS_SETOPT: a status."""

    TYPE: ClassVar[MsgType] = MsgType.SYS_CLOSE_REPLY
    status: int

    def encode(self) -> bytes:
        return _Writer().pack("i", self.status).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysStatusReply:
        r = _Reader(payload, "SYS_* status reply")
        (status,) = r.unpack("i")
        r.end()
        return cls(status)


@dataclass(frozen=True)
class SysIoctlRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_IOCTL
    handle: int
    command: int  # CTLIOCGINFO, SIOCSKEVFILT, ...
    argument: bytes = b""  # IOCPARM_LEN(command) bytes for a command that reads one

    def encode(self) -> bytes:
        return _Writer().pack("II", self.handle, self.command).raw(self.argument).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysIoctlRequest:
        r = _Reader(payload, "SYS_IOCTL")
        handle, command = r.unpack("II")
        return cls(handle, command, r.rest())


@dataclass(frozen=True)
class SysDataReply(Message):
    """The reply to SYS_IOCTL and SYS_GETOPT: a status, then the bytes."""

    TYPE: ClassVar[MsgType] = MsgType.SYS_IOCTL_REPLY
    status: int
    data: bytes = b""

    def encode(self) -> bytes:
        return _Writer().pack("i", self.status).raw(self.data).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysDataReply:
        r = _Reader(payload, "SYS_* data reply")
        (status,) = r.unpack("i")
        return cls(status, r.rest())


@dataclass(frozen=True)
class SysConnectRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_CONNECT
    handle: int
    address: bytes  # a socket address whose first byte (sa_len) is its size

    def encode(self) -> bytes:
        return _Writer().pack("I", self.handle).raw(self.address).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysConnectRequest:
        r = _Reader(payload, "SYS_CONNECT")
        (handle,) = r.unpack("I")
        return cls(handle, r.rest())


@dataclass(frozen=True)
class SysSendRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_SEND
    handle: int
    flags: int
    data: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        return _Writer().pack("II", self.handle, self.flags).raw(self.data).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysSendRequest:
        r = _Reader(payload, "SYS_SEND")
        handle, flags = r.unpack("II")
        return cls(handle, flags, r.rest())


@dataclass(frozen=True)
class SysSendReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_SEND_REPLY
    status: int
    sent: int

    def encode(self) -> bytes:
        return _Writer().pack("iI", self.status, self.sent).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysSendReply:
        r = _Reader(payload, "SYS_SEND reply")
        status, sent = r.unpack("iI")
        r.end()
        return cls(status, sent)


@dataclass(frozen=True)
class SysRecvRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_RECV
    handle: int
    max_bytes: int
    wait_ms: int = 0  # how long the guest waits for a record (it caps this at 2000)

    def encode(self) -> bytes:
        return _Writer().pack("III", self.handle, self.max_bytes, self.wait_ms).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysRecvRequest:
        r = _Reader(payload, "SYS_RECV")
        handle, max_bytes, wait_ms = r.unpack("III")
        r.end()
        return cls(handle, max_bytes, wait_ms)


@dataclass(frozen=True)
class SysRecvReply(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_RECV_REPLY
    status: int  # 0; EAGAIN: nothing came within wait_ms
    flags: int  # MSG_TRUNC when the rest of the record did not fit max_bytes
    data: bytes = b""

    def encode(self) -> bytes:
        return _Writer().pack("iI", self.status, self.flags).raw(self.data).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysRecvReply:
        r = _Reader(payload, "SYS_RECV reply")
        status, flags = r.unpack("iI")
        return cls(status, flags, r.rest())


@dataclass(frozen=True)
class SysSetoptRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_SETOPT
    handle: int
    level: int
    name: int
    value: bytes = b""

    def encode(self) -> bytes:
        return _Writer().pack("Iii", self.handle, self.level, self.name).raw(self.value).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysSetoptRequest:
        r = _Reader(payload, "SYS_SETOPT")
        handle, level, name = r.unpack("Iii")
        return cls(handle, level, name, r.rest())


@dataclass(frozen=True)
class SysGetoptRequest(Message):
    TYPE: ClassVar[MsgType] = MsgType.SYS_GETOPT
    handle: int
    level: int
    name: int
    max_bytes: int

    def encode(self) -> bytes:
        return _Writer().pack("IiiI", self.handle, self.level, self.name, self.max_bytes).bytes()

    @classmethod
    def decode(cls, payload: bytes) -> SysGetoptRequest:
        r = _Reader(payload, "SYS_GETOPT")
        handle, level, name, max_bytes = r.unpack("IiiI")
        r.end()
        return cls(handle, level, name, max_bytes)


# The reply message class for each request type.
REPLY_CLASSES: dict[MsgType, type[Message]] = {
    MsgType.HELLO: HelloReply,
    MsgType.KMOD_ALLOC: KmodAllocReply,
    MsgType.KMOD_WRITE: StatusReply,
    MsgType.KMOD_LOAD: KmodLoadReply,
    MsgType.KMOD_UNLOAD: KmodUnloadReply,
    MsgType.KMOD_LIST: KmodListReply,
    MsgType.KMOD_FREE: StatusReply,
    MsgType.MONITOR: MonitorReply,
    MsgType.SYS_OPEN: SysOpenReply,
    MsgType.SYS_CLOSE: SysStatusReply,
    MsgType.SYS_IOCTL: SysDataReply,
    MsgType.SYS_CONNECT: SysStatusReply,
    MsgType.SYS_SEND: SysSendReply,
    MsgType.SYS_RECV: SysRecvReply,
    MsgType.SYS_SETOPT: SysStatusReply,
    MsgType.SYS_GETOPT: SysDataReply,
}
