"""Read a kext's build settings from the Xcode project beside it.

An NKE written for Mac OS X 10.4 came as an Xcode project: a folder with
the sources, <Name>.xcodeproj/project.pbxproj and usually Info.plist.
The project file says what Finch.toml would: which sources belong to the
kext target (a user-space tool's do not), MODULE_START, MODULE_STOP,
MODULE_NAME, MODULE_VERSION, HEADER_SEARCH_PATHS,
GCC_PREPROCESSOR_DEFINITIONS, OTHER_CFLAGS, and the Info.plist
(INFOPLIST_FILE, run through the C preprocessor when INFOPLIST_PREPROCESS
is YES; or, in the oldest projects, productSettingsXML in the target).
So such a folder builds with `finch kextbuild FOLDER` as it is.

project.pbxproj is an old-style (OpenStep) property list; parse_openstep()
reads it.  Of the targets, the kext is the PBXNativeTarget whose
productType is com.apple.product-type.kernel-extension, or a legacy
target whose WRAPPER_EXTENSION is kext.  Settings come from the target's
default configuration over the project's, with $(VAR) references
expanded as Xcode did (an unknown variable is empty).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finch.build import GCC
from finch.errors import FinchError
from finch.kext.settings import KextSettings

PROJECT_FILE = "project.pbxproj"
KEXT_PRODUCT_TYPE = "com.apple.product-type.kernel-extension"


class XcodeProjectError(FinchError):
    """A project.pbxproj that cannot be read, or holds no kext target."""


# -- the OpenStep property list format --------------------------------------

_UNQUOTED = re.compile(r"[A-Za-z0-9_$/:.\-+]+")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}


class _Reader:
    def __init__(self, text: str, path: Path) -> None:
        self.text, self.pos, self.path = text, 0, path

    def fail(self, what: str) -> XcodeProjectError:
        line = self.text.count("\n", 0, self.pos) + 1
        return XcodeProjectError(f"{self.path}:{line}: {what}: not a project file Finch can read")

    def skip(self) -> None:
        """Skip white space and // and /* */ comments."""
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("a comment that never ends")
                self.pos = end + 2
            else:
                return

    def expect(self, char: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.pos):
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.dictionary()
        if char == "(":
            return self.array()
        if char == '"':
            return self.quoted()
        if char == "<":
            end = self.text.find(">", self.pos)
            if end < 0:
                raise self.fail("data that never ends")
            data = bytes.fromhex(re.sub(r"\s", "", self.text[self.pos + 1 : end]))
            self.pos = end + 1
            return data
        match = _UNQUOTED.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a value")
        self.pos = match.end()
        return match.group(0)

    def quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                if nxt == "U":
                    out.append(chr(int(self.text[self.pos + 2 : self.pos + 6], 16)))
                    self.pos += 6
                    continue
                if nxt.isdigit():
                    digits = re.match(r"[0-7]{1,3}", self.text[self.pos + 1 :])
                    assert digits is not None
                    out.append(chr(int(digits.group(0), 8)))
                    self.pos += 1 + len(digits.group(0))
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise self.fail("a string that never ends")

    def dictionary(self) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        while self.peek() != "}":
            key = self.value()
            if not isinstance(key, str):
                raise self.fail("a key that is not a string")
            self.expect("=")
            result[key] = self.value()
            self.expect(";")
        self.expect("}")
        return result

    def array(self) -> list[Any]:
        self.expect("(")
        result: list[Any] = []
        while self.peek() != ")":
            result.append(self.value())
            if self.peek() == ",":
                self.pos += 1
        self.expect(")")
        return result


def parse_openstep(text: str, path: Path | str = "<string>") -> Any:
    """The value of an old-style property list (a project.pbxproj)."""
    reader = _Reader(text, Path(path))
    value = reader.value()
    if reader.peek():
        raise reader.fail("text after the end")
    return value


# -- the kext target ----------------------------------------------------------


