"""How a host link exchange can fail, each error saying what happened and
what to do.

`what` is what happened and `advice` what to do; str(error) is "what; advice".
A caller that knows more than the link (kextload, after asking the guest
what is loaded) reports `what` with its own advice instead.
"""

from __future__ import annotations

from collections import Counter

from finch.errors import FinchError

# What the link showed on the way, for the message of a failed request.
GUEST_SAW_DAMAGE = "damaged requests reported by the guest"
DAMAGED_FRAME = "damaged frames received"
STRAY_BYTES = "stray bytes received"


class HostLinkError(FinchError):
    """The host link failed; the message says how and what to do.

    unsent: no copy of the request went out whole, so the guest cannot
    have acted on it."""

    def __init__(self, what: str, advice: str = "") -> None:
        super().__init__(f"{what}; {advice}" if advice else what)
        self.what = what
        self.advice = advice
        self.unsent = False


class GuestNotRunning(HostLinkError):
    """Nothing listens on the socket: no guest, or QEMU has exited."""


class LinkDropped(HostLinkError):
    """The guest's end closed while a request was in flight."""


class LinkTimeout(HostLinkError):
    """No reply: the wait timed out twice, or every copy went unanswered."""


class CorruptFrame(LinkTimeout):
    """No good reply, and damage was seen on the way: damaged frames
    received, or the guest reporting damaged requests."""


class GuestGone(HostLinkError):
    """The watchdog says the guest cannot answer any more (it panicked or
    QEMU exited)."""


class GuestRebooted(HostLinkError):
    """The guest rebooted since this connection's HELLO: its boot id
    changed.  Whatever the request was about (a block, a kmod id) is gone."""

    def __init__(
        self, what: str, old_boot: str, new_boot: str | None, console: str = "its console log"
    ) -> None:
        change = f"from {old_boot} to {new_boot}" if new_boot else f"from {old_boot}"
        super().__init__(
            f"{what}: the guest rebooted (its boot id changed {change})",
            f"the kexts loaded before the reboot are gone; {console} says why it rebooted",
        )
        self.old_boot = old_boot
        self.new_boot = new_boot


class GuestError(HostLinkError):
    """The guest answered with an ERROR frame."""

    def __init__(self, message: str, status: int, request_type: int) -> None:
        super().__init__(message)
        self.status = status
        self.request_type = request_type


def no_reply(
    what: str, copies: int, elapsed: float, damage: list[str], console: str
) -> LinkTimeout:
    """The error for a request that got no reply to `copies` copies; `damage`
    is what the link showed on the way, `console` where to look."""
    tried = f"{what}: no reply to {copies} copies in {elapsed:.1f} s"
    if not damage:
        return LinkTimeout(
            tried,
            f"the guest does not answer its host link: look at {console}; if `finch>` "
            "does not answer either, it is hung: restart it",
        )
    seen = ", ".join(f"{n} {kind}" for kind, n in Counter(damage).most_common())
    return CorruptFrame(
        f"{tried}; on the way: {seen}",
        "the link damaged or lost every exchange: run the command again; the guest's "
        "`hostlink` command (on its console) counts what it dropped",
    )
