"""The kext linker: place an i386 ELF relocatable object at a kernel address.

This is kextload's link step, done on the host as early Mac OS X did:

  1. read and check the object (finch.kextobject): ELF, 32-bit,
     little-endian, i386, relocatable, and not damaged;
  2. lay out its allocated sections (text, read-only data, data, then bss),
     each at its alignment, into one image that starts at the load address;
     bss and common symbols are zero-filled in the image; then the table
     of the kext's function names (finch.ksyms), and zeros up to the end
     of the last page, whose last 16 bytes are the table's trailer: the
     kernel names the kext's functions from it (kern/ksyms.c);
  3. give every symbol an address: the kext's own from the layout, each
     undefined one from the libraries the kext declares in OSBundleLibraries
     (KPI bundles and loaded library kexts) and from nothing else;
  4. apply the relocations gcc -m32 -fno-pic emits: R_386_32 (S + A),
     R_386_PC32 and R_386_PLT32 (S + A - P), R_386_NONE; any other type is
     refused by name, with what built it and the fix (finch.linkhints:
     position-independent code, thread-local variables, ...);
  5. refuse a kext whose globals collide with the kernel's or a loaded kext's.

Every refusal lists all the problems found, each naming the symbol or the
section and what to do.  The result is the image to copy into the guest, the
address of kmod_info, the kext's global symbols (for kexts that will link
against it) and a symbol file for gdb.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS

from finch import ksyms
from finch.errors import LinkError
from finch.kextobject import (
    KMOD_INFO_SYMBOL,
    KextObject,
    Section,
    Symbol,
    parse_object,
)
from finch.linkhints import (
    GLOBAL_OFFSET_TABLE,
    R_386_32,
    R_386_NONE,
    relocation_hint,
    relocation_name,
    symbol_hint,
)

__all__ = [
    "KMOD_INFO_SYMBOL",
    "KMOD_MAX_IMAGE",
    "KextObject",
    "Layout",
    "Library",
    "LinkError",
    "LinkedImage",
    "Namespace",
    "PlacedSection",
    "defined_globals",
    "link_kext",
    "plan",
    "read_object",
    "relocation_name",
    "with_section_addresses",
]

# The largest image the kernel accepts (KMOD_MAX_IMAGE, kernel/kern/kmod_var.h).
# A damaged object can claim gigabytes of bss: refused before they are allocated.
KMOD_MAX_IMAGE = 4 * 1024 * 1024

# Section name prefixes whose contents the kernel would never run.
_CONSTRUCTOR_SECTIONS = (".init_array", ".fini_array", ".preinit_array", ".ctors", ".dtors")
_CONSTRUCTOR_TYPES = ("SHT_INIT_ARRAY", "SHT_FINI_ARRAY", "SHT_PREINIT_ARRAY")


@dataclass(frozen=True)
class Library:
    """A bundle a kext can link against: a KPI bundle or a loaded library kext."""

    identifier: str
    symbols: Mapping[str, int]  # exported name -> absolute address
    kind: str = "kpi"  # "kpi" or "kext"


@dataclass(frozen=True)
class Namespace:
    """What one kext may link against, and what else exists (for messages).

    declared: the libraries of its OSBundleLibraries, in that order; the only
      places undefined symbols are resolved from.
    others: every other KPI bundle and loaded kext; used to say which one to
      declare, and for collisions.
    kernel_globals: every global the kernel defines, exported or private;
      used to say a symbol is kernel-private, and for collisions.
    """

    declared: Sequence[Library] = ()
    others: Sequence[Library] = ()
    kernel_globals: Mapping[str, int] = field(default_factory=dict)

    def resolve(self, name: str) -> int | None:
        for lib in self.declared:
            if name in lib.symbols:
                return lib.symbols[name]
        return None

    def exporters(self, name: str) -> list[Library]:
        return [lib for lib in (*self.declared, *self.others) if name in lib.symbols]


@dataclass(frozen=True)
class PlacedSection:
    """One allocated section of the object, at its place in the image."""

    index: int
    name: str
    address: int
    size: int
    nobits: bool


@dataclass(frozen=True)
class Layout:
    """Where each allocated section goes, relative to the image start."""

    offsets: dict[int, int]  # section index -> offset in the image
    commons: dict[str, int]  # common symbol -> offset in the image
    size: int  # whole pages: the code and data, the symbol table, its trailer
    alignment: int  # the load address must be a multiple of this
    functions: tuple[ksyms.Function, ...] = ()  # at their offsets in the image
    symbols_offset: int = 0  # where the symbol table starts in the image

    @property
    def code_and_data(self) -> int:
        """Bytes before the symbol table."""
        return self.symbols_offset


ObjectSource = bytes | Path | str | KextObject


@dataclass(frozen=True)
class LinkedImage:
    """A kext linked at `load_address`, ready to copy into the guest."""

    image: bytes = field(repr=False)
    load_address: int
    kmod_info_address: int
    symbols: dict[str, int] = field(repr=False)  # the kext's exported globals
    sections: tuple[PlacedSection, ...]
    source: bytes = field(repr=False, default=b"")  # the object it came from

    @property
    def size(self) -> int:
        return len(self.image)

    def section_address(self, name: str) -> int | None:
        for s in self.sections:
            if s.name == name:
                return s.address
        return None

    def write_symbol_file(self, path: Path | str) -> Path:
        """Write a copy of the object whose sections carry their load addresses.

        gdb's `add-symbol-file PATH` (gdb >= 10) then places every symbol and
        line where it is in the guest; gdb_command() gives the explicit form."""
        path = Path(path)
        path.write_bytes(with_section_addresses(self.source, self.sections))
        return path

    def gdb_command(self, symbol_file: Path | str) -> str:
        """The add-symbol-file command line that loads the kext's symbols."""
        text = self.section_address(".text")
        parts = [f"add-symbol-file {symbol_file}"]
        if text is not None:
            parts.append(f"-s .text {text:#x}")
        for s in self.sections:
            if s.name != ".text" and s.size > 0:
                parts.append(f"-s {s.name} {s.address:#x}")
        return " ".join(parts)


