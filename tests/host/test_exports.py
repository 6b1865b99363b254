"""The KPI symbol sets in kernel/exports and the build's check against the kernel."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from finch.exports import (
    ExportsError,
    check_missing,
    default_exports_dir,
    kernel_symbols,
    kmod_components_source,
    load_exports,
    parse_exports_file,
)

REPO = Path(__file__).resolve().parents[2]


def link_fake_kernel(tmp_path: Path, source: str) -> Path:
    """A tiny i386 ELF executable standing in for images/finch.elf."""
    c = tmp_path / "kernel.c"
    c.write_text(source)
    obj, elf = tmp_path / "kernel.o", tmp_path / "kernel.elf"
    subprocess.run(
        ["gcc", "-m32", "-ffreestanding", "-fno-pic", "-O2", "-c", str(c), "-o", str(obj)],
        check=True,
    )
    subprocess.run(
        ["ld", "-m", "elf_i386", "-e", "0", "-Ttext=0x100000", "-o", str(elf), str(obj)],
        check=True,
    )
    return elf


def write_exports(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_the_kpi_bundles_have_tigers_versions() -> None:
    exports = load_exports()

    versions = {i: (str(b.version), str(b.compatible_version)) for i, b in exports.bundles.items()}

    assert versions == {
        "com.apple.kpi.bsd": ("8.0.0", "8.0.0b1"),
        "com.apple.kpi.iokit": ("8.0.0", "8.0.0b1"),
        "com.apple.kpi.libkern": ("8.0.0", "8.0.0d0"),
        "com.apple.kpi.mach": ("8.0.0", "8.0.0d0"),
        "com.apple.kpi.unsupported": ("8.0.0", "8.0.0b1"),
        # The ids kexts declared before the KPI, at the version Tiger gave them.
        "com.apple.kernel": ("8.0.0", "1.0.0"),
        "com.apple.kernel.bsd": ("7.9.9", "1.0.0"),
        "com.apple.kernel.iokit": ("7.9.9", "1.0.0"),
        "com.apple.kernel.libkern": ("7.9.9", "1.0.0"),
        "com.apple.kernel.mach": ("7.9.9", "1.0.0"),
    }


def test_the_older_kernel_ids_link_against_the_kpi_bundles_they_became() -> None:
    exports = load_exports()

    assert set(exports.linkable_symbols("com.apple.kernel.bsd")) == set(
        exports.bundles["com.apple.kpi.bsd"].symbols
        + exports.bundles["com.apple.kpi.unsupported"].symbols
    )
    assert set(exports.linkable_symbols("com.apple.kernel")) == exports.all_symbols()
    assert exports.bundle_for("proc_selfpid") == "com.apple.kpi.bsd"  # not the alias


def test_an_include_of_an_unknown_bundle_is_refused(tmp_path: Path) -> None:
    write_exports(
        tmp_path,
        "com.example.old.exports",
        "bundle-version 1.0\ncompatible-version 1.0\ninclude com.example.gone\n",
    )

    with pytest.raises(
        ExportsError, match=re.escape("includes com.example.gone, which no .exports file")
    ):
        load_exports(tmp_path)


@pytest.mark.parametrize(
    ("symbol", "bundle"),
    [
        ("printf", "com.apple.kpi.libkern"),
        ("OSMalloc", "com.apple.kpi.libkern"),
        ("lck_mtx_lock", "com.apple.kpi.libkern"),
        ("__udivdi3", "com.apple.kpi.libkern"),
        ("thread_call_enter", "com.apple.kpi.mach"),
        ("lck_mtx_sleep", "com.apple.kpi.mach"),
        ("msleep", "com.apple.kpi.bsd"),
        ("hz", "com.apple.kpi.bsd"),
        ("panic", "com.apple.kpi.unsupported"),
        ("ip_input", None),
    ],
)
def test_each_symbol_is_exported_by_its_bundle(symbol: str, bundle: str | None) -> None:
    assert load_exports().bundle_for(symbol) == bundle


def test_no_symbol_is_exported_by_two_bundles() -> None:
    exports = load_exports()

    shared = {s for s in exports.all_symbols() if len(exports.bundles_exporting(s)) > 1}

    assert shared == set()


def test_every_lock_function_of_kern_locks_h_is_exported() -> None:
    header = (REPO / "kernel" / "include" / "kern" / "locks.h").read_text()
    declared = set(re.findall(r"\b(lck_[a-z_]+)\(", header))

    assert declared
    assert declared - load_exports().all_symbols() == set()


def test_every_atomic_of_osatomic_h_is_exported() -> None:
    header = REPO / "kernel" / "include" / "libkern" / "OSAtomic.h"
    if not header.exists():
        pytest.skip("<libkern/OSAtomic.h> is not written yet")
    declared = set(
        re.findall(r"\b(OS[A-Za-z0-9]*(?:Atomic|Swap|TestAnd)[A-Za-z0-9]*)\(", header.read_text())
    )

    assert declared
    assert declared - load_exports().all_symbols() == set()


def test_the_exports_format_reads_versions_and_symbols(tmp_path: Path) -> None:
    path = write_exports(
        tmp_path,
        "com.example.kpi.test.exports",
        "# a comment\n\nbundle-version 2.0\ncompatible-version 1.0b1\nfoo  # trailing\nbar\n",
    )

    bundle = parse_exports_file(path)

    assert bundle.identifier == "com.example.kpi.test"
    assert (str(bundle.version), str(bundle.compatible_version)) == ("2.0", "1.0b1")
    assert bundle.symbols == ("foo", "bar")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("compatible-version 1.0\nfoo\n", "missing the 'bundle-version VERSION' line"),
        ("bundle-version 1.0\nfoo\n", "missing the 'compatible-version VERSION' line"),
        ("bundle-version 1.x\n", r":1: '1.x' is not a Darwin version"),
        ("bundle-version 1.0\ncompatible-version 2.0\n", "newer than bundle-version"),
        ("bundle-version 1.0\ncompatible-version 1.0\nfoo bar\n", ":3: 'foo bar' is not a symbol"),
        ("bundle-version 1.0\ncompatible-version 1.0\nfoo\nfoo\n", ":4: foo is already listed"),
    ],
)
def test_malformed_exports_files_are_reported_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write_exports(tmp_path, "com.example.bad.exports", text)

    with pytest.raises(ExportsError, match=re.escape(str(path))) as excinfo:
        parse_exports_file(path)

    assert re.search(expected, str(excinfo.value))


def test_an_exports_file_is_named_after_its_bundle(tmp_path: Path) -> None:
    path = write_exports(tmp_path, "bsd.exports", "bundle-version 1\ncompatible-version 1\n")

    with pytest.raises(ExportsError, match=re.escape("<bundle id>.exports")):
        parse_exports_file(path)


def test_check_missing_lists_the_symbols_the_kernel_does_not_define(tmp_path: Path) -> None:
    exports_dir = tmp_path / "exports"
    exports_dir.mkdir()
    write_exports(
        exports_dir,
        "com.apple.kpi.libkern.exports",
        "bundle-version 8.0.0\ncompatible-version 8.0.0d0\nprintf\nstrlen\nhidden\n",
    )
    write_exports(
        exports_dir,
        "com.apple.kpi.bsd.exports",
        "bundle-version 8.0.0\ncompatible-version 8.0.0b1\nhz\nmsleep\n",
    )
    kernel = link_fake_kernel(
        tmp_path,
        "int hz = 100;\n"
        "int printf(const char *f, ...) { return 0; }\n"
        "static int hidden(void) { return 1; }\n"  # static: not linkable, so missing
        "int use(void) { return hidden(); }\n",
    )

    missing = check_missing(kernel, exports_dir)

    assert missing == ["hidden", "msleep", "strlen"]
    report = load_exports(exports_dir).describe_missing(missing, kernel)
    assert "com.apple.kpi.bsd.exports: lists msleep, but" in report
    assert "does not define it" in report


def test_kernel_symbols_are_the_defined_globals_with_their_addresses(tmp_path: Path) -> None:
    kernel = link_fake_kernel(
        tmp_path, "int hz = 100;\nextern int later;\nint f(void) { return 0; }\n"
    )

    symbols = kernel_symbols(kernel)

    assert {"hz", "f"} <= symbols.keys()
    assert symbols["f"] >= 0x100000
    assert "later" not in symbols


def test_a_kernel_that_is_not_elf_is_reported(tmp_path: Path) -> None:
    bogus = tmp_path / "finch.elf"
    bogus.write_text("not an elf")

    with pytest.raises(ExportsError, match="not an ELF file"):
        kernel_symbols(bogus)
    with pytest.raises(ExportsError, match="build the kernel first"):
        kernel_symbols(tmp_path / "missing.elf")


def test_the_default_exports_dir_is_the_repositorys() -> None:
    assert default_exports_dir() == REPO / "kernel" / "exports"


def test_the_kernel_components_table_lists_the_kernel_then_each_kpi_bundle() -> None:
    source = kmod_components_source(load_exports())

    rows = re.findall(r'\{ "([^"]+)", "([^"]+)" \}', source)
    assert rows == [
        ("com.apple.kernel", "8.0.0"),
        ("com.apple.kpi.bsd", "8.0.0"),
        ("com.apple.kpi.iokit", "8.0.0"),
        ("com.apple.kpi.libkern", "8.0.0"),
        ("com.apple.kpi.mach", "8.0.0"),
        ("com.apple.kpi.unsupported", "8.0.0"),
        # Bundles that list no symbols of their own come last.
        ("com.apple.kernel.bsd", "7.9.9"),
        ("com.apple.kernel.iokit", "7.9.9"),
        ("com.apple.kernel.libkern", "7.9.9"),
        ("com.apple.kernel.mach", "7.9.9"),
    ]
    assert "const int kmod_ncomponents = 10;" in source
