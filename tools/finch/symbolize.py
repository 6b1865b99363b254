"""Addresses to names: function+offset from the ELF symbol table and
file:line from the DWARF line program.

A Symbolizer holds one or more ELF images: the kernel (linked where it
runs) and, later, kexts loaded at runtime addresses.  Each image is read
once into two sorted tables (function starts, line rows) that lookups
bisect.

    sym = Symbolizer.for_kernel(Path("images/finch.elf"))
    sym.add_image(Path("build/kexts/Foo.elf"), load_address=0x00400000, name="Foo")
    sym.add_image(Path("build/run/symbols/com.example.foo.sym"), name="com.example.foo")
    str(sym.lookup(0x00101234))   # 'crash_null_deref+0x4 (kernel/kern/crash.c:27)'

A relocatable object whose section headers carry load addresses (the
symbol file kextload writes for each kext it links) is read at those
addresses: its symbols and DWARF are placed section by section.

A kext's debugging information comes from the student's object and is
not checked when the kext loads, so it may be damaged: an image whose
line programs pyelftools cannot read still names functions, without
file:line, and says why in ElfImage.problem.
"""

from __future__ import annotations

import bisect
import io
import posixpath
import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from finch.elf32 import ET_REL, Elf32Error, elf_type, with_absolute_symbols
from finch.errors import FinchError


@dataclass(frozen=True)
class Location:
    """What is known about one address."""

    address: int
    image: str | None = None  # which image holds it; None when none does
    function: str | None = None
    offset: int = 0  # from the start of `function`
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        """'crash_null_deref+0x4 (kernel/kern/crash.c:27)'; '??' when unknown."""
        text = f"{self.function}+{self.offset:#x}" if self.function else "??"
        if self.file is not None and self.line is not None:
            text += f" ({self.file}:{self.line})"
        return text

    def __str__(self) -> str:
        return self.where()


@dataclass(frozen=True)
class _Function:
    start: int
    size: int
    name: str


@dataclass(frozen=True)
class _LineRow:
    address: int
    file: str | None  # None: the end of a sequence, no line here
    line: int


@dataclass(frozen=True)
class _LineTable:
    """One compilation unit's line program, as pyelftools read it."""

    version: int
    comp_dir: object  # DW_AT_comp_dir's value: bytes, or None
    files: list[tuple[object, int]]  # (name, directory index)
    directories: list[object]
    rows: list[tuple[int, int, int, bool]]  # address, file, line, end of sequence


# What pyelftools raises when debugging information is damaged: its own
# errors, and from deeper in its parser the errors of the data it trips on.
_DAMAGED_DWARF = (
    ELFError,
    DWARFError,
    AssertionError,
    AttributeError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    ZeroDivisionError,
    struct.error,
)


class ElfImage:
    """One ELF file's functions and line table, shifted by load_address
    (0 for the kernel, which is linked where it runs)."""

    def __init__(self, path: Path, load_address: int = 0, name: str | None = None) -> None:
        self.path = path
        self.load_address = load_address
        self.name = name or path.name
        try:
            data = path.read_bytes()
            if elf_type(data) == ET_REL:
                data = with_absolute_symbols(data)
            elf = ELFFile(io.BytesIO(data))
            self._functions = _read_functions(elf, load_address)
            self._ranges = _read_ranges(elf, load_address)
            self._strings = _read_symbol_values(elf)
        except FileNotFoundError as e:
            raise FinchError(f"{path} does not exist: build it first (`make build`)") from e
        except (ELFError, Elf32Error) as e:
            raise FinchError(f"{path} is not a readable ELF file ({e})") from e
        self.problem: str | None = None  # why there is no file:line, if there is none
        try:
            tables = _read_line_tables(elf)
        except _DAMAGED_DWARF as e:  # only pyelftools runs in there
            tables = []
            self.problem = (
                f"{path}: no file:line numbers: its debugging information is damaged "
                f"({type(e).__name__}: {e})"
            )
        self._lines = _read_lines(tables, load_address)
        self._starts = [f.start for f in self._functions]
        self._line_addresses = [row.address for row in self._lines]

    def contains(self, address: int) -> bool:
        return any(low <= address < high for low, high in self._ranges)

    def function_at(self, address: int) -> _Function | None:
        """The nearest FUNC symbol at or before address."""
        i = bisect.bisect_right(self._starts, address) - 1
        return self._functions[i] if i >= 0 else None

    def line_at(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._line_addresses, address) - 1
        if i < 0 or self._lines[i].file is None:
            return None
        row = self._lines[i]
        return row.file or "??", row.line

    def string_symbol(self, name: str) -> str | None:
        """The value of a NUL-terminated string the image defines, such as
        finch_build_id; None when there is no such symbol."""
        return self._strings.get(name)


def _read_functions(elf: ELFFile, bias: int) -> list[_Function]:
    functions: dict[int, _Function] = {}
    symtab = elf.get_section_by_name(".symtab")
    if not isinstance(symtab, SymbolTableSection):
        return []
    for sym in symtab.iter_symbols():
        if sym["st_info"]["type"] != "STT_FUNC" or sym["st_shndx"] == "SHN_UNDEF":
            continue
        start = sym["st_value"] + bias
        # At one address, prefer a global name to a local alias.
        if start not in functions or sym["st_info"]["bind"] == "STB_GLOBAL":
            functions[start] = _Function(start, sym["st_size"], sym.name)
    return sorted(functions.values(), key=lambda f: f.start)


def _read_ranges(elf: ELFFile, bias: int) -> list[tuple[int, int]]:
    return [
        (s["sh_addr"] + bias, s["sh_addr"] + bias + s["sh_size"])
        for s in elf.iter_sections()
        if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0
    ]