@dataclass(frozen=True)
class XcodeKext:
    """What a project says about its kext target."""

    project: Path  # the .xcodeproj folder
    target: str
    sources: tuple[Path, ...]  # the target's Sources phase, in order
    settings: dict[str, str] = field(default_factory=dict)  # expanded, lists joined
    info_plist: Path | None = None  # INFOPLIST_FILE, if it exists
    info_plist_xml: str | None = None  # productSettingsXML of a legacy target

    @property
    def folder(self) -> Path:
        """The project's folder ($(SRCROOT))."""
        return self.project.parent

    def words(self, key: str) -> list[str]:
        """A setting as Xcode split it: on white space, quotes kept together."""
        return _split(self.settings.get(key, ""))

    def flag(self, key: str) -> bool:
        return self.settings.get(key, "").strip().upper() == "YES"


def find_project(folder: Path) -> Path | None:
    """The one *.xcodeproj (or older *.pbproj) in folder that has a project file."""
    found = sorted(
        p for p in (*folder.glob("*.xcodeproj"), *folder.glob("*.pbproj"))
        if (p / PROJECT_FILE).is_file()
    )  # fmt: skip
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise XcodeProjectError(
            f"{folder}: holds several Xcode projects ({names}): write a Finch.toml to say "
            "how to build the kext"
        )
    return found[0] if found else None


def read_project(project: Path) -> XcodeKext:
    """The kext target of the project at `project` (a .xcodeproj folder)."""
    path = project / PROJECT_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise XcodeProjectError(f"{path}: cannot be read ({e.strerror})") from None
    root = parse_openstep(text, path)
    objects = root.get("objects") if isinstance(root, dict) else None
    if not isinstance(objects, dict):
        raise XcodeProjectError(f"{path}: has no objects: not an Xcode project file")
    project_obj = objects.get(root.get("rootObject", ""), {})
    target_id, target = _kext_target(objects, project_obj, path)
    name = str(target.get("name", target_id))
    settings = {
        **_configuration(objects, project_obj),
        **_configuration(objects, target),
        **_strings(target.get("buildSettings", {})),
    }
    folder = project.parent
    builtins = {
        "SRCROOT": str(folder),
        "PROJECT_DIR": str(folder),
        "SOURCE_ROOT": str(folder),
        "TARGET_NAME": name,
        "PRODUCT_NAME": str(target.get("productName", name)),
        "PROJECT_NAME": project.stem,
    }
    builtins["PRODUCT_NAME"] = settings.get("PRODUCT_NAME", builtins["PRODUCT_NAME"])
    builtins["EXECUTABLE_NAME"] = builtins["PRODUCT_NAME"]
    expanded = _expand_all({**builtins, **settings})
    plist_name = expanded.get("INFOPLIST_FILE", "")
    plist = folder / plist_name if plist_name else None
    xml = target.get("productSettingsXML")
    return XcodeKext(
        project=project,
        target=name,
        sources=tuple(_sources(objects, project_obj, target, folder)),
        settings=expanded,
        info_plist=plist if plist is not None and plist.is_file() else None,
        info_plist_xml=xml if isinstance(xml, str) else None,
    )


def _kext_target(
    objects: Mapping[str, Any], project_obj: Mapping[str, Any], path: Path
) -> tuple[str, dict[str, Any]]:
    """The first target that builds a kext."""
    for target_id in project_obj.get("targets", []):
        target = objects.get(target_id, {})
        if target.get("productType") == KEXT_PRODUCT_TYPE:
            return target_id, target
        legacy = _strings(target.get("buildSettings", {}))
        if legacy.get("WRAPPER_EXTENSION") == "kext":
            return target_id, target
    raise XcodeProjectError(
        f"{path}: no target builds a kernel extension (productType {KEXT_PRODUCT_TYPE} "
        "or WRAPPER_EXTENSION = kext): write a Finch.toml to say how to build the kext"
    )


def _strings(settings: Any) -> dict[str, str]:
    """Build settings with list values joined by spaces, as Xcode saw them."""
    if not isinstance(settings, dict):
        return {}
    out = {}
    for key, value in settings.items():
        if isinstance(value, list):
            out[key] = " ".join(_quote(str(v)) for v in value)
        elif isinstance(value, str):
            out[key] = value
    return out


def _quote(word: str) -> str:
    return f'"{word}"' if re.search(r"\s", word) else word


