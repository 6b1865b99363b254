"""kextload's dependency step: which bundles to load, in which order, and
what the linker may resolve a kext's symbols against.

resolve_load_order(): every OSBundleLibraries entry must be a KPI bundle,
a loaded kext or a bundle found in the search dirs, at a compatible
version (compatibleVersion <= requested <= CFBundleVersion); library
kexts not yet loaded come first.  One exception: a KPI bundle newer than
the kernel's is only warned about.  Xcode wrote the KPI version of the
Mac OS X it ran on (9.0 for 10.5, ... 13.0), not the oldest the kext
needs; such a kext loads, and the linker refuses it, by name, if it calls
a function Finch does not have.  namespace_for() gathers the symbols of
the bundles a kext declares (and, for messages and collision checks, of
all the others).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from finch.exports import KpiExports
from finch.kext.bundle import BundleSearch, KextBundle, KextError
from finch.kext.loaded import LoadedKext
from finch.link import Library, Namespace
from finch.plist import KextInfo, PlistError, PlistProblem
from finch.version import Version, VersionError, compatibility_problem, parse_version

KPI_PREFIX = "com.apple.kpi."

Warn = Callable[[str], None]


def _ignore(text: str) -> None:
    pass


def newer_kpi_warning(info: KextInfo, lib_id: str, requested: Version, version: Version) -> str:
    """What kextload says of a request for a KPI newer than the kernel's."""
    return (
        f"{info.identifier} asks for {lib_id} {requested}, newer than this kernel's "
        f"{version} (Mac OS X 10.4's interface): loading it anyway; a function it calls "
        "that Finch lacks is refused when it links"
    )


class DependencyError(KextError):
    """A library a kext declares is missing, too old, incompatible, or circular."""


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
    warn: Warn = _ignore,
) -> list[KextBundle]:
    """The bundles to load, library kexts first and `target` last.

    Every dependency must be a KPI bundle, a loaded kext or a bundle in
    `search`, at a compatible version; raise DependencyError (or PlistError
    for an unknown com.apple.kpi.* id) naming the Info.plist and the key.
    A KPI bundle requested at a newer version than the kernel's is passed
    to `warn` instead."""
    search = search or BundleSearch(())
    loaded_by_id = {k.identifier: k for k in loaded}
    if target.identifier in loaded_by_id:
        k = loaded_by_id[target.identifier]
        if k.pinned:  # its stop ran, but something still points into it
            raise KextError(
                f"{target.identifier} is already loaded (index {k.index}), stopped and pinned "
                f"in memory: {k.reason}.  A second copy is not loaded beside it (the bundle id "
                "names its memory, its symbols and its panic reports): restart the guest to "
                "load the fixed kext, or give it another CFBundleIdentifier"
            )
        if k.busy:  # its start or stop routine still runs
            raise KextError(
                f"{target.identifier} is already loaded (index {k.index}) and still "
                f"{k.state_name}: {k.reason}"
            )
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
                if requested > kpi.version:
                    warn(newer_kpi_warning(info, lib_id, requested, kpi.version))
                else:
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
    # A compatibility id (com.apple.kernel.bsd) repeats other bundles'
    # symbols: it would only make every message name two bundles.
    others = [
        lib
        for i, lib in libraries.items()
        if i not in info.libraries and not (i in kpis.bundles and kpis.bundles[i].is_alias)
    ]
    return Namespace(declared=declared, others=others, kernel_globals=dict(kernel_symbols))
