"""Naming addresses: function+offset from .symtab, file:line from DWARF,
checked against a tiny program compiled and linked at a known address."""

import itertools
import os
import re
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest
from elfpatch import section_field

from finch.build import Tree
from finch.cli import main as finch_main
from finch.kext.records import KextRecord, KextRecords
from finch.panic import (
    parse_panic,
    run_symbolizer,
    symbolize_command,
    symbolize_panic,
    symbolize_panics,
)
from finch.runinfo import RunInfo
from finch.session import GuestWatch
from finch.symbolize import Symbolizer

SOURCE = textwrap.dedent(
    """\
    int counter;

    __attribute__((noinline)) void
    leaf(void)
    {
    \tcounter++;
    }

    __attribute__((noinline)) void
    middle(void)
    {
    \tleaf();
    \tcounter += 2;
    }
    """
)
TEXT_ADDRESS = 0x00200000


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """sample.c compiled with gcc -m32 -g from its own directory, linked
    with ld -Ttext at TEXT_ADDRESS; returns (elf, symbols)."""
    work = tmp_path_factory.mktemp("symbolize")
    (work / "sample.c").write_text(SOURCE)
    subprocess.run(
        [
            "gcc",
            "-m32",
            "-O1",
            "-g",
            "-ffreestanding",
            "-fno-pic",
            "-fno-omit-frame-pointer",
            "-c",
            "sample.c",
            "-o",
            "sample.o",
        ],
        cwd=work,
        check=True,
    )
    subprocess.run(
        [
            "ld",
            "-m",
            "elf_i386",
            "-nostdlib",
            "-e",
            "middle",
            f"-Ttext={TEXT_ADDRESS:#x}",
            "-o",
            "sample.elf",
            "sample.o",
        ],
        cwd=work,
        check=True,
    )
    nm = subprocess.run(["nm", "sample.elf"], cwd=work, check=True, capture_output=True, text=True)
    symbols = {name: int(value, 16) for value, _, name in map(str.split, nm.stdout.splitlines())}
    return work / "sample.elf", symbols


