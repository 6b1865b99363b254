"""The guest's function-name tables (finch.ksyms): which symbols they hold,
their layout, and what the kernel's checks refuse -- and the table the
kext linker puts at the end of every kext's block."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from finch import ksyms
from finch.ksyms import Candidate, Function, KsymError
from finch.link import LinkError, Namespace, link_kext, plan
from finch.symbolize import Symbolizer

LOAD = 0x00C0_0000
PAGE = 4096
KMOD_INFO = "int kmod_info[42] = { 1 };\n"


def candidate(address: int, name: str, size: int = 0, **kind: bool) -> Candidate:
    return Candidate(
        address=address,
        size=size,
        name=name,
        function=kind.get("function", True),
        is_global=kind.get("is_global", True),
        limit=0x1100,
    )


def compile_c(tmp_path: Path, source: str, name: str = "kext") -> Path:
    c = tmp_path / f"{name}.c"
    c.write_text(source)
    obj = tmp_path / f"{name}.o"
    gcc = ["gcc", "-m32", "-O2", "-ffreestanding", "-fno-pic", "-fno-pie", "-g"]
    subprocess.run([*gcc, "-c", str(c), "-o", str(obj)], check=True)
    return obj


TABLE = [Function(0x1010, 0x20, "first"), Function(0x1040, 0x10, "second")]


def region(functions: list[Function] = TABLE) -> bytearray:
    return bytearray(ksyms.section(functions))


# -- which symbols ------------------------------------------------------------


def test_one_name_per_address_a_global_function_first():
    functions = ksyms.select(
        [
            candidate(0x1000, "alias_label", function=False),
            candidate(0x1000, "local_name", 8, is_global=False),
            candidate(0x1000, "global_name", 8),
            candidate(0x1008, "other", 8, is_global=False),
        ]
    )

    assert [f.name for f in functions] == ["global_name", "other"]


def test_a_symbol_without_a_size_runs_to_the_next_or_to_its_sections_end():
    functions = ksyms.select(
        [candidate(0x1080, "vector1", function=False), candidate(0x1000, "vector0", function=False)]
    )

    assert functions == [Function(0x1000, 0x80, "vector0"), Function(0x1080, 0x80, "vector1")]


def test_linker_markers_are_not_names_but_functions_always_are():
    assert not ksyms.wanted("_etext", function=False)
    assert not ksyms.wanted(".L3", function=False)
    assert ksyms.wanted("alltraps", function=False)
    assert ksyms.wanted("_private_function", function=True)
    assert not ksyms.wanted("", function=True)


# -- the layout ---------------------------------------------------------------


def test_the_kernel_section_is_entries_then_names_then_the_trailer():
    data = ksyms.section(TABLE)

    assert len(data) % 4 == 0
    assert struct.unpack_from("<III", data, 0) == (0x1010, 0x20, 0)
    assert struct.unpack_from("<III", data, 12) == (0x1040, 0x10, 6)
    assert data[24:37] == b"first\0second\0"
    assert data[-16:] == struct.pack("<4sIII", b"KSYM", 1, 0, 2)
    assert ksyms.decode(data, 0x1000, 0x2000) == TABLE


def test_a_name_used_twice_is_stored_once():
    functions = [Function(0x1000, 4, "helper"), Function(0x1004, 4, "helper")]

    assert ksyms.table_size(functions) == 2 * 12 + len(b"helper\0")
    assert [f.name for f in ksyms.decode(ksyms.section(functions), 0, 0x2000)] == ["helper"] * 2


def test_the_table_size_does_not_depend_on_the_addresses():
    moved = ksyms.encode(TABLE, base=0x00400000)

    assert len(moved) == ksyms.table_size(TABLE)
    assert struct.unpack_from("<I", moved, 0) == (0x00401010,)


# -- what the kernel refuses ------------------------------------------------


def damage(data: bytearray, at: int, value: int) -> bytes:
    struct.pack_into("<I", data, at, value)
    return bytes(data)


TRAILER = -16
DAMAGES = {
    "magic": (TRAILER + 0, 0x4D59534C, "magic"),
    "version": (TRAILER + 4, 2, "version"),
    "offset past the trailer": (TRAILER + 8, 0x1000, "do not fit"),
    "count too large": (TRAILER + 12, 0xFFFF_FFFF, "do not fit"),
    "count that wraps": (TRAILER + 12, 0x1555_5556, "do not fit"),
    "entries out of order": (12, 0x1010, "not above"),
    "function outside the image": (0, 0x0FFF, "outside the image"),
    "function running past it": (16, 0x1000, "outside the image"),
    "name past the names": (20, 0x100, "name does not end"),
}


@pytest.mark.parametrize("what", DAMAGES)
def test_a_damaged_table_is_refused(what: str):
    at, value, why = DAMAGES[what]

    with pytest.raises(KsymError, match=why):
        ksyms.decode(damage(region(), at, value), 0x1000, 0x1100)


def test_a_name_that_runs_into_the_trailer_is_refused():
    data = region()
    data[24:-16] = b"x" * (len(data) - 16 - 24)  # the names, and the padding: no NUL left

    with pytest.raises(KsymError, match="name does not end"):
        ksyms.decode(bytes(data), 0x1000, 0x1100)


def test_a_region_too_small_for_a_trailer_has_no_table():
    with pytest.raises(KsymError, match="cannot hold"):
        ksyms.decode(b"KSYM", 0, 0x1000)


# -- a kext's block ---------------------------------------------------------

SOURCE = (
    KMOD_INFO + "static int counter;\n"
    "static __attribute__((noinline)) void bump(void) { counter++; }\n"
    "int kext_start(void) { bump(); return counter; }\n"
    "int kext_stop(void) { bump(); return 0; }\n"
)


def test_a_kexts_image_fills_whole_pages_and_ends_with_the_trailer(tmp_path: Path):
    obj = compile_c(tmp_path, SOURCE)

    linked = link_kext(obj, LOAD, Namespace())

    assert linked.size % PAGE == 0
    assert linked.size == plan(obj).size
    magic, version, offset, count = struct.unpack_from("<4sIII", linked.image, linked.size - 16)
    assert (magic, version, count) == (b"KSYM", 1, 3)
    assert plan(obj).code_and_data <= offset < linked.size - 16


def test_the_kexts_table_names_what_the_host_names(tmp_path: Path):
    obj = compile_c(tmp_path, SOURCE)
    linked = link_kext(obj, LOAD, Namespace())
    host = Symbolizer()
    host.add_image(linked.write_symbol_file(tmp_path / "kext.sym"), name="kext")

    functions = ksyms.decode(linked.image, LOAD, LOAD + linked.size)

    assert sorted(f.name for f in functions) == ["bump", "kext_start", "kext_stop"]
    for f in functions:
        assert host.lookup(f.address).function == f.name
        assert host.lookup(f.address + f.size - 1).function == f.name
    assert functions[0].address == linked.section_address(".text")


def test_the_table_counts_against_the_size_limit(tmp_path: Path):
    names = "".join(f"void function_with_a_long_name_{i:04d}(void) {{}}\n" for i in range(200))
    obj = compile_c(tmp_path, KMOD_INFO + names)
    layout = plan(obj)
    assert layout.size - layout.code_and_data > 200 * (12 + 30)

    with pytest.raises(LinkError, match=r"of code and data, the rest its function names"):
        link_kext(obj, LOAD, Namespace(), max_size=layout.size - PAGE)
