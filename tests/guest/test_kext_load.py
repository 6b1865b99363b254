"""kextload, kextstat and kextunload against the real kernel: a kext's
start and stop routines run, kextstat shows it in Tiger's columns (and
the guest's own kextstat agrees), and a failing start or a refusing stop
leaves the kernel as the kext found it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.kext.guest import KextGuest
from finch.kext.load import LoadError
from finch.kext.loaded import LoadedKext, format_kextstat
from finch.kext.unload import UnloadRefused
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import HOSTLINK_SOCKET, QemuOptions, SerialSocket

HELLO = "com.finch.sample.hello"

MONITOR_ROW = re.compile(
    r"^\s*(\d+)\s+(\d+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S+) \((\S+)\)"
    r"(?: <([\d ]+)>)?$"
)


def row(kexts: list[LoadedKext], identifier: str) -> LoadedKext | None:
    return next((k for k in kexts if k.identifier == identifier), None)


def monitor_rows(text: str) -> list[tuple[int, int, int, int, int, str, str, tuple[int, ...]]]:
    """The guest's kextstat, parsed: it prints addresses as 0x%08x."""
    rows = []
    for line in text.splitlines()[1:]:
        m = MONITOR_ROW.match(line)
        assert m, f"not a kextstat row: {line!r}"
        deps = tuple(int(d) for d in (m.group(8) or "").split())
        numbers = (int(m.group(i), 0) for i in range(1, 6))
        rows.append((*numbers, m.group(6), m.group(7), deps))
    return rows


def test_kextload_runs_the_start_routine_and_kextstat_lists_the_kext(
    kext_guest: KextGuest,
) -> None:
    [result] = kext_guest.load(kext_guest.bundle("hello"))

    kext_guest.machine.expect(f"hello: hello from {HELLO} 1.0.0 \\(kmod id {result.kmod_id} ")
    listing = format_kextstat(kext_guest.kextstat(), header=False, bundle_ids=[HELLO])
    address = f"{result.address:#x}"  # <3>: com.apple.kpi.libkern, id 3 as in Tiger
    assert listing == (
        f"{result.kmod_id:5d}    0 {address:<10} 0x1000     0x1000     {HELLO} (1.0.0) <3>\n"
    )
    assert result.transfer == "shared RAM"


def test_the_guests_own_kextstat_agrees_with_the_hosts(kext_guest: KextGuest) -> None:
    kext_guest.load(kext_guest.bundle("hello"))

    host = [
        (k.index, k.refs, k.address, k.size, k.wired, k.identifier, k.version, k.linked_against)
        for k in kext_guest.kextstat()
    ]
    assert monitor_rows(kext_guest.monitor("kextstat")) == host
    assert monitor_rows(kext_guest.machine.command("kextstat")) == host


def test_kextunload_runs_the_stop_routine_and_the_kext_is_gone(kext_guest: KextGuest) -> None:
    before = kext_guest.heap()
    [loaded] = kext_guest.load(kext_guest.bundle("hello"))

    result = kext_guest.unload(HELLO)

    assert result.kmod_id == loaded.kmod_id
    kext_guest.machine.expect(f"hello: goodbye from {HELLO}")
    assert row(kext_guest.kextstat(), HELLO) is None
    assert before.differences(kext_guest.heap()) == []
    assert not loaded.symbol_file.exists()


def test_ids_count_up_and_are_not_reused(kext_guest: KextGuest) -> None:
    [first] = kext_guest.load(kext_guest.bundle("hello"))
    kext_guest.unload(HELLO)

    [second] = kext_guest.load(kext_guest.bundle("hello"))

    assert second.kmod_id == first.kmod_id + 1


def test_without_shared_ram_the_image_goes_over_com2(
    machine_factory: MachineFactory, built_kexts: Path
) -> None:
    machine = machine_factory(QemuOptions(serial=(SerialSocket(HOSTLINK_SOCKET),)))
    machine.boot()
    guest = KextGuest(machine, built_kexts)

    [result] = guest.load(guest.bundle("hello"))

    assert result.transfer == "COM2"
    machine.expect(f"hello: hello from {HELLO}")


def test_a_start_routine_that_fails_fails_the_load_and_frees_its_memory(
    kext_guest: KextGuest,
) -> None:
    before = kext_guest.heap()

    with pytest.raises(LoadError) as refused:
        kext_guest.load(kext_guest.bundle("failstart"))

    assert (
        "com.finch.sample.failstart: its start routine returned 5 (KERN_FAILURE); the "
        "kext was unloaded" in str(refused.value)
    )
    kext_guest.machine.expect("failstart: refusing to start")
    assert row(kext_guest.kextstat(), "com.finch.sample.failstart") is None
    assert before.differences(kext_guest.heap()) == []


def test_a_stop_routine_that_refuses_keeps_the_kext_until_it_agrees(
    kext_guest: KextGuest,
) -> None:
    kext_guest.load(kext_guest.bundle("stubborn"))

    with pytest.raises(UnloadRefused) as refused:
        kext_guest.unload("com.finch.sample.stubborn")

    assert str(refused.value).startswith(
        "com.finch.sample.stubborn: stop routine returned 5 (KERN_FAILURE); the kext stays "
        "loaded and running.  If stop is waiting for an asynchronous detach"
    )
    assert "unload it again, or use kextunload -w SECONDS" in str(refused.value)
    assert row(kext_guest.kextstat(), "com.finch.sample.stubborn") is not None

    kext_guest.unload("com.finch.sample.stubborn")

    assert row(kext_guest.kextstat(), "com.finch.sample.stubborn") is None


LEAVES_A_TIMER = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>

kern_return_t sloppy_start(kmod_info_t *ki, void *data);
kern_return_t sloppy_stop(kmod_info_t *ki, void *data);

static void
sloppy_tick(void *arg)
{
	printf("sloppy: tick\\n");
}

kern_return_t
sloppy_start(kmod_info_t *ki, void *data)
{
	timeout(sloppy_tick, NULL, hz / 2);	/* fires after the kernel looked */
	/* and then fail without untimeout() */
	return KERN_FAILURE;
}

kern_return_t
sloppy_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""


def test_a_failed_start_that_left_a_timer_keeps_the_kext_until_it_can_be_unloaded(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    libraries = {"com.apple.kpi.libkern": "8.0.0", "com.apple.kpi.bsd": "8.0.0"}
    bundle = make_kext("sloppy", LEAVES_A_TIMER, libraries=libraries)

    with pytest.raises(LoadError) as refused:
        kext_guest.load(bundle)

    assert "its start routine returned 5 (KERN_FAILURE) but left this behind" in str(refused.value)
    assert row(kext_guest.kextstat(), "com.example.sloppy") is not None
    kext_guest.machine.expect("sloppy: tick")  # the timer ran: the image was still there
    kext_guest.unload("com.example.sloppy")
    assert row(kext_guest.kextstat(), "com.example.sloppy") is None