def call_site(elf: Path, function: str) -> tuple[int, int]:
    """The address of the first call instruction in `function`, and its
    return address."""
    dump = subprocess.run(
        ["objdump", "-d", f"--disassemble={function}", str(elf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in dump.splitlines() if "\t" in line and ":" in line]
    for line, following in itertools.pairwise(lines):
        if "call" in line:
            return int(line.split(":")[0], 16), int(following.split(":")[0], 16)
    raise AssertionError(f"no call in {function}")


def test_an_address_inside_a_function_names_it_with_an_offset(program):
    elf, symbols = program
    location = Symbolizer.for_kernel(elf).lookup(symbols["leaf"] + 1)
    assert location.function == "leaf"
    assert location.offset == 1


def test_an_instruction_is_named_by_its_file_and_line(program):
    elf, symbols = program
    call, _ = call_site(elf, "middle")
    location = Symbolizer.for_kernel(elf).lookup(call)
    assert (location.file, location.line) == ("sample.c", 12)  # `leaf();`
    assert str(location) == f"middle+{call - symbols['middle']:#x} (sample.c:12)"


def test_a_return_address_is_named_by_its_call_instruction(program):
    elf, _ = program
    _, ret = call_site(elf, "middle")
    location = Symbolizer.for_kernel(elf).lookup(ret, return_address=True)
    assert location.address == ret
    assert location.function == "middle"
    assert location.line == 12  # the line of `leaf();`


def test_an_address_outside_every_image_is_unknown(program):
    elf, _ = program
    location = Symbolizer.for_kernel(elf).lookup(0x10)
    assert location.function is None
    assert str(location) == "??"


def test_a_second_image_is_looked_up_at_its_load_address(program):
    elf, symbols = program
    symbolizer = Symbolizer.for_kernel(elf)
    symbolizer.add_image(elf, load_address=0x01000000, name="Sample.kext")
    location = symbolizer.lookup(0x01000000 + symbols["leaf"] + 2)
    assert location.image == "Sample.kext"
    assert location.function == "leaf"
    assert location.offset == 2


def test_a_panic_report_is_symbolized_frame_by_frame(program):
    elf, symbols = program
    call, ret = call_site(elf, "middle")
    report = parse_panic(
        f"panic(cpu 0 caller {ret:#010x}): Kernel trap at {call:#010x}, "
        "type 14=page fault, error code 0x00000000\n"
        "Backtrace (frame : return address):\n"
        f"  0x0011fe8c : {ret:#010x}\n"
        "==== end of panic report ====\n"
    )
    panic = symbolize_panic(report, Symbolizer.for_kernel(elf))
    text = panic.format()
    assert panic.fault.function == "middle"
    assert panic.fault.line == 12
    assert f"#0 {ret:#010x} middle+{ret - symbols['middle']:#x} (sample.c:12)" in text
    assert f"trap at   {call:#010x} middle+{call - symbols['middle']:#x} (sample.c:12)" in text


def test_a_trap_panics_caller_at_the_trap_address_is_symbolized_exactly(program):
    elf, symbols = program
    start = symbols["middle"]
    report = parse_panic(
        f"panic(cpu 0 caller {start:#010x}): Kernel trap at {start:#010x}, "
        "type 0=divide error, error code 0x00000000\n"
        "==== end of panic report ====\n"
    )
    panic = symbolize_panic(report, Symbolizer.for_kernel(elf))
    assert panic.caller.function == "middle"  # not the function before it
    assert panic.caller.offset == 0


# --------------------------------------------------------------------------
# The pipeline Machine, `finch run` and `finch symbolize` share


def console_with_a_panic(ret: int, call: int) -> str:
    """A console log whose panic report has everything the kernel prints."""
    return (
        "finch> crash null\r\n"
        f"panic(cpu 0 caller {ret:#010x}): Kernel trap at {call:#010x}, "
        "type 14=page fault, error code 0x00000002\r\n"
        "CR0: 0x80000011, CR2: 0x00000000, CR3: 0x00120000, CR4: 0x00000000\r\n"
        "EAX: 0x00000000, EBX: 0x0011ff00, ECX: 0x00000001, EDX: 0x00000000\r\n"
        "Thread: monitor\r\n"
        "Backtrace (frame : return address):\r\n"
        f"  0x0011fe8c : {ret:#010x}\r\n"
        "Kernel extensions loaded:\r\n"
        "  com.example.sample (1.0.0) @ 0x00400000-0x00400fff\r\n"
        "Kernel version: Finch 0.1.0 (build 0123456789abcdef)\r\n"
        "==== end of panic report ====\r\n"
    )


def test_the_symbolized_report_keeps_the_registers_and_the_loaded_kexts(program):
    elf, _ = program
    call, ret = call_site(elf, "middle")

    [panic] = symbolize_panics(console_with_a_panic(ret, call), lambda: Symbolizer.for_kernel(elf))

    lines = panic.format().splitlines()
    kept = [
        "CR0: 0x80000011, CR2: 0x00000000, CR3: 0x00120000, CR4: 0x00000000",
        "EAX: 0x00000000, EBX: 0x0011ff00, ECX: 0x00000001, EDX: 0x00000000",
        "Thread: monitor",
        "Backtrace:",
        f"#0 {ret:#010x} {panic.frames[0]}",
        "Kernel extensions loaded:",
        "  com.example.sample (1.0.0) @ 0x00400000-0x00400fff",
        "Kernel version: Finch 0.1.0 (build 0123456789abcdef)",
    ]
    assert [line for line in lines if line in kept] == kept  # all of them, in order


def test_no_symbols_are_read_for_a_console_without_a_panic():
    def no_symbols() -> Symbolizer:
        raise AssertionError("the ELF files were read")

    assert symbolize_panics("finch> version\r\nFinch 0.1.0\r\n", no_symbols) == []


def test_the_run_symbolizer_names_code_in_the_kexts_kextload_recorded(program, tmp_path):
    elf, symbols = program
    records = KextRecords.in_rundir(tmp_path)
    records.write(KextRecord("com.example.sample", "1.0.0", 0x00200000, 0x1000, 0, "Sample.kext"))
    records.symbol_file("com.example.sample").write_bytes(elf.read_bytes())

    location = run_symbolizer(elf, tmp_path).lookup(symbols["leaf"] + 1)

    assert (location.image, location.function) == ("com.example.sample", "leaf")


def test_finch_symbolize_prints_the_whole_report(program, tmp_path, capsys):
    elf, _ = program
    call, ret = call_site(elf, "middle")
    log = tmp_path / "console.log"
    log.write_text(console_with_a_panic(ret, call))

    status = finch_main(["symbolize", str(log), "--elf", str(elf), "--rundir", str(tmp_path)])

    out = capsys.readouterr().out
    assert status == 0
    assert "middle+0x" in out
    assert "EAX: 0x00000000, EBX: 0x0011ff00" in out
    assert "  com.example.sample (1.0.0) @ 0x00400000-0x00400fff" in out


# --------------------------------------------------------------------------
# The hint a host tool gives when the guest it talks to has panicked


@pytest.fixture
def other_kernel(tmp_path: Path) -> Path:
    """A kernel ELF that knows nothing of `program`'s functions."""
    (tmp_path / "k.c").write_text("int kmain(void) { return 0; }\n")
    subprocess.run(["gcc", "-m32", "-ffreestanding", "-c", "k.c", "-o", "k.o"], cwd=tmp_path,
                   check=True)  # fmt: skip
    subprocess.run(["ld", "-m", "elf_i386", "-nostdlib", "-e", "kmain", "-Ttext=0x100000",
                    "-o", "kernel.elf", "k.o"], cwd=tmp_path, check=True)  # fmt: skip
    return tmp_path / "kernel.elf"


def test_the_panic_hint_names_the_run_directory_and_kernel_of_that_run(
    program, other_kernel, tmp_path, capsys
):
    elf, _ = program
    call, ret = call_site(elf, "middle")
    rundir = tmp_path / "elsewhere"  # `finch run --rundir elsewhere`
    records = KextRecords.in_rundir(rundir)
    records.write(KextRecord("com.example.sample", "1.0.0", TEXT_ADDRESS, 0x1000, 0, "S.kext"))
    records.symbol_file("com.example.sample").write_bytes(elf.read_bytes())
    log = rundir / "console.log"
    log.write_text(console_with_a_panic(ret, call))
    info = RunInfo(os.getpid(), "", str(other_kernel), str(log), "", None, [], "")

    hint = GuestWatch(info)()

    assert hint is not None
    command = re.search(r"`(finch symbolize [^`]*)`", hint)
    assert command is not None
    argv = shlex.split(command.group(1))
    assert argv[argv.index("--rundir") + 1] == str(rundir)
    assert argv[argv.index("--elf") + 1] == str(other_kernel)
    assert finch_main(argv[1:]) == 0
    assert f"#0 {ret:#010x} middle+0x" in capsys.readouterr().out  # not ??


def test_the_panic_hint_of_the_default_run_is_the_short_command(monkeypatch):
    tree = Tree.find(Path(__file__))
    monkeypatch.chdir(tree.root)

    command = symbolize_command(tree.run_dir / "console.log", tree.kernel_elf)

    assert command == "finch symbolize build/run/console.log"


# --------------------------------------------------------------------------
# A kext's debugging information is the student's, and may be damaged


def damaged(elf: Path, section: str, at: int, new: bytes, out: Path) -> Path:
    data = bytearray(elf.read_bytes())
    start = section_field(bytes(data), section, "sh_offset") + at
    data[start : start + len(new)] = new
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    ("section", "at", "new", "problem"),
    [
        (".debug_abbrev", 0, b"\xff" * 8, "no decoding mapping"),  # was: unreadable ELF
        (".debug_info", 12, b"\x7f", "KeyError"),  # an abbreviation code nobody defines
        (".debug_info", 0, b"\xf0\xff\xff\xff", "initial length"),  # was: unreadable ELF
        (".debug_line_str", 0, b"\xff\xfe", None),  # a file name not in UTF-8: was a traceback
    ],
)
def test_damaged_debugging_information_still_names_functions(
    program, tmp_path, capsys, section, at, new, problem
):
    elf, symbols = program
    sym = damaged(elf, section, at, new, tmp_path / "com.example.sample.sym")

    status = finch_main(["symbolize", "--elf", str(sym), "-a", f"{symbols['leaf'] + 1:#x}"])

    out, err = capsys.readouterr()
    assert status == 0
    assert out.split()[1] == "leaf+0x1"
    if problem is None:
        assert err == ""
    else:
        assert err.startswith(f"finch symbolize: note: {sym}: no file:line numbers: its debug")
        assert problem in err
