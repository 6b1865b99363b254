"""Kext bundles: a source bundle, the built bundle, what is loaded, and the
order in which a kext and its library kexts must be loaded.

    kexts/hello/Info.plist + *.c             a source bundle (SourceBundle)
    build/kexts/hello.kext/Contents/...      a built bundle (KextBundle)
    the kernel's kmod table (KMOD_LIST)      what is loaded (LoadedKext)

resolve_load_order() is kextload's dependency step: every OSBundleLibraries
entry must be a KPI bundle, a loaded kext or a bundle found in the search
dirs, at a compatible version (compatibleVersion <= requested <=
CFBundleVersion); library kexts not yet loaded come first.  namespace_for()
gathers what the linker may resolve a kext's symbols against, and
format_kextstat() prints the kmod table as Tiger's kextstat did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from finch.errors import FinchError
from finch.exports import KpiExports
from finch.hostlink.messages import KmodEntry
from finch.link import Library, Namespace
from finch.plist import KextInfo, PlistError, PlistProblem, load_info_plist
from finch.version import Version, VersionError, compatibility_problem, parse_version

KPI_PREFIX = "com.apple.kpi."
SOURCE_SUFFIXES = (".c", ".S")


class KextError(FinchError):
    """A bundle that is missing or malformed, or a kext that cannot be loaded."""


class DependencyError(KextError):
    """A library a kext declares is missing, too old, incompatible, or circular."""


@dataclass(frozen=True)
class SourceBundle:
    """kexts/<name>/: an Info.plist and the C (and .S) sources beside it."""

    path: Path
    info: KextInfo
    sources: tuple[Path, ...]

    @property
    def bundle_name(self) -> str:
        """The built bundle is <bundle_name>.kext (Xcode's PRODUCT_NAME)."""
        return self.info.executable


@dataclass(frozen=True)
class KextBundle:
    """<Name>.kext/Contents/{Info.plist, MacOS/<CFBundleExecutable>}."""

    path: Path
    info: KextInfo

    @property
    def identifier(self) -> str:
        return self.info.identifier

    @property
    def version(self) -> Version:
        return self.info.version

    @property
    def executable(self) -> Path:
        return self.path / "Contents" / "MacOS" / self.info.executable


@dataclass(frozen=True)
class LoadedKext:
    """One row of the kernel's kmod table."""

    index: int
    refs: int
    address: int
    size: int
    wired: int
    identifier: str
    version: str
    linked_against: tuple[int, ...] = ()
    compatible_version: str = ""
    image_crc: int = 0
    kernel_component: bool = False

    @classmethod
    def from_entry(cls, e: KmodEntry) -> LoadedKext:
        return cls(
            index=e.kmod_id,
            refs=e.refs,
            address=e.address,
            size=e.size,
            wired=e.wired,
            identifier=e.name,
            version=e.version,
            linked_against=e.dependencies,
            compatible_version=e.compatible_version,
            image_crc=e.image_crc,
            kernel_component=e.kernel_component,
        )


def open_source_bundle(path: Path | str) -> SourceBundle:
    """Read kexts/<name>/Info.plist and list the sources (sorted, recursive)."""
    path = Path(path)
    plist = path / "Info.plist"
    if not plist.is_file():
        raise KextError(
            f"{path}: no Info.plist: a source bundle is a folder with Info.plist and "
            "its .c files (make one with `finch new-kext NAME --id com.example.name`)"
        )
    info = load_info_plist(plist)
    sources = tuple(
        sorted(p for p in path.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
    )
    if not sources:
        raise KextError(f"{path}: no .c or .S sources beside Info.plist")
    return SourceBundle(path, info, sources)


def open_bundle(path: Path | str) -> KextBundle:
    """Read a built <Name>.kext bundle."""
    path = Path(path)
    if not path.is_dir():
        raise KextError(f"{path}: no such kext bundle (a folder named <Name>.kext)")
    plist = path / "Contents" / "Info.plist"
    if not plist.is_file():
        if (path / "Info.plist").is_file():
            raise KextError(
                f"{path}: is a source bundle; build it (`finch build`) and load "
                f"build/kexts/<Name>.kext instead"
            )
        raise KextError(f"{path}: not a kext bundle: Contents/Info.plist is missing")
    bundle = KextBundle(path, load_info_plist(plist))
    if not bundle.executable.is_file():
        raise KextError(
            f"{path}: Contents/MacOS/{bundle.info.executable} (CFBundleExecutable) is "
            "missing: rebuild the kext"
        )
    return bundle


@dataclass(frozen=True)
class BundleSearch:
    """The built bundles found in kextload's search dirs (-r) and -d options."""

    bundles: tuple[KextBundle, ...]
    broken: tuple[str, ...] = field(default=())  # why some *.kext could not be read

    def with_id(self, identifier: str) -> list[KextBundle]:
        return [b for b in self.bundles if b.identifier == identifier]


def find_bundles(
    search_dirs: Iterable[Path | str] = (), extra: Iterable[Path | str] = ()
) -> BundleSearch:
    """Every *.kext directly in the search dirs, plus the `extra` bundles."""
    bundles: list[KextBundle] = []
    broken: list[str] = []
    paths = [Path(p) for p in extra]
    for d in search_dirs:
        d = Path(d)
        if not d.is_dir():
            raise KextError(f"{d}: search directory does not exist")
        paths += sorted(d.glob("*.kext"))
    for p in paths:
        try:
            bundles.append(open_bundle(p))
        except (KextError, PlistError) as e:
            broken.append(str(e))
    return BundleSearch(tuple(bundles), tuple(broken))


def _dependency_error(info: KextInfo, lib_id: str, message: str) -> DependencyError:
    return DependencyError(f"{info.path}: OSBundleLibraries.{lib_id}: {message}")


def _loaded_compatible(k: LoadedKext) -> Version | None:
    try:
        return parse_version(k.compatible_version) if k.compatible_version else None
    except VersionError:
        return None


def resolve_load_order(
    target: KextBundle,
    *,
    kpis: KpiExports,
    loaded: Sequence[LoadedKext] = (),
    search: BundleSearch | None = None,
) -> list[KextBundle]:
    """The bundles to load, library kexts first and `target` last.

    Every dependency must be a KPI bundle, a loaded kext or a bundle in
    `search`, at a compatible version; raise DependencyError (or PlistError
    for an unknown com.apple.kpi.* id) naming the Info.plist and the key."""
    search = search or BundleSearch(())
    loaded_by_id = {k.identifier: k for k in loaded}
    if target.identifier in loaded_by_id:
        k = loaded_by_id[target.identifier]
        raise KextError(
            f"{target.identifier} is already loaded (index {k.index}, version {k.version}): "
            f"unload it first with `kextunload -b {target.identifier}`"
        )
    order: list[KextBundle] = []
    visiting: list[str] = []

    def visit(bundle: KextBundle) -> None:
        info = bundle.info
        visiting.append(info.identifier)
        for lib_id, requested in info.libraries.items():
            if lib_id in kpis.bundles:
                kpi = kpis.bundles[lib_id]
                _check(info, lib_id, requested, kpi.version, kpi.compatible_version)
            elif lib_id.startswith(KPI_PREFIX):
                raise PlistError(
                    info.path,
                    [
                        PlistProblem(
                            f"OSBundleLibraries.{lib_id}",
                            f"{lib_id} is not a KPI bundle of this kernel; they are "
                            + ", ".join(sorted(kpis.bundles)),
                        )
                    ],
                )
            elif lib_id in loaded_by_id:
                k = loaded_by_id[lib_id]
                _check(info, lib_id, requested, parse_version(k.version), _loaded_compatible(k))
            elif lib_id in visiting:
                cycle = " -> ".join([*visiting[visiting.index(lib_id) :], lib_id])
                raise _dependency_error(info, lib_id, f"circular dependency: {cycle}")
            elif any(b.identifier == lib_id for b in order):
                planned = next(b for b in order if b.identifier == lib_id)
                _check(
                    info,
                    lib_id,
                    requested,
                    planned.version,
                    planned.info.compatible_version,
                )
            else:
                visit(_choose(info, lib_id, requested, search))
        visiting.pop()
        order.append(bundle)

    visit(target)
    return order


def _check(
    info: KextInfo,
    lib_id: str,
    requested: Version,
    version: Version,
    compatible: Version | None,
) -> None:
    problem = compatibility_problem(lib_id, requested, version, compatible)
    if problem:
        raise _dependency_error(info, lib_id, problem)


def _choose(info: KextInfo, lib_id: str, requested: Version, search: BundleSearch) -> KextBundle:
    """The newest bundle in `search` that satisfies the request."""
    found = sorted(search.with_id(lib_id), key=lambda b: b.version, reverse=True)
    if not found:
        hint = (
            "; some bundles could not be read:\n  " + "\n  ".join(search.broken)
            if search.broken
            else ""
        )
        raise _dependency_error(
            info,
            lib_id,
            f"{lib_id} is not loaded and not among the bundles searched: name its "
            f"bundle with -d, or the folder that holds it with -r{hint}",
        )
    problems = []
    for b in found:
        problem = compatibility_problem(lib_id, requested, b.version, b.info.compatible_version)
        if problem is None:
            return b
        problems.append(f"{b.path}: {problem}")
    raise _dependency_error(
        info, lib_id, f"no compatible {lib_id} found:\n  " + "\n  ".join(problems)
    )


def namespace_for(
    info: KextInfo,
    *,
    kpis: KpiExports,
    kernel_symbols: Mapping[str, int],
    loaded_symbols: Mapping[str, Mapping[str, int]] | None = None,
) -> Namespace:
    """What the linker may resolve `info`'s kext against: exactly the bundles
    it declares (KPI bundles at their kernel addresses, library kexts at
    theirs); every other KPI bundle and loaded kext is kept for messages and
    collision checks.  loaded_symbols: loaded kext id -> its exported globals."""
    kpi_symbols = kpis.symbol_addresses(kernel_symbols)
    libraries = {
        **{i: Library(i, s, "kpi") for i, s in kpi_symbols.items()},
        **{i: Library(i, s, "kext") for i, s in (loaded_symbols or {}).items()},
    }
    declared = [libraries[i] for i in info.libraries if i in libraries]
    others = [lib for i, lib in libraries.items() if i not in info.libraries]
    return Namespace(declared=declared, others=others, kernel_globals=dict(kernel_symbols))


KEXTSTAT_HEADER = "Index Refs Address    Size       Wired      Name (Version) <Linked Against>"


def kextstat_row(k: LoadedKext) -> str:
    """One line as Tiger's kextstat printed it: %5d %4d %-10p %-10p %-10p %s (%s)."""
    line = (
        f"{k.index:5d} {k.refs:4d} {f'{k.address:#x}':<10} {f'{k.size:#x}':<10} "
        f"{f'{k.wired:#x}':<10} {k.identifier} ({k.version})"
    )
    if k.linked_against:
        line += " <" + " ".join(str(i) for i in sorted(k.linked_against, reverse=True)) + ">"
    return line


def format_kextstat(
    rows: Sequence[LoadedKext],
    *,
    header: bool = True,
    hide_kernel: bool = False,
    bundle_ids: Sequence[str] = (),
) -> str:
    """kextstat's output: -l is header=False, -k hide_kernel, -b bundle_ids."""
    selected = [
        k
        for k in sorted(rows, key=lambda k: k.index)
        if not (hide_kernel and k.kernel_component)
        and (not bundle_ids or k.identifier in bundle_ids)
    ]
    lines = ([KEXTSTAT_HEADER] if header else []) + [kextstat_row(k) for k in selected]
    return "\n".join(lines) + ("\n" if lines else "")
