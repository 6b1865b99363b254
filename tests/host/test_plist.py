"""Info.plist checking: every bad key is reported with the file and the key."""

from __future__ import annotations

import plistlib
import struct
from pathlib import Path
from typing import Any

import pytest
from kextinfo import kext_info

from finch.plist import PlistError, check_library_ids, load_info_plist


def write_plist(tmp_path: Path, info: dict[str, Any]) -> Path:
    path = tmp_path / "Info.plist"
    path.write_bytes(plistlib.dumps(info))
    return path


def test_a_good_info_plist_is_read_with_default_routine_names(tmp_path: Path) -> None:
    info = load_info_plist(write_plist(tmp_path, kext_info()))

    assert info.identifier == "com.example.hello"
    assert str(info.version) == "1.0.0d1"
    assert info.executable == "hello"
    assert {k: str(v) for k, v in info.libraries.items()} == {"com.apple.kpi.libkern": "8.0.0"}
    assert info.compatible_version is None
    assert not info.is_library
    assert (info.module_start, info.module_stop) == ("hello_start", "hello_stop")


def test_finch_module_keys_name_the_start_and_stop_routines(tmp_path: Path) -> None:
    path = write_plist(tmp_path, kext_info(FinchModuleStart="my_init", FinchModuleStop="my_fini"))

    info = load_info_plist(path)

    assert (info.module_start, info.module_stop) == ("my_init", "my_fini")


def test_a_missing_bundle_name_defaults_from_the_identifier(tmp_path: Path) -> None:
    # Xcode filled CFBundleName in at build time; projects often left it out.
    path = write_plist(
        tmp_path, kext_info(CFBundleName=None, CFBundleIdentifier="com.example.tcplog")
    )

    assert load_info_plist(path).name == "tcplog"


def test_a_library_declares_a_compatible_version(tmp_path: Path) -> None:
    path = write_plist(tmp_path, kext_info(CFBundleVersion="2.0", OSBundleCompatibleVersion="1.0"))

    info = load_info_plist(path)

    assert info.is_library
    assert str(info.compatible_version) == "1.0"


