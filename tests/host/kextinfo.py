"""The Info.plist dictionary of a valid kext, for the host tests to vary."""

from __future__ import annotations

from typing import Any


def kext_info(**changes: Any) -> dict[str, Any]:
    """com.example.hello's Info.plist keys with `changes` applied; a change
    to None removes the key."""
    info: dict[str, Any] = {
        "CFBundleIdentifier": "com.example.hello",
        "CFBundleVersion": "1.0.0d1",
        "CFBundleExecutable": "hello",
        "CFBundleName": "Hello",
        "CFBundlePackageType": "KEXT",
        "CFBundleInfoDictionaryVersion": "6.0",
        "OSBundleLibraries": {"com.apple.kpi.libkern": "8.0.0"},
    }
    for key, value in changes.items():
        if value is None:
            info.pop(key, None)
        else:
            info[key] = value
    return info
