"""kextload's pipeline: put a built kext bundle into the running guest.

For each bundle, as docs/hostlink.md section 7 lays out:

  1. read and check Info.plist; ask the kernel what is loaded (KMOD_LIST);
     resolve OSBundleLibraries (finch.kext.dependencies): KPI
     bundles and loaded kexts are reused when their versions fit, library
     kexts from the -d bundles and -r folders are loaded first;
  2. lay the object out (its size) and link it once at a trial address,
     so that unresolved symbols, collisions, bad relocations and an image
     that is too large are reported before the kernel hands out memory;
  3. KMOD_ALLOC; link at the address it gave; write the symbol file and
     the host's record (finch.kext.records); copy the image in (shared RAM,
     else KMOD_WRITE); KMOD_LOAD, which records the kmod and calls start.

If anything fails on the host between KMOD_ALLOC and KMOD_LOAD the block
is given back with KMOD_FREE; if the link itself is gone, the kernel frees
it at the next HELLO.

The kernel waits for a start routine about two seconds.  One that runs
longer (a loop, a long sleep) gets KMOD_LOAD answered EINPROGRESS: the
kext IS loaded, "starting" until its start routine returns, so the
result says so (LoadResult.starting) and the record and symbol file stay
-- a panic in it later must be symbolized.

When the link fails after KMOD_LOAD went out, only the guest knows whether
the kext is loaded: its reply may be what got lost.  The loader then asks
KMOD_LIST and reports the truth -- loaded (a success, with a note that the
reply was lost), not loaded, or that it cannot tell because the guest
does not answer -- instead of the link's own error.

KextLoader works over an open GuestSession (tests and the benchmark use it
directly); load_kexts() is the whole command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from finch.exports import KpiExports, load_exports
from finch.hostlink.client import GuestError, GuestGone, GuestRebooted, HostLinkError
from finch.hostlink.messages import KmodLoadReply, KmodLoadRequest, errno_name, kern_return_name
from finch.kext.bundle import BundleSearch, KextBundle, KextError, find_bundles, open_bundle
from finch.kext.dependencies import namespace_for, resolve_load_order
from finch.kext.loaded import LoadedKext
from finch.kext.records import KextRecord
from finch.link import (
    KextObject,
    LinkedImage,
    LinkError,
    Namespace,
    link_kext,
    plan,
    read_object,
)
from finch.session import GuestSession, Notify

KMOD_MAX_IMAGE = 4 * 1024 * 1024  # the kernel's limit (kern/kmod_var.h)
TRIAL_ADDRESS = 0x4000_0000  # any page-aligned address will do for the trial link
EIO = 5
EINPROGRESS = 36

Echo = Callable[[str], None]
SessionOpener = Callable[..., GuestSession]


def quiet(line: str) -> None:
    """An Echo that says nothing."""


class LoadError(KextError):
    """The kernel refused the kext, or the host could not finish loading it."""


@dataclass(frozen=True)
class LoadResult:
    """One kext now loaded in the guest: running, or still starting."""

    bundle: KextBundle
    kmod_id: int
    address: int
    size: int  # image bytes
    transfer: str  # "shared RAM" or "COM2"
    symbol_file: Path
    gdb_command: str
    starting: bool = False  # its start routine had not returned when the kernel answered
    start_ms: int = 0  # how long start ran (starting: had run by then)

    def still_starting(self) -> str:
        """What kextload says of a kext whose start routine runs on."""
        return (
            f"{self.bundle.identifier}: still starting (its start routine has run for "
            f"{self.start_ms / 1000:.1f} s); it is loaded, kextstat shows when it is running"
        )


@dataclass
class KextLoader:
    """Loads bundles (and the library kexts they need) over one session."""

    session: GuestSession
    kpis: KpiExports
    search: BundleSearch = field(default_factory=lambda: BundleSearch(()))
    echo: Echo = quiet  # progress lines, for -v

    def load(self, target: KextBundle) -> list[LoadResult]:
        """Load `target`, its library kexts first; the results in load order."""
        loaded = self.session.list_kexts()
        self.session.forget_unloaded(loaded)  # before a new record may take their place
        order = resolve_load_order(
            target, kpis=self.kpis, loaded=loaded, search=self.search, warn=self.session.note
        )
        self.echo(f"extension {target.path} appears to be valid")
        results: list[LoadResult] = []
        for bundle in order:
            if bundle is not target:
                self.echo(f"loading dependency {bundle.path} ({bundle.identifier})")
            results.append(self._load_one(bundle, loaded))
            if bundle is not target:
                loaded = self.session.list_kexts()
        return results

    # -- one kext ---------------------------------------------------------

    def _load_one(self, bundle: KextBundle, loaded: Sequence[LoadedKext]) -> LoadResult:
        info = bundle.info
        link = self._linker(bundle, loaded)
        size = plan(link.obj).size
        link(TRIAL_ADDRESS)  # every link problem, before memory is asked for
        by_id = {k.identifier: k for k in loaded}
        dependencies = tuple(by_id[lib].index for lib in info.libraries if lib in by_id)

        try:
            block = self.session.alloc(size)
        except HostLinkError as e:  # KMOD_LOAD was not sent: certainly not loaded
            raise _not_loaded(bundle, e) from None
        if block.status != 0:
            raise LoadError(
                f"{bundle.path}: the kernel could not allocate {size} bytes for "
                f"{info.identifier} ({errno_name(block.status)}): free memory by unloading "
                "kexts, or restart the guest"
            )
        self.echo(f"{info.identifier}: {size} bytes at {block.address:#x}")
        load_sent = False
        try:
            linked = link(block.address)
            crc = zlib.crc32(linked.image)
            record = KextRecord(
                identifier=info.identifier,
                version=str(info.version),
                address=block.address,
                size=linked.size,
                image_crc=crc,
                bundle=str(bundle.path),
                symbols=linked.symbols,
            )
            symbol_file = self.session.records.write(record, linked)
            transfer = self.session.write_image(block.address, block.phys, linked.image)
            self.echo(f"{info.identifier}: image written through {transfer}")
            request = KmodLoadRequest(
                address=block.address,
                size=linked.size,
                kmod_info=linked.kmod_info_address,
                image_crc=crc,
                dependencies=dependencies,
                compatible_version=str(info.compatible_version or ""),
            )
            load_sent = True
            reply = self.session.load(request)
        except HostLinkError as e:
            if load_sent and not e.unsent and not isinstance(e, GuestGone | GuestError):
                found = self._loaded_after_all(bundle, block.address, e)
                status = EINPROGRESS if found.starting else 0
                reply = KmodLoadReply(status, 0, found.index, ran_ms=found.busy_ms)
            else:
                if not isinstance(e, GuestGone):  # a panic report still needs the symbols
                    self.session.records.remove(info.identifier)
                raise self._give_back(block.address, bundle, e) from None
        except BaseException as e:
            self.session.records.remove(info.identifier)
            raise self._give_back(block.address, bundle, e) from None

        if reply.status not in (0, EINPROGRESS):
            start_failed = reply.status == EIO and reply.start_result != 0
            if not start_failed:
                self._free_quietly(block.address)  # refused before it was recorded
            if not (start_failed and self._still_listed(info.identifier, block.address)):
                self.session.records.remove(info.identifier)
            raise LoadError(_refusal(bundle, reply.status, reply.start_result, reply.message))

        self.session.records.write(dataclasses.replace(record, kmod_id=reply.kmod_id))
        return LoadResult(
            bundle=bundle,
            kmod_id=reply.kmod_id,
            address=block.address,
            size=linked.size,
            transfer=transfer,
            symbol_file=symbol_file,
            gdb_command=linked.gdb_command(symbol_file),
            starting=reply.status == EINPROGRESS,
            start_ms=reply.ran_ms,
        )

    def _linker(self, bundle: KextBundle, loaded: Sequence[LoadedKext]) -> _Linker:
        """Links the bundle's object against what it declares, at any address."""
        namespace = namespace_for(
            bundle.info,
            kpis=self.kpis,
            kernel_symbols=self.session.kernel.symbols,
            loaded_symbols=self._loaded_symbols(bundle.info.libraries, loaded),
        )
        obj = read_object(_read_executable(bundle), str(bundle.executable))
        return _Linker(obj, namespace, bundle.identifier)

    def _still_listed(self, identifier: str, address: int) -> bool:
        """After a failed start: did the kernel keep the kext (stopped, as
        something its start left behind still points into it)?"""
        return any(
            k.identifier == identifier and k.address == address for k in self.session.list_kexts()
        )

    def _loaded_after_all(
        self, bundle: KextBundle, address: int, error: HostLinkError
    ) -> LoadedKext:
        """KMOD_LOAD went out but no reply came: ask the guest whether the
        kext is loaded now.  Its row if it is (the reply was what got lost,
        and the session notes so); else LoadError with the truth."""
        identifier = bundle.identifier
        try:
            loaded = self.session.ask_kexts()
        except HostLinkError as e:
            self.session.records.remove(identifier)
            raise LoadError(
                f"{bundle.path}: loading {identifier} failed: {error.what}.  Whether it is "
                f"loaded cannot be told: the guest does not answer ({e.what}).  Look at "
                f"{self.session.link.console}; once the guest answers, `kextstat -b "
                f"{identifier}` tells whether {identifier} is loaded"
            ) from None
        found = next(
            (k for k in loaded if k.identifier == identifier and k.address == address), None
        )
        if found is not None:
            self.session.note(
                f"{identifier}: the reply to KMOD_LOAD was lost ({error.what}), but the guest "
                f"lists {identifier} as loaded, with id {found.index}"
            )
            return found
        self.session.records.remove(identifier)
        self._free_quietly(address)
        why = f"; {error.advice}" if isinstance(error, GuestRebooted) else ""
        raise LoadError(
            f"{bundle.path}: loading {identifier} failed: {error.what}.  The guest says it "
            f"is not loaded (KMOD_LIST does not list it): load it again{why}"
        )

    def _give_back(self, address: int, bundle: KextBundle, error: BaseException) -> BaseException:
        """After a failure before the kernel was asked to load the kext (or
        a panic, or a refusal of the request): free the block; the error
        to raise."""
        if isinstance(error, GuestGone):
            return LoadError(f"{bundle.path}: loading {bundle.identifier} failed: {error}")
        if isinstance(error, HostLinkError):  # the next HELLO frees the block
            return _not_loaded(bundle, error, address)
        self._free_quietly(address)
        return error

    def _free_quietly(self, address: int) -> None:
        with contextlib.suppress(HostLinkError):  # gone: the next HELLO frees it
            self.session.free(address)

    # -- what the kext links against --------------------------------------

    def _loaded_symbols(
        self, declared: Mapping[str, object], loaded: Sequence[LoadedKext]
    ) -> dict[str, dict[str, int]]:
        """The exported globals of each loaded kext: from the host's records,
        or, for a declared library loaded without one, by linking its bundle
        at its address again (if the CRC agrees, it is the same image)."""
        result: dict[str, dict[str, int]] = {}
        for kext in loaded:
            if kext.kernel_component:
                continue
            record = self.session.records.for_loaded(kext)
            if record is not None:
                result[kext.identifier] = dict(record.symbols)
            elif kext.identifier in declared:
                result[kext.identifier] = self._relink_library(kext, result)
        return result

    def _relink_library(self, kext: LoadedKext, known: dict[str, dict[str, int]]) -> dict[str, int]:
        for bundle in self.search.with_id(kext.identifier):
            namespace = namespace_for(
                bundle.info,
                kpis=self.kpis,
                kernel_symbols=self.session.kernel.symbols,
                loaded_symbols=known,
            )
            try:
                linked = link_kext(_read_executable(bundle), kext.address, namespace)
            except LinkError:
                continue
            if zlib.crc32(linked.image) == kext.image_crc:
                return linked.symbols
        raise LoadError(
            f"{kext.identifier} (id {kext.index}) is loaded, but this host has no record of "
            "where its symbols are and no bundle searched links to the same image: name "
            f"the bundle it was loaded from with -d, or unload it (`kextunload -b "
            f"{kext.identifier}`) and load it again"
        )


