"""Kext bundles on disk: a source bundle, the bundle it builds into, and
the built bundles kextload may choose library kexts from.

    kexts/hello/Info.plist + *.c             a source bundle (SourceBundle),
      [+ Finch.toml]                         with its build settings
    build/kexts/hello.kext/Contents/...      a built bundle (KextBundle)
    kextload's -d bundles and -r folders     a BundleSearch

A built bundle has one identity: the kernel names a kext after the
kmod_info in its executable, which the build generated from Info.plist,
so open_bundle() refuses a bundle whose Info.plist no longer says the
same id and version.  What kextload prints, the dependency resolution,
the host's records, kextstat and kextunload then all use that one id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from finch.errors import FinchError, LinkError
from finch.kext.settings import SETTINGS_FILE, KextSettings, load_settings
from finch.kext.xcodeproj import (
    expand_variables,
    find_project,
    read_project,
    xcode_info_plist,
    xcode_settings,
)
from finch.link import read_object
from finch.plist import (
    KextInfo,
    PlistError,
    PlistProblem,
    load_info_plist,
    parse_info,
    plist_from_bytes,
)
from finch.version import Version

SOURCE_SUFFIXES = (".c", ".S")

# Folders of a kext project that hold no sources of the kext: Xcode's
# output (build/ has the kmod_info source Xcode generated), its project
# files, and hidden ones (.git, .svn).
_NOT_SOURCE_DIRS = ("build",)
_NOT_SOURCE_DIR_SUFFIXES = (".xcodeproj", ".pbproj", ".xcode", ".kext")


class KextError(FinchError):
    """A bundle that is missing or malformed, or a kext that cannot be loaded."""


@dataclass(frozen=True)
class SourceBundle:
    """kexts/<name>/: an Info.plist and the C (and .S) sources beside it."""

    path: Path
    info: KextInfo
    sources: tuple[Path, ...]
    settings: KextSettings = field(default_factory=KextSettings)
    info_plist: bytes | None = None  # the Info.plist to ship, when not info.path's bytes

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


def open_source_bundle(path: Path | str) -> SourceBundle:
    """Read <folder>/Info.plist and Finch.toml and list the kext's sources:
    every .c and .S under the folder (sorted), but those Finch.toml
    excludes and those in build/, Xcode project and hidden folders.
    Without Finch.toml, an Xcode project in the folder says which sources
    and settings (finch.kext.xcodeproj), and where Info.plist is."""
    path = Path(path)
    settings = load_settings(path)
    shipped: bytes | None = None
    project = find_project(path) if settings.path is None else None
    if project is not None:
        xcode = read_project(project)
        settings = xcode_settings(xcode)
        plist, shipped = xcode_info_plist(xcode, path / "Info.plist")
    else:
        plist = path / "Info.plist"
        shipped = _expanded_info_plist(plist, settings, path)
    if shipped is not None:
        info = parse_info(plist_from_bytes(shipped, plist), plist)
    elif plist.is_file():
        info = load_info_plist(plist)
    else:
        raise KextError(
            f"{path}: no Info.plist: a source bundle is a folder with Info.plist and "
            "its .c files (make one with `finch new-kext NAME --id com.example.name`)"
        )
    info = _with_settings(info, settings)
    sources = tuple(
        sorted(
            p
            for p in path.rglob("*")
            if p.suffix in SOURCE_SUFFIXES
            and p.is_file()
            and not _in_project_folder(p, path)
            and not settings.excludes(p, path)
        )
    )
    if not sources:
        after = f" (after {SETTINGS_FILE}'s EXCLUDED_SOURCE_FILE_NAMES)"
        raise KextError(
            f"{path}: no .c or .S sources beside Info.plist" + (after if settings.excluded else "")
        )
    return SourceBundle(path, info, sources, settings, shipped)


def _expanded_info_plist(plist: Path, settings: KextSettings, folder: Path) -> bytes | None:
    """An Info.plist from an Xcode project, copied without the project:
    its ${PRODUCT_NAME}, ${EXECUTABLE_NAME}, ${MODULE_NAME} and
    ${MODULE_VERSION} filled in from Finch.toml (PRODUCT_NAME defaults to
    the folder's name).  None when there is nothing to expand."""
    try:
        data = plist.read_bytes()
    except OSError:
        return None
    if b"${" not in data and b"$(" not in data:
        return None
    product = settings.product_name or folder.resolve().name
    values = {"PRODUCT_NAME": product, "EXECUTABLE_NAME": product, "TARGET_NAME": product}
    if settings.module_name:
        values["MODULE_NAME"] = settings.module_name
    if settings.module_version:
        values["MODULE_VERSION"] = settings.module_version
    return expand_variables(data.decode("utf-8", errors="replace"), values).encode()


def _in_project_folder(source: Path, top: Path) -> bool:
    """Is `source` inside a folder under `top` that holds no kext sources?"""
    for part in source.relative_to(top).parts[:-1]:
        if part in _NOT_SOURCE_DIRS or part.startswith("."):
            return True
        if part.endswith(_NOT_SOURCE_DIR_SUFFIXES):
            return True
    return False


def _with_settings(info: KextInfo, settings: KextSettings) -> KextInfo:
    """Info.plist's record with Finch.toml's MODULE_START and MODULE_STOP;
    MODULE_NAME and MODULE_VERSION, if given, must agree with Info.plist
    (Xcode built kmod_info from them, Finch from Info.plist)."""
    problems = []
    if settings.module_name is not None and settings.module_name != info.identifier:
        problems.append(
            PlistProblem(
                "CFBundleIdentifier",
                f"is {info.identifier!r} but {settings.path}'s MODULE_NAME is "
                f"{settings.module_name!r}: make them the same",
            )
        )
    if settings.module_version is not None and settings.module_version != str(info.version):
        problems.append(
            PlistProblem(
                "CFBundleVersion",
                f"is {str(info.version)!r} but {settings.path}'s MODULE_VERSION is "
                f"{settings.module_version!r}: make them the same",
            )
        )
    if problems:
        raise PlistError(info.path, problems)
    return dataclasses.replace(
        info,
        module_start=settings.module_start or info.module_start,
        module_stop=settings.module_stop or info.module_stop,
    )


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
    _check_built_as(bundle)
    return bundle


def _check_built_as(bundle: KextBundle) -> None:
    """Info.plist must name the kext as its executable's kmod_info does,
    or the kernel (and kextstat) would call it something else.  A damaged
    or wrong executable raises LinkError; one without kmod_info is left
    for the linker to refuse."""
    built = read_object(bundle.executable).built_as()
    if built is None:
        return
    info = bundle.info
    problems = []
    if built.name != info.identifier:
        problems.append(
            f"Info.plist says {info.identifier} but the executable was built as "
            f"{built.name or 'a kext without a name'}"
        )
    if built.version != str(info.version):
        problems.append(
            f"Info.plist says version {info.version} but the executable was built as "
            f"{'version ' + built.version if built.version else 'a kext without a version'}"
        )
    if problems:
        raise KextError(
            f"{bundle.path}: " + "; ".join(problems) + ": Info.plist changed after the build; "
            "rebuild the kext with `make build` (its kmod_info is generated from Info.plist)"
        )


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
        except (KextError, PlistError, LinkError) as e:
            broken.append(str(e))
    return BundleSearch(tuple(bundles), tuple(broken))
