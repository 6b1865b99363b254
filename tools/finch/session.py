"""A host tool's session with the running guest.

kextload, kextstat and kextunload find the guest through its run directory
(machine.json, which `finch run` and the test fixtures write), connect to
its host link (COM2), say HELLO, and check that the guest runs the kernel
the host built: kexts are linked against that ELF's symbol addresses, so
linking against any other would make them call into the wrong code.

    with GuestSession.open(Path("build/run")) as session:
        for kext in session.list_kexts(): ...

The session also moves kext images in: straight into guest RAM when the
machine shares it with the host (os.pwrite at file offset == the block's
physical address), else in KMOD_WRITE pieces over COM2.  While it waits
for a reply it watches QEMU and the console log, so that a guest that
panicked or exited is reported at once.

It notices a rebooted guest: the HELLO reply's boot id is noted beside the
kext records (finch.kext.records), and when it changes -- between two
tools, or under this one (GuestRebooted) -- the records of the kexts
loaded before the reboot are dropped, and `notes` says so for the tool
to print.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import termios
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from finch.elf32 import Elf32Error, defined_globals, has_symbol_table, symbol_string
from finch.errors import FinchError
from finch.hostlink.client import (
    DEFAULT_TIMEOUT,
    MONITOR_TIMEOUT,
    GuestGone,
    GuestRebooted,
    HostLink,
    HostLinkError,
    LinkTimeout,
    Tap,
)
from finch.hostlink.codec import HELLO_SIZE, hello_inside
from finch.hostlink.messages import (
    NO_PHYS,
    KmodAllocReply,
    KmodAllocRequest,
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
    StatusReply,
    errno_name,
)
from finch.kext.loaded import LoadedKext
from finch.kext.records import KextRecords
from finch.panic import PANIC_START, symbolize_command
from finch.runinfo import FILE_NAME, RunInfo

READY_DEADLINE = 10.0  # for a guest still booting when the tool starts
PROC_NET_UNIX = Path("/proc/net/unix")
TRUTH_TIMEOUT = 2.0  # at most, for each KMOD_LIST copy asking what is loaded after a failure
TRUTH_ASKS = 2  # KMOD_LIST requests (each of several copies) before giving up

Notify = Callable[[str], None]


class SessionError(FinchError):
    """The guest cannot be reached, or runs a kernel the host did not build."""


@dataclass(frozen=True)
class KernelImage:
    """The kernel ELF the guest runs, as the linker needs it."""

    path: Path
    build_id: str
    symbols: dict[str, int] = field(repr=False)  # every global: name -> address

    @classmethod
    def read(cls, path: Path) -> KernelImage:
        try:
            data = path.read_bytes()
            if not has_symbol_table(data):
                raise SessionError(f"{path} has no symbol table: rebuild it with `make build`")
            build_id = symbol_string(data, "finch_build_id")
            symbols = defined_globals(data)
        except FileNotFoundError:
            raise SessionError(
                f"the guest's kernel {path} does not exist any more: rebuild it with "
                "`make build` and restart the guest"
            ) from None
        except Elf32Error as e:
            raise SessionError(f"{path} is not a readable i386 kernel ELF ({e})") from None
        if build_id is None:
            raise SessionError(
                f"{path} defines no finch_build_id: it was not built by `finch build`"
            )
        return cls(path, build_id, symbols)


class GuestWatch:
    """The HostLink watchdog: says why the guest cannot answer any more
    (QEMU exited, or the console shows a panic), or None while it may
    still answer.  A panic stops the guest for good, so one near the end
    of the console log when the session starts counts too."""

    LOOK_BACK = 64 * 1024  # bytes of console log read when the session starts

    def __init__(self, info: RunInfo) -> None:
        self.info = info
        self.console = Path(info.console_log)
        self._offset = max(0, self._size() - self.LOOK_BACK)
        self._tail = ""

    def _size(self) -> int:
        try:
            return self.console.stat().st_size
        except FileNotFoundError:
            return 0

    def __call__(self) -> str | None:
        if not self.info.is_running():
            return (
                f"QEMU (pid {self.info.pid}) has exited; see {self.info.console_log} and "
                f"{self.info.qemu_log}"
            )
        try:
            with self.console.open("rb") as f:
                f.seek(self._offset)
                new = f.read()
        except FileNotFoundError:
            return None
        self._offset += len(new)
        self._tail = (self._tail + new.decode("utf-8", "replace"))[-self.LOOK_BACK :]
        match = PANIC_START.search(self._tail.replace("\r", ""))
        if match is None:
            return None
        return (
            f"the guest panicked: {match.group(0).strip()}; the whole report is in "
            f"{self.info.console_log} "
            f"(`{symbolize_command(Path(self.info.console_log), Path(self.info.kernel))}` "
            "names its addresses)"
        )


class GuestSession:
    """One connection to the guest's host link, after HELLO and the build
    id check.  Close it (or use `with`) when done."""

    def __init__(
        self,
        link: HostLink,
        info: RunInfo,
        rundir: Path,
        kernel: KernelImage,
        max_payload: int,
        notify: Notify | None = None,
    ) -> None:
        self.link = link
        self.info = info
        self.rundir = rundir
        self.kernel = kernel
        self.max_payload = max_payload
        self.records = KextRecords.in_rundir(rundir)
        self.notify = notify  # hears each note as it is made
        self.notes: list[str] = []  # what the user should know besides the result

    @classmethod
    def open(
        cls,
        rundir: Path,
        *,
        ready_deadline: float = READY_DEADLINE,
        timeout: float = DEFAULT_TIMEOUT,
        tap: Tap | None = None,
        notify: Notify | None = None,
    ) -> GuestSession:
        """Find the guest of `rundir`, connect, say HELLO, check its build
        and whether it rebooted since the last tool.  `timeout` is each
        request's (see HostLink); `tap` is for tests."""
        info = RunInfo.read(rundir / FILE_NAME)
        if info.serial2 is None:
            raise SessionError(
                f"the guest in {rundir} has no host link (COM2): it was not started by "
                "`finch run`; restart it with `make run`"
            )
        link = HostLink(
            info.serial2,
            timeout=timeout,
            watchdog=GuestWatch(info),
            tap=tap,
            console_log=info.console_log,
        ).connect()
        try:
            kernel = KernelImage.read(Path(info.kernel))
            try:
                hello = link.wait_ready(deadline=ready_deadline)
            except LinkTimeout as e:
                raise SessionError(_not_ready(link, e, ready_deadline)) from None
            if hello.build_id != kernel.build_id:
                raise SessionError(
                    f"the guest runs kernel build {hello.build_id}, but {kernel.path} is build "
                    f"{kernel.build_id}: kexts linked against it would call the wrong "
                    "addresses.  Restart the guest (`make run`) to boot the kernel you "
                    "built, or rebuild it (`make build`) if the guest runs one you did not"
                )
            session = cls(link, info, rundir, kernel, hello.max_payload, notify)
            session._note_boot(hello.boot_id)
        except BaseException:
            link.close()
            raise
        return session

    def close(self) -> None:
        self.link.close()

    def __enter__(self) -> GuestSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.notify is not None:
            self.notify(text)

    def _note_boot(self, boot_id: str | None, *, quietly: bool = False) -> None:
        """The guest runs boot `boot_id` now: if the records are of another
        boot, the kexts they describe are gone -- drop them and say so
        (unless `quietly`: an error says it already)."""
        if not boot_id:
            return
        last = self.records.boot_id()
        if last is not None and last != boot_id:
            stale = [r.identifier for r in self.records.all()]
            for identifier in stale:
                self.records.remove(identifier)
            if stale and not quietly:
                self.note(
                    f"the guest rebooted (its boot id changed) since a host tool last talked "
                    f"to it: the kexts loaded before are gone ({', '.join(stale)}); their "
                    f"symbol files were removed.  {_capitalized(self.link.console)} says why "
                    "it rebooted"
                )
        self.records.set_boot_id(boot_id)

    @property
    def shared_ram(self) -> Path | None:
        return Path(self.info.shared_ram) if self.info.shared_ram else None

    # -- requests ---------------------------------------------------------

    def call(self, message: Message, timeout: float | None = None) -> Message:
        """One request; a reboot under it also drops the stale records."""
        try:
            return self.link.call(message, timeout)
        except GuestRebooted as e:
            self._note_boot(e.new_boot, quietly=True)
            raise

    def list_kexts(self, timeout: float | None = None) -> list[LoadedKext]:
        reply = self.call(KmodListRequest(), timeout)
        assert isinstance(reply, KmodListReply)
        return [LoadedKext.from_entry(e) for e in reply.entries]

    def forget_unloaded(self, kexts: Sequence[LoadedKext]) -> None:
        """Drop the records of kexts the kernel no longer lists (`kexts` is
        what it lists now), with a note: a kext kextload left "still
        starting" whose start routine failed after all, or one unloaded
        by a stop routine that returned after kextunload stopped waiting.
        A record of a load not yet answered (no kmod id) is left alone."""
        for record in self.records.all():
            if record.kmod_id == 0 or any(k.identifier == record.identifier for k in kexts):
                continue
            self.records.remove(record.identifier)
            self.note(
                f"{record.identifier} (id {record.kmod_id}) is no longer loaded, and its "
                "symbol file was removed: its start routine failed after kextload stopped "
                "waiting for it, or its stop routine returned after kextunload did; "
                f"{self.link.console} says what it returned"
            )

    def ask_kexts(self) -> list[LoadedKext]:
        """KMOD_LIST after a request whose reply never came, to learn the
        truth before telling the user anything: asked again if the first
        gets no reply.  The guest answers it in milliseconds, so each copy
        waits the link's timeout but at most TRUTH_TIMEOUT."""
        timeout = min(TRUTH_TIMEOUT, self.link.timeout)
        for ask in range(1, TRUTH_ASKS + 1):
            try:
                return self.list_kexts(timeout=timeout)
            except GuestGone:
                raise
            except HostLinkError:
                if ask == TRUTH_ASKS:
                    raise
        raise AssertionError("unreachable")

    def alloc(self, size: int) -> KmodAllocReply:
        reply = self.call(KmodAllocRequest(size))
        assert isinstance(reply, KmodAllocReply)
        return reply

    def free(self, address: int) -> int:
        reply = self.call(KmodFreeRequest(address))
        assert isinstance(reply, StatusReply)
        return reply.status

    def write_image(self, address: int, phys: int, image: bytes) -> str:
        """Copy `image` into the block at `address`; returns how it went
        ("shared RAM" or "COM2")."""
        ram = self.shared_ram
        if ram is not None and phys != NO_PHYS:
            try:
                fd = os.open(ram, os.O_RDWR)
            except OSError:
                fd = -1  # the file is gone or not ours: fall back to COM2
            if fd >= 0:
                try:
                    os.pwrite(fd, image, phys)
                finally:
                    os.close(fd)
                return "shared RAM"
        for offset, request in write_requests(address, image, self.max_payload):
            reply = self.call(request)
            assert isinstance(reply, StatusReply)
            if reply.status != 0:
                raise HostLinkError(
                    f"KMOD_WRITE at {address + offset:#x} was refused "
                    f"({errno_name(reply.status)}): the block from KMOD_ALLOC is gone"
                )
        return "COM2"

    def load(self, request: KmodLoadRequest) -> KmodLoadReply:
        reply = self.call(request)
        assert isinstance(reply, KmodLoadReply)
        return reply

    def unload(self, kmod_id: int) -> KmodUnloadReply:
        reply = self.call(KmodUnloadRequest(kmod_id))
        assert isinstance(reply, KmodUnloadReply)
        return reply

    def monitor(self, command: str) -> str:
        """Run a monitor command in the guest; what it printed."""
        reply = self.call(MonitorRequest(command), MONITOR_TIMEOUT)
        assert isinstance(reply, MonitorReply)
        return re.sub(r"\r\n?", "\n", reply.text)


