"""Building kexts (source bundle -> <Name>.kext with one ELF object and a
generated kmod_info), the bundle model, dependency resolution and kextstat."""

from __future__ import annotations

import plistlib
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile
from kextinfo import kext_info

from finch.build import Tree
from finch.exports import load_exports
from finch.kext.build import (
    KextBuildError,
    build_kext,
    c_string,
    compile_command,
    render_kmod_info,
)
from finch.kext.bundle import BundleSearch, KextBundle, KextError, find_bundles, open_bundle
from finch.kext.dependencies import DependencyError, namespace_for, resolve_load_order
from finch.kext.loaded import KEXTSTAT_HEADER, LoadedKext, format_kextstat, kextstat_row
from finch.kext.unload import bundle_identifier
from finch.link import LinkError, link_kext
from finch.plist import PlistError, load_info_plist, parse_info

REPO = Path(__file__).resolve().parents[2]
TREE = Tree(REPO)
LOAD = 0xC000_0000

STUB_KMOD_H = """\
#include <mach/mach_types.h>
#define KMOD_INFO_VERSION 1
struct kmod_info;
typedef kern_return_t kmod_start_func_t(struct kmod_info *ki, void *data);
typedef kern_return_t kmod_stop_func_t(struct kmod_info *ki, void *data);
#pragma pack(4)
typedef struct kmod_reference { struct kmod_reference *next; struct kmod_info *info; }
    kmod_reference_t;
typedef struct kmod_info {
    struct kmod_info *next; int32_t info_version; uint32_t id;
    char name[64]; char version[64]; int32_t reference_count;
    kmod_reference_t *reference_list; vm_address_t address; vm_size_t size;
    vm_size_t hdr_size; kmod_start_func_t *start; kmod_stop_func_t *stop;
} kmod_info_t;
#pragma pack()
#define KMOD_EXPLICIT_DECL(name, version, start, stop) \\
    kmod_info_t kmod_info = { 0, KMOD_INFO_VERSION, -1U, { #name }, { version }, \\
        -1, 0, 0, 0, 0, start, stop };
"""

HELLO_C = """\
#include <mach/kmod.h>
kern_return_t hello_start(kmod_info_t *ki, void *data);
kern_return_t hello_stop(kmod_info_t *ki, void *data);
extern int helper(void);
kern_return_t hello_start(kmod_info_t *ki, void *data) { return helper(); }
kern_return_t hello_stop(kmod_info_t *ki, void *data) { return KERN_SUCCESS; }
"""


@pytest.fixture
def includes(tmp_path: Path) -> list[Path]:
    """Extra include dirs: a stand-in <mach/kmod.h> until the kernel has one."""
    if (REPO / "kernel" / "include" / "mach" / "kmod.h").exists():
        return []
    stub = tmp_path / "stub-include"
    (stub / "mach").mkdir(parents=True)
    (stub / "mach" / "kmod.h").write_text(STUB_KMOD_H)
    return [stub]


def source_bundle(tmp_path: Path, files: dict[str, str], **plist: Any) -> Path:
    src = tmp_path / "src" / "hello"
    src.mkdir(parents=True)
    (src / "Info.plist").write_bytes(plistlib.dumps(kext_info(**plist)))
    for name, text in files.items():
        (src / name).write_text(text)
    return src


def build(tmp_path: Path, src: Path, includes: list[Path]) -> Any:
    return build_kext(
        src, tree=TREE, out_dir=tmp_path / "out", include_dirs=includes, echo=lambda s: None
    )


