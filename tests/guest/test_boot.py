"""Booting Finch and talking to its monitor: what a student sees after
`make run`."""

from __future__ import annotations

import re
from pathlib import Path

from finch.build import read_build_id
from finch.machine import Machine


def test_boot_reaches_the_prompt_with_a_banner(guest: Machine) -> None:
    banner = guest.console_text()
    assert re.search(r"^Finch \d+\.\d+\.\d+ \(build [0-9a-f]{16}\) i386", banner, re.M)
    assert banner.rstrip().endswith("finch>")


def test_version_reports_the_build_id_of_the_kernel_image(
    guest: Machine, kernel_image: Path
) -> None:
    out = guest.command("version")
    match = re.search(r"Finch (\S+) \(build ([0-9a-f]{16}), (\S+)\) i386", out)
    assert match, out
    assert match.group(2) == read_build_id(kernel_image)


def test_help_lists_every_core_command(module_guest: Machine) -> None:
    out = module_guest.command("help")
    for name in ("help", "version", "uptime", "clear", "ps", "mem", "halt", "reboot", "selftest"):
        assert re.search(rf"^\s+{name}\b", out, re.M), f"{name} missing from help:\n{out}"


def test_uptime_advances(module_guest: Machine) -> None:
    def seconds() -> float:
        match = re.search(r"\(([\d.]+) s\)", module_guest.command("uptime"))
        assert match
        return float(match.group(1))

    first = seconds()
    module_guest.command("timer 10 500")  # the guest sleeps about half a second
    assert seconds() >= first + 0.4


def test_ps_shows_the_monitor_idle_and_thread_call_threads(module_guest: Machine) -> None:
    out = module_guest.command("ps")
    assert re.search(r"\bmonitor\s+running\b", out), out
    assert re.search(r"\bidle\b", out), out
    assert re.search(r"\bthread_call\s+waiting\b", out), out


def test_mem_shows_pages_heap_classes_and_tags(module_guest: Machine) -> None:
    out = module_guest.command("mem")
    pages = re.search(r"pages: (\d+) total, (\d+) free", out)
    assert pages, out
    assert int(pages.group(1)) * 4 > 100 * 1024  # most of the 128 MiB
    assert 0 < int(pages.group(2)) < int(pages.group(1))
    assert re.search(r"^kernel\s+\d+\s+\d+", out, re.M), out


def test_unknown_command_is_named_and_the_monitor_goes_on(module_guest: Machine) -> None:
    out = module_guest.command("frobnicate now")
    assert "unknown command 'frobnicate'" in out
    assert "Finch" in module_guest.command("version")


def test_overlong_line_is_refused_whole(module_guest: Machine) -> None:
    out = module_guest.command("version " + "x" * 300, timeout=10)
    assert "line too long" in out
    assert "build" not in out  # the command did not run


def test_binary_garbage_is_reported_and_ignored(module_guest: Machine) -> None:
    module_guest.send(bytes(range(0x80, 0x100)) + b"\x00\x01\x02\x1b\n")
    module_guest.expect(r"ignored \d+ non-printable byte\(s\)")
    module_guest.expect(r"finch> ")
    assert "Finch" in module_guest.command("version")


def test_mbuf_fail_rate_is_per_mille_with_decimals_or_percent(module_guest: Machine) -> None:
    try:
        assert "0.5 per mille" in module_guest.command("mbuf fail rate 0.5")
        assert "20 per mille" in module_guest.command("mbuf fail rate 2%")
        refused = module_guest.command("mbuf fail rate half")
        assert "'half' is not a rate: give per mille" in refused
    finally:
        assert "fault injection: off" in module_guest.command("mbuf fail off")


def test_halt_status_becomes_the_exit_status(guest: Machine) -> None:
    guest.sendline("halt 3")
    assert guest.wait_exit(timeout=10) == 3


def test_halt_refuses_a_status_out_of_range(guest: Machine) -> None:
    out = guest.command("halt 300")
    assert "bad status" in out
    assert guest.running
