"""The kernel build: flags, outputs, and what an incremental build redoes.
Runs against a tiny fake kernel tree in a temporary directory."""

import os
import re
import time

import pytest

from finch import ksyms
from finch.build import (
    Tree,
    asm_flags,
    build_kernel,
    kernel_cflags,
    kernel_units,
    kext_cflags,
    read_build_id,
    read_depfile,
)
from finch.errors import BuildError

LINKER_SCRIPT = """\
ENTRY(start)
SECTIONS {
    . = 0x100000;
    .text : { *(.text*) }
    .rodata : { *(.rodata*) }
    .data : { *(.data*) }
    .bss : { *(.bss*) *(COMMON) }
    .ksyms : { *(.ksyms) }
}
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path):
    """kernel/ with an entry in asm, two C files (one includes a private
    header, one a public one), and files the build must ignore."""
    write(tmp_path / "kernel/i386/kernel.ld", LINKER_SCRIPT)
    write(tmp_path / "kernel/i386/locore.S", ".globl start\nstart:\n\tcall kmain\n\thlt\n")
    write(tmp_path / "kernel/kern/answer.h", "#define ANSWER 42\n")
    write(tmp_path / "kernel/include/sys/kpi.h", "int kpi_value(void);\n")
    write(
        tmp_path / "kernel/kern/main.c",
        '#include "kern/answer.h"\n#include <sys/kpi.h>\n'
        "int kmain(void) { return ANSWER + kpi_value(); }\n",
    )
    write(
        tmp_path / "kernel/kern/kpi.c", "#include <sys/kpi.h>\nint kpi_value(void) { return 1; }\n"
    )
    write(tmp_path / "kernel/include/sys/not_compiled.c", "#error headers are not sources\n")
    write(tmp_path / "kernel/exports/not_compiled.c", "#error exports are not sources\n")
    return Tree(tmp_path)


def quiet(line):
    pass


def age_outputs(tree):
    """Date the sources 20 s ago and the outputs 10 s ago, as if the last
    build ran a while back: a touch now is then clearly newer."""
    now = time.time()
    for paths, age in ((tree.kernel_dir.rglob("*"), 20), (tree.build_dir.rglob("*"), 10)):
        for path in paths:
            os.utime(path, (now - age, now - age))
    os.utime(tree.kernel_elf, (now - 10, now - 10))


def test_sources_are_every_c_and_S_file_outside_include_and_exports(tree):
    sources = [str(u.source) for u in kernel_units(tree)]
    assert sources == ["kernel/i386/locore.S", "kernel/kern/kpi.c", "kernel/kern/main.c"]


def test_objects_mirror_the_source_tree_under_build_kernel(tree):
    objects = {str(u.source): str(u.object) for u in kernel_units(tree)}
    assert objects["kernel/kern/main.c"] == "build/kernel/kern/main.o"


def test_a_first_build_compiles_everything_and_links_the_elf(tree):
    result = build_kernel(tree, echo=quiet)
    assert len(result.compiled) == 3
    assert result.linked
    assert result.elf == tree.root / "images/finch.elf"
    assert result.elf.exists()


def test_the_generated_version_defines_the_build_identity(tree):
    result = build_kernel(tree, echo=quiet)
    version_c = (tree.root / "build/kernel/gen/version.c").read_text()
    assert 'const char finch_version[] = "0.1.0";' in version_c
    assert f'const char finch_build_id[] = "{result.build_id}";' in version_c
    assert re.fullmatch(r"[0-9a-f]{16}", result.build_id)
    assert re.search(r'finch_build_date\[\] = "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ";', version_c)
    assert read_build_id(result.elf) == result.build_id


def test_a_second_build_recompiles_nothing_and_does_not_relink(tree):
    build_kernel(tree, echo=quiet)
    elf_time = tree.kernel_elf.stat().st_mtime_ns
    again = build_kernel(tree, echo=quiet)
    assert again.compiled == []
    assert not again.linked
    assert tree.kernel_elf.stat().st_mtime_ns == elf_time


def test_touching_a_header_recompiles_only_its_dependents_and_relinks(tree):
    first = build_kernel(tree, echo=quiet)
    age_outputs(tree)
    (tree.root / "kernel/kern/answer.h").touch()
    second = build_kernel(tree, echo=quiet)
    assert [str(s) for s in second.compiled] == ["kernel/kern/main.c"]
    assert second.linked
    assert second.build_id != first.build_id


def test_touching_a_public_header_recompiles_every_file_that_includes_it(tree):
    build_kernel(tree, echo=quiet)
    age_outputs(tree)
    (tree.root / "kernel/include/sys/kpi.h").touch()
    result = build_kernel(tree, echo=quiet)
    assert sorted(str(s) for s in result.compiled) == ["kernel/kern/kpi.c", "kernel/kern/main.c"]


def test_a_removed_object_is_rebuilt_alone(tree):
    build_kernel(tree, echo=quiet)
    (tree.root / "build/kernel/kern/kpi.o").unlink()
    result = build_kernel(tree, echo=quiet)
    assert [str(s) for s in result.compiled] == ["kernel/kern/kpi.c"]
    assert result.linked


def test_a_missing_elf_is_relinked_without_recompiling(tree):
    build_kernel(tree, echo=quiet)
    tree.kernel_elf.unlink()
    result = build_kernel(tree, echo=quiet)
    assert result.compiled == []
    assert result.linked


def test_changed_flags_recompile_everything(tree):
    build_kernel(tree, echo=quiet)
    (tree.root / "build/kernel/.flags").write_text("gcc -O0\n")
    result = build_kernel(tree, echo=quiet)
    assert len(result.compiled) == 3


def test_a_compile_error_shows_gccs_message_and_names_the_file(tree):
    write(tree.root / "kernel/kern/kpi.c", "int kpi_value(void) { return undeclared; }\n")
    shown = []
    with pytest.raises(BuildError, match=r"compiling kernel/kern/kpi\.c failed"):
        build_kernel(tree, echo=shown.append)
    assert any("error:" in line and "undeclared" in line for line in shown)


def test_a_warning_is_an_error(tree):
    write(tree.root / "kernel/kern/kpi.c", "int kpi_value(void) { int unused; return 1; }\n")
    with pytest.raises(BuildError):
        build_kernel(tree, echo=quiet)


def test_an_undefined_symbol_fails_the_link_with_lds_message(tree):
    write(
        tree.root / "kernel/kern/kpi.c",
        "int missing(void);\nint kpi_value(void) { return missing(); }\n",
    )
    with pytest.raises(BuildError, match="undefined reference to `missing'"):
        build_kernel(tree, echo=quiet)
    assert not tree.kernel_elf.exists()


def test_the_kernel_links_twice_and_its_table_names_its_functions(tree):
    shown = []
    build_kernel(tree, echo=shown.append)

    assert [line.split()[:2] for line in shown if line.startswith("  LD")] == [
        ["LD", "build/kernel/finch.pass1.elf"],
        ["LD", "images/finch.elf"],
    ]
    data = tree.kernel_elf.read_bytes()
    functions = ksyms.kernel_functions(data)
    assert {f.name for f in functions} == {"start", "kmain", "kpi_value"}
    first = ksyms.kernel_functions((tree.root / "build/kernel/finch.pass1.elf").read_bytes())
    assert functions == first
    table = (tree.root / "build/kernel/gen/ksyms.bin").read_bytes()
    assert ksyms.decode(table, 0x100000, 0x101000) == functions
    assert table in data


def test_a_table_that_moves_a_function_fails_the_build_loudly(tree):
    """.ksyms placed before the code: the second link moves every function."""
    write(
        tree.root / "kernel/i386/kernel.ld",
        LINKER_SCRIPT.replace("    .ksyms : { *(.ksyms) }\n", "").replace(
            ".text : {", ".ksyms : { *(.ksyms) }\n    .text : {"
        ),
    )

    with pytest.raises(
        BuildError, match=r"differ between the two links: .*kmain 0x[0-9a-f]{8} -> kmain 0x"
    ):
        build_kernel(tree, echo=quiet)
    assert not tree.kernel_elf.exists()


def test_a_missing_linker_script_is_explained(tree):
    (tree.root / "kernel/i386/kernel.ld").unlink()
    with pytest.raises(BuildError, match=r"kernel/i386/kernel\.ld is missing"):
        build_kernel(tree, echo=quiet)


KMOD_VAR_H = """\
struct kmod_component { const char *kc_name; const char *kc_version; };
extern const struct kmod_component kmod_components[];
extern const int kmod_ncomponents;
"""


def add_exports(tree, *symbols):
    write(tree.root / "kernel/kern/kmod_var.h", KMOD_VAR_H)
    lines = ["bundle-version 1.0.0", "compatible-version 1.0.0", *symbols]
    write(tree.root / "kernel/exports/com.apple.kpi.test.exports", "\n".join(lines) + "\n")


def test_the_kpi_bundles_are_generated_into_kmod_components(tree):
    add_exports(tree, "kpi_value")
    result = build_kernel(tree, echo=quiet)
    generated = (tree.root / "build/kernel/gen/kmod_components.c").read_text()
    assert '{ "com.apple.kpi.test", "1.0.0" },' in generated
    assert "build/kernel/gen/kmod_components.c" in [str(s) for s in result.compiled]


def test_every_exported_kpi_symbol_must_be_defined_by_the_kernel(tree):
    add_exports(tree, "kpi_value", "kpi_missing")
    with pytest.raises(BuildError, match=r"lists kpi_missing, but images/finch\.elf does not"):
        build_kernel(tree, echo=quiet)
    assert not tree.kernel_elf.exists()


def test_verbose_shows_the_commands(tree):
    shown = []
    build_kernel(tree, verbose=True, echo=shown.append)
    assert any(
        line.startswith("gcc -std=gnu11 -m32") and "kernel/kern/main.c" in line for line in shown
    )
    assert any(line.startswith("ld -m elf_i386 -T kernel/i386/kernel.ld") for line in shown)


def test_the_dependency_file_lists_the_headers(tree):
    build_kernel(tree, echo=quiet)
    deps = [str(p) for p in read_depfile(tree.root / "build/kernel/kern/main.d")]
    assert deps == ["kernel/kern/main.c", "kernel/kern/answer.h", "kernel/include/sys/kpi.h"]


def test_kernel_flags_are_the_freestanding_i386_set():
    flags = kernel_cflags("/usr/lib/gcc/include")
    for flag in [
        "-m32",
        "-march=i686",
        "-std=gnu11",
        "-ffreestanding",
        "-fno-pic",
        "-fno-stack-protector",
        "-fno-omit-frame-pointer",
        "-mno-red-zone",
        "-nostdinc",
        "-Werror",
        "-MMD",
        "-MP",
    ]:
        assert flag in flags
    assert flags[flags.index("-isystem") + 1] == "/usr/lib/gcc/include"


def test_assembly_drops_the_c_standard_and_defines_assembly():
    flags = asm_flags(kernel_cflags("/inc"))
    assert "-std=gnu11" not in flags
    assert "-D__ASSEMBLY__" in flags


def test_kexts_see_only_the_public_headers(tree):
    flags = kext_cflags(tree, "/inc")
    includes = [flags[i + 1] for i, f in enumerate(flags) if f == "-I"]
    assert includes == [str(tree.root / "kernel/include")]
    assert "-MMD" not in flags
