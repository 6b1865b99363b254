"""Function names for the guest itself: the symbol tables that the kernel
reads (kernel/kern/ksyms.c) to print `tick+0x10` after a code address.

One layout serves the kernel and every kext.  A table fills a region of
guest memory and ends with a trailer:

    region + offset        count entries, sorted by address, 12 bytes each:
                             u32 address   where the function starts
                             u32 size      its bytes
                             u32 name      offset of its name in the names
    after the entries      the names, each ending with a NUL; the names run
                           up to the trailer (zero padding is allowed)
    region + size - 16     the trailer: u32 magic ("KSYM"), u32 version,
                           u32 offset (of the entries), u32 count

all little-endian.  The kernel's region is its .ksyms section, which the
build links last (finch.build); a kext's is its whole page-rounded block,
whose last 16 bytes the host linker fills (finch.link).  A block without
the magic has no names.  The kernel checks everything a kext's table says
before it believes it; decode() here does the same checks, for the tests
and the build.

Which symbols: functions (STT_FUNC) and assembly labels (STT_NOTYPE)
in code sections, local or global; labels whose names start with "_" or
"." are the linker script's and the assembler's markers and are left
out.  At one address a global function wins over a local one, a function
over a label.  A symbol without a size runs to the next one, or to the end
of its section.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from finch import elf32

MAGIC = 0x4D59534B  # b"KSYM", little-endian
VERSION = 1
ENTRY = struct.Struct("<III")
TRAILER = struct.Struct("<IIII")
ALIGNMENT = 4  # of the entries and of the trailer
PAGE_SIZE = 4096  # a kext's block is whole pages of this size

SHF_EXECINSTR = 0x4
STT_NOTYPE = 0
STT_FUNC = 2


class KsymError(ValueError):
    """A table that the kernel would refuse (decode())."""


@dataclass(frozen=True)
class Function:
    """One row of a table: the code in [address, address + size) is `name`."""

    address: int
    size: int
    name: str


@dataclass(frozen=True)
class Candidate:
    """A symbol that may name code, as an ELF reader found it."""

    address: int
    size: int
    name: str
    function: bool  # STT_FUNC; else an assembly label (STT_NOTYPE)
    is_global: bool
    limit: int  # the end of its section: a symbol without a size stops there


def wanted(name: str, function: bool) -> bool:
    """Does a symbol of this name and kind name code?"""
    if not name:
        return False
    return function or not name.startswith(("_", "."))


def select(candidates: Iterable[Candidate]) -> list[Function]:
    """The functions of a table: one per address, sorted, each with a size."""
    best: dict[int, Candidate] = {}
    for c in candidates:
        old = best.get(c.address)
        if old is None or (c.function, c.is_global) > (old.function, old.is_global):
            best[c.address] = c
    ordered = sorted(best.values(), key=lambda c: c.address)
    functions = []
    for i, c in enumerate(ordered):
        size = c.size
        if size == 0:
            following = ordered[i + 1].address if i + 1 < len(ordered) else c.limit
            size = min(following, c.limit) - c.address
        if size > 0:
            functions.append(Function(c.address, size, c.name))
    return functions


def kernel_functions(elf: bytes) -> list[Function]:
    """The functions of a linked kernel ELF, from its symbol table."""
    sections = elf32.read_sections(elf)
    code = {s.index: s for s in sections if s.flags & elf32.SHF_ALLOC and s.flags & SHF_EXECINSTR}
    candidates = []
    for sym in elf32.read_symbols(elf, sections):
        section = code.get(sym.shndx)
        function = sym.type == STT_FUNC
        if section is None or not (function or sym.type == STT_NOTYPE):
            continue
        if not wanted(sym.name, function):
            continue
        end = section.addr + section.size
        if not section.addr <= sym.value < end:
            continue
        candidates.append(
            Candidate(
                address=sym.value,
                size=min(sym.size, end - sym.value),
                name=sym.name,
                function=function,
                is_global=sym.bind == elf32.STB_GLOBAL,
                limit=end,
            )
        )
    return select(candidates)


def _name_bytes(name: str) -> bytes:
    return name.encode("utf-8", "replace").split(b"\0", 1)[0]


def _pool(functions: Sequence[Function]) -> tuple[bytes, list[int]]:
    """The names, each once, and each function's offset into them."""
    pool = bytearray()
    at: dict[bytes, int] = {}
    offsets = []
    for f in functions:
        name = _name_bytes(f.name)
        if name not in at:
            at[name] = len(pool)
            pool += name + b"\0"
        offsets.append(at[name])
    return bytes(pool), offsets


def table_size(functions: Sequence[Function]) -> int:
    """Bytes of the entries and the names (not the trailer): it does not
    depend on where the functions are, so a kext's image can be planned
    before its load address is known."""
    pool, _ = _pool(functions)
    return len(functions) * ENTRY.size + len(pool)


def encode(functions: Sequence[Function], base: int = 0) -> bytes:
    """The entries and the names; each address is `base` + the function's."""
    pool, offsets = _pool(functions)
    entries = b"".join(
        ENTRY.pack(base + f.address, f.size, name)
        for f, name in zip(functions, offsets, strict=True)
    )
    return entries + pool


def trailer(offset: int, count: int) -> bytes:
    return TRAILER.pack(MAGIC, VERSION, offset, count)


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def section(functions: Sequence[Function]) -> bytes:
    """The kernel's .ksyms section: the table from its first byte, then
    zero padding to the trailer's alignment, then the trailer."""
    table = encode(functions)
    padded = table + bytes(_align(len(table), ALIGNMENT) - len(table))
    return padded + trailer(0, len(functions))


def decode(region: bytes, low: int, high: int) -> list[Function]:
    """The functions of the table that `region` ends with; every one must
    lie in [low, high).  KsymError says what the kernel would refuse."""
    if len(region) < TRAILER.size:
        raise KsymError(f"{len(region)} bytes cannot hold the {TRAILER.size}-byte trailer")
    magic, version, offset, count = TRAILER.unpack_from(region, len(region) - TRAILER.size)
    if magic != MAGIC:
        raise KsymError(f"no table: the trailer's magic is {magic:#010x}, not {MAGIC:#010x}")
    if version != VERSION:
        raise KsymError(f"version {version}, not {VERSION}")
    room = len(region) - TRAILER.size
    if offset > room or count > (room - offset) // ENTRY.size:
        raise KsymError(f"{count} entries at offset {offset} do not fit before the trailer")
    names = region[offset + count * ENTRY.size : room]
    functions = []
    previous = None
    for i in range(count):
        address, size, name = ENTRY.unpack_from(region, offset + i * ENTRY.size)
        if not low <= address < high or size > high - address:
            raise KsymError(f"entry {i} ({address:#x}, {size} bytes) is outside the image")
        if previous is not None and address <= previous:
            raise KsymError(f"entry {i} ({address:#x}) is not above the one before it")
        end = names.find(b"\0", name)
        if name >= len(names) or end < 0:
            raise KsymError(f"entry {i}'s name does not end before the trailer")
        functions.append(Function(address, size, names[name:end].decode("utf-8", "replace")))
        previous = address
    return functions
