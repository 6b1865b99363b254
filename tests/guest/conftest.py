"""Kexts made for one test: the broken and special ones that do not belong
in kexts/ (they are built in the test's temporary folder).

    make_kext("clash", C_SOURCE, libraries={"com.apple.kpi.libkern": "8.0.0"})
        writes <tmp>/src/clash/Info.plist and clash.c, builds them with the
        kext build, and returns the bundle <tmp>/kexts/clash.kext.
    module_make_kext(...)
        the same, in a folder of the module's: for kexts that a module's
        tests share on module_kext_guest.
    make_bundle("odd", executable_bytes)
        a bundle <tmp>/kexts/odd.kext around an executable made some other
        way (not an ELF, an x86_64 object, ...).
"""

from __future__ import annotations

import plistlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from finch.build import Tree
from finch.kext.build import build_kext

MakeKext = Callable[..., Path]
MakeBundle = Callable[[str, bytes], Path]

LIBKERN = {"com.apple.kpi.libkern": "8.0.0"}


def info_plist(name: str, libraries: Mapping[str, str], extra: Mapping[str, Any]) -> bytes:
    return plistlib.dumps(
        {
            "CFBundleExecutable": name,
            "CFBundleIdentifier": f"com.example.{name}",
            "CFBundleInfoDictionaryVersion": "6.0",
            "CFBundleName": name,
            "CFBundlePackageType": "KEXT",
            "CFBundleVersion": "1.0.0",
            "OSBundleLibraries": dict(libraries),
            **extra,
        }
    )


def kext_maker(root: Path, tree: Tree) -> MakeKext:
    """make_kext, building under `root`."""

    def make(
        name: str,
        source: str,
        *,
        libraries: Mapping[str, str] = LIBKERN,
        plist: Mapping[str, Any] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> Path:
        folder = root / "src" / name
        folder.mkdir(parents=True)
        (folder / "Info.plist").write_bytes(info_plist(name, libraries, plist or {}))
        (folder / f"{name}.c").write_text(source)
        for file_name, text in (files or {}).items():
            (folder / file_name).write_text(text)
        built = build_kext(folder, tree=tree, out_dir=root / "kexts", echo=lambda _: None)
        return built.bundle.path

    return make


@pytest.fixture
def make_kext(tmp_path: Path, finch_tree: Tree) -> MakeKext:
    return kext_maker(tmp_path, finch_tree)


@pytest.fixture(scope="module")
def module_make_kext(tmp_path_factory: pytest.TempPathFactory, finch_tree: Tree) -> MakeKext:
    return kext_maker(tmp_path_factory.mktemp("kexts"), finch_tree)


@pytest.fixture
def make_bundle(tmp_path: Path) -> MakeBundle:
    def make(name: str, executable: bytes) -> Path:
        bundle = tmp_path / "kexts" / f"{name}.kext"
        (bundle / "Contents" / "MacOS").mkdir(parents=True)
        (bundle / "Contents" / "Info.plist").write_bytes(info_plist(name, LIBKERN, {}))
        (bundle / "Contents" / "MacOS" / name).write_bytes(executable)
        return bundle

    return make
