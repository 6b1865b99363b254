"""Finch's own book stays true to the tree it describes.

docs/packet.md follows one datagram through the kernel and names, in
backticks, every file, function and `netstat -s` counter it passes.  Code
gets renamed; a chapter nobody checks goes on naming what is gone.  So
these tests hold the chapter to the tree:

- a file (`dlil_input.c`, `bsd/net/dlil_input.c`, `tools/finch/wire.py`)
  or a header (`<sys/kpi_mbuf.h>`) must exist;
- a function, written `name()`, must be defined in kernel/ (style(9) puts
  its name at the start of a line);
- a counter, written `group.name` as `netstat -s` prints it, must be
  registered with NETSTAT_GROUP under that group;
- any other identifier (`sc_tx_lock`, `EJUSTRETURN`) must appear in
  kernel/;
- a "To come" note names, in italics, code that is not written yet: once
  that code exists, the note is stale and the chapter must tell the step.

They also keep every file in the repository from pointing at documents
that live outside it.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KERNEL = REPO / "kernel"
CHAPTER = REPO / "docs" / "packet.md"

FILE_SPAN = re.compile(r"^(?:[\w.-]+/)*[\w.-]+\.(?:c|h|S|ld|py|md|sh)$")
HEADER_SPAN = re.compile(r"^<([\w/]+\.h)>$")
FUNCTION_SPAN = re.compile(r"^([A-Za-z_]\w*)\(\)$")
COUNTER_SPAN = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")
IDENTIFIER_SPAN = re.compile(r"^[A-Za-z_]\w*$")
ITALIC_NAME = re.compile(r"(?<![*\w])\*([A-Za-z_]\w*)\*(?![*\w])")
LINK = re.compile(r"\]\(([^)\s]+)\)")


# ---------------------------------------------------------------------------
# Reading the chapter


def strip_fenced_blocks(text: str) -> str:
    """The text with the lines of ``` blocks blanked (console sessions
    quote the guest, not the tree); line numbers are kept."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
        else:
            out.append("" if fenced else line)
    return "\n".join(out)


def code_spans(text: str) -> list[tuple[int, str]]:
    """(line number, content) of every `span` outside fenced blocks."""
    spans = []
    for number, line in enumerate(strip_fenced_blocks(text).splitlines(), 1):
        spans += [(number, s.strip()) for s in re.findall(r"`([^`]+)`", line)]
    return spans


def to_come_notes(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each blockquote that opens with **To come**."""
    notes: list[tuple[int, str]] = []
    lines: list[str] = []
    start = 0
    for number, line in enumerate([*strip_fenced_blocks(text).splitlines(), ""], 1):
        if line.startswith(">"):
            if not lines:
                start = number
            lines.append(line.lstrip("> "))
            continue
        if lines and lines[0].startswith("**To come"):
            notes.append((start, "\n".join(lines)))
        lines = []
    return notes


@cache
def chapter() -> str:
    return CHAPTER.read_text()


# ---------------------------------------------------------------------------
# Reading the tree


@cache
def kernel_sources() -> dict[Path, str]:
    return {
        p: p.read_text(errors="replace")
        for p in sorted(KERNEL.rglob("*"))
        if p.suffix in {".c", ".h", ".S", ".ld"} or p.name.endswith(".exports")
    }


@cache
def tracked_files() -> list[Path]:
    """The repository's files: git's list, or (outside a checkout) every
    file but what the build and the virtual environment made."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z"],
            check=True,
            capture_output=True,
        ).stdout
        return [REPO / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "build", "images"}
        return [
            p for p in REPO.rglob("*") if p.is_file() and not skip & set(p.relative_to(REPO).parts)
        ]


def defines_function(name: str) -> Path | None:
    """The kernel file that defines function (or function-like macro)
    `name`, or None."""
    definition = re.compile(rf"^(?:#define\s+)?{re.escape(name)}\(", re.MULTILINE)
    for path, text in kernel_sources().items():
        if path.suffix in {".c", ".h"} and definition.search(text):
            return path
    return None


@cache
def netstat_counters() -> dict[str, set[str]]:
    """group -> counter names, from every NETSTAT_GROUP(group, table).
    Several files may register groups of one name (UDP's and the echo
    service's "udp"): netstat -s prints them as one, and so they count."""
    groups: dict[str, set[str]] = {}
    for text in kernel_sources().values():
        for group, table in re.findall(r"^NETSTAT_GROUP\((\w+),\s*(\w+)\)", text, re.M):
            body = re.search(rf"\b{table}\[\]\s*=\s*\{{(.*?)\n\}};", text, re.S)
            assert body is not None, f"NETSTAT_GROUP({group}, {table}): no table {table}"
            groups.setdefault(group, set()).update(re.findall(r'\{\s*"(\w+)"', body.group(1)))
    return groups


def file_exists(span: str) -> bool:
    if "/" in span:
        return (REPO / span).is_file() or (KERNEL / span).is_file()
    return any(p.name == span for p in tracked_files())


# ---------------------------------------------------------------------------
# The chapter names what is there


def test_the_chapter_names_functions_files_and_counters() -> None:
    spans = {s for _, s in code_spans(chapter())}

    assert any(FUNCTION_SPAN.match(s) for s in spans)
    assert any(FILE_SPAN.match(s) for s in spans)
    assert any(COUNTER_SPAN.match(s) and s.split(".")[0] in netstat_counters() for s in spans)


def test_every_file_the_chapter_names_exists() -> None:
    missing = [
        f"line {n}: {s}"
        for n, s in code_spans(chapter())
        if (FILE_SPAN.match(s) and not file_exists(s))
        or ((h := HEADER_SPAN.match(s)) and not (KERNEL / "include" / h.group(1)).is_file())
    ]

    assert not missing, "docs/packet.md names files that do not exist:\n" + "\n".join(missing)


def test_every_link_in_the_chapter_leads_to_a_file() -> None:
    broken = [
        target
        for target in LINK.findall(strip_fenced_blocks(chapter()))
        if "://" not in target
        and not target.startswith("#")
        and not (CHAPTER.parent / target.split("#")[0]).exists()
    ]

    assert not broken, f"docs/packet.md links to files that do not exist: {broken}"


def test_every_function_the_chapter_names_is_defined_in_the_kernel() -> None:
    undefined = [
        f"line {n}: {s}"
        for n, s in code_spans(chapter())
        if (m := FUNCTION_SPAN.match(s)) and defines_function(m.group(1)) is None
    ]

    assert not undefined, (
        "docs/packet.md names functions that kernel/ does not define (renamed? "
        "follow the new name through the chapter):\n" + "\n".join(undefined)
    )


def test_every_counter_the_chapter_names_is_printed_by_netstat() -> None:
    groups = netstat_counters()
    unknown = [
        f"line {n}: {s}"
        for n, s in code_spans(chapter())
        if (m := COUNTER_SPAN.match(s))
        and not FILE_SPAN.match(s)
        and m.group(2) not in groups.get(m.group(1), set())
    ]

    assert not unknown, (
        "docs/packet.md names counters that `netstat -s` does not print "
        f"(groups: {sorted(groups)}):\n" + "\n".join(unknown)
    )


def test_every_other_name_the_chapter_gives_appears_in_the_kernel() -> None:
    words = "\n".join(kernel_sources().values())
    absent = [
        f"line {n}: {s}"
        for n, s in code_spans(chapter())
        if IDENTIFIER_SPAN.match(s)
        and ("_" in s or s.isupper())
        and not re.search(rf"\b{re.escape(s)}\b", words)
    ]

    assert not absent, "docs/packet.md names what kernel/ never mentions:\n" + "\n".join(absent)


def test_to_come_notes_name_only_code_not_written_yet() -> None:
    notes = to_come_notes(chapter())
    written = [
        f"line {n}: {name} is defined in {path.relative_to(REPO)}"
        for n, note in notes
        for name in ITALIC_NAME.findall(note)
        if (path := defines_function(name)) is not None
    ]

    assert not written, (
        "A **To come** note in docs/packet.md names code that now exists: tell that "
        "step in the chapter and take the note out:\n" + "\n".join(written)
    )


# ---------------------------------------------------------------------------
# The repository points only at itself


# What a repository file must not name: design notes kept beside the
# checkout, which a clone does not have, by path or by their file names.
OUTSIDE = re.compile(r"\.\./shared|/work/share[d]|\b(?:DESIGN|KPI|STYLE)\.md\b")


def test_no_file_points_outside_the_repository() -> None:
    hits = []
    for path in tracked_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary, or deleted in the working tree
        hits += [
            f"{path.relative_to(REPO)}:{n}: {line.strip()}"
            for n, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)
        ]

    assert not hits, (
        "These lines point at documents outside the repository; point at "
        "docs/ instead (docs/design.md, docs/kexts.md, docs/kpi/):\n" + "\n".join(hits)
    )
