"""A kext's start and stop routines run in a thread of their own, and the
kernel answers the host within two seconds whatever they do (issue 9): a
start routine that sleeps past that leaves its kext loaded and
"starting" -- kextload says so, exits 3 and keeps the symbols -- a stop
routine that does leaves it "stopping" until the kernel finishes the
unload, and one that never returns keeps its kext for good while
kextstat, the monitor and the other kexts go on being served.

The tests share one guest.  Its first kext, loaded before the first
test, starts for ever (it stays until the guest reboots), so every test
here also shows that a stuck kext holds nobody else up; the last test
panics the guest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.cli import kextload, kextstat, kextunload
from finch.errors import GuestPanic
from finch.kext.guest import KextGuest
from finch.kext.loaded import LoadedKext
from finch.kext.records import KextRecords

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
    "com.apple.kpi.unsupported": "8.0.0",
}
HEADER = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <kern/clock.h>
"""


def routines(name: str, start: str, stop: str = "return KERN_SUCCESS;") -> str:
    """A kext's source: its start and stop routines' bodies."""
    return HEADER + (
        f"kern_return_t {name}_start(kmod_info_t *ki, void *data);\n"
        f"kern_return_t {name}_stop(kmod_info_t *ki, void *data);\n"
        f"static int {name}_chan __attribute__((unused));\n\n"
        f"kern_return_t\n{name}_start(kmod_info_t *ki, void *data)\n{{\n{start}\n}}\n\n"
        f"kern_return_t\n{name}_stop(kmod_info_t *ki, void *data)\n{{\n{stop}\n}}\n"
    )


def sleep_for(name: str, seconds: int) -> str:
    return (
        f"\tstruct timespec ts = {{ {seconds}, 0 }};\n\n"
        f'\tmsleep(&{name}_chan, NULL, 0, "{name}", &ts);\n'
        f'\tprintf("{name}: awake\\n");\n'
        "\treturn KERN_SUCCESS;"
    )


SLEEPY = routines("sleepy", sleep_for("sleepy", 4))
SLOWSTOP = routines("slowstop", "\treturn KERN_SUCCESS;", sleep_for("slowstop", 4))
FOREVER = routines(
    "forever",
    "\tstruct timespec ts = { 0, 100 * 1000 * 1000 };\n\n"
    "\tfor (;;)\n"
    '\t\tmsleep(&forever_chan, NULL, 0, "forever", &ts);',
)
LATECRASH = routines(
    "latecrash",
    "\tint i;\n\n"
    "\tfor (i = 0; i < 400; i++)\n"
    "\t\tdelay(10 * 1000);\t/* spins 4 s: the link must still answer */\n"
    "\t*(volatile int *)0 = 1;\t/* then crash */\n"
    "\treturn KERN_SUCCESS;",
)

STILL_STARTING = re.compile(
    r"its start routine has run for \d+\.\d s \(thread \d+ in `ps`\)",
)


def run(main: Callable[[list[str]], int], *argv: str | Path) -> int:
    return main([str(a) for a in argv])


def row(guest: KextGuest, identifier: str) -> LoadedKext | None:
    return next((k for k in guest.kextstat() if k.identifier == identifier), None)


def wait_until_running(guest: KextGuest, identifier: str, timeout: float = 15) -> LoadedKext:
    deadline = time.monotonic() + timeout
    while True:
        kext = row(guest, identifier)
        assert kext is not None, f"{identifier} is gone"
        if kext.running or time.monotonic() > deadline:
            return kext
        time.sleep(0.25)


@pytest.fixture(scope="module")
def guest(module_kext_guest: KextGuest) -> KextGuest:
    return module_kext_guest


@pytest.fixture(scope="module", autouse=True)
def stuck(guest: KextGuest, module_make_kext: Callable[..., Path]) -> float:
    """com.example.forever, whose start routine never returns, loaded
    before the first test; when it was loaded (time.monotonic())."""
    [result] = guest.load(module_make_kext("forever", FOREVER, libraries=KPIS))
    assert result.starting
    return time.monotonic() - result.start_ms / 1000