def word(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


# -- kmod_info ------------------------------------------------------------


def test_the_generated_kmod_info_has_xnus_layout(tmp_path: Path, includes: list[Path]) -> None:
    plist = tmp_path / "Info.plist"
    plist.write_bytes(plistlib.dumps(kext_info(FinchModuleStart="my_start")))
    source = tmp_path / "kmod_info.c"
    source.write_text(render_kmod_info(load_info_plist(plist)))
    obj = tmp_path / "kmod_info.o"

    subprocess.run(compile_command(TREE, source, obj, includes), cwd=REPO, check=True)

    with open(obj, "rb") as f:
        elf = ELFFile(f)
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name("kmod_info")[0]
        data = elf.get_section(sym["st_shndx"]).data()[sym["st_value"] :][:168]
        rel = elf.get_section_by_name(".rel" + elf.get_section(sym["st_shndx"]).name)
        symtab = elf.get_section(rel["sh_link"])
        relocs = {
            r["r_offset"] - sym["st_value"]: symtab.get_symbol(r["r_info_sym"]).name
            for r in rel.iter_relocations()
        }
    assert sym["st_size"] == 168
    assert sym["st_info"]["bind"] == "STB_GLOBAL"
    assert word(data, 4) == 1  # info_version
    assert word(data, 8) == 0xFFFFFFFF  # id: filled in by the kernel
    assert data[12:76].rstrip(b"\0") == b"com.example.hello"
    assert data[76:140].rstrip(b"\0") == b"1.0.0d1"
    assert relocs == {160: "my_start", 164: "hello_stop"}


def test_c_strings_are_escaped() -> None:
    assert c_string('a"b\\c') == 'a\\"b\\\\c'
    assert c_string("é") == "\\303\\251"


# -- building -------------------------------------------------------------


def test_a_source_bundle_builds_into_a_bundle_with_one_relocatable_object(
    tmp_path: Path, includes: list[Path]
) -> None:
    src = source_bundle(
        tmp_path, {"hello.c": HELLO_C, "helper.c": "int helper(void) { return 0; }\n"}
    )

    built = build(tmp_path, src, includes)

    bundle = tmp_path / "out" / "hello.kext"
    assert built.bundle.path == bundle
    assert (bundle / "Contents" / "Info.plist").read_bytes() == (src / "Info.plist").read_bytes()
    executable = bundle / "Contents" / "MacOS" / "hello"
    with open(executable, "rb") as f:
        elf = ELFFile(f)
        assert (elf["e_type"], elf["e_machine"]) == ("ET_REL", "EM_386")
        names = {s.name for s in elf.get_section_by_name(".symtab").iter_symbols()}
    assert {"kmod_info", "hello_start", "hello_stop", "helper"} <= names
    assert built.kmod_info_source is not None


def test_a_built_kext_links_and_its_kmod_info_points_at_start_and_stop(
    tmp_path: Path, includes: list[Path]
) -> None:
    src = source_bundle(
        tmp_path, {"hello.c": HELLO_C, "helper.c": "int helper(void) { return 0; }\n"}
    )
    built = build(tmp_path, src, includes)
    ns = namespace_for(built.bundle.info, kpis=load_exports(), kernel_symbols={"printf": 0x1000})

    linked = link_kext(built.bundle.executable, LOAD, ns, bundle_id="com.example.hello")

    kmod = linked.kmod_info_address - LOAD
    assert word(linked.image, kmod + 160) == linked.symbols["hello_start"]
    assert word(linked.image, kmod + 164) == linked.symbols["hello_stop"]


def test_finch_module_start_and_stop_name_the_routines(
    tmp_path: Path, includes: list[Path]
) -> None:
    code = (
        "#include <mach/kmod.h>\n"
        "kern_return_t go(kmod_info_t *ki, void *d);\n"
        "kern_return_t halt(kmod_info_t *ki, void *d);\n"
        "kern_return_t go(kmod_info_t *ki, void *d) { return 0; }\n"
        "kern_return_t halt(kmod_info_t *ki, void *d) { return 0; }\n"
    )
    src = source_bundle(tmp_path, {"hello.c": code}, FinchModuleStart="go", FinchModuleStop="halt")

    built = build(tmp_path, src, includes)

    assert built.kmod_info_source is not None
    assert "= go," in built.kmod_info_source.read_text()


def test_a_missing_start_routine_is_reported_with_its_name_and_key(
    tmp_path: Path, includes: list[Path]
) -> None:
    code = HELLO_C.replace(
        "kern_return_t hello_start(kmod_info_t *ki, void *data) {",
        "static kern_return_t hello_start(kmod_info_t *ki, void *data) {",
    )
    code = code.replace(
        "kern_return_t hello_start(kmod_info_t *ki, void *data);",
        "static kern_return_t hello_start(kmod_info_t *ki, void *data);",
    )
    code += "void *keep = (void *)hello_start;\nint helper(void) { return 0; }\n"  # fmt: skip
    src = source_bundle(tmp_path, {"hello.c": code})

    with pytest.raises(KextBuildError) as excinfo:
        build(tmp_path, src, includes)

    message = str(excinfo.value)
    assert "the start routine is hello_start" in message
    assert "set FinchModuleStart in Info.plist" in message
    assert "not static" in message
    assert "stop routine" not in message


def test_a_kext_with_its_own_kmod_info_gets_none_generated(
    tmp_path: Path, includes: list[Path]
) -> None:
    code = (
        "#include <mach/kmod.h>\n"
        "static kern_return_t s(kmod_info_t *ki, void *d) { return 0; }\n"
        'KMOD_EXPLICIT_DECL(com.example.hello, "1.0.0d1", s, s)\n'
    )
    src = source_bundle(tmp_path, {"hello.c": code})

    built = build(tmp_path, src, includes)

    assert built.kmod_info_source is None
    assert not (tmp_path / "out" / "obj" / "hello" / "kmod_info.c").exists()


def test_an_explicit_kmod_info_must_agree_with_info_plist(
    tmp_path: Path, includes: list[Path]
) -> None:
    code = (
        "#include <mach/kmod.h>\n"
        "static kern_return_t s(kmod_info_t *ki, void *d) { return 0; }\n"
        'KMOD_EXPLICIT_DECL(com.example.other, "2.0", s, s)\n'
    )
    src = source_bundle(tmp_path, {"hello.c": code})

    with pytest.raises(KextBuildError) as excinfo:
        build(tmp_path, src, includes)

    assert "its name is 'com.example.other' but CFBundleIdentifier is" in str(excinfo.value)
    assert "its version is '2.0'" in str(excinfo.value)


def test_a_compile_error_names_the_file(tmp_path: Path, includes: list[Path]) -> None:
    src = source_bundle(tmp_path, {"hello.c": "int broken(void) { return }\n"})

    with pytest.raises(KextBuildError, match=r"compiling .*hello\.c failed:\n.*error"):
        build(tmp_path, src, includes)


def test_a_folder_without_sources_or_info_plist_is_refused(tmp_path: Path) -> None:
    src = source_bundle(tmp_path, {})
    with pytest.raises(KextError, match=r"no \.c or \.S sources"):
        build_kext(src, tree=TREE, out_dir=tmp_path / "out")
    with pytest.raises(KextError, match=r"no Info\.plist"):
        build_kext(tmp_path, tree=TREE, out_dir=tmp_path / "out")


# -- bundles --------------------------------------------------------------


def test_opening_a_source_bundle_as_a_built_one_says_to_build_it(tmp_path: Path) -> None:
    src = source_bundle(tmp_path, {"hello.c": HELLO_C})

    with pytest.raises(KextError, match="is a source bundle; build it"):
        open_bundle(src)


def test_a_bundle_without_its_executable_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "hello.kext"
    (bundle / "Contents").mkdir(parents=True)
    (bundle / "Contents" / "Info.plist").write_bytes(plistlib.dumps(kext_info()))

    with pytest.raises(KextError, match=r"Contents/MacOS/hello \(CFBundleExecutable\) is missing"):
        open_bundle(bundle)


HELPER_C = "int helper(void) { return 0; }\n"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"CFBundleIdentifier": "com.example.renamed"},
            "Info.plist says com.example.renamed but the executable was built as com.example.hello",
        ),
        (
            {"CFBundleVersion": "2.0"},
            "Info.plist says version 2.0 but the executable was built as version 1.0.0d1",
        ),
    ],
)
def test_a_bundle_whose_info_plist_changed_after_the_build_is_refused(
    tmp_path: Path, includes: list[Path], change: dict[str, str], expected: str
) -> None:
    src = source_bundle(tmp_path, {"hello.c": HELLO_C, "helper.c": HELPER_C})
    bundle = build(tmp_path, src, includes).bundle.path
    (bundle / "Contents" / "Info.plist").write_bytes(plistlib.dumps(kext_info(**change)))

    with pytest.raises(KextError) as excinfo:
        open_bundle(bundle)

    assert str(excinfo.value).startswith(f"{bundle}: {expected}")
    assert "rebuild the kext with `make build`" in str(excinfo.value)