def _section_group(sec: Section) -> int:
    """Layout order: code, read-only data, writable data, bss."""
    if sec.nobits:
        return 3
    if sec.flags & SH_FLAGS.SHF_EXECINSTR:
        return 0
    if not sec.flags & SH_FLAGS.SHF_WRITE:
        return 1
    return 2


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment if alignment > 1 else value


def _layout(obj: KextObject) -> Layout:
    problems = []
    loaded = obj.loaded_sections
    for sec in loaded:
        if sec.flags & SH_FLAGS.SHF_TLS:
            problems.append(
                f"section {sec.name} holds thread-local data (__thread), which the "
                "kernel does not support: use a global protected by a lock"
            )
        if sec.name.startswith(_CONSTRUCTOR_SECTIONS) or sec.type in _CONSTRUCTOR_TYPES:
            problems.append(
                f"section {sec.name} holds constructors or destructors, which the "
                "kernel never runs: do that work in the start and stop routines"
            )
    if problems:
        raise LinkError(obj.name, problems)

    offsets: dict[int, int] = {}
    offset = 0
    alignment = 1
    for sec in sorted(loaded, key=lambda s: (_section_group(s), s.index)):
        alignment = max(alignment, sec.alignment)
        offset = _align(offset, sec.alignment)
        offsets[sec.index] = offset
        offset += sec.size
    commons: dict[str, int] = {}
    for sym in obj.symbols:
        if sym.shndx == "SHN_COMMON":
            align = max(sym.value, 1)  # st_value of a common symbol is its alignment
            alignment = max(alignment, align)
            offset = _align(offset, align)
            commons[sym.name] = offset
            offset += sym.size
    functions = _functions(obj, offsets)
    symbols_offset = _align(offset, ksyms.ALIGNMENT)
    end = symbols_offset + ksyms.table_size(functions) + ksyms.TRAILER.size
    size = _align(end, ksyms.PAGE_SIZE)
    return Layout(offsets, commons, size, alignment, tuple(functions), symbols_offset)


def _functions(obj: KextObject, offsets: dict[int, int]) -> list[ksyms.Function]:
    """The kext's functions at their offsets in the image, for its table."""
    candidates = []
    for sym in obj.symbols:
        function = sym.type == "STT_FUNC"
        if not isinstance(sym.shndx, int) or sym.shndx not in offsets:
            continue
        if not (function or sym.type == "STT_NOTYPE") or not ksyms.wanted(sym.name, function):
            continue
        sec = obj.sections[sym.shndx]
        if not sec.flags & SH_FLAGS.SHF_EXECINSTR or not 0 <= sym.value < sec.size:
            continue  # a damaged symbol may point past its section: no name
        start = offsets[sym.shndx]
        candidates.append(
            ksyms.Candidate(
                address=start + sym.value,
                size=min(sym.size, sec.size - sym.value),
                name=sym.name,
                function=function,
                is_global=sym.bind == "STB_GLOBAL",
                limit=start + sec.size,
            )
        )
    return ksyms.select(candidates)


