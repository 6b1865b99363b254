"""The host side of the host link: one request at a time over a unix socket.

HostLink connects to the unix socket QEMU serves COM2 on, sends a request
frame and waits for the reply with the same seq.  The retransmission rules
of docs/hostlink.md (section 5) live here:

- A request is sent again, with the same seq and bytes, when its wait
  times out, or at once when the link shows damage: the guest reports a
  damaged request (ERROR EIO, seq 0), a damaged frame arrives, or stray
  bytes are not followed by the reply within JUNK_GRACE.  The guest
  answers a copy of the request it acted on last from memory, so a copy
  never acts twice.
- Damage never ends a request: it may be about an earlier copy, whose
  good twin is being answered.  A request fails only when its wait has
  timed out twice, or its last copy (COPIES in all) has waited its whole
  timeout, with no reply.  Replies with another seq (late answers to
  earlier copies or requests) are dropped.

Two rules the kernel side relies on:

- Every connection starts with HELLO.  The guest answers a request whose
  seq, type and CRC equal the last one's from its cache, and a new
  connection numbers from 1 again; HELLO is always acted on (and frees
  the blocks an earlier session allocated and never loaded).  So the
  first request on a connection that is not a HELLO is preceded by one.
- The host keeps reading while it sends and while it waits: QEMU stops
  the guest's UART when the socket backs up.

The HELLO reply's boot id is new at every boot.  A READY event after it
(the guest's link thread starting again) or a request refused with
ENOTCONN (the guest saw no HELLO since it booted) means the guest rebooted
under the connection: GuestRebooted, with the old and new boot ids.

A watchdog (a callable returning why the guest cannot answer any more, or
None) is asked every WATCH_INTERVAL seconds while a reply is awaited, so
that a guest that panicked is reported at once instead of after two
timeouts.  A Tap, for tests, sees every frame copy sent and every chunk
received, and may damage or drop bytes.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Protocol, TypeVar

from finch.hostlink.codec import (
    MAX_PAYLOAD,
    REPLY,
    DecodeError,
    Frame,
    FrameDecoder,
    MsgType,
    encode_frame,
    type_name,
)
from finch.hostlink.errors import (
    DAMAGED_FRAME,
    GUEST_SAW_DAMAGE,
    STRAY_BYTES,
    CorruptFrame,
    GuestError,
    GuestGone,
    GuestNotRunning,
    GuestRebooted,
    HostLinkError,
    LinkDropped,
    LinkTimeout,
    no_reply,
)
from finch.hostlink.messages import (
    EVENT_READY,
    REPLY_CLASSES,
    ErrorReply,
    Event,
    HelloReply,
    HelloRequest,
    Message,
    MonitorReply,
    MonitorRequest,
    PayloadError,
    errno_name,
)

__all__ = [
    "CorruptFrame",
    "GuestError",
    "GuestGone",
    "GuestNotRunning",
    "GuestRebooted",
    "HostLink",
    "HostLinkError",
    "LinkDropped",
    "LinkTimeout",
    "Tap",
]

EIO = 5
ENOTCONN = 57
DEFAULT_TIMEOUT = 5.0
MONITOR_TIMEOUT = 60.0  # a monitor command may run for seconds (selftest)
WATCH_INTERVAL = 0.1
JUNK_GRACE = 0.5  # how long a reply may trail bytes that preceded it
COPIES = 3  # a request is sent at most this many times

Watchdog = Callable[[], str | None]

M = TypeVar("M", bound=Message)


class Tap(Protocol):
    """A test's hand on the wire."""

    def sent(self, frame: bytes) -> bytes:
        """What goes on the wire for this frame (each copy): b"" loses it."""
        ...

    def received(self, data: bytes) -> bytes:
        """What the decoder gets of these received bytes."""
        ...


