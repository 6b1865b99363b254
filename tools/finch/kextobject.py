"""Read and check a kext's executable, an i386 ELF relocatable object.

parse_object() is where the file a student hands kextload is parsed, and
the only place: it reads the object once with pyelftools into plain
records (sections with their contents, symbols, relocations) that the
linker (finch.link) and the bundle check (finch.kext.bundle) use without
touching the file again.  Anything the linker could not trust is refused
here with a LinkError that names the file and says what is wrong:

  - the wrong kind of file: not ELF, 64-bit, big-endian, not i386, not
    relocatable; each says how the kext should be built instead;
  - a damaged file: a header, section, symbol table or string table that
    runs past the end of the file; a section, symbol or string index that
    points nowhere; entry sizes that are not ELF32's; a section type no
    relocatable object has.

The checks come before pyelftools builds its section objects, so that it
only ever reads a table that lies inside the file; whatever it still
finds wrong (ELFError) is turned into the same kind of refusal.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.common.utils import struct_parse
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_E_MACHINE
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from finch.errors import LinkError, printable

KMOD_INFO_SYMBOL = "kmod_info"

# kmod_info_t (pack 4): next, info_version, id, then name[64], version[64].
KMOD_NAME_OFFSET = 12
KMOD_VERSION_OFFSET = 76
KMOD_STRING_SIZE = 64

EM_386 = 3
ET_REL = 1
ELF32_HEADER_SIZE = 52
SECTION_HEADER_SIZE = 40
SYMBOL_SIZE = 16
ENTRY_SIZES = {"SHT_SYMTAB": SYMBOL_SIZE, "SHT_REL": 8, "SHT_RELA": 12}
SHT_LOOS = 0x6000_0000  # types from here up are OS- or processor-specific

# Section types only a linked executable or shared library holds.
_LINKED_ONLY_TYPES = frozenset(
    {
        "SHT_HASH",
        "SHT_DYNAMIC",
        "SHT_SHLIB",
        "SHT_DYNSYM",
        "SHT_RELR",
        "SHT_GNU_HASH",
        "SHT_GNU_LIBLIST",
        "SHT_GNU_verdef",
        "SHT_GNU_verneed",
        "SHT_GNU_versym",
        "SHT_SUNW_LDYNSYM",
        "SHT_SUNW_syminfo",
    }
)

# Symbol section indices that are not sections.
SPECIAL_SECTION_INDICES = ("SHN_UNDEF", "SHN_ABS", "SHN_COMMON")

REBUILD = "rebuild the kext (`make build`)"
BUILD_FLAGS = "compile the kext with gcc -m32 (`make build` does)"

_ELF_HEADER = struct.Struct("<16sHH")  # e_ident, e_type, e_machine


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: str | int  # pyelftools' name ("SHT_PROGBITS"), or the number if it has none
    flags: int
    size: int
    alignment: int
    link: int  # sh_link: a symbol table's names, a relocation table's symbols
    info: int  # sh_info: the section a relocation table patches
    contents: bytes = field(repr=False)  # b"" for SHT_NOBITS

    @property
    def loaded(self) -> bool:
        """Part of the image the kernel runs (SHF_ALLOC)."""
        return bool(self.flags & SH_FLAGS.SHF_ALLOC) and self.type != "SHT_NULL"

    @property
    def nobits(self) -> bool:
        return self.type == "SHT_NOBITS"


@dataclass(frozen=True)
class Symbol:
    index: int
    name: str
    bind: str | int
    type: str | int
    visibility: str
    shndx: int | str  # a section index, or "SHN_UNDEF" / "SHN_ABS" / "SHN_COMMON"
    value: int
    size: int


@dataclass(frozen=True)
class Relocation:
    offset: int
    type: int
    symbol: int  # an index into KextObject.symbols
    addend: int | None  # RELA's; None for REL (the addend is in the section)


@dataclass(frozen=True)
class RelocationTable:
    """One .rel or .rela section: the relocations of one loaded section."""

    target: Section
    relocations: tuple[Relocation, ...]


@dataclass(frozen=True)
class BuiltAs:
    """The name and version kmod_info holds: what the kernel calls the kext."""

    name: str
    version: str


@dataclass(frozen=True)
class KextObject:
    """What the linker needs from the object, read once by parse_object()."""

    name: str  # the file, for messages
    data: bytes = field(repr=False)
    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]
    relocations: tuple[RelocationTable, ...]  # those that patch loaded sections

    @property
    def loaded_sections(self) -> list[Section]:
        return [s for s in self.sections if s.loaded]

    def kmod_info(self) -> Symbol | None:
        """The global kmod_info the object defines in a section, if any."""
        for sym in self.symbols:
            if sym.name == KMOD_INFO_SYMBOL and sym.bind == "STB_GLOBAL":
                return sym if isinstance(sym.shndx, int) else None
        return None

    def built_as(self) -> BuiltAs | None:
        """The name and version in kmod_info (from Info.plist at build time)."""
        sym = self.kmod_info()
        if sym is None:
            return None
        contents = self.sections[int(sym.shndx)].contents
        return BuiltAs(
            name=kmod_string(contents, sym.value + KMOD_NAME_OFFSET),
            version=kmod_string(contents, sym.value + KMOD_VERSION_OFFSET),
        )


def kmod_string(data: bytes, offset: int) -> str:
    """The NUL-terminated string in a char[KMOD_STRING_SIZE] at `offset`."""
    raw = data[offset : offset + KMOD_STRING_SIZE].split(b"\0", 1)[0]
    return printable(raw.decode("utf-8", "replace"))


def _damaged(name: str, what: str) -> LinkError:
    return LinkError(name, [f"is damaged: {what}: {REBUILD}"])


# -- the ELF header -----------------------------------------------------------


def _machine_name(number: int) -> str:
    for name, value in ENUM_E_MACHINE.items():
        if value == number and name.startswith("EM_"):
            return name
    return f"machine {number}"


def check_header(data: bytes, name: str) -> None:
    """Refuse anything but a little-endian ELF32 i386 relocatable object,
    saying what the file is and how a kext is built."""
    if data[:4] != b"\x7fELF":
        raise LinkError(
            name,
            [
                f"not an ELF file (it starts with {data[:4]!r}): a kext executable is the "
                "ELF relocatable object that `finch build` puts in Contents/MacOS"
            ],
        )
    elf_class = data[4] if len(data) > 4 else 0
    encoding = data[5] if len(data) > 5 else 0
    if elf_class == 2:
        raise LinkError(
            name,
            [
                "is a 64-bit ELF object (ELFCLASS64, probably x86_64): Finch's guest is "
                f"i386; {BUILD_FLAGS}"
            ],
        )
    if elf_class != 1:
        raise _damaged(name, f"its ELF class (EI_CLASS) is {elf_class}, neither 32 nor 64-bit")
    if encoding == 2:
        machine = int.from_bytes(data[18:20], "big")
        raise LinkError(
            name,
            [
                f"is a big-endian ELF object (ELFDATA2MSB, built for {_machine_name(machine)}): "
                f"Finch's guest is little-endian i386; {BUILD_FLAGS}"
            ],
        )
    if encoding != 1:
        raise _damaged(name, f"its byte order (EI_DATA) is {encoding}, neither little nor big")
    if len(data) < ELF32_HEADER_SIZE:
        raise _damaged(
            name, f"it is {len(data)} bytes long, shorter than an ELF header ({ELF32_HEADER_SIZE})"
        )
    _ident, etype, machine = _ELF_HEADER.unpack_from(data)
    if machine != EM_386:
        raise LinkError(
            name, [f"is built for {_machine_name(machine)}, not i386 (EM_386): {BUILD_FLAGS}"]
        )
    if etype != ET_REL:
        raise LinkError(name, [_not_relocatable(etype)])


def _not_relocatable(etype: int) -> str:
    what = {
        0: ("ET_NONE", "its type field is empty: the file is damaged; " + REBUILD),
        2: (
            "ET_EXEC",
            "it was linked into an executable; a kext executable is made with gcc -c "
            "and ld -r, as `make build` does",
        ),
        3: (
            "ET_DYN",
            "it is a shared library or a position-independent executable (-shared, "
            "-pie); a kext executable is made with gcc -c -fno-pic and ld -r, as "
            "`make build` does",
        ),
        4: ("ET_CORE", "it is a core dump, not a compiled kext; " + REBUILD),
    }
    kind, why = what.get(etype, (f"type {etype}", "an unknown ELF type: " + REBUILD))
    return f"is {kind}, not a relocatable object (ET_REL): {why}"


# -- reading ---------------------------------------------------------------------


def parse_object(data: bytes, name: str) -> KextObject:
    """Check and read a kext object; raise LinkError naming `name`."""
    check_header(data, name)
    try:
        elf = ELFFile(io.BytesIO(data))
        sections = _read_sections(elf, data, name)
        symtab = _symbol_table(sections, name)
        symbols = _read_symbols(elf, symtab, sections, name) if symtab is not None else ()
        relocations = _read_relocations(elf, sections, symtab, len(symbols), name)
    except ELFError as e:  # what pyelftools still finds wrong (ELFParseError too)
        raise _damaged(name, str(e)) from None
    return KextObject(name, data, sections, symbols, relocations)


def _read_sections(elf: ELFFile, data: bytes, name: str) -> tuple[Section, ...]:
    """Every section, after checking its header against the file."""
    shoff, shnum = int(elf["e_shoff"]), int(elf["e_shnum"])
    if shoff == 0 or shnum == 0:
        raise _damaged(name, "it has no section headers")
    if elf["e_shentsize"] != SECTION_HEADER_SIZE:
        raise _damaged(
            name,
            f"its section headers are {elf['e_shentsize']} bytes each, "
            f"not ELF32's {SECTION_HEADER_SIZE}",
        )
    if shoff + shnum * SECTION_HEADER_SIZE > len(data):
        raise _damaged(
            name,
            f"its section header table ({shnum} entries at offset {shoff:#x}) runs past "
            f"the end of the file ({len(data)} bytes)",
        )
    headers = [
        struct_parse(elf.structs.Elf_Shdr, elf.stream, shoff + i * SECTION_HEADER_SIZE)
        for i in range(shnum)
    ]
    shstrndx = int(elf["e_shstrndx"])
    if shstrndx >= shnum:
        raise _damaged(
            name,
            f"its header puts the section names in section {shstrndx}, but it has {shnum} sections",
        )
    if headers[shstrndx]["sh_type"] != "SHT_STRTAB":
        raise _damaged(
            name,
            f"its header puts the section names in section {shstrndx}, which is "
            f"{headers[shstrndx]['sh_type']}, not a string table",
        )
    names = _contents(headers[shstrndx], shstrndx, "", data, name)
    sections = []
    for i, h in enumerate(headers):
        if h["sh_name"] >= max(len(names), 1):
            raise _damaged(name, f"the name of section {i} lies outside the section names")
        sname = _cstring(names, h["sh_name"]) or f"[{i}]"
        sections.append(_section(i, sname, h, shnum, data, name))
    return tuple(sections)


def _section(index: int, sname: str, h: Any, shnum: int, data: bytes, name: str) -> Section:
    stype = h["sh_type"]
    if stype in _LINKED_ONLY_TYPES:
        raise _damaged(
            name, f"section {sname} is {stype}, which only executables and shared libraries have"
        )
    if isinstance(stype, int) and stype < SHT_LOOS:
        raise _damaged(name, f"section {sname} has type {stype}, which ELF does not define")
    alignment = int(h["sh_addralign"])
    if alignment & (alignment - 1):
        raise _damaged(name, f"section {sname} is aligned to {alignment}, not a power of two")
    if stype in ENTRY_SIZES:
        entry = ENTRY_SIZES[stype]
        if h["sh_entsize"] != entry or h["sh_size"] % entry:
            raise _damaged(
                name,
                f"section {sname} ({stype}) holds {h['sh_size']} bytes of "
                f"{h['sh_entsize']}-byte entries; ELF32's are {entry} bytes",
            )
        if h["sh_link"] >= shnum or (stype != "SHT_SYMTAB" and h["sh_info"] >= shnum):
            raise _damaged(
                name, f"section {sname} ({stype}) links to a section the file does not have"
            )
    return Section(
        index=index,
        name=sname,
        type=stype,
        flags=int(h["sh_flags"]),
        size=int(h["sh_size"]),
        alignment=max(alignment, 1),
        link=int(h["sh_link"]),
        info=int(h["sh_info"]),
        contents=_contents(h, index, sname, data, name),
    )


def _contents(h: Any, index: int, sname: str, data: bytes, name: str) -> bytes:
    """A section's bytes, after checking they lie inside the file."""
    if h["sh_type"] in ("SHT_NOBITS", "SHT_NULL"):
        return b""
    start, size = int(h["sh_offset"]), int(h["sh_size"])
    if start + size > len(data):
        raise _damaged(
            name,
            f"section {sname or index} ({size} bytes at offset {start:#x}) runs past the "
            f"end of the file ({len(data)} bytes)",
        )
    return data[start : start + size]


