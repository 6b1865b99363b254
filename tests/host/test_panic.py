"""Finding and parsing the kernel's panic report in console output."""

from finch.panic import find_panic, parse_panic, symbolize_panic
from finch.symbolize import Symbolizer

TRAP_REPORT = (
    "finch> crash null\r\n"
    "panic(cpu 0 caller 0x0010abcd): Kernel trap at 0x00101234, type 14=page fault, "
    "error code 0x00000002\r\n"
    "eax: 0x00000000 ebx: 0x0011ff00 ecx: 0x00000001 edx: 0x00000000\r\n"
    "Thread: monitor\r\n"
    "Backtrace (frame : return address):\r\n"
    "  0x0011fe8c : 0x00101234\r\n"
    "  0x0011fea0 : 0x00105678\r\n"
    "Kernel extensions loaded:\r\n"
    "  com.example.hello (1.0.0) @ 0x00400000-0x00400fff\r\n"
    "Kernel version: Finch 0.1.0 (build 0123456789abcdef)\r\n"
    "==== end of panic report ====\r\n"
    "after the report\r\n"
)


def test_a_panic_is_found_from_its_first_line_to_its_end_marker():
    start, end = find_panic(TRAP_REPORT)
    assert TRAP_REPORT[start:].startswith("panic(cpu 0 caller 0x0010abcd): ")
    assert TRAP_REPORT[:end].endswith("==== end of panic report ====\r\n")


def test_a_report_still_arriving_has_no_end_yet():
    half = TRAP_REPORT[: TRAP_REPORT.index("Backtrace")]
    start, end = find_panic(half)
    assert start == half.index("panic(")
    assert end is None


def test_panic_must_start_a_line():
    assert find_panic("printf said: panic(cpu 0 caller 0x00100000): no\n") is None


def test_a_cpu_exception_report_is_parsed():
    report = parse_panic(TRAP_REPORT[TRAP_REPORT.index("panic(") :])
    assert report.cpu == 0
    assert report.caller == 0x0010ABCD
    assert report.trap is not None
    assert report.trap.address == 0x00101234
    assert report.trap.type == 14
    assert report.trap.name == "page fault"
    assert report.trap.error_code == 2
    assert [f.return_address for f in report.frames] == [0x00101234, 0x00105678]
    assert report.frames[0].frame_pointer == 0x0011FE8C
    assert report.registers == (
        "eax: 0x00000000 ebx: 0x0011ff00 ecx: 0x00000001 edx: 0x00000000",
        "Thread: monitor",
    )
    assert report.loaded_kexts == (
        "Kernel extensions loaded:",
        "  com.example.hello (1.0.0) @ 0x00400000-0x00400fff",
    )
    assert report.kernel_version == "Finch 0.1.0"
    assert report.build_id == "0123456789abcdef"
    assert report.complete
    assert "\r" not in report.text
    assert "after the report" not in report.text


def test_a_plain_panic_has_a_message_and_no_trap():
    report = parse_panic(
        "panic(cpu 0 caller 0x00102000): mbuf freed twice\n"
        "Backtrace (frame : return address):\n"
        "==== end of panic report ====\n"
    )
    assert report.message == "mbuf freed twice"
    assert report.trap is None
    assert report.frames == ()


def test_a_cut_off_report_is_marked_incomplete():
    report = parse_panic("panic(cpu 0 caller 0x00102000): lost\nBacktrace (frame : return")
    assert not report.complete


NAMED_FRAMES = (
    "panic(cpu 0 caller 0x00102000): kext callback 0x00401234 tick (com.example.foo) returned\n"
    "Backtrace (frame : return address):\n"
    "  0x0011fe8c : 0x00401244 tick+0x10 (com.example.foo)\n"
    "  0x0011fea0 : 0x00105678 thread_call_thread+0x4c\n"
    "  0x0011feb0 : 0x00405678 (com.example.foo)\n"
    "  (and 3 more frames with that return address)\n"
    "  0x0011fec0 : 0x00106000\n"
    "Kernel extensions in backtrace:\n"
    "  com.example.foo (1.0.0) @ 0x00400000-0x00400fff\n"
    "==== end of panic report ====\n"
)


def test_the_guests_name_after_a_frame_is_kept_apart_from_the_address():
    report = parse_panic(NAMED_FRAMES)

    assert [(f.return_address, f.guest_name) for f in report.frames] == [
        (0x00401244, "tick+0x10 (com.example.foo)"),
        (0x00105678, "thread_call_thread+0x4c"),
        (0x00405678, "(com.example.foo)"),
        (0x00106000, None),
    ]
    assert report.loaded_kexts == (
        "  (and 3 more frames with that return address)",
        "Kernel extensions in backtrace:",
        "  com.example.foo (1.0.0) @ 0x00400000-0x00400fff",
    )


def test_a_frame_the_host_cannot_name_shows_the_guests_name():
    symbolized = symbolize_panic(parse_panic(NAMED_FRAMES), Symbolizer())

    lines = symbolized.format().splitlines()
    assert "#0 0x00401244 tick+0x10 (com.example.foo) (named by the guest)" in lines
    assert "#3 0x00106000 ??" in lines
