"""kextunload's work: stop a kext in the running guest and free it.

The kernel decides (KMOD_UNLOAD, docs/hostlink.md): it refuses while
other kexts link against the kext (EBUSY), calls the stop routine and
keeps the kext loaded when stop returns anything but KERN_SUCCESS (EIO,
with stop's value), and keeps its memory -- the kext is then stopped and
"pinned" -- while something the kext registered still points into it
(EBUSY, naming what and the call stop was missing).  A later unload of a
pinned kext does not call stop again: it re-checks, and frees the kext
once nothing points into it.

The kernel waits for a stop routine about two seconds.  One that runs
longer gets KMOD_UNLOAD answered EINPROGRESS: the kext is "stopping", and
the kernel finishes the unload (or pins the kext, or keeps it running if
stop refuses) when stop returns.  While a kext's start or stop routine
runs, KMOD_UNLOAD is refused (EAGAIN) with the kernel's words on how long
it has run.

This module finds the kext by bundle id, turns each refusal into a
sentence that names the kext, the reason and what to do (with the name
of the kext function at each address the kernel gives), retries for a
while when asked to (kextunload -w: a stop routine may be waiting for an
asynchronous detach, a pinned kext for a callback to return, a start or
stop routine may still run), and forgets the host's record of an
unloaded kext.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finch.hostlink.client import GuestGone, HostLinkError
from finch.hostlink.messages import errno_name, kern_return_name
from finch.kext.bundle import KextError, open_bundle
from finch.kext.loaded import LoadedKext
from finch.kext.naming import KextNames
from finch.plist import load_info_plist
from finch.session import GuestSession

EIO = 5
EBUSY = 16  # what many Tiger stop routines answered while their filters detached
EINPROGRESS = 36
RETRY_PAUSE = 0.25  # seconds between two tries of kextunload -w


class UnloadRefused(KextError):
    """The kernel kept the kext: `status` is its errno, `stop_result` what
    the stop routine returned; `hopeless` when nothing will release it
    before the guest reboots (waiting cannot help); `stopping` when its
    stop routine runs, so the unload is under way rather than refused
    (`kext` is its row then)."""

    def __init__(
        self,
        message: str,
        status: int,
        stop_result: int,
        *,
        hopeless: bool = False,
        stopping: LoadedKext | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.stop_result = stop_result
        self.hopeless = hopeless
        self.stopping = stopping


@dataclass(frozen=True)
class UnloadResult:
    identifier: str
    kmod_id: int
    tries: int = 1  # how many KMOD_UNLOADs it took
    leaks: str = ""  # what the kext still owned when it was freed ("": nothing)


def ignore_refusal(refused: UnloadRefused) -> None:
    """An on_refusal that says nothing."""


def bundle_identifier(bundle: Path) -> str:
    """The id the kernel knows a bundle's kext by: for a built bundle
    (Foo.kext) the one its kmod_info was built with, which open_bundle()
    checks against Info.plist; for a source bundle its Info.plist's."""
    if (bundle / "Contents" / "Info.plist").is_file():
        return open_bundle(bundle).identifier
    if (bundle / "Info.plist").is_file():
        return load_info_plist(bundle / "Info.plist").identifier
    raise KextError(f"{bundle}: not a kext bundle (no Contents/Info.plist or Info.plist)")


def find_loaded(kexts: list[LoadedKext], identifier: str) -> LoadedKext:
    for kext in kexts:
        if kext.identifier == identifier:
            if kext.kernel_component:
                raise KextError(
                    f"{identifier} (id {kext.index}) is part of the kernel: it is never unloaded"
                )
            return kext
    raise KextError(f"{identifier} is not loaded (`kextstat` lists what is)")


