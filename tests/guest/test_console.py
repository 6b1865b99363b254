"""The monitor's console keeps kernel output and the line being typed
apart, as a terminal's line discipline does: output that comes while a
line is half typed starts on a line of its own, then the prompt and the
line are drawn again below it; `clear` and Ctrl-L clear the screen.

The console a test reads is the raw byte stream, with the backspaces
that move the cursor and the escape sequences, so the tests assert on
exactly that.  Kexts loaded through the host link print on demand: a
kext's start routine runs in the host link's thread, not the monitor's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from finch.kext.guest import KextGuest
from finch.machine import Machine

LEFT = b"\x1b[D"  # the left arrow key
CLEAR_SCREEN = "\x1b[H\x1b[2J"
HELLO_LINE = (
    r"hello: hello from com\.finch\.sample\.hello 1\.0\.0 \(kmod id \d+ at 0x[0-9a-f]+\)\r\n"
)

BURST = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>

kern_return_t burst_start(kmod_info_t *ki, void *data);
kern_return_t burst_stop(kmod_info_t *ki, void *data);

kern_return_t
burst_start(kmod_info_t *ki, void *data)
{
	int i;

	for (i = 1; i <= 5; i++)
		printf("burst: line %d of 5\\n", i);
	return KERN_SUCCESS;
}

kern_return_t
burst_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""


def until_prompt(machine: Machine, line: str = "") -> str:
    """Everything before the next prompt showing `line`, consumed."""
    return machine.expect(re.compile(r"(.*?)finch> " + re.escape(line), re.DOTALL)).group(1)


def test_kernel_output_goes_below_a_half_typed_line_which_is_redrawn(
    kext_guest: KextGuest,
) -> None:
    machine = kext_guest.machine
    machine.send(b"vrsion" + LEFT * 5)  # a typo: the cursor goes back after the v
    machine.expect(re.escape("vrsion" + "\b" * 5))

    kext_guest.load(kext_guest.bundle("hello"))  # its start routine prints a line

    # On a line of its own, then the prompt, the line and the cursor again.
    between = until_prompt(machine, "vrsion" + "\b" * 5)
    assert re.fullmatch("\r\n" + HELLO_LINE, between), repr(between)
    machine.send(b"e\n")
    assert re.search(r"^Finch \S+ \(build", until_prompt(machine), re.M)


def test_a_burst_of_kernel_lines_is_followed_by_one_redraw(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    machine = kext_guest.machine
    machine.send(b"upt")
    machine.expect("upt")

    kext_guest.load(make_kext("burst", BURST))

    between = until_prompt(machine, "upt")
    assert between == "\r\n" + "".join(f"burst: line {i} of 5\r\n" for i in range(1, 6))
    machine.send(b"ime\n")
    assert re.search(r"^up \d+d", until_prompt(machine), re.M)


def test_a_command_run_through_the_host_link_leaves_the_typed_line_alone(
    kext_guest: KextGuest,
) -> None:
    machine = kext_guest.machine
    machine.send(b"vers")
    machine.expect("vers")

    assert kext_guest.monitor("uptime").startswith("up ")  # printed for the host

    machine.send(b"ion\n")
    assert until_prompt(machine).startswith("ion\r\nFinch ")  # nothing came between


def test_a_running_command_prints_without_redraws_between_its_lines(
    kext_guest: KextGuest,
) -> None:
    machine = kext_guest.machine
    machine.sendline("ping -c 6 -i 0.5 127.0.0.1")
    machine.expect(r"bytes from 127\.0\.0\.1")

    kext_guest.load(kext_guest.bundle("hello"))  # prints while ping runs

    out = until_prompt(machine)
    assert re.search(r"icmp_seq=\d+.*\r\n" + HELLO_LINE + r".*icmp_seq=", out, re.DOTALL), out
    assert "6 packets transmitted, 6 packets received" in out  # then the prompt, once
    machine.send(b"uptime\n")
    assert until_prompt(machine).startswith("uptime\r\nup ")  # no redraw is left owing


def test_clear_sends_the_clear_screen_sequence_and_the_monitor_goes_on(
    module_guest: Machine,
) -> None:
    assert module_guest.command("clear") == CLEAR_SCREEN
    assert "Finch" in module_guest.command("version")


def test_ctrl_l_clears_the_screen_and_redraws_the_line_at_its_top(
    module_guest: Machine,
) -> None:
    module_guest.send(b"vers\x0c")
    module_guest.expect(re.escape("vers" + CLEAR_SCREEN + "finch> vers"))
    module_guest.send(b"ion\n")
    assert re.search(r"^Finch \S+ \(build", until_prompt(module_guest), re.M)
