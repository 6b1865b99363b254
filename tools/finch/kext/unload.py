"""kextunload's work: stop a kext in the running guest and free it.

The kernel decides (KMOD_UNLOAD, docs/hostlink.md): it refuses while
other kexts link against the kext (EBUSY), calls the stop routine and
keeps the kext loaded when stop returns anything but KERN_SUCCESS (EIO,
with stop's value), and keeps its memory while something the kext
registered still points into it (EBUSY).  This module finds the kext by
bundle id, turns each refusal into a sentence that names the kext, the
reason and what to do, and forgets the host's record of an unloaded kext.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from finch.hostlink.messages import errno_name, kern_return_name
from finch.kext.bundle import KextError
from finch.kext.loaded import LoadedKext
from finch.plist import load_info_plist
from finch.session import GuestSession

EIO = 5


class UnloadRefused(KextError):
    """The kernel kept the kext: `status` is its errno, `stop_result` what
    the stop routine returned."""

    def __init__(self, message: str, status: int, stop_result: int) -> None:
        super().__init__(message)
        self.status = status
        self.stop_result = stop_result


@dataclass(frozen=True)
class UnloadResult:
    identifier: str
    kmod_id: int


def bundle_identifier(bundle: Path) -> str:
    """The CFBundleIdentifier of a built bundle (Foo.kext) or a source bundle."""
    for plist in (bundle / "Contents" / "Info.plist", bundle / "Info.plist"):
        if plist.is_file():
            return load_info_plist(plist).identifier
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


def unload_kext(session: GuestSession, identifier: str) -> UnloadResult:
    """Stop and remove the loaded kext `identifier`, or raise UnloadRefused."""
    kext = find_loaded(session.list_kexts(), identifier)
    reply = session.unload(kext.index)
    if reply.status == 0:
        session.records.remove(identifier)
        return UnloadResult(identifier, kext.index)
    if reply.status == EIO and reply.stop_result != 0:
        message = (
            f"{identifier}: stop routine returned {reply.stop_result} "
            f"({kern_return_name(reply.stop_result)}); the kext stays loaded"
        )
    elif reply.message.startswith(identifier):
        message = reply.message  # the kernel's words name the kext already
    else:
        why = reply.message or errno_name(reply.status)
        message = f"{identifier}: the kernel refused to unload it: {why}"
    raise UnloadRefused(message, reply.status, reply.stop_result)