def unload_kext(
    session: GuestSession,
    identifier: str,
    *,
    wait: float = 0.0,
    on_refusal: Callable[[UnloadRefused], None] = ignore_refusal,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> UnloadResult:
    """Stop and remove the loaded kext `identifier`, or raise UnloadRefused.

    With `wait` > 0, a refusal is tried again every RETRY_PAUSE seconds
    until the unload succeeds or `wait` seconds have passed, unless the
    kernel says nothing will release the kext; a kext whose stop routine
    runs is waited for, and one that the kernel stops listing then has
    been unloaded.  on_refusal hears each refusal whose words differ from
    the one before.  The last refusal is raised."""
    deadline = clock() + wait
    last = ""
    tries = 0
    stopping: LoadedKext | None = None  # once its stop routine was seen running
    while True:
        tries += 1
        try:
            kmod_id, leaks = _unload_once(session, identifier, stopping)
            return UnloadResult(identifier, kmod_id, tries, leaks)
        except UnloadRefused as refused:
            stopping = refused.stopping or stopping
            if _gist(str(refused)) != last:
                on_refusal(refused)
                last = _gist(str(refused))
            if refused.hopeless or clock() + RETRY_PAUSE > deadline:
                raise
        sleep(RETRY_PAUSE)


def _gist(refusal: str) -> str:
    """A refusal without its numbers: while a start or stop routine runs,
    each refusal gives a longer running time, but says nothing new."""
    return re.sub(r"\d+(?:\.\d+)?", "#", refusal)


def _unloaded_after_all(
    session: GuestSession, kext: LoadedKext, kexts: list[LoadedKext], error: HostLinkError
) -> int:
    """KMOD_UNLOAD went out but no reply came: ask the guest whether the
    kext is still there before saying anything.  Its kmod id if it is gone
    (the reply was what got lost, and the session notes so); else a
    KextError with the truth."""
    identifier = kext.identifier
    try:
        now = session.ask_kexts()
    except HostLinkError as e:
        raise KextError(
            f"unloading {identifier} failed: {error.what}.  Whether it is still loaded "
            f"cannot be told: the guest does not answer ({e.what}).  Look at "
            f"{session.link.console}; once the guest answers, `kextstat -b {identifier}` "
            "tells"
        ) from None
    after = next((k for k in now if k.index == kext.index), None)
    if after is None:
        session.note(
            f"{identifier}: the reply to KMOD_UNLOAD was lost ({error.what}), but the guest "
            f"no longer lists it: it is unloaded"
        )
        session.records.remove(identifier)
        return kext.index
    if after.stopping:
        raise UnloadRefused(
            f"{identifier}: still stopping ({after.reason}); the reply to KMOD_UNLOAD was "
            f"lost ({error.what}).  It stays loaded until stop returns, and the kernel then "
            "unloads it: kextstat shows its state, kextunload -w SECONDS waits for it",
            EINPROGRESS,
            0,
            stopping=after,
        )
    state = "stopped and pinned" if after.pinned else "loaded"
    raise KextError(
        KextNames(session.records, kexts).annotate(
            f"unloading {identifier} failed: {error.what}.  The guest still lists it as "
            f"{state}{': ' + after.reason if after.reason else ''}: unload it again"
        )
    )


def _unload_once(
    session: GuestSession, identifier: str, stopping: LoadedKext | None = None
) -> tuple[int, str]:
    """One KMOD_UNLOAD; the kmod id it freed, and what the kext leaked
    (the kernel's report, its addresses named while the kext's symbols
    are still known).  `stopping`: the kext as an earlier try saw it, its
    stop routine running -- if it is no longer listed, that stop routine
    returned and the kernel unloaded it."""
    kexts = session.list_kexts()
    if stopping is not None and not any(k.index == stopping.index for k in kexts):
        session.note(
            f"{identifier}: its stop routine returned after the kernel stopped waiting for "
            f"it, and the kernel unloaded it; what it left behind, if anything, is reported "
            f"in {session.link.console}"
        )
        session.records.remove(identifier)
        return stopping.index, ""
    kext = find_loaded(kexts, identifier)
    try:
        reply = session.unload(kext.index)
    except GuestGone:
        raise
    except HostLinkError as error:
        return _unloaded_after_all(session, kext, kexts, error), ""
    if reply.status == 0:
        leaks = KextNames(session.records, kexts).annotate(reply.message)
        session.records.remove(identifier)
        return kext.index, leaks
    if reply.status == EINPROGRESS:
        raise UnloadRefused(
            f"{identifier}: still stopping (its stop routine has run for "
            f"{reply.ran_ms / 1000:.1f} s); it stays loaded until stop returns, and the "
            "kernel then unloads it: kextstat shows its state, kextunload -w SECONDS waits "
            "for it",
            reply.status,
            reply.stop_result,
            stopping=kext,
        )
    if reply.status == EIO and reply.stop_result != 0:
        message = (
            f"{identifier}: stop routine returned {reply.stop_result} "
            f"({stop_result_name(reply.stop_result)}); the kext stays loaded and running.  "
            "If stop is waiting for an asynchronous detach (an interface filter's "
            "iff_detached, an interface's detach callback) that is normal: unload it "
            "again, or use kextunload -w SECONDS"
        )
    elif reply.message.startswith(identifier):
        message = reply.message  # the kernel's words name the kext already
    else:
        why = reply.message or errno_name(reply.status)
        message = f"{identifier}: the kernel refused to unload it: {why}"
    now = session.list_kexts()  # after the refusal: is it pinned, and for good?
    after = next((k for k in now if k.identifier == identifier), None)
    hopeless = after is not None and after.pinned_forever
    raise UnloadRefused(
        KextNames(session.records, now).annotate(message),
        reply.status,
        reply.stop_result,
        hopeless=hopeless,
        stopping=after if after is not None and after.stopping else None,
    )


def stop_result_name(value: int) -> str:
    """A stop routine's answer, named.  It is a kern_return_t, but NKE
    source of the Tiger days often answered EBUSY, an errno, to mean
    "my filters are still detaching, ask again": say that in words."""
    if value == EBUSY:
        return "EBUSY: the kext says it is still busy, typically a filter still detaching"
    return kern_return_name(value)
