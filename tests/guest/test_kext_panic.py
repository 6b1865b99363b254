"""A kext that crashes the kernel: kextload says at once that the guest
panicked (instead of timing out), and the panic report names the kext's
function and source line, from the symbol file kextload left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.cli import main as finch_main
from finch.errors import GuestPanic
from finch.hostlink.client import GuestGone
from finch.kext.guest import KextGuest
from finch.kext.load import LoadError

CRASHER = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>

kern_return_t crasher_start(kmod_info_t *ki, void *data);
kern_return_t crasher_stop(kmod_info_t *ki, void *data);
int crasher_poke(void) __attribute__((noinline));

int
crasher_poke(void)
{
	volatile int *nowhere = NULL;

	return *nowhere;	/* page 0 is unmapped: a page fault */
}

kern_return_t
crasher_start(kmod_info_t *ki, void *data)
{
	printf("crasher: %d\\n", crasher_poke());
	return KERN_SUCCESS;
}

kern_return_t
crasher_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(CRASHER.splitlines(), 1) if text in line)


def test_a_panic_in_a_kext_names_its_function_and_line(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    bundle = make_kext("crasher", CRASHER)
    started = time.monotonic()

    with pytest.raises(LoadError) as refused:
        kext_guest.load(bundle)

    assert time.monotonic() - started < 3  # not two 5 s timeouts
    assert "the guest panicked: panic(cpu 0 caller" in str(refused.value)
    with pytest.raises(GuestPanic) as panicked:
        kext_guest.machine.expect("finch> ", timeout=5)
    report = panicked.value.symbolized
    assert "type 14=page fault" in report
    fault = panicked.value.panic.fault
    assert fault.image == "com.example.crasher"
    assert fault.function == "crasher_poke"
    assert f"crasher.c:{line_of('return *nowhere;')}" in report


def test_finch_symbolize_names_kext_code_in_a_saved_console_log(
    kext_guest: KextGuest, make_kext: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(LoadError):
        kext_guest.load(make_kext("crasher", CRASHER))
    with pytest.raises(GuestPanic):
        kext_guest.machine.expect("finch> ", timeout=5)
    machine = kext_guest.machine

    status = finch_main(
        ["symbolize", str(machine.paths.console_log), "--rundir", str(kext_guest.rundir),
         "--elf", str(machine.kernel)]
    )  # fmt: skip

    assert status == 0
    assert "crasher_poke+0x" in capsys.readouterr().out


def test_a_tool_run_after_the_guest_panicked_says_so(kext_guest: KextGuest) -> None:
    kext_guest.machine.sendline("crash panic")
    with pytest.raises(GuestPanic):
        kext_guest.machine.expect("finch> ", timeout=5)

    with pytest.raises(GuestGone) as gone:
        kext_guest.kextstat()

    assert "the guest panicked: panic(cpu 0 caller" in str(gone.value)
