"""Read and check a kext's Info.plist (plistlib), as kextload did.

load_info_plist() turns Contents/Info.plist (or a source bundle's Info.plist)
into a KextInfo record, or raises PlistError listing every key that is
missing, has the wrong type or an invalid value, each with the file it is in
and what is expected.  The keys are Tiger's (docs/kexts.md lists them), plus two
of Finch's own: FinchModuleStart and FinchModuleStop name the start and stop
routines (Xcode's MODULE_START / MODULE_STOP build settings); they default to
<CFBundleExecutable>_start and <CFBundleExecutable>_stop.
"""

from __future__ import annotations

import plistlib
import re
import xml.parsers.expat
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from finch.errors import FinchError, printable
from finch.version import Version, VersionError, parse_version

# kmod_info_t's name[] and version[] hold 64 bytes including the NUL.
KMOD_MAX_NAME = 64

BUNDLE_ID_RE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9_-]+)+")
C_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EXECUTABLE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

OS_BUNDLE_REQUIRED_VALUES = ("Root", "Local-Root", "Network-Root", "Safe Boot", "Console")

BUNDLE_ID_HELP = (
    "a reverse-DNS bundle identifier such as com.example.hello "
    f"(letters, digits, '-', '_', at least two parts, under {KMOD_MAX_NAME} characters)"
)


@dataclass(frozen=True)
class PlistProblem:
    key: str
    message: str


class PlistError(FinchError):
    """One or more problems in one Info.plist; str() lists them all."""

    def __init__(self, path: Path | str, problems: list[PlistProblem]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = [f"{self.path}: {p.key}: {p.message}" for p in problems]
        super().__init__("\n".join(lines))

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.problems]


@dataclass(frozen=True)
class KextInfo:
    """The checked contents of one kext's Info.plist."""

    path: Path
    identifier: str
    version: Version
    executable: str
    name: str
    libraries: dict[str, Version]  # OSBundleLibraries: bundle id -> minimum version
    compatible_version: Version | None
    required: str | None
    module_start: str
    module_stop: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_library(self) -> bool:
        """A kext other kexts can link against (it declares a compatible version)."""
        return self.compatible_version is not None

    def symbol_prefix(self) -> str:
        """The reverse-DNS prefix a global should carry: com.example.x -> com_example_x_."""
        return re.sub(r"[^A-Za-z0-9_]", "_", self.identifier) + "_"


class _Checker:
    """Collects problems while reading one plist dictionary."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: list[PlistProblem] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(PlistProblem(key, message))

    def string(self, key: str, *, required: bool = True) -> str | None:
        if key not in self.data:
            if required:
                self.fail(key, "missing; expected a string")
            return None
        value = self.data[key]
        if not isinstance(value, str):
            self.fail(key, f"is {_type_name(value)}; expected a string")
            return None
        return value

    def version(self, key: str, *, required: bool = True) -> Version | None:
        text = self.string(key, required=required)
        if text is None:
            return None
        try:
            v = parse_version(text)
        except VersionError as e:
            self.fail(key, str(e))
            return None
        if len(text) >= KMOD_MAX_NAME:
            self.fail(key, f"{text!r} is too long: at most {KMOD_MAX_NAME - 1} characters")
            return None
        return v

    def exact(self, key: str, expected: str) -> None:
        value = self.string(key)
        if value is not None and value != expected:
            self.fail(key, f"is {value!r}; expected {expected!r}")

    def routine(self, key: str, default: str | None) -> str:
        value = self.string(key, required=False)
        name = value if value is not None else default
        if name is None:
            return ""
        if not C_IDENTIFIER_RE.fullmatch(name):
            where = "" if value is not None else " (the default, from CFBundleExecutable)"
            self.fail(
                key,
                f"{name!r}{where} is not a C identifier; name the routine with "
                f"letters, digits and '_' (set {key} in Info.plist)",
            )
        return name


def _type_name(value: object) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a real",
        dict: "a dictionary",
        list: "an array",
        bytes: "data",
        datetime: "a date",
        type(None): "null",
        plistlib.UID: "a UID",
    }
    return names.get(type(value), type(value).__name__)


def is_bundle_id(text: object) -> bool:
    return (
        isinstance(text, str) and len(text) < KMOD_MAX_NAME and bool(BUNDLE_ID_RE.fullmatch(text))
    )


def read_plist(path: Path) -> dict[str, Any]:
    """Read a plist file whose root is a dictionary, or raise PlistError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlistError(path, [PlistProblem("(file)", "no such file")]) from None
    except OSError as e:
        raise PlistError(path, [PlistProblem("(file)", f"cannot be read ({e.strerror})")]) from None
    return plist_from_bytes(data, path)


def plist_from_bytes(data: bytes, path: Path) -> dict[str, Any]:
    """The dictionary of a plist held in `data` (read from, or made for,
    `path`, which messages name), or raise PlistError."""
    try:
        # From bytes, not the file: a damaged binary plist's lengths then
        # cannot make plistlib read (allocate) gigabytes.
        root = plistlib.loads(data)
    except (
        plistlib.InvalidFileException,
        xml.parsers.expat.ExpatError,
        ValueError,  # a bad <integer>, <real>, <data> or date; UnicodeDecodeError
        AttributeError,  # plistlib (3.11) on a <date> that is not ISO 8601
        LookupError,  # IndexError: plistlib on a stray end tag; an unknown encoding
        RecursionError,  # a binary plist nested thousands deep
    ) as e:
        raise PlistError(path, [PlistProblem("(file)", _unreadable(data, e))]) from None
    if not isinstance(root, dict):
        raise PlistError(
            path, [PlistProblem("(root)", f"is {_type_name(root)}; expected a dictionary")]
        )
    return root