def _configuration(objects: Mapping[str, Any], owner: Mapping[str, Any]) -> dict[str, str]:
    """The build settings of owner's default configuration."""
    config_list = objects.get(owner.get("buildConfigurationList", ""), {})
    configs = [objects.get(c, {}) for c in config_list.get("buildConfigurations", [])]
    default = config_list.get("defaultConfigurationName")
    chosen = next((c for c in configs if c.get("name") == default), configs[0] if configs else {})
    return _strings(chosen.get("buildSettings", {}))


_VARIABLE = re.compile(r"\$[({]([A-Za-z0-9_]+)(?::([A-Za-z0-9_,]+))?[)}]")

# Xcode's ${VAR:modifier} forms, as Info.plist templates use them
# (com.example.${PRODUCT_NAME:rfc1034identifier}).
_MODIFIERS = {
    "identifier": lambda v: re.sub(r"[^A-Za-z0-9_]", "_", v),
    "c99extidentifier": lambda v: re.sub(r"[^A-Za-z0-9_]", "_", v),
    "rfc1034identifier": lambda v: re.sub(r"[^A-Za-z0-9.-]", "-", v),
    "lower": str.lower,
    "upper": str.upper,
}


def expand_variables(text: str, values: Mapping[str, str]) -> str:
    """$(VAR), ${VAR} and ${VAR:modifier} in text replaced by values (an
    unknown variable by nothing), as Xcode expanded Info.plist."""

    def value(match: re.Match[str]) -> str:
        result = values.get(match.group(1), "")
        for modifier in (match.group(2) or "").split(","):
            result = _MODIFIERS.get(modifier, lambda v: v)(result)
        return result

    return _VARIABLE.sub(value, text)


def _expand_all(settings: Mapping[str, str]) -> dict[str, str]:
    """$(VAR) and ${VAR} replaced by their values; a setting that names
    itself ($(inherited), or FOO = "$(FOO) -DX") gets nothing from it."""
    out: dict[str, str] = {}
    for key in settings:
        out[key] = _expand(settings, key, (key,))
    return out


