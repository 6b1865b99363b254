"""Fixtures for the host toolkit's tests: small kernels built in a
temporary directory, so these tests need gcc and QEMU but not Finch's
kernel.

    test_kernel   tests/host/data/testkernel.c: a stand-in that speaks the
                  console protocol (banner, prompt, echo, hello, halt N,
                  reset, panic)
    floor_kernel  tools/finch/data/floor.S: exits at once with status 0
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.build import Tree, build_floor, kext_cflags

DATA = Path(__file__).parent / "data"
TEST_KERNEL_SOURCE = DATA / "testkernel.c"


def link_multiboot(objects: list[Path], output: Path) -> Path:
    subprocess.run(
        [
            "ld",
            "-m",
            "elf_i386",
            "-z",
            "noexecstack",
            "-nostdlib",
            "-Ttext=0x100000",
            "-e",
            "start",
            "-o",
            str(output),
            *map(str, objects),
        ],
        check=True,
    )
    return output


@pytest.fixture(scope="session")
def test_kernel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("testkernel")
    entry, main = out / "multiboot.o", out / "testkernel.o"
    subprocess.run(
        ["gcc", "-m32", "-g", "-c", str(DATA / "multiboot.S"), "-o", str(entry)], check=True
    )
    cflags = kext_cflags(Tree.find())  # the toolkit's own flags: freestanding i386
    subprocess.run(["gcc", *cflags, "-c", str(TEST_KERNEL_SOURCE), "-o", str(main)], check=True)
    return link_multiboot([entry, main], out / "testkernel.elf")


@pytest.fixture(scope="session")
def floor_kernel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("floor")
    return build_floor(Tree(root), echo=lambda line: None)


def _line_of(source: Path, text: str) -> int:
    for number, line in enumerate(source.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {source}")


@pytest.fixture
def line_of() -> Callable[[Path, str], int]:
    """line_of(source, text): the 1-based number of the line holding text."""
    return _line_of
