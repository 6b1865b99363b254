"""The host side of the host link: one request at a time over a unix socket.

HostLink connects to the unix socket QEMU serves COM2 on, sends a request
frame and waits for the reply with the same seq.  The retransmission policy
of docs/hostlink.md lives here: when no valid reply arrives in time (or a
corrupted frame arrives instead, or the guest reports that it received a
corrupted one), the request is sent once more with the same seq, and the
guest answers that duplicate from its cache instead of acting twice.
Bytes before a frame may be a reply whose first bytes were hit or mere
noise between frames: the reply gets JUNK_GRACE seconds to follow them.
EVENT frames that arrive meanwhile are kept for events() or handed to the
on_event callback.

Two rules the kernel side relies on:

- Every connection starts with HELLO.  The guest answers a request whose
  seq, type and CRC equal the last one's from its cache, and a new
  connection numbers from 1 again; HELLO is always acted on (and frees
  the blocks an earlier session allocated and never loaded).  So the
  first request on a connection that is not a HELLO is preceded by one.
- The host keeps reading while it sends and while it waits: QEMU stops
  the guest's UART when the socket backs up.

A watchdog (a callable returning why the guest cannot answer any more, or
None) is asked every WATCH_INTERVAL seconds while a reply is awaited, so
that a guest that panicked is reported at once instead of after two
timeouts.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from finch.errors import FinchError
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

EIO = 5
DEFAULT_TIMEOUT = 5.0
MONITOR_TIMEOUT = 60.0  # a monitor command may run for seconds (selftest)
WATCH_INTERVAL = 0.1
JUNK_GRACE = 0.5  # how long a reply may trail bytes that preceded it

Watchdog = Callable[[], str | None]

M = TypeVar("M", bound=Message)


class HostLinkError(FinchError):
    """The host link failed; the message says how and what to do."""


class GuestNotRunning(HostLinkError):
    """Nothing listens on the socket: no guest, or QEMU has exited."""


class LinkDropped(HostLinkError):
    """The guest's end closed while a request was in flight."""


class LinkTimeout(HostLinkError):
    """No reply, even to the retransmitted request."""


class CorruptFrame(HostLinkError):
    """Corrupted frames, even after the retransmission."""


class GuestGone(HostLinkError):
    """The watchdog says the guest cannot answer any more (it panicked or
    QEMU exited)."""


class GuestError(HostLinkError):
    """The guest answered with an ERROR frame."""

    def __init__(self, message: str, status: int, request_type: int) -> None:
        super().__init__(message)
        self.status = status
        self.request_type = request_type


