"""Darwin kext versions (the `vers` format) and the library compatibility rule.

A kext's CFBundleVersion, its OSBundleCompatibleVersion and every minimum
version in OSBundleLibraries use Darwin's `vers` format:

    MAJOR[.MINOR[.BUGFIX]][STAGE LEVEL]

MAJOR has 1-4 digits, MINOR and BUGFIX 1-2 digits each; STAGE is d
(development), a (alpha), b (beta) or fc (final candidate) followed by a level
0-255 (fc needs at least 1).  "1.0.0d1", "8.0.0b1", "2.1fc3", "8.0.0" are all
versions.  They order by number, and within the same number
d < a < b < fc < release, as Darwin's OSKextVersion did.

A library is usable by a dependent that requests version R when
compatibleVersion <= R <= CFBundleVersion; a library that has no
OSBundleCompatibleVersion cannot be linked against at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finch.errors import FinchError

# Stage order, as in Darwin: development < alpha < beta < candidate < release.
_STAGES = {"d": 1, "a": 3, "b": 5, "fc": 7, "": 9}

_VERS_RE = re.compile(
    r"(?P<major>\d{1,4})"
    r"(?:\.(?P<minor>\d{1,2})(?:\.(?P<bugfix>\d{1,2}))?)?"
    r"(?:(?P<stage>d|a|b|fc)(?P<level>\d{1,3}))?"
)

VERSION_FORMAT_HELP = (
    "a Darwin version: MAJOR[.MINOR[.BUGFIX]] with 1-4, 1-2 and 1-2 digits, "
    "optionally followed by a stage d, a, b or fc and a number 0-255 "
    "(e.g. 1.0.0, 1.0.0d1, 8.0.0b1, 2.1fc3)"
)


class VersionError(FinchError, ValueError):
    """A string is not a Darwin `vers` version."""


@dataclass(frozen=True, eq=False)
class Version:
    """One parsed version; compare with <, ==, etc.  str() gives it back."""

    major: int
    minor: int = 0
    bugfix: int = 0
    stage: str = ""  # "d", "a", "b", "fc", or "" for a release
    level: int = 0
    text: str = ""  # the string it was parsed from, if any

    @property
    def key(self) -> tuple[int, int, int, int, int]:
        return (self.major, self.minor, self.bugfix, _STAGES[self.stage], self.level)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __gt__(self, other: Version) -> bool:
        return self.key > other.key

    def __ge__(self, other: Version) -> bool:
        return self.key >= other.key

    def __str__(self) -> str:
        if self.text:
            return self.text
        s = f"{self.major}.{self.minor}.{self.bugfix}"
        if self.stage:
            s += f"{self.stage}{self.level}"
        return s


def parse_version(text: str) -> Version:
    """Parse a `vers` string; raise VersionError saying what is wrong."""
    if not isinstance(text, str):
        raise VersionError(f"{text!r} is not a string; expected {VERSION_FORMAT_HELP}")
    m = _VERS_RE.fullmatch(text)
    if m is None:
        raise VersionError(f"{text!r} is not {VERSION_FORMAT_HELP}")
    stage = m["stage"] or ""
    level = int(m["level"] or 0)
    if level > 255:
        raise VersionError(
            f"{text!r} is not a Darwin version: the stage number {level} is over 255"
        )
    if stage == "fc" and level == 0:
        raise VersionError(
            f"{text!r} is not a Darwin version: a final candidate is numbered from 1 (fc1)"
        )
    return Version(
        major=int(m["major"]),
        minor=int(m["minor"] or 0),
        bugfix=int(m["bugfix"] or 0),
        stage=stage,
        level=level,
        text=text,
    )


def is_version(text: object) -> bool:
    """True when `text` is a string in `vers` format."""
    try:
        parse_version(text)  # type: ignore[arg-type]
    except VersionError:
        return False
    return True


def compatibility_problem(
    library: str, requested: Version, version: Version, compatible: Version | None
) -> str | None:
    """Why `library` (at `version`, compatible back to `compatible`) cannot
    satisfy a request for `requested`; None when it can."""
    if compatible is None:
        return (
            f"{library} {version} has no OSBundleCompatibleVersion, so nothing can "
            f"link against it (its Info.plist must declare one to be a library)"
        )
    if requested > version:
        return (
            f"{library} is {version}, older than the {requested} requested: "
            f"load or build a newer {library}, or lower the version in OSBundleLibraries"
        )
    if requested < compatible:
        return (
            f"{library} {version} is compatible only back to {compatible}, "
            f"newer than the {requested} requested: rebuild against {library} "
            f"{compatible} or later and raise the version in OSBundleLibraries"
        )
    return None


def is_compatible(requested: Version, version: Version, compatible: Version | None) -> bool:
    """compatibleVersion <= requested <= CFBundleVersion (and a compatible version exists)."""
    return compatibility_problem("library", requested, version, compatible) is None