class HostLink:
    """A connection to the guest kernel's link thread."""

    def __init__(
        self,
        path: Path | str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_event: Callable[[Event], None] | None = None,
        watchdog: Watchdog | None = None,
        tap: Tap | None = None,
        console_log: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.on_event = on_event
        self.watchdog = watchdog
        self.tap = tap
        # Where the messages send the user to look.
        self.console = f"its console log ({console_log})" if console_log else "its console log"
        self.decode_errors: list[DecodeError] = []  # everything the decoder dropped
        self.frames_sent = 0  # every copy of every request
        self.retransmissions = 0  # copies after the first
        self.boot_id: str | None = None  # the guest's, from the last HELLO reply
        self._sock: socket.socket | None = None
        self._decoder = FrameDecoder(MAX_PAYLOAD)
        self._ready: list[Frame] = []  # frames decoded but not yet consumed
        self._events: list[Event] = []
        self._seq = 0
        self._greeted = False  # a HELLO was answered on this connection
        self._saying_hello = False  # a HELLO is in flight: READY is no news

    # -- connection -------------------------------------------------------

    def connect(self) -> HostLink:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self.path))
        except (FileNotFoundError, ConnectionRefusedError) as e:
            sock.close()
            reason = "does not exist" if isinstance(e, FileNotFoundError) else "refuses connections"
            raise GuestNotRunning(
                f"no guest is running: the host link socket {self.path} {reason}",
                "start the guest with `finch run` (or name its run directory) and try again",
            ) from None
        except OSError as e:
            sock.close()
            raise GuestNotRunning(f"cannot connect to the host link at {self.path}: {e}") from None
        self._sock = sock
        self._greeted = False
        self.boot_id = None
        return self

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> HostLink:
        if self._sock is None:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> socket.socket | None:
        """The connected socket (for a look at its queues), or None."""
        return self._sock

    # -- requests ---------------------------------------------------------

    def next_seq(self) -> int:
        """1, 2, ... 65535, then 1 again: 0 is for frames nobody asked for."""
        self._seq = self._seq % 0xFFFF + 1
        return self._seq

    def request(self, type: int, payload: bytes = b"", timeout: float | None = None) -> Frame:
        """Send one request and return its reply frame (type | 0x80).

        Raises GuestError for an ERROR reply; LinkTimeout (CorruptFrame
        when damage was seen), LinkDropped or GuestGone when no reply
        came; GuestRebooted when the guest rebooted since this
        connection's HELLO.  On a new connection a HELLO goes first (see
        the module comment)."""
        if type == MsgType.HELLO:
            self._saying_hello = True
            try:
                reply = self._exchange(type, payload, timeout)
            finally:
                self._saying_hello = False
            self._greeted = True
            return reply
        if not self._greeted:
            self.hello()
        return self._exchange(type, payload, timeout)

    def _exchange(self, type: int, payload: bytes, timeout: float | None) -> Frame:
        seq = self.next_seq()
        frame = encode_frame(Frame(type, seq, payload))
        wait = self.timeout if timeout is None else timeout
        what = f"{type_name(type)} (seq {seq})"
        damage: list[str] = []
        timeouts = 0
        started = time.monotonic()
        for copy in range(1, COPIES + 1):
            if copy > 1:
                self._resync()
                self.retransmissions += 1
            try:
                self._send(frame, what)
            except HostLinkError as e:
                e.unsent = copy == 1
                raise
            before = len(damage)
            last = copy == COPIES
            reply = self._await_reply(type, seq, wait, what, damage, hurry=not last)
            if reply is not None:
                return reply
            if last or len(damage) == before:
                timeouts += 1
                if timeouts == 2:
                    break
        raise no_reply(what, copy, time.monotonic() - started, damage, self.console)

    def call(self, message: Message, timeout: float | None = None) -> Message:
        """Send a request message and decode its reply message."""
        reply = self.request(message.TYPE, message.encode(), timeout)
        reply_class = REPLY_CLASSES[MsgType(message.TYPE)]
        try:
            return reply_class.decode(reply.payload)
        except PayloadError as e:
            raise HostLinkError(
                f"the guest's reply to {type_name(message.TYPE)} is malformed ({e})",
                "the kernel and the host tools disagree on the protocol; rebuild both "
                "(`make build`) and restart the guest",
            ) from None

    def hello(self, flags: int = 0, timeout: float | None = None) -> HelloReply:
        """Say HELLO; GuestRebooted if the boot id is not the one the last
        HELLO on this connection got."""
        reply = self.call(HelloRequest(flags), timeout)
        assert isinstance(reply, HelloReply)
        old, self.boot_id = self.boot_id, reply.boot_id
        if old is not None and reply.boot_id != old:
            raise GuestRebooted("HELLO", old, reply.boot_id, self.console)
        return reply

    def monitor(self, command: str, timeout: float = MONITOR_TIMEOUT) -> MonitorReply:
        """Run a monitor command line in the guest and return what it printed."""
        reply = self.call(MonitorRequest(command), timeout)
        assert isinstance(reply, MonitorReply)
        return reply

    def wait_ready(self, deadline: float = 30.0, flags: int = 0) -> HelloReply:
        """Say HELLO until the kernel answers that it is ready.

        Bytes sent before the guest has set up COM2 are lost, so an early
        HELLO may go unanswered: that is expected while the guest boots.
        A guest that reboots meanwhile is no news: the boot id is the one
        of the last reply."""
        end = time.monotonic() + deadline
        last = "no reply to HELLO"
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise LinkTimeout(
                    f"the guest did not become ready within {deadline:g} s ({last})",
                    f"look at {self.console}",
                )
            self.boot_id = None
            try:
                reply = self.hello(flags, timeout=min(0.5, remaining))
            except LinkTimeout:
                continue
            if reply.ready:
                return reply
            last = "the kernel says it is still booting"
            time.sleep(min(0.05, max(remaining, 0)))

    def events(self) -> list[Event]:
        """EVENT frames received so far and not yet taken."""
        events, self._events = self._events, []
        return events

    def wait_events(self, timeout: float) -> list[Event]:
        """Listen for up to `timeout` seconds with no request under way and
        return the EVENT frames that came (after HELLO with HELLO_EVENTS).
        Returns early, possibly empty, when something else arrived."""
        what = "waiting for kernel events"
        for item in self._receive(timeout, what):
            if isinstance(item, DecodeError):
                self.decode_errors.append(item)
            elif item.type == MsgType.EVENT:
                self._deliver_event(item, what)
        return self.events()

    # -- internals --------------------------------------------------------

    def _send(self, frame: bytes, what: str) -> None:
        """Send the whole frame, reading whatever arrives meanwhile."""
        if self._sock is None:
            raise HostLinkError("the host link is not connected: call connect() first")
        sock = self._sock
        self.frames_sent += 1
        view = memoryview(self.tap.sent(frame) if self.tap is not None else frame)
        try:
            while view:
                readable, writable, _ = select.select([sock], [sock], [], self.timeout)
                if readable:
                    self._take(self._recv(sock), what)
                if writable:
                    sock.setblocking(False)
                    try:
                        view = view[sock.send(view) :]
                    except BlockingIOError:
                        pass
                    finally:
                        sock.setblocking(True)
                elif not readable:
                    raise LinkTimeout(
                        f"{what}: the guest took none of it for {self.timeout:g} s (it "
                        "stopped reading COM2)",
                        f"it is hung or stopped: look at {self.console}; if `finch>` does "
                        "not answer either, restart the guest",
                    )
        except (BrokenPipeError, ConnectionResetError):
            self._dropped(what)

    def _dropped(self, what: str) -> NoReturn:
        partial = self._decoder.pending
        raise LinkDropped(
            f"{what}: the guest's end of the link closed"
            + (f" in the middle of a frame ({partial} bytes received)" if partial else ""),
            "QEMU has probably exited: look at its log, start the guest again "
            "(`make run`) and retry",
        )

    def _take(self, data: bytes, what: str) -> None:
        """Feed received bytes to the decoder; keep frames and errors."""
        for item in self._feed(data, what):
            if isinstance(item, Frame):
                self._ready.append(item)
            else:
                self.decode_errors.append(item)

    def _feed(self, data: bytes, what: str) -> list[Frame | DecodeError]:
        if not data:
            self._dropped(what)
        if self.tap is not None:
            data = self.tap.received(data)
        return self._decoder.feed(data)

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        try:
            return sock.recv(65536)
        except ConnectionResetError:
            return b""

    def _await_reply(
        self, type: int, seq: int, wait: float, what: str, damage: list[str], *, hurry: bool
    ) -> Frame | None:
        """The reply to (type, seq), or None when the wait is over.  What
        the link shows on the way goes into `damage`; with `hurry` it cuts
        the wait short (a damaged frame at once, stray bytes after
        JUNK_GRACE), so that the next copy goes out now."""
        deadline = time.monotonic() + wait
        corrupt = False
        while True:
            while self._ready:
                frame = self._ready.pop(0)
                if frame.type == MsgType.EVENT:
                    self._deliver_event(frame, what)
                elif frame.type == MsgType.ERROR:
                    err = _decode_error(frame)
                    if frame.seq == 0 and err.status == EIO:
                        damage.append(GUEST_SAW_DAMAGE)
                        corrupt = True
                    elif frame.seq == seq:
                        self._refused(type, what, err)
                    # else: an error about an older request
                elif frame.seq == seq and frame.type == type | REPLY:
                    return frame
                # else: a late reply to an earlier request: dropped
            if corrupt and hurry:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            for item in self._receive(remaining, what):
                if isinstance(item, Frame):
                    self._ready.append(item)
                    continue
                self.decode_errors.append(item)
                if item.kind == "resync":
                    continue  # an earlier session's partial frame, ended by our HELLO's reply
                if item.kind != "bad-magic":
                    damage.append(DAMAGED_FRAME)
                    corrupt = True
                else:
                    # Bytes before a frame: a reply whose magic was hit, or
                    # noise between frames (the tail of an answer to a tool
                    # that gave up).  Give the reply a moment to come.
                    damage.append(STRAY_BYTES)
                    if hurry:
                        deadline = min(deadline, time.monotonic() + JUNK_GRACE)

    def _refused(self, type: int, what: str, err: ErrorReply) -> NoReturn:
        """The guest answered our request with ERROR."""
        if err.status == ENOTCONN and type != MsgType.HELLO:
            self._rebooted(what)  # it has seen no HELLO since it booted
        raise GuestError(
            f"{what}: the guest refused it: {errno_name(err.status)}"
            + (f": {err.message}" if err.message else ""),
            err.status,
            err.request_type,
        )

    def _rebooted(self, what: str) -> NoReturn:
        """The guest rebooted under this connection: learn its new boot id
        (if it answers) and say so."""
        old = self.boot_id or "unknown"
        self.boot_id = None
        new: str | None = None
        with contextlib.suppress(HostLinkError):
            new = self.hello().boot_id
        raise GuestRebooted(what, old, new, self.console)

    def _receive(self, remaining: float, what: str) -> list[Frame | DecodeError]:
        """What arrives within `remaining` seconds (or the watchdog's
        interval): possibly nothing."""
        assert self._sock is not None
        if self.watchdog is not None:
            reason = self.watchdog()
            if reason:
                raise GuestGone(f"{what}: {reason}")
            remaining = min(remaining, WATCH_INTERVAL)
        self._sock.settimeout(max(remaining, 0.001))
        try:
            data = self._recv(self._sock)
        except TimeoutError:
            return []
        finally:
            self._sock.settimeout(None)
        return self._feed(data, what)

    def _resync(self) -> None:
        """Before retransmitting: give up any partial frame."""
        for item in self._decoder.drop_partial():
            if isinstance(item, Frame):
                self._ready.append(item)
            else:
                self.decode_errors.append(item)

    def _deliver_event(self, frame: Frame, what: str) -> None:
        try:
            event = Event.decode(frame.payload)
        except PayloadError as e:
            self.decode_errors.append(DecodeError("bad-event", str(e), 0))
            return
        if event.kind == EVENT_READY:
            # The guest's link thread says it started: after a HELLO
            # reply on this connection, that is a reboot.
            if self.boot_id is not None and not self._saying_hello:
                self._rebooted(what)
            return
        if self.on_event is not None:
            self.on_event(event)
        else:
            self._events.append(event)


def _decode_error(frame: Frame) -> ErrorReply:
    try:
        return ErrorReply.decode(frame.payload)
    except PayloadError:
        return ErrorReply(0, 0, "malformed ERROR frame")