BAD_KEYS = [
    ("CFBundleIdentifier", None, "missing; expected a string"),
    ("CFBundleIdentifier", 42, "is an integer; expected a string"),
    ("CFBundleIdentifier", "hello", "reverse-DNS"),
    ("CFBundleIdentifier", "com.example." + "x" * 60, "reverse-DNS"),
    ("CFBundleVersion", None, "missing"),
    ("CFBundleVersion", "1.0.0.0", "Darwin version"),
    ("CFBundleVersion", "1.0.0d256", "Darwin version"),
    ("CFBundleExecutable", None, "missing"),
    ("CFBundleExecutable", "../hello", "file name"),
    ("CFBundleName", ["Hello"], "is an array; expected a string"),
    ("CFBundlePackageType", "APPL", "expected 'KEXT'"),
    ("CFBundleInfoDictionaryVersion", "5.0", "expected '6.0'"),
    ("CFBundleInfoDictionaryVersion", 6.0, "is a real; expected a string"),
    ("OSBundleLibraries", None, "missing; expected a dictionary"),
    ("OSBundleLibraries", ["com.apple.kpi.bsd"], "expected a dictionary"),
    ("OSBundleCompatibleVersion", "one", "Darwin version"),
    ("OSBundleCompatibleVersion", "2.0", "newer than CFBundleVersion"),
    ("OSBundleRequired", "Always", "is not one of"),
    ("OSKernelResource", True, "only the kernel's own pseudo-bundles"),
    ("OSKernelResource", "yes", "expected a boolean"),
    ("FinchModuleStart", "hello-start", "not a C identifier"),
    ("FinchModuleStop", 7, "expected a string"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_KEYS)
def test_each_bad_key_is_reported_with_the_file_and_the_key(
    tmp_path: Path, key: str, value: Any, expected: str
) -> None:
    path = write_plist(tmp_path, kext_info(**{key: value}))

    with pytest.raises(PlistError) as excinfo:
        load_info_plist(path)

    assert excinfo.value.keys == [key]
    assert str(excinfo.value).startswith(f"{path}: {key}: ")
    assert expected in str(excinfo.value)


@pytest.mark.parametrize(
    ("libraries", "key", "expected"),
    [
        ({"com.apple.kpi.bsd": "8.x"}, "OSBundleLibraries.com.apple.kpi.bsd", "Darwin version"),
        ({"com.apple.kpi.bsd": 8}, "OSBundleLibraries.com.apple.kpi.bsd", "version string"),
        ({"bsd": "8.0.0"}, "OSBundleLibraries.bsd", "reverse-DNS"),
        ({"com.example.hello": "1.0"}, "OSBundleLibraries.com.example.hello", "itself"),
    ],
)
def test_bad_library_entries_name_the_library_key(
    tmp_path: Path, libraries: dict, key: str, expected: str
) -> None:
    path = write_plist(tmp_path, kext_info(OSBundleLibraries=libraries))

    with pytest.raises(PlistError) as excinfo:
        load_info_plist(path)

    assert excinfo.value.keys == [key]
    assert expected in str(excinfo.value)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write_plist(
        tmp_path,
        kext_info(CFBundleIdentifier=None, CFBundleVersion="x", CFBundlePackageType="APPL"),
    )

    with pytest.raises(PlistError) as excinfo:
        load_info_plist(path)

    assert excinfo.value.keys == ["CFBundleIdentifier", "CFBundleVersion", "CFBundlePackageType"]
    assert len(str(excinfo.value).splitlines()) == 3


def test_a_file_that_is_not_a_plist_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "Info.plist"
    path.write_text("<plist><dict><key>oops</dict>")

    with pytest.raises(PlistError, match="not a valid property list"):
        load_info_plist(path)


def test_a_plist_whose_root_is_not_a_dictionary_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "Info.plist"
    path.write_bytes(plistlib.dumps(["a", "b"]))

    with pytest.raises(PlistError, match=r"\(root\): is an array; expected a dictionary"):
        load_info_plist(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PlistError, match="no such file"):
        load_info_plist(tmp_path / "Info.plist")


def test_unknown_library_ids_are_reported_with_the_file_and_key(tmp_path: Path) -> None:
    path = write_plist(
        tmp_path,
        kext_info(
            OSBundleLibraries={"com.apple.kpi.libkern": "8.0.0", "com.apple.kpi.nope": "8.0"}
        ),
    )
    info = load_info_plist(path)

    with pytest.raises(PlistError) as excinfo:
        check_library_ids(info, {"com.apple.kpi.libkern"}, hint="see kernel/exports")

    assert excinfo.value.keys == ["OSBundleLibraries.com.apple.kpi.nope"]
    assert str(path) in str(excinfo.value)
    assert "see kernel/exports" in str(excinfo.value)


# -- files plistlib cannot read (issue 9): one line naming the file, never a traceback

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            XML_HEAD + "<dict><key>When</key><date>bogus</date></dict></plist>",
            "a <date> not of the form 2006-01-02T15:04:05Z",  # was AttributeError
        ),
        (
            XML_HEAD + "<key>a</key><dict></dict></plist>",
            "an end tag or <key> outside any <dict> or <array>",  # was IndexError
        ),
        (
            '<?xml version="1.0" encoding="WTF-8"?>\n<plist><dict></dict></plist>',
            "its XML declaration names an unknown encoding",  # was LookupError
        ),
        (
            XML_HEAD + "<dict><key>N</key><integer>12x</integer></dict></plist>",
            "invalid literal for int()",
        ),
        (XML_HEAD + "<dict><key>D</key><data>QQ</data></dict></plist>", "Incorrect padding"),
        (XML_HEAD + "<dict><key>a</key><string>b</dict></plist>", "XML that is not well-formed"),
        ("CFBundleIdentifier = com.example.hello;\n", "neither XML nor a binary plist"),
    ],
)
def test_a_plist_plistlib_cannot_read_is_refused_in_one_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "Info.plist"
    path.write_text(text)

    with pytest.raises(PlistError) as excinfo:
        load_info_plist(path)

    message = str(excinfo.value)
    assert message.startswith(f"{path}: (file): not a valid property list (")
    assert expected in message
    assert "\n" not in message


def test_a_binary_plist_claiming_a_huge_object_count_is_refused(tmp_path: Path) -> None:
    data = bytearray(plistlib.dumps(kext_info(), fmt=plistlib.FMT_BINARY))
    struct.pack_into(">Q", data, len(data) - 24, 1 << 40)  # the trailer's object count
    path = tmp_path / "Info.plist"
    path.write_bytes(bytes(data))

    with pytest.raises(PlistError, match=r"\(a damaged binary plist\)"):  # was MemoryError
        load_info_plist(path)


def test_a_folder_in_place_of_the_plist_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Info.plist").mkdir()

    with pytest.raises(PlistError, match=r"Info\.plist: \(file\): cannot be read"):
        load_info_plist(tmp_path / "Info.plist")
