"""The struct-based ELF32 reader kextload uses on every run agrees with
pyelftools, and a kext's symbol file symbolizes at its load addresses."""

from __future__ import annotations

import subprocess
from pathlib import Path

from finch.elf32 import defined_globals, symbol_string
from finch.exports import kernel_symbols
from finch.link import Namespace, link_kext
from finch.symbolize import Symbolizer, read_build_identity

KEXT = """\
int kmod_info[42] = { 1 };
static int counter;
const char greeting[] = "hello";

int
kext_bump(int n)
{
	counter += n;
	return counter;
}

int
kext_twice(int n)
{
	return kext_bump(n) + kext_bump(n);
}
"""


def test_the_globals_of_a_linked_elf_are_those_pyelftools_reads(test_kernel: Path) -> None:
    assert defined_globals(test_kernel.read_bytes()) == kernel_symbols(test_kernel)


def test_a_string_symbol_is_read_as_pyelftools_reads_it(tmp_path: Path) -> None:
    source = tmp_path / "version.c"
    source.write_text('const char finch_build_id[] = "0123456789abcdef";\nvoid start(void) {}\n')
    elf = tmp_path / "version.elf"
    subprocess.run(
        ["gcc", "-m32", "-ffreestanding", "-nostdlib", "-Wl,-Ttext=0x100000", "-Wl,-e,start",
         str(source), "-o", str(elf)],
        check=True,
    )  # fmt: skip

    assert symbol_string(elf.read_bytes(), "finch_build_id") == "0123456789abcdef"
    assert read_build_identity(elf)["finch_build_id"] == "0123456789abcdef"


def test_a_kext_symbol_file_names_functions_and_lines_where_the_kext_runs(
    tmp_path: Path,
) -> None:
    source = tmp_path / "kext.c"
    source.write_text(KEXT)
    obj = tmp_path / "kext.o"
    subprocess.run(
        ["gcc", "-m32", "-O1", "-g", "-ffreestanding", "-fno-pic", "-c", str(source), "-o",
         str(obj)],
        check=True,
    )  # fmt: skip
    linked = link_kext(obj, 0x0040_0000, Namespace())
    symbol_file = linked.write_symbol_file(tmp_path / "com.example.kext.sym")
    symbolizer = Symbolizer()

    symbolizer.add_image(symbol_file, name="com.example.kext")

    twice = linked.symbols["kext_twice"]
    location = symbolizer.lookup(twice + 1)
    assert location.image == "com.example.kext"
    assert (location.function, location.offset) == ("kext_twice", 1)
    assert location.file is not None
    assert location.file.endswith("kext.c")
    first = KEXT.splitlines().index("kext_twice(int n)") + 1
    assert location.line is not None
    assert first <= location.line <= first + 3  # inside kext_twice, not kext_bump