def _defined_address(obj: KextObject, layout: Layout, sym: Symbol, base: int) -> int | None:
    """Address of a symbol the object defines, or None when it is undefined."""
    if sym.shndx == "SHN_UNDEF":
        return None
    if sym.shndx == "SHN_ABS":
        return sym.value
    if sym.shndx == "SHN_COMMON":
        return base + layout.commons[sym.name]
    if isinstance(sym.shndx, int) and sym.shndx in layout.offsets:
        return base + layout.offsets[sym.shndx] + sym.value
    return None  # in a section that is not loaded (debug info): no address


def _is_exported(sym: Symbol) -> bool:
    return (
        sym.bind in ("STB_GLOBAL", "STB_WEAK")
        and sym.shndx != "SHN_UNDEF"
        and sym.visibility in ("STV_DEFAULT", "STV_PROTECTED")
        and sym.type != "STT_SECTION"
        and bool(sym.name)
    )


def read_object(obj: bytes | Path | str, name: str = "") -> KextObject:
    """Read and check an object once, for plan() and link_kext()."""
    data, name = _load(obj, name)
    return parse_object(data, name)


def _object(obj: ObjectSource, name: str) -> KextObject:
    return obj if isinstance(obj, KextObject) else read_object(obj, name)


def plan(obj: ObjectSource, name: str = "") -> Layout:
    """The image layout of an object: its size and the alignment it needs.

    Call it before asking the kernel for memory: the size does not depend on
    the load address."""
    return _layout(_object(obj, name))


def defined_globals(obj: ObjectSource, load_address: int, name: str = "") -> dict[str, int]:
    """The exported globals of an object linked at `load_address`.

    Use it to get the symbols of a library kext that is already loaded."""
    o = _object(obj, name)
    layout = _layout(o)
    result = {}
    for sym in o.symbols:
        if _is_exported(sym) and sym.name != KMOD_INFO_SYMBOL:
            address = _defined_address(o, layout, sym, load_address)
            if address is not None:
                result[sym.name] = address
    return result


def _load(obj: bytes | Path | str, name: str) -> tuple[bytes, str]:
    if isinstance(obj, bytes):
        return obj, name or "kext object"
    path = Path(obj)
    try:
        return path.read_bytes(), name or str(path)
    except FileNotFoundError:
        raise LinkError(name or str(path), ["no such file"]) from None
    except OSError as e:
        raise LinkError(name or str(path), [f"cannot be read ({e.strerror})"]) from None


