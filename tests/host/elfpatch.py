"""Damage an ELF32 object on purpose: set one field of its header, of a
section header, of a symbol or of a relocation, for the tests of what
kextload says about broken kext objects."""

from __future__ import annotations

import struct

from finch.elf32 import read_sections, read_symbols

# Field -> (offset in its entry, struct format).
ELF_HEADER = {
    "e_ident_class": (4, "B"),
    "e_ident_data": (5, "B"),
    "e_type": (16, "<H"),
    "e_machine": (18, "<H"),
    "e_shoff": (32, "<I"),
    "e_shentsize": (46, "<H"),
    "e_shnum": (48, "<H"),
    "e_shstrndx": (50, "<H"),
}
SECTION = {
    "sh_name": (0, "<I"),
    "sh_type": (4, "<I"),
    "sh_flags": (8, "<I"),
    "sh_offset": (16, "<I"),
    "sh_size": (20, "<I"),
    "sh_link": (24, "<I"),
    "sh_info": (28, "<I"),
    "sh_addralign": (32, "<I"),
    "sh_entsize": (36, "<I"),
}
SYMBOL = {"st_name": (0, "<I"), "st_value": (4, "<I"), "st_shndx": (14, "<H")}
REL = {"r_offset": (0, "<I"), "r_info": (4, "<I")}


def _put(data: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def set_header(data: bytes, field: str, value: int) -> bytes:
    offset, fmt = ELF_HEADER[field]
    return _put(data, offset, fmt, value)


def section_header(data: bytes, name: str) -> int:
    """File offset of the header of section `name`."""
    return next(s.header_offset for s in read_sections(data) if s.name == name)


def set_section(data: bytes, name: str, field: str, value: int) -> bytes:
    offset, fmt = SECTION[field]
    return _put(data, section_header(data, name) + offset, fmt, value)


def section_field(data: bytes, name: str, field: str) -> int:
    offset, fmt = SECTION[field]
    return int(struct.unpack_from(fmt, data, section_header(data, name) + offset)[0])


def set_symbol(data: bytes, name: str, field: str, value: int) -> bytes:
    entry = next(s.entry_offset for s in read_symbols(data) if s.name == name)
    offset, fmt = SYMBOL[field]
    return _put(data, entry + offset, fmt, value)


def set_relocation(data: bytes, section: str, index: int, field: str, value: int) -> bytes:
    """Set a field of the index-th entry of a REL section (e.g. ".rel.text")."""
    start = section_field(data, section, "sh_offset")
    offset, fmt = REL[field]
    return _put(data, start + 8 * index + offset, fmt, value)


def relocation(data: bytes, section: str, index: int) -> tuple[int, int, int]:
    """(r_offset, type, symbol index) of the index-th entry of a REL section."""
    start = section_field(data, section, "sh_offset")
    r_offset, r_info = struct.unpack_from("<II", data, start + 8 * index)
    return r_offset, r_info & 0xFF, r_info >> 8