def test_kextunload_knows_a_built_bundle_by_the_id_its_kmod_info_was_built_with(
    tmp_path: Path, includes: list[Path]
) -> None:
    """kextunload Foo.kext names the kext as the kernel does, and refuses
    a bundle whose Info.plist was edited after the build as kextload does."""
    src = source_bundle(tmp_path, {"hello.c": HELLO_C})
    bundle = build(tmp_path, src, includes).bundle.path
    assert bundle_identifier(bundle) == "com.example.hello"
    assert bundle_identifier(src) == "com.example.hello"

    (bundle / "Contents" / "Info.plist").write_bytes(
        plistlib.dumps(kext_info(CFBundleIdentifier="com.example.renamed"))
    )

    with pytest.raises(KextError, match=r"but the executable was built as com\.example\.hello"):
        bundle_identifier(bundle)


def test_a_bundle_changed_after_the_build_is_not_offered_as_a_library(
    tmp_path: Path, includes: list[Path]
) -> None:
    src = source_bundle(tmp_path, {"hello.c": HELLO_C, "helper.c": HELPER_C})
    bundle = build(tmp_path, src, includes).bundle.path
    renamed = kext_info(CFBundleIdentifier="com.example.renamed")
    (bundle / "Contents" / "Info.plist").write_bytes(plistlib.dumps(renamed))

    search = find_bundles([bundle.parent])

    assert search.with_id("com.example.renamed") == []
    assert search.with_id("com.example.hello") == []
    assert any("built as com.example.hello" in reason for reason in search.broken)


