"""The KPI symbol sets: which kernel symbols each KPI pseudo-bundle exports.

kernel/exports/<bundle id>.exports holds one pseudo-bundle (com.apple.kpi.bsd,
...): its version, its compatible version, then one symbol per line (the
format is described at the top of each file).  A kext links only against the
symbols of the bundles it declares in OSBundleLibraries; a kernel global that
no bundle lists is private to the kernel.  A bundle may instead (or as well)
`include` others: com.apple.kernel.bsd, the id kexts written before the KPI
declared, links against com.apple.kpi.bsd's symbols that way.  The build calls check_missing() so
that a listed symbol the kernel does not define fails the build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from finch.errors import FinchError
from finch.plist import C_IDENTIFIER_RE, is_bundle_id
from finch.version import Version, VersionError, parse_version

EXPORTS_SUFFIX = ".exports"


class ExportsError(FinchError):
    """A malformed .exports file, or a kernel ELF that cannot be read."""


@dataclass(frozen=True)
class KpiBundle:
    """One kernel pseudo-bundle (com.apple.kpi.*) and the symbols it exports."""

    identifier: str
    version: Version
    compatible_version: Version
    symbols: tuple[str, ...]  # in file order: the ones this bundle itself lists
    path: Path
    includes: tuple[str, ...] = ()  # bundles whose symbols a kext linking this one gets

    def exports(self, symbol: str) -> bool:
        """Does this bundle list `symbol` itself (not through an include)?"""
        return symbol in self.symbols

    @property
    def is_alias(self) -> bool:
        """A compatibility id standing for other bundles (com.apple.kernel.bsd)."""
        return bool(self.includes)


@dataclass(frozen=True)
class KpiExports:
    """Every KPI bundle of the kernel, by bundle identifier."""

    bundles: dict[str, KpiBundle]

    def bundles_exporting(self, symbol: str) -> list[str]:
        """Identifiers of the bundles that export `symbol` (usually one)."""
        return [b.identifier for b in self.bundles.values() if b.exports(symbol)]

    def bundle_for(self, symbol: str) -> str | None:
        """The bundle that exports `symbol`, or None if it is kernel-private."""
        found = self.bundles_exporting(symbol)
        return found[0] if found else None

    def all_symbols(self) -> set[str]:
        return {s for b in self.bundles.values() for s in b.symbols}

    def check_missing(self, kernel_elf: Path | str) -> list[str]:
        """Listed symbols that the kernel ELF does not define as globals."""
        defined = kernel_symbols(kernel_elf)
        return sorted(self.all_symbols() - defined.keys())

    def describe_missing(self, missing: Iterable[str], kernel_elf: Path | str) -> str:
        """A build error for check_missing()'s result, one line per symbol."""
        lines = []
        for symbol in missing:
            for bundle_id in self.bundles_exporting(symbol):
                path = self.bundles[bundle_id].path
                lines.append(
                    f"{path}: lists {symbol}, but {kernel_elf} does not define it as a "
                    "global: implement it in the kernel or remove it from the list"
                )
        return "\n".join(lines)

    def linkable_symbols(self, bundle_id: str) -> tuple[str, ...]:
        """What a kext declaring `bundle_id` may link against: its own
        symbols and those of the bundles it includes."""
        bundle = self.bundles[bundle_id]
        included = (s for i in bundle.includes for s in self.bundles[i].symbols)
        return (*bundle.symbols, *included)

    def symbol_addresses(self, kernel_syms: Mapping[str, int]) -> dict[str, dict[str, int]]:
        """bundle id -> {symbol: address} for the symbols the kernel defines."""
        return {
            i: {s: kernel_syms[s] for s in self.linkable_symbols(i) if s in kernel_syms}
            for i in self.bundles
        }


def default_exports_dir() -> Path:
    """kernel/exports of the repository this package lives in."""
    return Path(__file__).resolve().parents[2] / "kernel" / "exports"