BUILD_IDENTITY = ("finch_version", "finch_build_id", "finch_build_date")


def read_build_identity(path: Path) -> dict[str, str]:
    """finch_version, finch_build_id and finch_build_date as an ELF defines
    them (those it defines), without reading its debugging information."""
    try:
        with path.open("rb") as f:
            return _read_symbol_values(ELFFile(f))
    except FileNotFoundError as e:
        raise FinchError(f"{path} does not exist: build it first (`make build`)") from e
    except ELFError as e:
        raise FinchError(f"{path} is not a readable ELF file ({e})") from e


def _read_symbol_values(elf: ELFFile) -> dict[str, str]:
    """The strings behind the build-identity symbols, read from the file."""
    wanted = set(BUILD_IDENTITY)
    values: dict[str, str] = {}
    symtab = elf.get_section_by_name(".symtab")
    if not isinstance(symtab, SymbolTableSection):
        return values
    for sym in symtab.iter_symbols():
        if sym.name not in wanted or not isinstance(sym["st_shndx"], int):
            continue
        section = elf.get_section(sym["st_shndx"])
        if section["sh_type"] == "SHT_NOBITS":
            continue
        data = section.data()
        start = sym["st_value"] - section["sh_addr"]
        raw = data[start : start + sym["st_size"]]
        values[sym.name] = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    return values


def _read_line_tables(elf: ELFFile) -> list[_LineTable]:
    """pyelftools' reading of the DWARF line programs, and nothing else,
    so that what it raises for damaged DWARF cannot hide a bug of ours."""
    if not elf.has_dwarf_info():
        return []
    dwarf = elf.get_dwarf_info()
    tables = []
    for cu in dwarf.iter_CUs():
        program = dwarf.line_program_for_CU(cu)
        if program is None:
            continue
        comp_dir = cu.get_top_DIE().attributes.get("DW_AT_comp_dir")
        header = program.header
        states = [entry.state for entry in program.get_entries()]
        tables.append(
            _LineTable(
                version=int(header["version"]),
                comp_dir=comp_dir.value if comp_dir else None,
                files=[(f.name, f.dir_index) for f in header["file_entry"]],
                directories=list(header["include_directory"]),
                rows=[(s.address, s.file, s.line, s.end_sequence) for s in states if s is not None],
            )
        )
    return tables


def _read_lines(tables: list[_LineTable], bias: int) -> list[_LineRow]:
    rows: list[_LineRow] = []
    for table in tables:
        comp_dir = _text(table.comp_dir)
        names: dict[int, str] = {}
        for address, file, line, end_sequence in table.rows:
            if end_sequence:
                rows.append(_LineRow(address + bias, None, 0))
                continue
            if file not in names:
                names[file] = _file_name(table, file, comp_dir)
            rows.append(_LineRow(address + bias, names[file], line))
    # At one address, an end-of-sequence row sorts before the row that
    # starts the next sequence there, so the bisect finds the real line.
    rows.sort(key=lambda r: (r.address, r.file is not None))
    return rows


def _text(value: object) -> str:
    """A DWARF string as text (a damaged one may not be UTF-8, or a string)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _file_name(table: _LineTable, index: int, comp_dir: str) -> str:
    """A line program's file `index` as a path relative to the compile
    directory when it lies inside it (kernel/kern/crash.c)."""
    files, dirs = table.files, table.directories
    i = index if table.version >= 5 else index - 1
    if not 0 <= i < len(files):
        return "??"
    name, dir_index = _text(files[i][0]), files[i][1]
    if table.version >= 5:
        directory = _text(dirs[dir_index]) if 0 <= dir_index < len(dirs) else ""
    else:
        directory = _text(dirs[dir_index - 1]) if 0 < dir_index <= len(dirs) else ""
    path = posixpath.normpath(posixpath.join(comp_dir, directory, name))
    if comp_dir and path.startswith(comp_dir.rstrip("/") + "/"):
        return path[len(comp_dir.rstrip("/")) + 1 :]
    return path


class Symbolizer:
    """Looks addresses up in the kernel and any images added later."""

    def __init__(self) -> None:
        self.images: list[ElfImage] = []

    @classmethod
    def for_kernel(cls, elf: Path) -> Symbolizer:
        sym = cls()
        sym.add_image(elf)
        return sym

    def add_image(self, path: Path, load_address: int = 0, name: str | None = None) -> ElfImage:
        """Add an ELF whose addresses appear at load_address + their value:
        a kext linked at 0 and loaded at load_address, for example."""
        image = ElfImage(path, load_address, name)
        self.images.append(image)
        return image

    def remove_image(self, name: str) -> None:
        """Forget an image (a kext was unloaded)."""
        self.images = [i for i in self.images if i.name != name]

    @property
    def kernel(self) -> ElfImage | None:
        return self.images[0] if self.images else None

    def image_for(self, address: int) -> ElfImage | None:
        # Later images (kexts) first: they are more specific.
        for image in reversed(self.images):
            if image.contains(address):
                return image
        return None

    def lookup(self, address: int, *, return_address: bool = False) -> Location:
        """Name `address`.  For a return address taken from a backtrace,
        the function and line are those of the call instruction before it
        (address - 1); the offset is still counted to `address`."""
        probe = address - 1 if return_address else address
        image = self.image_for(probe)
        if image is None:
            return Location(address)
        function = image.function_at(probe)
        line = image.line_at(probe)
        return Location(
            address=address,
            image=image.name,
            function=function.name if function else None,
            offset=address - function.start if function else 0,
            file=line[0] if line else None,
            line=line[1] if line else None,
        )
