"""Reading a kext object: a damaged or wrong file is refused in one line
that names the file and says what is wrong, never with a traceback.

The first tests are the failures a fuzzer found in kextload (issue 9):
pyelftools' ELFParseError and ELFError past the ELF header, an IndexError
and a struct.error in the relocation pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from elfpatch import (
    relocation,
    section_field,
    set_header,
    set_relocation,
    set_section,
    set_symbol,
)

from finch.elf32 import read_sections
from finch.link import Library, LinkError, Namespace, link_kext, read_object

LOAD = 0x00C0_0000
PRINTF = 0x0010_1230
NAMESPACE = Namespace(declared=[Library("com.apple.kpi.libkern", {"printf": PRINTF})])

SOURCE = """\
extern int printf(const char *, ...);
int f(void);
int kmod_info[42] = { 1 };
int (*start)(void) = f;  /* in .data, after kmod_info: a relocation at its end */
int f(void) { return printf("hello"); }
"""


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small i386 object that links: a call, a string, a pointer, kmod_info."""
    work = tmp_path_factory.mktemp("obj")
    (work / "k.c").write_text(SOURCE)
    gcc = ["gcc", "-m32", "-O2", "-ffreestanding", "-fno-pic", "-fno-asynchronous-unwind-tables"]
    subprocess.run([*gcc, "-c", str(work / "k.c"), "-o", str(work / "k.o")], check=True)
    data = (work / "k.o").read_bytes()
    link_kext(data, LOAD, NAMESPACE)  # it does link, unharmed
    return data


def refusal(tmp_path: Path, data: bytes) -> str:
    """Link `data` as a file; the one-line refusal, which names the file."""
    path = tmp_path / "hello"
    path.write_bytes(data)
    with pytest.raises(LinkError) as refused:
        link_kext(read_object(path), LOAD, NAMESPACE)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return message


# -- what the fuzzer found ---------------------------------------------------------


def test_a_section_header_table_past_the_end_of_the_file_is_refused(
    tmp_path: Path, good: bytes
) -> None:
    truncated = good[: section_field(good, ".text", "sh_offset") + 16]  # was ELFParseError

    message = refusal(tmp_path, truncated)

    assert "is damaged: its section header table" in message
    assert "runs past the end of the file" in message
    assert "rebuild the kext (`make build`)" in message


def test_a_symbol_table_with_a_wrong_entry_size_is_refused(tmp_path: Path, good: bytes) -> None:
    broken = set_section(good, ".symtab", "sh_entsize", 12)  # was ELFError

    message = refusal(tmp_path, broken)

    assert "section .symtab (SHT_SYMTAB) holds" in message
    assert "12-byte entries; ELF32's are 16 bytes" in message


def test_a_symbol_table_whose_names_are_not_a_string_table_is_refused(
    tmp_path: Path, good: bytes
) -> None:
    text = next(s.index for s in read_sections(good) if s.name == ".text")
    broken = set_section(good, ".symtab", "sh_link", text)  # was ELFError

    message = refusal(tmp_path, broken)

    assert "the symbol table's names are in .text, not a string table" in message


def test_a_relocation_against_a_symbol_the_table_does_not_have_is_refused(
    tmp_path: Path, good: bytes
) -> None:
    _offset, rtype, _sym = relocation(good, ".rel.text", 0)
    broken = set_relocation(good, ".rel.text", 0, "r_info", 5000 << 8 | rtype)  # was IndexError

    message = refusal(tmp_path, broken)

    assert "refers to symbol 5000, but the symbol table has" in message


def test_a_section_whose_contents_lie_past_the_end_of_the_file_is_refused(
    tmp_path: Path, good: bytes
) -> None:
    broken = set_section(good, ".data", "sh_offset", len(good) - 2)  # was struct.error

    message = refusal(tmp_path, broken)

    assert "section .data (" in message
    assert "runs past the end of the file" in message


# -- other damage ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("e_shnum", 0, "it has no section headers"),
        ("e_shentsize", 32, "its section headers are 32 bytes each, not ELF32's 40"),
        ("e_shstrndx", 999, "puts the section names in section 999, but it has"),
        ("e_shstrndx", 1, "which is SHT_PROGBITS, not a string table"),
    ],
)
def test_a_damaged_elf_header_is_refused(
    tmp_path: Path, good: bytes, field: str, value: int, expected: str
) -> None:
    message = refusal(tmp_path, set_header(good, field, value))

    assert expected in message


def test_a_section_name_outside_the_section_names_is_refused(tmp_path: Path, good: bytes) -> None:
    message = refusal(tmp_path, set_section(good, ".text", "sh_name", 0xFFFF))

    assert "the name of section 1 lies outside the section names" in message


def test_a_symbol_in_a_section_the_file_does_not_have_is_refused(
    tmp_path: Path, good: bytes
) -> None:
    message = refusal(tmp_path, set_symbol(good, "f", "st_shndx", 300))

    assert "symbol f is defined in section 300, but the file has" in message


def test_a_symbol_name_outside_the_symbol_names_is_refused(tmp_path: Path, good: bytes) -> None:
    message = refusal(tmp_path, set_symbol(good, "f", "st_name", 0x7FFF_FFFF))

    assert "lies outside the symbol names" in message


def test_a_relocation_past_the_end_of_its_section_is_refused(tmp_path: Path, good: bytes) -> None:
    size = section_field(good, ".text", "sh_size")

    message = refusal(tmp_path, set_relocation(good, ".rel.text", 0, "r_offset", size - 2))

    assert f"relocation at .text+{size - 2:#x} lies outside the section" in message


def test_a_section_only_shared_libraries_have_is_refused(tmp_path: Path, good: bytes) -> None:
    message = refusal(tmp_path, set_section(good, ".comment", "sh_type", 6))

    assert "section .comment is SHT_DYNAMIC, which only executables and shared" in message


def test_an_alignment_that_is_not_a_power_of_two_is_refused(tmp_path: Path, good: bytes) -> None:
    message = refusal(tmp_path, set_section(good, ".data", "sh_addralign", 12))

    assert "section .data is aligned to 12, not a power of two" in message


def test_a_file_cut_inside_the_elf_header_is_refused(tmp_path: Path, good: bytes) -> None:
    message = refusal(tmp_path, good[:30])

    assert "it is 30 bytes long, shorter than an ELF header (52)" in message
