"""ELF32 section headers and symbol tables read with struct: the few facts
kextload needs from the kernel ELF on every run (its globals and its build
id), in about a millisecond where pyelftools takes tens.

Also with_absolute_symbols(), which turns a kext's symbol file (a
relocatable object whose section headers carry load addresses, see
LinkedImage.write_symbol_file) into one whose symbols carry them too, so
that a reader that ignores sh_addr (pyelftools' DWARF relocation, a
function table) sees the addresses the kext runs at.

Only little-endian ELF32 is understood; anything else raises Elf32Error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SHT_SYMTAB = 2
SHT_NOBITS = 8
SHF_ALLOC = 0x2
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
STB_GLOBAL = 1
STB_WEAK = 2
ET_REL = 1

_EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
_SHDR = struct.Struct("<IIIIIIIIII")
_SYM = struct.Struct("<IIIBBH")


class Elf32Error(ValueError):
    """Not a little-endian ELF32 file, or a damaged one."""


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    header_offset: int  # where this section header sits in the file


@dataclass(frozen=True)
class Symbol:
    index: int
    name: str
    value: int
    size: int
    bind: int
    type: int
    shndx: int
    entry_offset: int  # where this symbol's entry sits in the file


def _cstring(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset : end if end >= 0 else len(data)].decode("utf-8", "replace")


def elf_type(data: bytes) -> int:
    _check_ident(data)
    return int(_EHDR.unpack_from(data)[1])


def _check_ident(data: bytes) -> None:
    if len(data) < _EHDR.size or data[:4] != b"\x7fELF":
        raise Elf32Error("not an ELF file")
    if data[4] != 1 or data[5] != 1:
        raise Elf32Error("not a little-endian ELF32 file")


def read_sections(data: bytes) -> list[Section]:
    _check_ident(data)
    fields = _EHDR.unpack_from(data)
    shoff, shentsize, shnum, shstrndx = fields[6], fields[11], fields[12], fields[13]
    if shoff == 0 or shnum == 0:
        return []
    if shentsize < _SHDR.size or shoff + shnum * shentsize > len(data):
        raise Elf32Error("the section header table runs past the end of the file")
    raw = [_SHDR.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    names_at = raw[shstrndx][4] if shstrndx < shnum else 0
    return [
        Section(
            index=i,
            name=_cstring(data, names_at + h[0]) if names_at else "",
            type=h[1],
            flags=h[2],
            addr=h[3],
            offset=h[4],
            size=h[5],
            link=h[6],
            header_offset=shoff + i * shentsize,
        )
        for i, h in enumerate(raw)
    ]


def read_symbols(data: bytes, sections: list[Section] | None = None) -> list[Symbol]:
    """The entries of .symtab (none when the file has no symbol table)."""
    sections = read_sections(data) if sections is None else sections
    symtab = next((s for s in sections if s.type == SHT_SYMTAB), None)
    if symtab is None:
        return []
    if symtab.offset + symtab.size > len(data) or symtab.link >= len(sections):
        raise Elf32Error("the symbol table runs past the end of the file")
    strtab = sections[symtab.link].offset
    symbols = []
    for i in range(symtab.size // _SYM.size):
        at = symtab.offset + i * _SYM.size
        name, value, size, info, _other, shndx = _SYM.unpack_from(data, at)
        symbols.append(
            Symbol(i, _cstring(data, strtab + name), value, size, info >> 4, info & 0xF, shndx, at)
        )
    return symbols


def has_symbol_table(data: bytes) -> bool:
    return any(s.type == SHT_SYMTAB for s in read_sections(data))


def defined_globals(data: bytes) -> dict[str, int]:
    """Global and weak symbols the file defines: name -> value (an
    address, in a linked image)."""
    return {
        s.name: s.value
        for s in read_symbols(data)
        if s.bind in (STB_GLOBAL, STB_WEAK) and s.shndx != SHN_UNDEF and s.name
    }


def symbol_string(data: bytes, name: str) -> str | None:
    """The NUL-terminated string a linked image defines under `name`
    (finch_build_id), or None."""
    sections = read_sections(data)
    for sym in read_symbols(data, sections):
        if sym.name != name or sym.shndx == SHN_UNDEF or sym.shndx >= len(sections):
            continue
        sec = sections[sym.shndx]
        if sec.type == SHT_NOBITS:
            return None
        start = sec.offset + sym.value - sec.addr
        return data[start : start + sym.size].split(b"\0", 1)[0].decode("ascii", "replace")
    return None


def with_absolute_symbols(data: bytes) -> bytes:
    """A copy of a relocatable object in which every symbol of a loaded
    section holds sh_addr + st_value, the address it runs at."""
    sections = read_sections(data)
    out = bytearray(data)
    for sym in read_symbols(data, sections):
        if sym.shndx == SHN_UNDEF or sym.shndx >= min(SHN_LORESERVE, len(sections)):
            continue
        sec = sections[sym.shndx]
        if sec.flags & SHF_ALLOC:
            struct.pack_into("<I", out, sym.entry_offset + 4, (sec.addr + sym.value) & 0xFFFFFFFF)
    return bytes(out)