def parse_exports_file(path: Path | str) -> KpiBundle:
    """Read one <bundle id>.exports file."""
    path = Path(path)
    identifier = path.name.removesuffix(EXPORTS_SUFFIX)
    if not path.name.endswith(EXPORTS_SUFFIX) or not is_bundle_id(identifier):
        raise ExportsError(
            f"{path}: the file name must be <bundle id>{EXPORTS_SUFFIX}, "
            "e.g. com.apple.kpi.bsd.exports"
        )
    versions: dict[str, Version] = {}
    symbols: list[str] = []
    includes: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}:{lineno}"
        words = line.split()
        if words[0] in ("bundle-version", "compatible-version"):
            if len(words) != 2:
                raise ExportsError(f"{where}: expected '{words[0]} VERSION'")
            if words[0] in versions:
                raise ExportsError(f"{where}: {words[0]} given twice")
            try:
                versions[words[0]] = parse_version(words[1])
            except VersionError as e:
                raise ExportsError(f"{where}: {e}") from None
            continue
        if words[0] == "include":
            if len(words) != 2 or not is_bundle_id(words[1]):
                raise ExportsError(f"{where}: expected 'include BUNDLE_ID'")
            includes.append(words[1])
            continue
        if len(words) != 1 or not C_IDENTIFIER_RE.fullmatch(line):
            raise ExportsError(f"{where}: {line!r} is not a symbol name (one C name per line)")
        if line in seen:
            raise ExportsError(f"{where}: {line} is already listed on line {seen[line]}")
        seen[line] = lineno
        symbols.append(line)
    for directive in ("bundle-version", "compatible-version"):
        if directive not in versions:
            raise ExportsError(f"{path}: missing the '{directive} VERSION' line")
    version, compatible = versions["bundle-version"], versions["compatible-version"]
    if compatible > version:
        raise ExportsError(
            f"{path}: compatible-version {compatible} is newer than bundle-version {version}"
        )
    return KpiBundle(identifier, version, compatible, tuple(symbols), path, tuple(includes))


def load_exports(directory: Path | str | None = None) -> KpiExports:
    """Read every *.exports file of `directory` (default: kernel/exports)."""
    directory = Path(directory) if directory is not None else default_exports_dir()
    files = sorted(directory.glob(f"*{EXPORTS_SUFFIX}"))
    if not files:
        raise ExportsError(f"{directory}: no *{EXPORTS_SUFFIX} files; expected one per KPI bundle")
    bundles = {}
    for path in files:
        bundle = parse_exports_file(path)
        bundles[bundle.identifier] = bundle
    for bundle in bundles.values():
        for included in bundle.includes:
            if included not in bundles:
                raise ExportsError(
                    f"{bundle.path}: includes {included}, which no .exports file defines"
                )
            if bundles[included].includes:
                raise ExportsError(
                    f"{bundle.path}: includes {included}, which includes others itself: "
                    "include the bundles that list the symbols"
                )
    return KpiExports(bundles)


def kernel_symbols(kernel_elf: Path | str) -> dict[str, int]:
    """Global and weak symbols the kernel ELF defines: name -> address."""
    try:
        with open(kernel_elf, "rb") as f:
            elf = ELFFile(f)
            symtab = elf.get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                raise ExportsError(f"{kernel_elf}: has no symbol table; link the kernel without -s")
            result: dict[str, int] = {}
            for sym in symtab.iter_symbols():
                bind = sym["st_info"]["bind"]
                if bind not in ("STB_GLOBAL", "STB_WEAK") or sym["st_shndx"] == "SHN_UNDEF":
                    continue
                if sym.name:
                    result[sym.name] = sym["st_value"]
            return result
    except FileNotFoundError:
        raise ExportsError(f"{kernel_elf}: no such file; build the kernel first") from None
    except ELFError as e:
        raise ExportsError(f"{kernel_elf}: not an ELF file ({e})") from None


KERNEL_BUNDLE_ID = "com.apple.kernel"


def kmod_components_source(exports: KpiExports, kernel_version: str = "8.0.0") -> str:
    """C source of kmod_components[] (kern/kmod_var.h): the kernel, then each
    KPI bundle that lists symbols, with its version, by id (Tiger's order:
    bsd 1, iokit 2, libkern 3, mach 4, unsupported 5), then the ones that
    stand only for others (com.apple.kernel.bsd, ...), as kextstat lists
    them first."""
    ordered = sorted(exports.bundles.values(), key=lambda b: (not b.symbols, b.identifier))
    rows = [(KERNEL_BUNDLE_ID, kernel_version)] + [
        (b.identifier, str(b.version)) for b in ordered if b.identifier != KERNEL_BUNDLE_ID
    ]
    lines = [
        "/* Generated by tools/finch/exports.py from kernel/exports: do not edit. */",
        '#include "kern/kmod_var.h"',
        "",
        "const struct kmod_component kmod_components[] = {",
        *(f'\t{{ "{name}", "{version}" }},' for name, version in rows),
        "};",
        f"const int kmod_ncomponents = {len(rows)};",
        "",
    ]
    return "\n".join(lines)


def check_missing(kernel_elf: Path | str, exports_dir: Path | str | None = None) -> list[str]:
    """Symbols listed in kernel/exports that the kernel ELF does not define."""
    return load_exports(exports_dir).check_missing(kernel_elf)