def _prefix_for(bundle_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", bundle_id) + "_" if bundle_id else "com_example_mykext_"


def _unresolved_problem(name: str, ns: Namespace) -> str:
    exporters = ns.exporters(name)
    kpis = [lib.identifier for lib in exporters if lib.kind == "kpi"]
    kexts = [lib.identifier for lib in exporters if lib.kind != "kpi"]
    if kpis:
        which = " and ".join(kpis)
        return (
            f"undefined symbol {name}: exported by {which}, which the kext does not "
            f"declare: add {kpis[0]} to OSBundleLibraries in Info.plist"
        )
    if kexts:
        return (
            f"undefined symbol {name}: exported by the loaded kext {kexts[0]}, which the "
            f"kext does not declare: add {kexts[0]} to OSBundleLibraries in Info.plist"
        )
    if name in ns.kernel_globals:
        return (
            f"undefined symbol {name}: private to the kernel, exported by no KPI bundle: "
            "a kext may call only the KPI (see kernel/exports/*.exports)"
        )
    hint = symbol_hint(name, lambda plain: bool(ns.exporters(plain)))
    if hint is not None:
        return f"undefined symbol {name}: defined nowhere: {hint}"
    iokit = [lib.identifier for lib in ns.declared if lib.identifier in IOKIT_BUNDLES]
    if iokit and name.startswith(("IO", "OSKext")):
        return (
            f"undefined symbol {name}: an IOKit function, and Finch has no IOKit "
            f"({iokit[0]}, which the kext declares, has only IOLog, IOSleep, IODelay, "
            f"IOMalloc and IOFree).  {iokit_hint(name)}"
        )
    return (
        f"undefined symbol {name}: defined nowhere (not by the kernel, a KPI bundle or a "
        "loaded kext): check the spelling and the headers, or load the library kext "
        "that defines it and declare it in OSBundleLibraries"
    )


# The bundles a kext declares to reach IOKit: Finch's holds only IOLog,
# IOSleep, IODelay, IOMalloc and IOFree.
IOKIT_BUNDLES = ("com.apple.kpi.iokit", "com.apple.kernel.iokit", "com.apple.kernel")

# The BSD KPI call that does the work of an IOKit one NKEs often used.
_IOKIT_REPLACEMENTS = {
    "IOMallocAligned": "OSMalloc",
    "IOFreeAligned": "OSFree",
    "IOLockAlloc": "lck_mtx_alloc_init",
    "IOLockFree": "lck_mtx_free",
    "IOLockLock": "lck_mtx_lock",
    "IOLockUnlock": "lck_mtx_unlock",
}


def iokit_hint(name: str) -> str:
    """What to call instead of IOKit function `name`."""
    instead = _IOKIT_REPLACEMENTS.get(name)
    if instead is not None:
        return f"Call {instead} instead."
    return "Use the BSD, libkern and mach KPI instead (see docs/kpi/)."


def _collision_problems(obj: KextObject, ns: Namespace, bundle_id: str) -> list[str]:
    prefix = _prefix_for(bundle_id)
    problems = []
    for sym in obj.symbols:
        if not _is_exported(sym) or sym.name == KMOD_INFO_SYMBOL:
            continue
        owners = []
        if sym.name in ns.kernel_globals:
            kpis = [lib.identifier for lib in ns.exporters(sym.name) if lib.kind == "kpi"]
            owners.append(
                f"the kernel's (exported by {' and '.join(kpis)})"
                if kpis
                else "the kernel's (kernel-private)"
            )
        owners += [
            f"the loaded kext {lib.identifier}'s"
            for lib in ns.exporters(sym.name)
            if lib.kind != "kpi"
        ]
        if owners:
            problems.append(
                f"global symbol {sym.name} collides with a global of the same name, "
                f"{' and '.join(owners)}: "
                f"give it the kext's reverse-DNS prefix ({prefix}{sym.name}) "
                "or make it static"
            )
    return problems


def link_kext(
    obj: ObjectSource,
    load_address: int,
    namespace: Namespace,
    *,
    bundle_id: str = "",
    max_size: int | None = KMOD_MAX_IMAGE,
    name: str = "",
) -> LinkedImage:
    """Link the kext object `obj` to run at `load_address`.

    `bundle_id` names the kext in messages and in the suggested symbol
    prefix; `max_size` (bytes, by default the kernel's limit) refuses larger
    images before any memory is taken for them."""
    if isinstance(obj, KextObject):
        o, name = obj, name or obj.name
        subject = f"{bundle_id} ({name})" if bundle_id else name
    else:
        data, name = _load(obj, name)
        subject = f"{bundle_id} ({name})" if bundle_id else name
        o = parse_object(data, subject)
    data = o.data
    layout = _layout(o)
    if max_size is not None and layout.size > max_size:
        raise LinkError(
            subject,
            [
                f"the image is {layout.size} bytes ({layout.code_and_data} of code and "
                f"data, the rest its function names and padding to whole pages), more than "
                f"the limit of {max_size}: make the kext smaller (large static tables?) "
                "or raise the limit"
            ],
        )
    if load_address % layout.alignment:
        raise LinkError(
            subject,
            [
                f"load address {load_address:#x} is not aligned to {layout.alignment} "
                "bytes, as the object's sections need"
            ],
        )
    if load_address + layout.size > 1 << 32:
        raise LinkError(subject, [f"{layout.size} bytes at {load_address:#x} pass 4 GiB"])

    problems: list[str] = []
    addresses: dict[int, int] = {}  # symbol index -> address
    for sym in o.symbols:
        address = _defined_address(o, layout, sym, load_address)
        if address is None and sym.shndx == "SHN_UNDEF" and sym.name:
            address = namespace.resolve(sym.name)
            if address is None:
                if sym.bind == "STB_WEAK":
                    address = 0  # an unresolved weak reference is NULL, as in ELF
                elif sym.name != GLOBAL_OFFSET_TABLE:  # reported with its relocations
                    problems.append(_unresolved_problem(sym.name, namespace))
        if address is not None:
            addresses[sym.index] = address
    problems += _collision_problems(o, namespace, bundle_id)

    image = bytearray(layout.size)
    for i, offset in layout.offsets.items():
        sec = o.sections[i]
        image[offset : offset + len(sec.contents)] = sec.contents  # bss stays zero
    _put_symbol_table(image, layout, load_address)
    problems += _relocate(o, layout, image, addresses, load_address)
    if problems:
        raise LinkError(subject, problems)

    kmod_info = o.kmod_info()
    kmod_info_address = addresses.get(kmod_info.index) if kmod_info else None
    if kmod_info_address is None:
        raise LinkError(
            subject,
            [
                "defines no global kmod_info: build the kext with `finch build`, which "
                "generates it from Info.plist, or declare it with KMOD_EXPLICIT_DECL"
            ],
        )

    exported = {
        s.name: addresses[s.index]
        for s in o.symbols
        if _is_exported(s) and s.name != KMOD_INFO_SYMBOL and s.index in addresses
    }
    sections = tuple(
        PlacedSection(
            index=i,
            name=o.sections[i].name,
            address=load_address + off,
            size=o.sections[i].size,
            nobits=o.sections[i].nobits,
        )
        for i, off in sorted(layout.offsets.items(), key=lambda kv: kv[1])
    )
    return LinkedImage(
        image=bytes(image),
        load_address=load_address,
        kmod_info_address=kmod_info_address,
        symbols=exported,
        sections=sections,
        source=data,
    )


def _put_symbol_table(image: bytearray, layout: Layout, load_address: int) -> None:
    """The function names after the code and data, the trailer in the
    last bytes of the last page (finch.ksyms)."""
    table = ksyms.encode(layout.functions, load_address)
    image[layout.symbols_offset : layout.symbols_offset + len(table)] = table
    image[-ksyms.TRAILER.size :] = ksyms.trailer(layout.symbols_offset, len(layout.functions))


def _relocate(
    o: KextObject, layout: Layout, image: bytearray, addresses: dict[int, int], base: int
) -> list[str]:
    """Apply every relocation that patches a loaded section; return problems.
    (Debug info and other unloaded sections: gdb relocates those.)
    Relocations refused for the same reason (a PIC object has dozens) make
    one problem, naming the first and counting the others."""
    problems: list[str] = []
    refused: dict[str, list[str]] = {}  # why -> the places, "R_386_GOTPC at .text+0x5"
    for table in o.relocations:
        tname = table.target.name
        if table.target.nobits:
            problems.append(f"section {tname} has no contents but has relocations")
            continue
        for rel in table.relocations:
            offset, rtype, symidx = rel.offset, rel.type, rel.symbol
            where = f"{tname}+{offset:#x}"
            why = relocation_hint(rtype, o.symbols[symidx].name)
            if why is not None:
                refused.setdefault(why, []).append(f"{relocation_name(rtype)} at {where}")
                continue
            if rtype == R_386_NONE:
                continue
            if offset + 4 > table.target.size:
                problems.append(
                    f"relocation at {where} lies outside the section ({table.target.size} "
                    f"bytes): the object is damaged; rebuild the kext (`make build`)"
                )
                continue
            if symidx not in addresses:
                if symidx == 0:
                    addresses[0] = 0  # no symbol: the addend alone
                elif o.symbols[symidx].shndx == "SHN_UNDEF" and o.symbols[symidx].name:
                    continue  # unresolved: already reported
                else:
                    problems.append(_unplaced_problem(o.symbols[symidx], where))
                    continue
            site = layout.offsets[table.target.index] + offset
            if rel.addend is not None:
                addend = rel.addend
            else:
                (addend,) = struct.unpack_from("<i", image, site)
            value = addresses[symidx] + addend
            if rtype != R_386_32:
                value -= base + site  # PC-relative: S + A - P
            struct.pack_into("<I", image, site, value & 0xFFFFFFFF)
    for why, places in refused.items():
        more = f" (and {len(places) - 1} more like it)" if len(places) > 1 else ""
        problems.append(f"unsupported relocation {places[0]}{more}: {why}")
    return problems


def _unplaced_problem(sym: Symbol, where: str) -> str:
    """Why a relocation's symbol has no address."""
    if sym.shndx == "SHN_UNDEF":
        return (
            f"relocation at {where} refers to symbol {sym.index}, which is undefined and "
            "has no name: the object is damaged; rebuild the kext (`make build`)"
        )
    return (
        f"relocation at {where} refers to {sym.name or f'symbol {sym.index}'} in a "
        "section that is not loaded"
    )


def with_section_addresses(data: bytes, sections: Sequence[PlacedSection]) -> bytes:
    """A copy of an ELF32 object whose sh_addr fields hold the load addresses."""
    out = bytearray(data)
    (shoff,) = struct.unpack_from("<I", out, 0x20)
    shentsize, _shnum = struct.unpack_from("<HH", out, 0x2E)
    for s in sections:
        struct.pack_into("<I", out, shoff + s.index * shentsize + 12, s.address)
    return bytes(out)
