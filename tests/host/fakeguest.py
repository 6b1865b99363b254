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
  KMOD_UNLOAD, KMOD_FREE; HELLO frees the blocks not loaded.
- Start and stop routines that run long, as kern/kmod.c reports them:
  a kext named in start_takes (stop_takes) has its KMOD_LOAD (KMOD_UNLOAD)
  answered EINPROGRESS, as if the kernel had waited WAIT_MS for it, and
  is listed as starting (stopping) until that many seconds have passed;
  KMOD_UNLOAD of it meanwhile is refused with EAGAIN.

Tests steer it: lose(request) -> True drops the reply to that request
(every copy), damage(request) -> True flips a byte of it, on_frame(frame)
runs for every good frame received, on_request(request) before it acts
(reboot() from there reboots instead of answering); `acted` lists the
requests it acted on, `received` everything its decoder found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import plistlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from finch.build import Tree
from finch.hostlink.codec import REPLY, DecodeError, Frame, FrameDecoder, MsgType, encode
from finch.hostlink.messages import (
    EVENT_READY,
    KERNEL_READY,
    KMOD_KERNEL_COMPONENT,
    KMOD_RUNNING,
    KMOD_STARTING,
    KMOD_STOPPING,
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
from finch.kext.build import build_kext

BUILD_ID = "0123456789abcdef"
EIO, EINVAL, EAGAIN, EINPROGRESS, ENOTCONN = 5, 22, 35, 36, 57
BASE = 0xC010_0000
WAIT_MS = 2000  # how long the kernel waits for a start or stop routine
ROUTINE_THREAD = 9  # the thread id the fake's routines run in

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
        self.start_takes: dict[str, float] = {}  # bundle id -> seconds its start runs
        self.stop_takes: dict[str, float] = {}  # bundle id -> seconds its stop runs
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
        self.busy: dict[int, tuple[float, float]] = {}  # kmod id -> routine began, ends
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
            return KmodListReply(tuple(self._listed()))
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
            return self._unload(KmodUnloadRequest.decode(request.payload).kmod_id)
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
        if name in self.start_takes:
            self._run_routine(entry, self.start_takes[name])
            self.kmods.append(dataclasses.replace(entry, state=KMOD_STARTING))
            return KmodLoadReply(EINPROGRESS, 0, kmod_id, "", WAIT_MS)
        self.kmods.append(entry)
        return KmodLoadReply(0, 0, kmod_id)

    def _run_routine(self, entry: KmodEntry, seconds: float) -> None:
        """entry's routine runs `seconds` in all, WAIT_MS of them before
        the reply that says it still runs."""
        now = time.monotonic()
        self.busy[entry.kmod_id] = (now - WAIT_MS / 1000, now + seconds - WAIT_MS / 1000)

    def _listed(self) -> list[KmodEntry]:
        """The table now: a routine whose time is up has returned."""
        now = time.monotonic()
        listed = []
        for k in self.kmods:
            began, ends = self.busy.get(k.kmod_id, (now, now))
            if now >= ends:
                self.busy.pop(k.kmod_id, None)
                if k.state == KMOD_STOPPING:
                    continue  # stop returned: unloaded
                k = dataclasses.replace(k, state=KMOD_RUNNING, reason="", busy_ms=0)
            else:
                routine = "start" if k.state == KMOD_STARTING else "stop"
                reason = (
                    f"its {routine} routine has run for {now - began:.1f} s "
                    f"(thread {ROUTINE_THREAD} in `ps`)"
                )
                k = dataclasses.replace(k, reason=reason, busy_ms=int((now - began) * 1000))
            listed.append(k)
        self.kmods = listed
        return listed

    def _unload(self, kmod_id: int) -> KmodUnloadReply:
        kmod = next((k for k in self._listed() if k.kmod_id == kmod_id), None)
        if kmod is None:
            return KmodUnloadReply(2, 0, f"no kext with id {kmod_id} is loaded")
        if kmod.state in (KMOD_STARTING, KMOD_STOPPING):
            state, then = (
                ("starting", "It cannot be unloaded before its start routine returns")
                if kmod.state == KMOD_STARTING
                else ("stopping", "The kernel finishes unloading it when its stop routine returns")
            )
            return KmodUnloadReply(
                EAGAIN,
                0,
                f"{kmod.name} (id {kmod_id}) is still {state}: {kmod.reason}.  {then}: wait "
                "(kextunload -w waits for it), or look at its thread with `ps`",
            )
        if kmod.name in self.stop_takes:
            self._run_routine(kmod, self.stop_takes[kmod.name])
            self.kmods = [
                dataclasses.replace(k, state=KMOD_STOPPING) if k.kmod_id == kmod_id else k
                for k in self.kmods
            ]
            return KmodUnloadReply(EINPROGRESS, 0, "", WAIT_MS)
        self.kmods = [k for k in self.kmods if k.kmod_id != kmod_id]
        return KmodUnloadReply(0, 0)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()


def make_rundir(rundir: Path) -> Path:
    """Turn the (short-pathed) folder `rundir` into a run directory whose
    machine.json names a live pid (ours), a kernel ELF of the fake guest's
    build and a host link socket, rundir/com2, for a FakeGuest to serve."""
    source = rundir / "kernel.c"
    source.write_text(f'const char finch_build_id[] = "{BUILD_ID}";\n')
    subprocess.run(["gcc", "-m32", "-c", str(source), "-o", str(rundir / "finch.elf")],
                   check=True)  # fmt: skip
    (rundir / "console.log").write_text("")
    info = {
        "pid": os.getpid(),
        "qmp_socket": str(rundir / "qmp.sock"),
        "kernel": str(rundir / "finch.elf"),
        "console_log": str(rundir / "console.log"),
        "qemu_log": str(rundir / "qemu.log"),
        "serial2": str(rundir / "com2"),
        "argv": [],
        "started": "2026-01-01T00:00:00Z",
    }
    (rundir / "machine.json").write_text(json.dumps(info))
    return rundir


HELLO_C = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
kern_return_t hello_start(kmod_info_t *ki, void *data);
kern_return_t hello_stop(kmod_info_t *ki, void *data);
kern_return_t hello_start(kmod_info_t *ki, void *data) { return KERN_SUCCESS; }
kern_return_t hello_stop(kmod_info_t *ki, void *data) { return KERN_SUCCESS; }
"""


def build_hello(tmp: Path, info: dict[str, object]) -> Path:
    """The bundle of a kext with Info.plist `info` that links against
    nothing but kmod_info, built under `tmp`."""
    src = tmp / "src" / "hello"
    src.mkdir(parents=True)
    (src / "Info.plist").write_bytes(plistlib.dumps(info))
    (src / "hello.c").write_text(HELLO_C)
    repo = Path(__file__).resolve().parents[2]
    return build_kext(src, tree=Tree(repo), out_dir=tmp / "kexts", echo=lambda s: None).bundle.path