@dataclass(frozen=True)
class _Linker:
    """One kext object and its namespace: link(address) -> the image."""

    obj: KextObject
    namespace: Namespace
    bundle_id: str

    def __call__(self, address: int) -> LinkedImage:
        return link_kext(
            self.obj, address, self.namespace, bundle_id=self.bundle_id, max_size=KMOD_MAX_IMAGE
        )


def _read_executable(bundle: KextBundle) -> bytes:
    try:
        return bundle.executable.read_bytes()
    except OSError as e:
        raise KextError(f"{bundle.executable}: cannot read the kext's executable ({e})") from None


def _not_loaded(bundle: KextBundle, error: HostLinkError, block: int | None = None) -> LoadError:
    """A link failure before KMOD_LOAD went out (or a request the kernel
    refused whole): the kext is certainly not loaded."""
    if isinstance(error, GuestError):
        return LoadError(f"{bundle.path}: loading {bundle.identifier} failed: {error}")
    freed = (
        f".  The block at {block:#x} it was given is freed by the kernel when the next host "
        "tool says HELLO"
        if block is not None
        else ""
    )
    return LoadError(
        f"{bundle.path}: loading {bundle.identifier} failed before the kernel was asked "
        f"to load it, so it is not loaded: {error}{freed}"
    )