def _unreadable(data: bytes, error: Exception) -> str:
    """What is wrong with a file plistlib could not read."""
    if isinstance(error, plistlib.InvalidFileException) and str(error) == "Invalid file":
        if data.startswith(b"bplist00"):
            return "not a valid property list (a damaged binary plist)"
        return "not a valid property list (neither XML nor a binary plist)"
    if isinstance(error, xml.parsers.expat.ExpatError):
        return f"not a valid property list (XML that is not well-formed: {error})"
    if isinstance(error, AttributeError):
        return "not a valid property list (a <date> not of the form 2006-01-02T15:04:05Z)"
    if isinstance(error, IndexError):
        return "not a valid property list (an end tag or <key> outside any <dict> or <array>)"
    if isinstance(error, RecursionError):
        return "not a valid property list (arrays or dictionaries nested too deeply)"
    if isinstance(error, LookupError):
        return f"not a valid property list (its XML declaration names an unknown encoding: {error})"
    return f"not a valid property list ({error})"


def load_info_plist(path: Path | str) -> KextInfo:
    """Read and check a kext's Info.plist."""
    path = Path(path)
    return parse_info(read_plist(path), path)


def parse_info(data: Mapping[str, Any], path: Path | str) -> KextInfo:
    """Check an Info.plist dictionary read from `path`; raise PlistError."""
    path = Path(path)
    c = _Checker(data)

    identifier = c.string("CFBundleIdentifier")
    if identifier is not None and not is_bundle_id(identifier):
        c.fail("CFBundleIdentifier", f"{identifier!r} is not {BUNDLE_ID_HELP}")
        identifier = None
    version = c.version("CFBundleVersion")
    executable = c.string("CFBundleExecutable")
    if executable is not None and not EXECUTABLE_RE.fullmatch(executable):
        c.fail(
            "CFBundleExecutable",
            f"{executable!r} is not a file name made of letters, digits, '_', '.', '-'",
        )
        executable = None
    # Xcode filled CFBundleName in from the product name; projects that
    # left it out load on Mac OS X, so the name defaults from the id.
    name = c.string("CFBundleName", required=False)
    if name is not None and not name.strip():
        c.fail("CFBundleName", "is empty; expected the kext's name")
    elif name is None and identifier is not None:
        name = identifier.rsplit(".", 1)[-1]
    c.exact("CFBundlePackageType", "KEXT")
    c.exact("CFBundleInfoDictionaryVersion", "6.0")

    libraries = _libraries(c)
    if identifier is not None and identifier in libraries:
        c.fail(f"OSBundleLibraries.{identifier}", "a kext cannot depend on itself")
    compatible = c.version("OSBundleCompatibleVersion", required=False)
    if compatible is not None and version is not None and compatible > version:
        c.fail(
            "OSBundleCompatibleVersion",
            f"{compatible} is newer than CFBundleVersion {version}; "
            "it must be the oldest version this one is compatible with",
        )

    required = c.string("OSBundleRequired", required=False)
    if required is not None and required not in OS_BUNDLE_REQUIRED_VALUES:
        c.fail(
            "OSBundleRequired",
            f"{required!r} is not one of {', '.join(OS_BUNDLE_REQUIRED_VALUES)}",
        )

    if "OSKernelResource" in data:
        value = data["OSKernelResource"]
        if not isinstance(value, bool):
            c.fail("OSKernelResource", f"is {_type_name(value)}; expected a boolean")
        elif value:
            c.fail(
                "OSKernelResource",
                "is true, but only the kernel's own pseudo-bundles (com.apple.kpi.*) "
                "are kernel resources; remove the key",
            )

    start = c.routine("FinchModuleStart", f"{executable}_start" if executable else None)
    stop = c.routine("FinchModuleStop", f"{executable}_stop" if executable else None)

    if c.problems:
        raise PlistError(path, c.problems)
    assert identifier is not None
    assert version is not None
    assert executable is not None
    assert name is not None
    return KextInfo(
        path=path,
        identifier=identifier,
        version=version,
        executable=executable,
        name=name,
        libraries=libraries,
        compatible_version=compatible,
        required=required,
        module_start=start,
        module_stop=stop,
        raw=dict(data),
    )


def _libraries(c: _Checker) -> dict[str, Version]:
    key = "OSBundleLibraries"
    if key not in c.data:
        c.fail(
            key,
            "missing; expected a dictionary of bundle id -> minimum version, "
            "e.g. com.apple.kpi.libkern = 8.0.0 (every KPI bundle the kext calls into)",
        )
        return {}
    value = c.data[key]
    if not isinstance(value, dict):
        c.fail(key, f"is {_type_name(value)}; expected a dictionary of bundle id -> version")
        return {}
    libraries: dict[str, Version] = {}
    for lib_id, lib_version in value.items():
        where = f"{key}.{printable(lib_id)}"
        if not is_bundle_id(lib_id):
            c.fail(where, f"{lib_id!r} is not {BUNDLE_ID_HELP}")
            continue
        if not isinstance(lib_version, str):
            c.fail(where, f"is {_type_name(lib_version)}; expected a version string")
            continue
        try:
            libraries[lib_id] = parse_version(lib_version)
        except VersionError as e:
            c.fail(where, str(e))
    return libraries


def check_library_ids(info: KextInfo, known: Collection[str], hint: str = "") -> None:
    """Raise PlistError for every OSBundleLibraries id not in `known`."""
    problems = [
        PlistProblem(
            f"OSBundleLibraries.{lib_id}",
            f"{lib_id} is not a known bundle identifier" + (f"; {hint}" if hint else ""),
        )
        for lib_id in info.libraries
        if lib_id not in known
    ]
    if problems:
        raise PlistError(info.path, problems)
