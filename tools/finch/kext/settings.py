"""A kext folder's build settings: Finch.toml beside Info.plist.

Xcode kept a kext's build settings in its project; Finch reads the few a
kext project needs from Finch.toml, by Xcode's names, so that a folder
copied from an old project builds without editing its sources:

    EXCLUDED_SOURCE_FILE_NAMES = ["tcplog.c", "client/*"]   # not the kext's
    HEADER_SEARCH_PATHS = ["../common"]                      # -I, from the folder
    GCC_PREPROCESSOR_DEFINITIONS = ["DEBUG=1"]               # -D
    OTHER_CFLAGS = ["-O0"]                                   # appended last
    MODULE_START = "tl_start"                                # start routine
    MODULE_STOP = "tl_stop"                                  # stop routine
    MODULE_NAME = "com.example.tcplog"                       # must match Info.plist
    MODULE_VERSION = "1.0.0"                                 # must match Info.plist
    PRODUCT_NAME = "tcplog"            # ${PRODUCT_NAME} in Info.plist (default: folder)
    GCC_TREAT_WARNINGS_AS_ERRORS = true                      # default: false

Patterns are shell globs matched against each source's path relative to
the folder, and against its file name alone (Xcode matched names).
Every key is optional; an unknown key is an error, so that a misspelt
setting is not silently ignored.  docs/kexts.md documents the file.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from finch.errors import FinchError
from finch.plist import C_IDENTIFIER_RE

SETTINGS_FILE = "Finch.toml"

_LISTS = (
    "EXCLUDED_SOURCE_FILE_NAMES",
    "HEADER_SEARCH_PATHS",
    "GCC_PREPROCESSOR_DEFINITIONS",
    "OTHER_CFLAGS",
)
_STRINGS = ("MODULE_START", "MODULE_STOP", "MODULE_NAME", "MODULE_VERSION", "PRODUCT_NAME")
_BOOLS = ("GCC_TREAT_WARNINGS_AS_ERRORS",)
KNOWN_KEYS = (*_LISTS, *_STRINGS, *_BOOLS)


class SettingsError(FinchError):
    """A Finch.toml that cannot be read or holds a bad setting."""


@dataclass(frozen=True)
class KextSettings:
    """The build settings of one kext folder (all empty without Finch.toml)."""

    path: Path | None = None  # the Finch.toml read, if any
    excluded: tuple[str, ...] = ()
    header_search_paths: tuple[Path, ...] = ()
    definitions: tuple[str, ...] = ()
    other_cflags: tuple[str, ...] = ()
    module_start: str | None = None
    module_stop: str | None = None
    module_name: str | None = None
    module_version: str | None = None
    product_name: str | None = None
    warnings_as_errors: bool | None = None  # None: not set
    sources: tuple[Path, ...] | None = None  # an Xcode target's list; None: every source

    def excludes(self, source: Path, folder: Path) -> bool:
        """Is `source` (a file under `folder`) left out of the kext?"""
        if self.sources is not None and source.resolve() not in {s.resolve() for s in self.sources}:
            return True
        relative = PurePosixPath(source.relative_to(folder).as_posix())
        return any(
            fnmatch.fnmatchcase(str(relative), pattern)
            or fnmatch.fnmatchcase(relative.name, pattern)
            or relative.match(pattern)
            for pattern in self.excluded
        )

    def compiler_flags(self) -> list[str]:
        """-I, -D and OTHER_CFLAGS, in that order, for gcc."""
        flags = [arg for d in self.header_search_paths for arg in ("-I", str(d))]
        flags += [f"-D{d}" for d in self.definitions]
        return flags + list(self.other_cflags)


def load_settings(folder: Path | str) -> KextSettings:
    """Read folder/Finch.toml; no file means no settings."""
    folder = Path(folder)
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return KextSettings()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"{path}: cannot be read ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: not valid TOML ({e})") from None
    return parse_settings(data, path)


def parse_settings(data: Mapping[str, Any], path: Path) -> KextSettings:
    """Check a Finch.toml's table; raise SettingsError listing every problem."""
    problems: list[str] = []
    unknown = sorted(k for k in data if k not in KNOWN_KEYS)
    for key in unknown:
        known = ", ".join(KNOWN_KEYS)
        problems.append(f"{key}: not a setting Finch knows; the settings are {known}")
    lists = {key: _string_list(data, key, problems) for key in _LISTS}
    strings = {key: _string(data, key, problems) for key in _STRINGS}
    for key in ("MODULE_START", "MODULE_STOP"):
        name = strings[key]
        if name is not None and not C_IDENTIFIER_RE.fullmatch(name):
            problems.append(f"{key}: {name!r} is not a C identifier (the routine's name)")
    flag = data.get("GCC_TREAT_WARNINGS_AS_ERRORS")
    if flag is not None and not isinstance(flag, bool):
        problems.append("GCC_TREAT_WARNINGS_AS_ERRORS: expected true or false")
        flag = None
    folder = path.parent
    for d in lists["HEADER_SEARCH_PATHS"]:
        if not (folder / d).is_dir():
            problems.append(
                f"HEADER_SEARCH_PATHS: {d!r} is not a folder (paths are relative to {folder})"
            )
    if problems:
        raise SettingsError("\n".join(f"{path}: {p}" for p in problems))
    return KextSettings(
        path=path,
        excluded=tuple(lists["EXCLUDED_SOURCE_FILE_NAMES"]),
        header_search_paths=tuple(folder / d for d in lists["HEADER_SEARCH_PATHS"]),
        definitions=tuple(lists["GCC_PREPROCESSOR_DEFINITIONS"]),
        other_cflags=tuple(lists["OTHER_CFLAGS"]),
        module_start=strings["MODULE_START"],
        module_stop=strings["MODULE_STOP"],
        module_name=strings["MODULE_NAME"],
        module_version=strings["MODULE_VERSION"],
        product_name=strings["PRODUCT_NAME"],
        warnings_as_errors=flag,
    )


def _string(data: Mapping[str, Any], key: str, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    problems.append(f"{key}: expected a string")
    return None


def _string_list(data: Mapping[str, Any], key: str, problems: list[str]) -> Sequence[str]:
    """A list of strings; a single string is taken as Xcode's space-separated list."""
    value = data.get(key, [])
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    problems.append(f"{key}: expected a list of strings (or one string of space-separated words)")
    return []