def test_a_bundle_whose_executable_is_not_an_object_is_refused_when_opened(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "hello.kext"
    (bundle / "Contents" / "MacOS").mkdir(parents=True)
    (bundle / "Contents" / "Info.plist").write_bytes(plistlib.dumps(kext_info()))
    (bundle / "Contents" / "MacOS" / "hello").write_text("#!/bin/sh\n")

    with pytest.raises(LinkError, match=r"MacOS/hello: not an ELF file"):
        open_bundle(bundle)


# -- dependencies ---------------------------------------------------------


def bundle(identifier: str, version: str, libraries: dict[str, str], **extra: Any) -> KextBundle:
    info = kext_info(
        CFBundleIdentifier=identifier,
        CFBundleVersion=version,
        CFBundleExecutable=identifier.rsplit(".", 1)[-1],
        OSBundleLibraries=libraries,
        **extra,
    )
    path = Path(f"/kexts/{identifier}.kext")
    return KextBundle(path, parse_info(info, path / "Contents" / "Info.plist"))


KPI = {"com.apple.kpi.libkern": "8.0.0"}


def test_library_kexts_are_loaded_before_their_dependents() -> None:
    base = bundle("com.example.base", "1.0", KPI, OSBundleCompatibleVersion="1.0")
    lib = bundle(
        "com.example.lib",
        "2.0",
        {**KPI, "com.example.base": "1.0"},
        OSBundleCompatibleVersion="1.0",
    )
    user = bundle("com.example.user", "1.0", {**KPI, "com.example.lib": "1.5"})

    order = resolve_load_order(user, kpis=load_exports(), search=BundleSearch((lib, base)))

    assert [b.identifier for b in order] == [
        "com.example.base",
        "com.example.lib",
        "com.example.user",
    ]


def test_a_loaded_library_is_not_loaded_again() -> None:
    user = bundle("com.example.user", "1.0", {**KPI, "com.example.lib": "1.0"})
    loaded = LoadedKext(9, 0, LOAD, 4096, 4096, "com.example.lib", "1.2", (), "1.0")

    order = resolve_load_order(user, kpis=load_exports(), loaded=[loaded])

    assert [b.identifier for b in order] == ["com.example.user"]


@pytest.mark.parametrize(
    ("requested", "lib_version", "compatible", "expected"),
    [
        ("3.0", "2.0", "1.0", "older than the 3.0 requested"),
        ("1.0", "3.0", "2.0", "compatible only back to 2.0"),
        ("1.0", "1.0", None, "no OSBundleCompatibleVersion"),
    ],
)
def test_an_incompatible_library_is_refused_naming_plist_and_key(
    requested: str, lib_version: str, compatible: str | None, expected: str
) -> None:
    extra = {"OSBundleCompatibleVersion": compatible} if compatible else {}
    lib = bundle("com.example.lib", lib_version, KPI, **extra)
    user = bundle("com.example.user", "1.0", {**KPI, "com.example.lib": requested})

    with pytest.raises(DependencyError) as excinfo:
        resolve_load_order(user, kpis=load_exports(), search=BundleSearch((lib,)))

    assert str(user.info.path) + ": OSBundleLibraries.com.example.lib" in str(excinfo.value)
    assert expected in str(excinfo.value)


def test_a_kpi_request_newer_than_the_kernel_loads_with_a_warning() -> None:
    # Xcode wrote the KPI version of the Mac OS X it ran on (9.0 on 10.5).
    user = bundle("com.example.user", "1.0", {"com.apple.kpi.bsd": "9.0"})
    warnings: list[str] = []

    order = resolve_load_order(user, kpis=load_exports(), warn=warnings.append)

    assert [b.identifier for b in order] == ["com.example.user"]
    assert len(warnings) == 1
    assert "asks for com.apple.kpi.bsd 9.0, newer than this kernel's 8.0.0" in warnings[0]


def test_an_unknown_kpi_bundle_is_a_plist_error() -> None:
    user = bundle("com.example.user", "1.0", {"com.apple.kpi.private": "8.0"})

    with pytest.raises(PlistError) as excinfo:
        resolve_load_order(user, kpis=load_exports())

    assert excinfo.value.keys == ["OSBundleLibraries.com.apple.kpi.private"]
    assert "com.apple.kpi.bsd" in str(excinfo.value)


def test_a_missing_library_says_how_to_name_it() -> None:
    user = bundle("com.example.user", "1.0", {"com.example.lib": "1.0"})

    with pytest.raises(DependencyError, match="not loaded and not among the bundles searched"):
        resolve_load_order(user, kpis=load_exports())


def test_a_circular_dependency_is_refused() -> None:
    a = bundle("com.example.a", "1.0", {"com.example.b": "1.0"}, OSBundleCompatibleVersion="1.0")
    b = bundle("com.example.b", "1.0", {"com.example.a": "1.0"}, OSBundleCompatibleVersion="1.0")

    with pytest.raises(
        DependencyError, match=r"circular dependency: com\.example\.a -> com\.example\.b"
    ):
        resolve_load_order(a, kpis=load_exports(), search=BundleSearch((a, b)))


def test_a_loaded_kext_is_not_loaded_twice() -> None:
    hello = bundle("com.example.hello", "1.0", KPI)
    loaded = LoadedKext(5, 0, LOAD, 4096, 4096, "com.example.hello", "1.0")

    with pytest.raises(KextError, match=r"already loaded .*kextunload -b com\.example\.hello"):
        resolve_load_order(hello, kpis=load_exports(), loaded=[loaded])


def test_the_namespace_holds_only_the_declared_bundles() -> None:
    user = bundle("com.example.user", "1.0", {**KPI, "com.example.lib": "1.0"})

    ns = namespace_for(
        user.info,
        kpis=load_exports(),
        kernel_symbols={"printf": 0x1000, "msleep": 0x2000, "ip_input": 0x3000},
        loaded_symbols={"com.example.lib": {"lib_fn": 0xC000}, "com.example.x": {"x": 1}},
    )

    assert [lib.identifier for lib in ns.declared] == ["com.apple.kpi.libkern", "com.example.lib"]
    assert ns.resolve("printf") == 0x1000
    assert ns.resolve("lib_fn") == 0xC000
    assert ns.resolve("msleep") is None
    assert "com.apple.kpi.bsd" in [lib.identifier for lib in ns.others]


# -- kextstat -------------------------------------------------------------

ROWS = [
    LoadedKext(1, 4, 0, 0, 0, "com.apple.kpi.bsd", "8.0.0", kernel_component=True),
    LoadedKext(2, 5, 0, 0, 0, "com.apple.kpi.libkern", "8.0.0", kernel_component=True),
    LoadedKext(7, 0, 0xC0001000, 0x2000, 0x2000, "com.example.hello", "1.0.0d1", (1, 2)),
]


def test_kextstat_prints_tigers_columns() -> None:
    out = format_kextstat(ROWS)

    assert out.splitlines()[0] == KEXTSTAT_HEADER
    assert out.splitlines()[0].startswith("Index Refs Address    Size       Wired      Name")
    assert out.splitlines()[1] == (
        "    1    4 0x0        0x0        0x0        com.apple.kpi.bsd (8.0.0)"
    )
    assert kextstat_row(ROWS[2]) == (
        "    7    0 0xc0001000 0x2000     0x2000     com.example.hello (1.0.0d1) <2 1>"
    )


def test_kextstat_flags_hide_the_header_the_kernel_or_other_bundles() -> None:
    assert format_kextstat(ROWS, header=False).count("\n") == 3
    assert format_kextstat(ROWS, hide_kernel=True, header=False).startswith("    7")
    only = format_kextstat(ROWS, bundle_ids=["com.apple.kpi.libkern"], header=False)
    assert only.splitlines() == [kextstat_row(ROWS[1])]