def _expand(settings: Mapping[str, str], key: str, seen: Sequence[str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in seen or name not in settings:
            return ""
        return _expand(settings, name, (*seen, name))

    return _VARIABLE.sub(value, settings[key])


def _split(text: str) -> list[str]:
    words = re.findall(r'"([^"]*)"|(\S+)', text)
    return [quoted or bare for quoted, bare in words if quoted or bare]


def _sources(
    objects: Mapping[str, Any],
    project_obj: Mapping[str, Any],
    target: Mapping[str, Any],
    folder: Path,
) -> list[Path]:
    """The files of the target's Sources phase, as paths on disk."""
    parents: dict[str, str] = {}
    for obj_id, obj in objects.items():
        if isinstance(obj, dict) and obj.get("isa") in ("PBXGroup", "PBXVariantGroup"):
            for child in obj.get("children", []):
                parents[child] = obj_id
    main_group = project_obj.get("mainGroup", "")
    sources: list[Path] = []
    for phase_id in target.get("buildPhases", []):
        phase = objects.get(phase_id, {})
        if phase.get("isa") != "PBXSourcesBuildPhase":
            continue
        for build_file in phase.get("files", []):
            ref_id = objects.get(build_file, {}).get("fileRef", "")
            path = _file_path(objects, parents, main_group, ref_id, folder)
            if path is not None:
                sources.append(path)
    return sources


def _file_path(
    objects: Mapping[str, Any],
    parents: Mapping[str, str],
    main_group: str,
    ref_id: str,
    folder: Path,
) -> Path | None:
    """Where a file reference points, following its groups' paths; a file
    not there is looked for by name under the folder (projects moved)."""
    ref = objects.get(ref_id, {})
    name = ref.get("path") or ref.get("name")
    if not isinstance(name, str):
        return None
    parts = [name]
    tree = ref.get("sourceTree", "<group>")
    node = ref_id
    while tree == "<group>" and node in parents and parents[node] != main_group:
        node = parents[node]
        group = objects.get(node, {})
        if isinstance(group.get("path"), str):
            parts.insert(0, group["path"])
        tree = group.get("sourceTree", "<group>")
    path = Path(*parts) if tree == "<absolute>" else folder.joinpath(*parts)
    if path.is_file():
        return path
    found = sorted(folder.rglob(Path(name).name))
    return found[0] if found else path


# -- what Finch builds from it ------------------------------------------------

# Of OTHER_CFLAGS, what means the same to Finch's gcc; the rest (-arch,
# -mkernel, -fapple-kext, ...) is Apple's compiler's or the Mac's.
_PORTABLE_FLAGS = ("-D", "-U", "-I", "-W", "-O")


def xcode_settings(kext: XcodeKext) -> KextSettings:
    """Finch.toml's settings, as the project gives them."""
    folder = kext.folder
    paths = [*kext.words("HEADER_SEARCH_PATHS"), *kext.words("USER_HEADER_SEARCH_PATHS")]
    start, stop = kext.settings.get("MODULE_START"), kext.settings.get("MODULE_STOP")
    return KextSettings(
        path=kext.project / PROJECT_FILE,
        header_search_paths=tuple(
            folder / p for p in paths if p not in (".", "") and (folder / p).is_dir()
        ),
        definitions=tuple(kext.words("GCC_PREPROCESSOR_DEFINITIONS")),
        other_cflags=tuple(f for f in kext.words("OTHER_CFLAGS") if f.startswith(_PORTABLE_FLAGS)),
        module_start=start or None,
        module_stop=stop or None,
        module_name=kext.settings.get("MODULE_NAME") or None,
        module_version=kext.settings.get("MODULE_VERSION") or None,
        warnings_as_errors=kext.flag("GCC_TREAT_WARNINGS_AS_ERRORS"),
        sources=kext.sources or None,  # a legacy target lists none: every source
    )


def xcode_info_plist(kext: XcodeKext, default: Path) -> tuple[Path, bytes | None]:
    """The kext's Info.plist: where it is, and its text as Xcode made it
    (preprocessed, build settings expanded), or None to ship the file as
    it is."""
    if kext.info_plist is None and kext.info_plist_xml is not None:
        return kext.project / PROJECT_FILE, _expand_plist(kext, kext.info_plist_xml.encode())
    path = kext.info_plist or default
    if not path.is_file():
        built = _built_info_plist(kext)
        return (built, None) if built is not None else (path, None)
    data = path.read_bytes()
    if kext.flag("INFOPLIST_PREPROCESS"):
        data = _preprocess(kext, path)
    expanded = _expand_plist(kext, data)
    return path, expanded if expanded != path.read_bytes() else None


def _built_info_plist(kext: XcodeKext) -> Path | None:
    """The Info.plist of the bundle Xcode built last time (build/.../
    <PRODUCT_NAME>.kext), for a project whose own Info.plist is missing:
    it is the source's, already preprocessed and expanded."""
    name = kext.settings.get("PRODUCT_NAME", "")
    found = sorted((kext.folder / "build").glob(f"**/{name}.kext/Contents/Info.plist"))
    return found[0] if name and found else None


def _expand_plist(kext: XcodeKext, data: bytes) -> bytes:
    """${VAR} and $(VAR) in Info.plist replaced by build settings, as
    Xcode did (PRODUCT_NAME, EXECUTABLE_NAME, MODULE_NAME, ...)."""
    text = data.decode("utf-8", errors="replace")
    return expand_variables(text, kext.settings).encode()


def _preprocess(kext: XcodeKext, path: Path) -> bytes:
    """Info.plist through the C preprocessor with INFOPLIST_PREPROCESSOR_DEFINITIONS."""
    command = [GCC, "-E", "-P", "-x", "c", "-traditional-cpp", "-nostdinc", "-undef"]
    command += [f"-D{d}" for d in kext.words("INFOPLIST_PREPROCESSOR_DEFINITIONS")]
    prefix = kext.settings.get("INFOPLIST_PREFIX_HEADER", "")
    if prefix:
        command += ["-include", str(kext.folder / prefix)]
    proc = subprocess.run([*command, str(path)], capture_output=True)
    if proc.returncode != 0:
        raise XcodeProjectError(
            f"{path}: the C preprocessor refused it (INFOPLIST_PREPROCESS = YES in "
            f"{kext.project.name}):\n{proc.stderr.decode(errors='replace').rstrip()}"
        )
    return proc.stdout