def _cstring(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    return printable(table[offset : end if end >= 0 else len(table)].decode("utf-8", "replace"))


def _symbol_table(sections: tuple[Section, ...], name: str) -> Section | None:
    """The object's one symbol table, its string table checked; None if it has none."""
    tables = [s for s in sections if s.type == "SHT_SYMTAB"]
    if not tables:
        return None
    if len(tables) > 1:
        raise _damaged(name, f"it has {len(tables)} symbol tables; an object has one")
    strtab = sections[tables[0].link]
    if strtab.type != "SHT_STRTAB":
        raise _damaged(name, f"the symbol table's names are in {strtab.name}, not a string table")
    return tables[0]


def _read_symbols(
    elf: ELFFile, symtab: Section, sections: tuple[Section, ...], name: str
) -> tuple[Symbol, ...]:
    table = elf.get_section(symtab.index)
    assert isinstance(table, SymbolTableSection)
    names = sections[symtab.link].contents
    symbols = []
    for i, s in enumerate(table.iter_symbols()):
        if s["st_name"] >= max(len(names), 1):
            raise _damaged(name, f"the name of symbol {i} lies outside the symbol names")
        shndx = s["st_shndx"]
        sym = Symbol(
            index=i,
            name=_cstring(names, s["st_name"]),
            bind=s["st_info"]["bind"],
            type=s["st_info"]["type"],
            visibility=s["st_other"]["visibility"],
            shndx=shndx,
            value=int(s["st_value"]),
            size=int(s["st_size"]),
        )
        what = sym.name or f"{i}"
        if isinstance(shndx, int) and shndx >= len(sections):
            raise _damaged(
                name,
                f"symbol {what} is defined in section {shndx}, but the file has "
                f"{len(sections)} sections",
            )
        if isinstance(shndx, str) and shndx not in SPECIAL_SECTION_INDICES:
            raise _damaged(name, f"symbol {what} has the section index {shndx}")
        if shndx == "SHN_COMMON" and sym.value & (sym.value - 1):
            raise _damaged(
                name, f"common symbol {what} is aligned to {sym.value}, not a power of two"
            )
        symbols.append(sym)
    return tuple(symbols)


def _read_relocations(
    elf: ELFFile,
    sections: tuple[Section, ...],
    symtab: Section | None,
    nsymbols: int,
    name: str,
) -> tuple[RelocationTable, ...]:
    """The relocation sections that patch loaded sections, each entry's
    symbol checked.  (Those of debug info are gdb's business.)"""
    tables = []
    for sec in sections:
        if sec.type not in ("SHT_REL", "SHT_RELA"):
            continue
        target = sections[sec.info]
        if not target.loaded:
            continue
        if symtab is None or sec.link != symtab.index:
            raise _damaged(name, f"section {sec.name} does not use the object's symbol table")
        rsec = elf.get_section(sec.index)
        assert isinstance(rsec, RelocationSection)
        relocations = []
        for rel in rsec.iter_relocations():
            if rel["r_info_sym"] >= nsymbols:
                raise _damaged(
                    name,
                    f"a relocation at {target.name}+{rel['r_offset']:#x} refers to symbol "
                    f"{rel['r_info_sym']}, but the symbol table has {nsymbols}",
                )
            relocations.append(
                Relocation(
                    offset=int(rel["r_offset"]),
                    type=int(rel["r_info_type"]),
                    symbol=int(rel["r_info_sym"]),
                    addend=int(rel["r_addend"]) if rel.is_RELA() else None,
                )
            )
        tables.append(RelocationTable(target, tuple(relocations)))
    return tuple(tables)