def test_a_start_routine_that_sleeps_is_still_starting_then_running_and_keeps_its_symbols(
    guest: KextGuest, module_make_kext: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = module_make_kext("sleepy", SLEEPY, libraries=KPIS)

    status = run(kextload.main, "--rundir", guest.rundir, "-e", bundle)

    out, err = capsys.readouterr()
    starting = row(guest, "com.example.sleepy")
    ps = guest.monitor("ps")
    assert starting is not None
    assert status == 3
    assert out == f"kextload: {bundle} loaded as {starting.index} (com.example.sleepy)\n"
    assert re.fullmatch(
        r"kextload: com\.example\.sleepy: still starting \(its start routine has run for "
        r"2\.\d s\); it is loaded, kextstat shows when it is running\n",
        err,
    ), err
    assert starting.starting
    assert STILL_STARTING.fullmatch(starting.reason), starting.reason
    assert re.search(r"\bkmod start com\.example\.sleepy\s+waiting\s+sleepy\b", ps), ps
    record = KextRecords.in_rundir(guest.rundir).read("com.example.sleepy")
    assert record is not None
    assert record.kmod_id == starting.index
    assert KextRecords.in_rundir(guest.rundir).symbol_file("com.example.sleepy").is_file()

    assert wait_until_running(guest, "com.example.sleepy").running
    guest.machine.expect(
        r"kmod: com\.example\.sleepy: its start routine returned after [34]\.\d s: "
        r"0 \(KERN_SUCCESS\); the kext is running"
    )
    guest.unload("com.example.sleepy")


def test_a_stop_routine_that_sleeps_is_still_stopping_and_kextunload_w_waits_for_it(
    guest: KextGuest, module_make_kext: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    guest.load(module_make_kext("slowstop", SLOWSTOP, libraries=KPIS))

    status = run(kextunload.main, "--rundir", guest.rundir, "-b", "com.example.slowstop")

    err = capsys.readouterr().err
    stopping = row(guest, "com.example.slowstop")
    assert status == 3
    assert re.fullmatch(
        r"kextunload: com\.example\.slowstop: still stopping \(its stop routine has run for "
        r"2\.\d s\); it stays loaded until stop returns, and the kernel then unloads it: "
        r"kextstat shows its state, kextunload -w SECONDS waits for it\n",
        err,
    ), err
    assert stopping is not None
    assert stopping.stopping
    assert stopping.reason.startswith("its stop routine has run for ")

    waited = run(kextunload.main, "--rundir", guest.rundir, "-w", "10", "-b", stopping.identifier)

    out, err = capsys.readouterr()
    assert waited == 0
    assert out == "kextunload: unload id com.example.slowstop succeeded\n"
    [refusal, note] = err.splitlines()
    assert refusal.startswith(
        f"kextunload: com.example.slowstop (id {stopping.index}) is still stopping: its stop "
        "routine has run for "
    )
    assert refusal.endswith(
        "The kernel finishes unloading it when its stop routine returns: wait (kextunload -w "
        "waits for it), or look at its thread with `ps`"
    )
    assert note.startswith(
        "kextunload: com.example.slowstop: its stop routine returned after the kernel "
        "stopped waiting for it, and the kernel unloaded it"
    )
    assert row(guest, "com.example.slowstop") is None
    assert KextRecords.in_rundir(guest.rundir).read("com.example.slowstop") is None
    guest.machine.expect(
        r"kmod: com\.example\.slowstop: its stop routine returned after [34]\.\d s: "
        r"0 \(KERN_SUCCESS\); the kext was unloaded"
    )


def test_a_start_routine_that_never_returns_holds_nobody_else_up(
    guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(kextunload.main, "--rundir", guest.rundir, "-b", "com.example.forever")

    err = capsys.readouterr().err
    forever = row(guest, "com.example.forever")
    assert forever is not None
    assert forever.starting
    assert status == 1
    assert re.fullmatch(
        rf"kextunload: com\.example\.forever \(id {forever.index}\) is still starting: "
        rf"{STILL_STARTING.pattern}[^.]*\.  It cannot be unloaded before its start routine "
        r"returns: wait \(kextunload -w waits for it\), or look at its thread with `ps`\n",
        err,
    ), err
    ps = guest.monitor("ps")
    assert re.search(r"\bkmod start com\.example\.forever\s+waiting\s+forever\b", ps), ps
    guest.load(guest.bundle("hello"))  # other kexts load and unload meanwhile
    guest.unload("com.finch.sample.hello")
    assert "host session: active" in guest.monitor("hostlink")


def test_after_ten_seconds_kextstat_says_only_a_reboot_ends_a_stuck_start_routine(
    guest: KextGuest, stuck: float, capsys: pytest.CaptureFixture[str]
) -> None:
    time.sleep(max(0.0, stuck + 10.5 - time.monotonic()))

    status = run(kextstat.main, "--rundir", guest.rundir, "-l", "-b", "com.example.forever")

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert len(lines) == 2
    assert re.fullmatch(
        r"      starting: its start routine has run for \d+\.\d s \(thread \d+ in `ps`\); if "
        r"it never returns, only a reboot ends it: a kernel thread cannot be killed safely",
        lines[1],
    ), lines[1]
    guests = guest.machine.command("kextstat").splitlines()
    assert any(
        line.startswith("      starting: its start routine has run for ")
        and line.endswith("only a reboot ends it: a kernel thread cannot be killed safely")
        for line in guests
    ), guests


def test_a_panic_in_a_start_routine_kextload_stopped_waiting_for_is_symbolized(
    guest: KextGuest, module_make_kext: Callable[..., Path]
) -> None:
    [result] = guest.load(module_make_kext("latecrash", LATECRASH, libraries=KPIS))
    spinning = row(guest, "com.example.latecrash")  # the link answers while start spins

    with pytest.raises(GuestPanic) as panicked:
        guest.machine.expect("never printed", timeout=15)

    panic = panicked.value
    assert result.starting
    assert spinning is not None
    assert spinning.starting
    assert "Thread: kmod start com.example.latecrash" in panic.raw
    assert panic.panic.caller.function == "latecrash_start"
    line = next(i for i, text in enumerate(LATECRASH.splitlines(), 1) if "then crash" in text)
    assert f"latecrash.c:{line}" in panic.symbolized
