"""The kext linker: layout, relocations, symbol resolution and every refusal.

Each test compiles a small C (or assembler) file with the host's gcc in a
temporary directory and links it at a kernel address."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from finch.link import (
    Library,
    LinkError,
    Namespace,
    defined_globals,
    link_kext,
    plan,
)

LOAD = 0x00C0_0000
PRINTF = 0x0010_1230
MSLEEP = 0x0010_4560
KERNEL_PRIVATE = 0x0010_7890

KPI_LIBKERN = Library("com.apple.kpi.libkern", {"printf": PRINTF})
KPI_BSD = Library("com.apple.kpi.bsd", {"msleep": MSLEEP})
KERNEL = {"printf": PRINTF, "msleep": MSLEEP, "ip_input": KERNEL_PRIVATE}

KMOD_INFO = "int kmod_info[42] = { 1 };\n"


def namespace(*declared: Library, others: tuple[Library, ...] = ()) -> Namespace:
    names = {lib.identifier for lib in declared}
    rest = [lib for lib in (KPI_LIBKERN, KPI_BSD, *others) if lib.identifier not in names]
    return Namespace(declared=declared, others=rest, kernel_globals=KERNEL)


def compile_c(tmp_path: Path, source: str, *flags: str, name: str = "kext") -> Path:
    c = tmp_path / f"{name}.c"
    c.write_text(source)
    obj = tmp_path / f"{name}.o"
    gcc = ["gcc", "-m32", "-O2", "-ffreestanding", "-fno-pic", "-fno-pie"]
    subprocess.run([*gcc, *flags, "-c", str(c), "-o", str(obj)], check=True)
    return obj


def assemble(tmp_path: Path, source: str) -> Path:
    s = tmp_path / "kext.s"
    s.write_text(source)
    obj = tmp_path / "kext.o"
    subprocess.run(["gcc", "-m32", "-c", str(s), "-o", str(obj)], check=True)
    return obj


def relocations(obj: Path, section: str) -> list[tuple[int, str, str]]:
    """(offset, type name, symbol name) of each relocation against `section`."""
    from elftools.elf.descriptions import describe_reloc_type

    with open(obj, "rb") as f:
        elf = ELFFile(f)
        rel = elf.get_section_by_name(f".rel{section}")
        assert isinstance(rel, RelocationSection)
        symtab = elf.get_section(rel["sh_link"])
        out = []
        for r in rel.iter_relocations():
            sym = symtab.get_symbol(r["r_info_sym"])
            name = sym.name or elf.get_section(sym["st_shndx"]).name
            out.append((r["r_offset"], describe_reloc_type(r["r_info_type"], elf), name))
        return out


def word(image: bytes, offset: int) -> int:
    return struct.unpack_from("<I", image, offset)[0]


def test_a_call_to_a_kpi_function_is_patched_pc_relative(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern int printf(const char *, ...);\n"
                    "int f(void) { return printf(\"hi\") + 1; }\n")  # fmt: skip
    (site, rtype, _sym) = next(r for r in relocations(obj, ".text") if r[2] == "printf")

    linked = link_kext(obj, LOAD, namespace(KPI_LIBKERN))

    text = linked.section_address(".text")
    assert rtype in ("R_386_PC32", "R_386_PLT32")
    assert text == LOAD
    # call rel32: the target is the address after the 4-byte field plus it.
    assert (text + site + 4 + word(linked.image, site)) & 0xFFFFFFFF == PRINTF


def test_a_global_pointer_table_is_patched_absolute(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path,
        KMOD_INFO + "extern int printf(const char *, ...);\n"
        "static int local_counter;\n"
        "int value = 7;\n"
        "void *table[3] = { (void *)printf, &local_counter, &value };\n",
    )
    assert {r[1] for r in relocations(obj, ".data")} == {"R_386_32"}

    linked = link_kext(obj, LOAD, namespace(KPI_LIBKERN))

    table = linked.symbols["table"] - LOAD
    bss = linked.section_address(".bss")
    assert word(linked.image, table) == PRINTF
    assert word(linked.image, table + 4) == bss  # local_counter is the only bss object
    assert word(linked.image, table + 8) == linked.symbols["value"]


def test_static_data_is_copied_and_bss_is_zero_filled_in_the_image(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path,
        KMOD_INFO + "static int zeros[256];\nstatic int data[2] = { 0x11223344, 0x55667788 };\n"
        "int *zeros_ptr = zeros, *data_ptr = data;\n",
    )

    linked = link_kext(obj, LOAD, namespace())

    bss = next(s for s in linked.sections if s.name == ".bss")
    zeros_at = word(linked.image, linked.symbols["zeros_ptr"] - LOAD) - LOAD
    data_at = word(linked.image, linked.symbols["data_ptr"] - LOAD) - LOAD
    assert bss.nobits
    assert bss.address == LOAD + zeros_at
    assert linked.image[zeros_at : zeros_at + 1024] == bytes(1024)
    assert linked.size >= zeros_at + 1024
    assert linked.image[data_at : data_at + 8] == struct.pack("<II", 0x11223344, 0x55667788)


def test_sections_are_laid_out_text_rodata_data_bss_at_their_alignment(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path,
        KMOD_INFO + 'const char message[] = "hello";\n'
        "int aligned __attribute__((aligned(64))) = 1;\n"
        "static char buffer[100];\n"
        "char *f(void) { return buffer; }\n",
    )

    linked = link_kext(obj, LOAD, namespace())

    names = [s.name for s in linked.sections]
    kinds = [0 if n.startswith(".text") else 1 if n.startswith((".rodata", ".eh")) else
             3 if n.startswith(".bss") else 2 for n in names]  # fmt: skip
    assert kinds == sorted(kinds)
    assert linked.symbols["aligned"] % 64 == 0
    assert linked.size == plan(obj).size


def test_exported_globals_are_given_at_their_load_addresses(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path,
        KMOD_INFO + "int shared_value = 3;\nstatic int hidden_value = 4;\n"
        '__attribute__((visibility("hidden"))) int private_extern_value = 5;\n'
        "int get(void) { return shared_value + hidden_value + private_extern_value; }\n",
    )

    linked = link_kext(obj, LOAD, namespace())

    assert set(linked.symbols) == {"shared_value", "get"}
    assert all(LOAD <= a < LOAD + linked.size for a in linked.symbols.values())
    assert defined_globals(obj, LOAD) == linked.symbols
    assert LOAD <= linked.kmod_info_address < LOAD + linked.size


def test_a_kext_resolves_against_a_declared_library_kext(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern int com_example_lib_add(int);\n"
                    "int f(void) { return com_example_lib_add(2); }\n")  # fmt: skip
    library = Library("com.example.lib", {"com_example_lib_add": 0xC0_1000}, kind="kext")

    linked = link_kext(obj, LOAD, namespace(library))

    site = next(r[0] for r in relocations(obj, ".text") if r[2] == "com_example_lib_add")
    assert (LOAD + site + 4 + word(linked.image, site)) & 0xFFFFFFFF == 0xC0_1000


def test_an_unresolved_weak_reference_is_null(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern int optional_hook(void) __attribute__((weak));\n"
                    "void *f(void) { return (void *)optional_hook; }\n")  # fmt: skip

    linked = link_kext(obj, LOAD, namespace())

    site = next(r[0] for r in relocations(obj, ".text") if r[2] == "optional_hook")
    assert word(linked.image, site) == 0


def test_an_undeclared_kpi_symbol_names_the_bundle_to_declare(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern int msleep(void *, void *, int, const char *,"
                    " void *);\nint f(void) { return msleep(0, 0, 0, \"w\", 0); }\n")  # fmt: skip

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace(KPI_LIBKERN), bundle_id="com.example.hello")

    message = str(excinfo.value)
    assert message.startswith("com.example.hello")
    assert "undefined symbol msleep: exported by com.apple.kpi.bsd" in message
    assert "add com.apple.kpi.bsd to OSBundleLibraries" in message


def test_a_kernel_private_symbol_is_said_to_be_exported_by_no_bundle(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern void ip_input(void);\n"
                    "void f(void) { ip_input(); }\n")  # fmt: skip

    with pytest.raises(LinkError, match="ip_input: private to the kernel, exported by no KPI"):
        link_kext(obj, LOAD, namespace(KPI_LIBKERN, KPI_BSD))


def test_a_symbol_defined_nowhere_is_said_so(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern void prinft(void);\nvoid f(void) { prinft(); }\n")

    with pytest.raises(LinkError, match="prinft: defined nowhere"):
        link_kext(obj, LOAD, namespace(KPI_LIBKERN))


def test_a_symbol_of_an_undeclared_loaded_kext_names_that_kext(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern int com_example_lib_add(int);\n"
                    "int f(void) { return com_example_lib_add(2); }\n")  # fmt: skip
    library = Library("com.example.lib", {"com_example_lib_add": 0xC0_1000}, kind="kext")

    with pytest.raises(
        LinkError, match=r"the loaded kext com\.example\.lib, which the kext does not"
    ):
        link_kext(obj, LOAD, namespace(KPI_LIBKERN, others=(library,)))


def test_every_unresolved_symbol_is_listed(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern void a1(void), a2(void);\n"
                    "void f(void) { a1(); a2(); }\n")  # fmt: skip

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace())

    assert [p.split(":")[0] for p in excinfo.value.problems] == [
        "undefined symbol a1",
        "undefined symbol a2",
    ]


def test_a_global_colliding_with_the_kernel_suggests_a_reverse_dns_prefix(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "int printf(const char *f, ...) { return 0; }\n"
                    "int ip_input = 3;\n")  # fmt: skip

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace(KPI_LIBKERN), bundle_id="com.example.hello")

    message = str(excinfo.value)
    assert "global symbol printf collides" in message
    assert "exported by com.apple.kpi.libkern" in message
    assert "com_example_hello_printf" in message
    assert "global symbol ip_input collides" in message
    assert "kernel-private" in message


def test_a_global_colliding_with_a_loaded_kext_is_refused(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "int counter = 1;\n")
    other = Library("com.example.other", {"counter": 0xC0_2000}, kind="kext")

    with pytest.raises(LinkError, match=r"collides with .*the loaded kext com\.example\.other's"):
        link_kext(obj, LOAD, namespace(others=(other,)), bundle_id="com.example.hello")


def test_static_symbols_and_kmod_info_never_collide(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "static int printf_count;\n"
                    "int *f(void) { return &printf_count; }\n")  # fmt: skip
    other = Library("com.example.other", {"f2": 0xC0_2000}, kind="kext")

    linked = link_kext(obj, LOAD, namespace(others=(other,)))

    assert "kmod_info" not in linked.symbols


def test_an_x86_64_object_is_refused(tmp_path: Path) -> None:
    c = tmp_path / "k.c"
    c.write_text("int f(void) { return 1; }\n")
    obj = tmp_path / "k.o"
    subprocess.run(["gcc", "-m64", "-c", str(c), "-o", str(obj)], check=True)

    with pytest.raises(LinkError, match=r"64-bit ELF object.*gcc -m32"):
        link_kext(obj, LOAD, namespace())


def test_a_file_that_is_not_elf_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "hello"
    bogus.write_text("#!/bin/sh\necho hello\n")

    with pytest.raises(LinkError, match="not an ELF file"):
        link_kext(bogus, LOAD, namespace())


def test_an_executable_is_refused_as_not_relocatable(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, "int f(void) { return 1; }\n")
    exe = tmp_path / "k.elf"
    subprocess.run(["ld", "-m", "elf_i386", "-e", "f", "-o", str(exe), str(obj)], check=True)

    with pytest.raises(LinkError, match="ET_EXEC, not a relocatable object"):
        link_kext(exe, LOAD, namespace())


def test_pic_code_is_refused_as_position_independent_with_the_fix(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "extern int shared;\nstatic int mine;\n"
                    "int f(void) { return shared + mine; }\n", "-fPIC")  # fmt: skip
    kext = Library("com.example.x", {"shared": 1}, "kext")

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace(kext))

    [problem] = excinfo.value.problems  # one, for all of the GOT's relocations
    assert problem.startswith("unsupported relocation R_386_GOTPC at .text+0x")
    assert "more like it): the object was built as position-independent code" in problem
    assert "build without -fPIC, with -fno-pic -fno-pie, as `make build` does" in problem


def test_a_reference_to_the_global_offset_table_says_pic_not_spelling(tmp_path: Path) -> None:
    obj = assemble(
        tmp_path,
        ".data\n.globl kmod_info\nkmod_info: .long 0\n"
        ".text\n.globl f\nf: addl $_GLOBAL_OFFSET_TABLE_, %ebx\nret\n",
    )

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace())

    assert "built as position-independent code" in str(excinfo.value)
    assert "defined nowhere" not in str(excinfo.value)
    assert "check the spelling" not in str(excinfo.value)


def test_a_call_through_the_plt_is_linked_as_a_direct_call(tmp_path: Path) -> None:
    obj = assemble(
        tmp_path,
        ".data\n.globl kmod_info\nkmod_info: .long 0\n.text\n.globl f\nf: call printf@PLT\nret\n",
    )
    assert relocations(obj, ".text") == [(1, "R_386_PLT32", "printf")]

    linked = link_kext(obj, LOAD, namespace(KPI_LIBKERN))

    text = linked.section_address(".text")
    assert text is not None
    assert word(linked.image, text - LOAD + 1) == (PRINTF - (text + 5)) & 0xFFFFFFFF


@pytest.mark.parametrize(
    ("flags", "source", "expected"),
    [
        (
            ("-fstack-protector-all",),
            "int f(const char *p) { char b[64]; __builtin_memcpy(b, p, 64); return b[3]; }\n",
            "undefined symbol __stack_chk_fail: defined nowhere: the object was built with "
            "the stack protector (-fstack-protector), whose guard and __stack_chk_fail the "
            "kernel does not have: build with -fno-stack-protector",
        ),
        (
            ("-pg",),
            "int f(int x) { return x + 1; }\n",
            "undefined symbol mcount: defined nowhere: the object was built for profiling "
            "(-pg): build without -pg",
        ),
    ],
)
def test_symbols_the_compiler_asked_for_name_the_flag_to_drop(
    tmp_path: Path, flags: tuple[str, ...], source: str, expected: str
) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + source, *flags)

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace(KPI_LIBKERN))

    assert expected in str(excinfo.value)


def test_a_cxx_object_is_told_to_use_extern_c_or_be_written_in_c(tmp_path: Path) -> None:
    obj = assemble(  # what g++ makes of a call to printf and a pure virtual function
        tmp_path,
        ".data\n.globl kmod_info\nkmod_info: .long 0\n"
        ".text\n.globl f\nf: call _Z6printfPKcz\ncall __cxa_pure_virtual\nret\n",
    )

    with pytest.raises(LinkError) as excinfo:
        link_kext(obj, LOAD, namespace(KPI_LIBKERN))

    mangled, runtime = excinfo.value.problems
    assert mangled.startswith("undefined symbol _Z6printfPKcz: defined nowhere: it is the C++")
    assert "(mangled) name of printf: the kext was compiled as C++" in mangled
    assert mangled.endswith('wrap the KPI headers in extern "C" { ... }, or write the kext in C')
    assert runtime.startswith("undefined symbol __cxa_pure_virtual: defined nowhere: it is part")
    assert runtime.endswith("the kernel does not have: write the kext in C, as the KPI is")


def test_a_thread_local_relocation_says_the_kernel_has_none(tmp_path: Path) -> None:
    obj = assemble(
        tmp_path,
        ".data\n.globl kmod_info\nkmod_info: .long 0\n"
        ".text\n.globl f\nf: movl %gs:tv@ntpoff, %eax\nret\n",  # tv: another file's __thread
    )

    with pytest.raises(LinkError, match=r"R_386_TLS_LE at \.text\+0x2: the kext uses thread-local"):
        link_kext(obj, LOAD, namespace())


def test_an_unknown_relocation_is_refused_by_name_with_section_and_offset(tmp_path: Path) -> None:
    obj = assemble(
        tmp_path,
        ".data\n.globl kmod_info\nkmod_info: .long 0\n"
        ".text\n.globl f\nf: nop\nnop\n.reloc ., R_386_16, kmod_info\n.word 0\nret\n",
    )

    with pytest.raises(LinkError, match=r"unsupported relocation R_386_16 at \.text\+0x2: it"):
        link_kext(obj, LOAD, namespace())


def test_a_shared_library_is_refused_as_not_relocatable(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, "int f(void) { return 1; }\n", "-fPIC")
    so = tmp_path / "k.so"
    subprocess.run(["ld", "-m", "elf_i386", "-shared", "-o", str(so), str(obj)], check=True)

    with pytest.raises(LinkError, match=r"is ET_DYN, not a relocatable object .*-shared, -pie"):
        link_kext(so, LOAD, namespace())


def test_a_big_endian_object_is_refused_naming_its_machine(tmp_path: Path) -> None:
    data = bytearray(compile_c(tmp_path, KMOD_INFO).read_bytes())
    data[5] = 2  # ELFDATA2MSB
    data[18:20] = (20).to_bytes(2, "big")  # EM_PPC, as a PowerPC Mac's compiler made it
    (tmp_path / "ppc.o").write_bytes(bytes(data))

    with pytest.raises(LinkError, match=r"big-endian ELF object \(ELFDATA2MSB, built for EM_PPC\)"):
        link_kext(tmp_path / "ppc.o", LOAD, namespace())


def test_an_image_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "static char big[64 * 1024];\n"
                    "char *f(void) { return big; }\n")  # fmt: skip

    with pytest.raises(LinkError, match="more than the limit of 32768"):
        link_kext(obj, LOAD, namespace(), max_size=32 * 1024)


def test_a_load_address_misaligned_for_the_sections_is_refused(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "int a __attribute__((aligned(64))) = 1;\n")

    with pytest.raises(LinkError, match="not aligned to 64 bytes"):
        link_kext(obj, LOAD + 8, namespace())


def test_an_object_without_kmod_info_is_refused(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, "int f(void) { return 1; }\n")

    with pytest.raises(LinkError, match="defines no global kmod_info"):
        link_kext(obj, LOAD, namespace())


def test_constructors_are_refused_because_the_kernel_never_runs_them(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "int x;\n"
                    "__attribute__((constructor)) static void init(void) { x = 1; }\n")  # fmt: skip

    with pytest.raises(LinkError, match="constructors or destructors"):
        link_kext(obj, LOAD, namespace())


def test_the_symbol_file_places_sections_at_their_load_addresses(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "int value = 1;\nint f(void) { return value; }\n", "-g")
    linked = link_kext(obj, LOAD, namespace())

    symfile = linked.write_symbol_file(tmp_path / "kext.sym")

    with open(symfile, "rb") as f:
        elf = ELFFile(f)
        assert elf.get_section_by_name(".text")["sh_addr"] == linked.section_address(".text")
        assert elf.get_section_by_name(".data")["sh_addr"] == linked.section_address(".data")
    command = linked.gdb_command(symfile)
    assert command.startswith(f"add-symbol-file {symfile} -s .text {LOAD:#x}")
    assert f"-s .data {linked.section_address('.data'):#x}" in command


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_gdb_finds_the_kexts_symbols_at_their_load_addresses(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, KMOD_INFO + "int value = 1;\nint f(void) { return value; }\n", "-g")
    linked = link_kext(obj, LOAD, namespace())
    symfile = linked.write_symbol_file(tmp_path / "kext.sym")

    out = subprocess.run(
        ["gdb", "-nx", "-batch", "-ex", linked.gdb_command(symfile),
         "-ex", "info address f", "-ex", "info address value"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    assert f'Symbol "f" is a function at address {linked.symbols["f"]:#x}.' in out
    assert f"at address {linked.symbols['value']:#x}." in out