def _refusal(bundle: KextBundle, status: int, start_result: int, message: str) -> str:
    """kextload's words for a KMOD_LOAD refusal."""
    if status == EIO and start_result != 0:
        return f"{bundle.path}: " + (
            message
            or f"{bundle.identifier}: its start routine returned {start_result} "
            f"({kern_return_name(start_result)})"
        )
    why = message or errno_name(status)
    return f"{bundle.path}: the kernel refused to load {bundle.identifier}: {why}"


def load_kexts(
    rundir: Path,
    bundles: Sequence[Path | str],
    *,
    dependencies: Sequence[Path | str] = (),
    search_dirs: Sequence[Path | str] = (),
    echo: Echo = quiet,
    on_loaded: Callable[[LoadResult], None] | None = None,
    notify: Notify | None = None,
    kpis: KpiExports | None = None,
    open_session: SessionOpener = GuestSession.open,
) -> list[LoadResult]:
    """The whole kextload command: load each bundle (and the library
    kexts it needs) into the guest of `rundir`; on_loaded hears of each
    kext as soon as it runs, notify of what the user should know besides
    (the session's notes).  open_session(rundir, notify=...) is
    GuestSession.open with options (tests give a Tap)."""
    targets = [open_bundle(p) for p in bundles]
    search = find_bundles(search_dirs, [*dependencies, *(t.path for t in targets)])
    kpis = kpis or load_exports()
    results: list[LoadResult] = []
    with open_session(rundir, notify=notify) as session:
        loader = KextLoader(session, kpis, search, echo)
        for target in targets:
            if any(r.bundle.identifier == target.identifier for r in results):
                continue  # loaded already, as a library of an earlier one
            for result in loader.load(target):
                results.append(result)
                if on_loaded is not None:
                    on_loaded(result)
    return results