class HostLink:
    """A connection to the guest kernel's link thread."""

    def __init__(
        self,
        path: Path | str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_event: Callable[[Event], None] | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.on_event = on_event
        self.watchdog = watchdog
        self.decode_errors: list[DecodeError] = []  # everything the decoder dropped
        self._sock: socket.socket | None = None
        self._decoder = FrameDecoder(MAX_PAYLOAD)
        self._ready: list[Frame] = []  # frames decoded but not yet consumed
        self._events: list[Event] = []
        self._seq = 0
        self._greeted = False  # a HELLO was answered on this connection

    # -- connection -------------------------------------------------------

    def connect(self) -> HostLink:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self.path))
        except (FileNotFoundError, ConnectionRefusedError) as e:
            sock.close()
            reason = "does not exist" if isinstance(e, FileNotFoundError) else "refuses connections"
            raise GuestNotRunning(
                f"no guest is running: the host link socket {self.path} {reason}; start "
                "the guest with `finch run` (or name its run directory) and try again"
            ) from None
        except OSError as e:
            sock.close()
            raise GuestNotRunning(f"cannot connect to the host link at {self.path}: {e}") from None
        self._sock = sock
        self._greeted = False
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

    # -- requests ---------------------------------------------------------

    def next_seq(self) -> int:
        """1, 2, ... 65535, then 1 again: 0 is for frames nobody asked for."""
        self._seq = self._seq % 0xFFFF + 1
        return self._seq

    def request(self, type: int, payload: bytes = b"", timeout: float | None = None) -> Frame:
        """Send one request and return its reply frame (type | 0x80).

        Raises GuestError for an ERROR reply, LinkTimeout, CorruptFrame or
        LinkDropped when the exchange fails even after one retransmission.
        On a new connection a HELLO goes first (see the module comment)."""
        if type == MsgType.HELLO:
            reply = self._exchange(type, payload, timeout)
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
        trouble = ""
        for attempt in (1, 2):
            self._send(frame, what)
            reply, trouble = self._await_reply(type, seq, wait, what)
            if reply is not None:
                return reply
            if attempt == 1:
                self._resync()
        if trouble.startswith("corrupt"):
            raise CorruptFrame(
                f"{what}: {trouble}, and again after one retransmission: the link is "
                "garbling data; restart the guest"
            )
        raise LinkTimeout(
            f"{what}: no reply within {wait:g} s, nor to the retransmission: the guest "
            "may be hung or panicked (look at its console log) or busy; restart it"
        )

    def call(self, message: Message, timeout: float | None = None) -> Message:
        """Send a request message and decode its reply message."""
        reply = self.request(message.TYPE, message.encode(), timeout)
        reply_class = REPLY_CLASSES[MsgType(message.TYPE)]
        try:
            return reply_class.decode(reply.payload)
        except PayloadError as e:
            raise HostLinkError(
                f"the guest's reply to {type_name(message.TYPE)} is malformed ({e}): "
                "the kernel and the host tools disagree on the protocol; rebuild both"
            ) from None

    def hello(self, flags: int = 0, timeout: float | None = None) -> HelloReply:
        reply = self.call(HelloRequest(flags), timeout)
        assert isinstance(reply, HelloReply)
        return reply

    def monitor(self, command: str, timeout: float = MONITOR_TIMEOUT) -> MonitorReply:
        """Run a monitor command line in the guest and return what it printed."""
        reply = self.call(MonitorRequest(command), timeout)
        assert isinstance(reply, MonitorReply)
        return reply

    def wait_ready(self, deadline: float = 30.0, flags: int = 0) -> HelloReply:
        """Say HELLO until the kernel answers that it is ready.

        Bytes sent before the guest has set up COM2 are lost, so an early
        HELLO may time out: that is expected while the guest boots."""
        end = time.monotonic() + deadline
        last = "no reply"
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise LinkTimeout(
                    f"the guest did not become ready within {deadline:g} s ({last}): "
                    "look at its console log"
                )
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
        for item in self._receive(timeout, "waiting for kernel events"):
            if isinstance(item, DecodeError):
                self.decode_errors.append(item)
            elif item.type == MsgType.EVENT:
                self._deliver_event(item)
        return self.events()

    # -- internals --------------------------------------------------------

    def _send(self, frame: bytes, what: str) -> None:
        """Send the whole frame, reading whatever arrives meanwhile."""
        if self._sock is None:
            raise HostLinkError("the host link is not connected: call connect() first")
        sock = self._sock
        view = memoryview(frame)
        try:
            while view:
                readable, writable, _ = select.select([sock], [sock], [], self.timeout)
                if readable:
                    self._take(self._recv(sock, what), what)
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
                        f"{what}: the guest took nothing in {self.timeout:g} s: it may be "
                        "hung or panicked (look at its console log); restart it"
                    )
        except (BrokenPipeError, ConnectionResetError):
            raise LinkDropped(
                f"{what}: the guest's end of the link closed while sending "
                "(QEMU exited?); restart the guest and try again"
            ) from None

    def _take(self, data: bytes, what: str) -> None:
        """Feed received bytes to the decoder; keep frames and errors."""
        if not data:
            partial = self._decoder.pending
            raise LinkDropped(
                f"{what}: the guest's end of the link closed"
                + (f" in the middle of a frame ({partial} bytes received)" if partial else "")
                + " (QEMU exited or the guest rebooted); restart the guest and try again"
            )
        for item in self._decoder.feed(data):
            if isinstance(item, Frame):
                self._ready.append(item)
            else:
                self.decode_errors.append(item)

    @staticmethod
    def _recv(sock: socket.socket, what: str) -> bytes:
        try:
            return sock.recv(65536)
        except ConnectionResetError:
            return b""

    def _await_reply(self, type: int, seq: int, wait: float, what: str) -> tuple[Frame | None, str]:
        """The reply to (type, seq), or None and why not: "timeout" or
        "corrupt..." (a reason to retransmit at once)."""
        deadline = time.monotonic() + wait
        corrupt_seen = junk_seen = ""
        while True:
            while self._ready:
                frame = self._ready.pop(0)
                if frame.type == MsgType.EVENT:
                    self._deliver_event(frame)
                    continue
                if frame.type == MsgType.ERROR:
                    err = _decode_error(frame)
                    if frame.seq == 0 and err.status == EIO:
                        return None, "corrupted request reported by the guest"
                    if frame.seq == seq:
                        raise GuestError(
                            f"{what}: the guest refused it: {errno_name(err.status)}"
                            + (f": {err.message}" if err.message else ""),
                            err.status,
                            err.request_type,
                        )
                    continue  # an error about an older request
                if frame.seq == seq and frame.type == type | REPLY:
                    return frame, ""
                # A late reply to an earlier request: drop it.
            if corrupt_seen:
                return None, corrupt_seen
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, junk_seen or "timeout"
            items = self._receive(remaining, what)
            errors = [e for e in items if isinstance(e, DecodeError)]
            self._ready += [f for f in items if isinstance(f, Frame)]
            self.decode_errors += errors
            for e in errors:
                trouble = f"corrupted reply ({e.kind}: {e.detail})"
                if e.kind != "bad-magic":
                    corrupt_seen = corrupt_seen or trouble
                elif not junk_seen:
                    # Bytes before a frame: a reply whose magic was hit, or
                    # noise between frames (the tail of an answer to a tool
                    # that gave up while QEMU still queued its connection).
                    # Give the reply a moment to come before retransmitting.
                    junk_seen = trouble
                    deadline = min(deadline, time.monotonic() + JUNK_GRACE)

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
            data = self._recv(self._sock, what)
        except TimeoutError:
            return []
        finally:
            self._sock.settimeout(None)
        if not data:
            self._take(data, what)  # raises LinkDropped
        return self._decoder.feed(data)

    def _resync(self) -> None:
        """Before retransmitting: give up any partial frame."""
        for item in self._decoder.drop_partial():
            if isinstance(item, Frame):
                self._ready.append(item)
            else:
                self.decode_errors.append(item)

    def _deliver_event(self, frame: Frame) -> None:
        try:
            event = Event.decode(frame.payload)
        except PayloadError as e:
            self.decode_errors.append(DecodeError("bad-event", str(e), 0))
            return
        if event.kind == EVENT_READY:
            return  # only wait_ready() cares, and it asks with HELLO
        if self.on_event is not None:
            self.on_event(event)
        else:
            self._events.append(event)


def _decode_error(frame: Frame) -> ErrorReply:
    try:
        return ErrorReply.decode(frame.payload)
    except PayloadError:
        return ErrorReply(0, 0, "malformed ERROR frame")