def write_requests(
    address: int, image: bytes, max_payload: int
) -> list[tuple[int, KmodWriteRequest]]:
    """The KMOD_WRITE requests that copy `image` to `address`, each with
    its offset: as large as max_payload allows, but cut short where a
    piece would carry a whole HELLO frame (an image may hold one by
    chance), which the guest would take for a new host session."""
    requests = []
    offset = 0
    while offset < len(image):
        size = min(max_payload - 4, len(image) - offset)
        while True:
            request = KmodWriteRequest(address + offset, image[offset : offset + size])
            inside = hello_inside(request.encode())
            if inside < 0:
                break
            size = inside - 4 + HELLO_SIZE // 2  # end the piece inside that HELLO
        requests.append((offset, request))
        offset += size
    return requests


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _not_ready(link: HostLink, error: LinkTimeout, deadline: float) -> str:
    """Why no HELLO got an answer that the guest is ready, and what to do."""
    if _queued_behind_another(link):
        return (
            "another host tool is talking to the guest (QEMU serves its link to one tool "
            f"at a time) and did not let go within {deadline:g} s: wait for it to finish, "
            "or stop it (`finch events` runs until Ctrl-C), then try again"
        )
    return str(error)


def _queued_behind_another(link: HostLink) -> bool:
    """Is this connection still waiting for QEMU to accept it, behind
    another tool's?  Linux lists a connection that waits in the accept
    queue of the link's socket in /proc/net/unix with the socket's path,
    state 02 (connecting) and no inode, beside the accepted one (state
    03); and QEMU has then read none of what this one sent."""
    sock = link.connection
    try:
        lines = PROC_NET_UNIX.read_text().splitlines()[1:]
    except OSError:
        return False
    states = [f[5] for f in (line.split(None, 7) for line in lines) if f[7:] == [str(link.path)]]
    if "02" not in states or "03" not in states or sock is None:
        return False
    try:
        unread = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    except OSError:
        return False
    return unread > 0
