"""A stand-in for the guest kernel's end of the host link, for host tests:
a thread serving a unix socket that follows docs/hostlink.md as
kernel/kern/hostlink.c does.

- Its decoder lives as long as the guest, across connections, and ends a
  partial frame's wait at a whole HELLO (FrameDecoder with
  resync_type=HELLO), or after ABANDON seconds of silence.
- It reports damage with one ERROR EIO (seq 0) until the next good frame,
  answers a copy of the last request from memory, refuses a request
  before any HELLO since its "boot" with ENOTCONN, and says READY at boot.
- A tiny kmod table: KMOD_LIST, KMOD_ALLOC, KMOD_WRITE, KMOD_LOAD (it
  reads the kext's name and version from the kmod_info in the image),
  KMOD_FREE; HELLO frees the blocks not loaded.

Tests steer it: lose(request) -> True drops the reply to that request
(every copy), damage(request) -> True flips a byte of it, on_frame(frame)
runs for every good frame received, on_request(request) before it acts
(reboot() from there reboots instead of answering); `acted` lists the
requests it acted on, `received` everything its decoder found.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from finch.hostlink.codec import REPLY, DecodeError, Frame, FrameDecoder, MsgType, encode
from finch.hostlink.messages import (
    EVENT_READY,
    KERNEL_READY,
    KMOD_KERNEL_COMPONENT,
    NO_PHYS,
    ErrorReply,
    Event,
    HelloReply,
    KmodAllocReply,
    KmodAllocRequest,
    KmodEntry,
    KmodFreeRequest,
    KmodListReply,
    KmodLoadReply,
    KmodLoadRequest,
    KmodUnloadReply,
    KmodUnloadRequest,
    KmodWriteRequest,
    Message,
    StatusReply,
)

BUILD_ID = "0123456789abcdef"
EIO, EINVAL, ENOTCONN = 5, 22, 57
BASE = 0xC010_0000

KERNEL_KMODS = (
    KmodEntry(0, 1, 0, 0, 0, 0, KMOD_KERNEL_COMPONENT, (), "com.apple.kernel", "8.0.0"),
    KmodEntry(1, 1, 0, 0, 0, 0, KMOD_KERNEL_COMPONENT, (), "com.apple.kpi.libkern", "8.0.0"),
)

Check = Callable[[Frame], bool]


class FakeGuest:
    def __init__(
        self, path: Path, *, boot_id: str = "b0000000000000001", abandon: float = 1.0
    ) -> None:
        self.path = path
        self.boot_id = boot_id
        self.abandon = abandon  # seconds of silence that end a partial frame
        self.decoder = FrameDecoder(resync_type=MsgType.HELLO)
        self.lose: Check = lambda request: False
        self.damage: Check = lambda request: False
        self.on_frame: Callable[[Frame], None] = lambda frame: None
        self.on_request: Callable[[Frame], None] = lambda request: None
        self.acted: list[Frame] = []
        self.received: list[Frame | DecodeError] = []
        self.silent = False  # hears, answers nothing
        self._conn: socket.socket | None = None
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(4)
        self._boot()
        threading.Thread(target=self._serve, daemon=True).start()

    def _boot(self) -> None:
        self.helloed = False
        self.eio_sent = False
        self.last: tuple[int, int, bytes] | None = None
        self.last_reply = b""
        self.kmods = list(KERNEL_KMODS)
        self.blocks: dict[int, bytearray] = {}
        self.next_block = BASE
        self.rebooted = False

    def reboot(self, boot_id: str, *, say_ready: bool = True) -> None:
        """Boot again (from on_request: instead of answering); say_ready
        False is a READY the host does not see."""
        self.boot_id = boot_id
        self._boot()
        self.rebooted = True
        if say_ready:
            self._send(encode(MsgType.EVENT, 0, Event(EVENT_READY).encode()))

    def send(self, data: bytes) -> None:
        """Bytes to the connected host, unasked (from a hook)."""
        self._send(data)

    # -- the link thread --------------------------------------------------

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._conn = conn
            with conn:
                self._read(conn)
            self._conn = None

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(self.abandon)
        while True:
            try:
                data = conn.recv(65536)
            except TimeoutError:
                self._handle(self.decoder.drop_partial() if self.decoder.pending else [])
                continue
            except OSError:
                return
            if not data:
                return
            self._handle(self.decoder.feed(data))

    def _handle(self, items: list[Frame | DecodeError]) -> None:
        for item in items:
            self.received.append(item)
            if isinstance(item, Frame):
                self._input(item)
            elif item.kind != "resync" and not self.eio_sent:
                self.eio_sent = True
                error = ErrorReply(EIO, 0, "dropped a damaged frame")
                self._send(encode(MsgType.ERROR, 0, error.encode()))

    def _input(self, request: Frame) -> None:
        self.eio_sent = False
        self.on_frame(request)
        if self.silent:
            return
        if request.type != MsgType.HELLO and not self.helloed:
            error = ErrorReply(ENOTCONN, request.type, "the kernel has booted since")
            self._send(encode(MsgType.ERROR, request.seq, error.encode()))
            return
        key = (request.type, request.seq, request.payload)
        if request.type == MsgType.HELLO or key != self.last:
            self.rebooted = False
            self.on_request(request)
            if self.rebooted:  # instead of answering
                return
            self.acted.append(request)
            self.last = key
            self.last_reply = encode(request.type | REPLY, request.seq, self._act(request))
        if self.lose(request):
            return
        reply = bytearray(self.last_reply)
        if self.damage(request):
            reply[-1] ^= 0xFF
        self._send(bytes(reply))

    def _send(self, data: bytes) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.sendall(data)

    # -- the requests -----------------------------------------------------

    def _act(self, request: Frame) -> bytes:
        return self._answer(request).encode()

    def _answer(self, request: Frame) -> Message:
        if request.type == MsgType.HELLO:
            self.helloed = True
            loaded = {k.address for k in self.kmods}
            self.blocks = {a: b for a, b in self.blocks.items() if a in loaded}
            return HelloReply(1, KERNEL_READY, 65536, BUILD_ID, "0.1.0", self.boot_id)
        if request.type == MsgType.KMOD_LIST:
            return KmodListReply(tuple(self.kmods))
        if request.type == MsgType.KMOD_ALLOC:
            size = KmodAllocRequest.decode(request.payload).size
            address, self.next_block = self.next_block, self.next_block + 0x10000
            self.blocks[address] = bytearray(size)
            return KmodAllocReply(0, address, NO_PHYS)
        if request.type == MsgType.KMOD_WRITE:
            write = KmodWriteRequest.decode(request.payload)
            block = next((a for a in self.blocks if a <= write.address < a + 0x10000), None)
            if block is None:
                return StatusReply(EINVAL)
            at = write.address - block
            self.blocks[block][at : at + len(write.data)] = write.data
            return StatusReply(0)
        if request.type == MsgType.KMOD_LOAD:
            return self._load(KmodLoadRequest.decode(request.payload))
        if request.type == MsgType.KMOD_UNLOAD:
            kmod_id = KmodUnloadRequest.decode(request.payload).kmod_id
            self.kmods = [k for k in self.kmods if k.kmod_id != kmod_id]
            return KmodUnloadReply(0, 0)
        if request.type == MsgType.KMOD_FREE:
            address = KmodFreeRequest.decode(request.payload).address
            return StatusReply(0 if self.blocks.pop(address, None) is not None else EINVAL)
        raise AssertionError(f"the fake guest does not know {request}")

    def _load(self, load: KmodLoadRequest) -> KmodLoadReply:
        image = self.blocks.get(load.address)
        if image is None:
            return KmodLoadReply(EINVAL, 0, 0, "no block from KMOD_ALLOC is waiting there")
        info = load.kmod_info - load.address
        name, version = (
            bytes(image[info + at : info + at + 64]).split(b"\0")[0].decode() for at in (12, 76)
        )
        kmod_id = max(k.kmod_id for k in self.kmods) + 1
        entry = KmodEntry(kmod_id, 0, load.address, load.size, load.size, load.image_crc, 0,
                          load.dependencies, name, version)  # fmt: skip
        self.kmods.append(entry)
        return KmodLoadReply(0, 0, kmod_id)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
