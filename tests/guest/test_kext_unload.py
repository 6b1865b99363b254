"""A kext whose stop routine forgets to take back something it registered
is not freed while that still points into it (issue 8): kextunload is
refused naming the registration and the call stop was missing, kextstat
shows the kext stopped and pinned with the reason, and traffic that
reaches the registration runs the kext's code -- still in memory --
instead of freed memory.  Where the registration can go (its interface
detaches, a timer fires once, a detach in flight completes), a later
kextunload frees the kext; where nothing can release it, both say so.

A callback that runs in the host link's own thread (a monitor command
the test sends) prints into that command's output; one that runs in the
DLIL thread prints on the console.  All tests share one guest: what a
test leaves pinned stays until the guest reboots, so every kext and
interface has its own name.  The test kexts' sources are in
unload_kexts.py."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import unload_kexts as kexts

from finch.cli import kextstat, kextunload
from finch.errors import FinchError
from finch.kext.guest import KextGuest
from finch.kext.loaded import LoadedKext, parse_kextstat
from finch.kext.unload import UnloadRefused, unload_kext

MakeKext = Callable[..., Path]
ADDRESS = r"0x[0-9a-f]{8}"
KEV_DL_SIFFLAGS = 1


def load(guest: KextGuest, make_kext: MakeKext, name: str, source: str) -> None:
    guest.load(make_kext(name, source, libraries=kexts.KPIS))


def refusal(guest: KextGuest, name: str) -> str:
    """Unload com.example.NAME, expecting a refusal; its message."""
    with pytest.raises(UnloadRefused) as refused:
        guest.unload(f"com.example.{name}")
    return str(refused.value)


def listed(guest: KextGuest, name: str) -> LoadedKext | None:
    return next((k for k in guest.kextstat() if k.identifier == f"com.example.{name}"), None)


def assert_pinned(guest: KextGuest, name: str, reason: str) -> None:
    """kextstat lists the kext, stopped and pinned, for `reason` (a regex)."""
    kext = listed(guest, name)
    assert kext is not None
    assert kext.pinned, kext
    assert re.search(reason, kext.reason), kext.reason


def assert_gone(guest: KextGuest, name: str) -> None:
    assert listed(guest, name) is None
    assert guest.monitor("version").startswith("Finch ")


# -- interface filters -----------------------------------------------------------


def test_a_filter_left_on_lo0_pins_its_kext_and_ping_runs_its_code_not_freed_memory(
    module_kext_guest: KextGuest, make_kext: MakeKext, capsys: pytest.CaptureFixture[str]
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "leakyfilt", kexts.filter_on("leakyfilt", "lo0"))

    message = refusal(guest, "leakyfilt")

    assert message.startswith("com.example.leakyfilt (id ")
    assert (
        "was stopped (its stop routine returned KERN_SUCCESS) but stays in memory, pinned: "
        in message
    )
    assert re.search(
        rf"interface filter 'leakyfilt' \(iff_input {ADDRESS} \(leakyfilt_input\)\) is still "
        r"attached to lo0: stop must call iflt_detach and wait for iff_detached\.",
        message,
    ), message
    assert "Its code stays so that nothing calls freed memory" in message
    assert_pinned(guest, "leakyfilt", "interface filter 'leakyfilt' .* attached to lo0")

    ping = guest.monitor("ping -c 1 127.0.0.1")

    guest.machine.expect("leakyfilt: input on lo0")  # the code is still there
    assert "1 packets received" in ping
    again = refusal(guest, "leakyfilt")
    assert "is stopped (stop is never called twice) and still pinned in memory" in again
    assert kextstat.main(["--rundir", str(guest.rundir), "-l", "-b", "com.example.leakyfilt"]) == 0
    [row] = parse_kextstat(capsys.readouterr().out)
    assert row.reason.startswith("interface filter 'leakyfilt' (iff_input 0x")
    assert "(leakyfilt_input)) is still attached to lo0" in row.reason
    assert re.search(
        r"^      stopped, pinned: interface filter 'leakyfilt' \(iff_input 0x",
        guest.monitor("kextstat"),
        re.M,
    )


def test_a_filter_left_on_an_interface_goes_when_the_interface_detaches(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "disc1", kexts.discard("disc1", "disc", 1))
    load(guest, make_kext, "strayfilt", kexts.filter_on("strayfilt", "disc1", input=False))

    message = refusal(guest, "strayfilt")

    assert re.search(
        rf"interface filter 'strayfilt' \(iff_event {ADDRESS} \(strayfilt_event\)\) is still "
        r"attached to disc1: stop must call iflt_detach and wait for iff_detached",
        message,
    ), message
    assert_pinned(guest, "strayfilt", "attached to disc1")
    said = guest.monitor("ifconfig disc1 down")  # the callback runs in the link's thread
    assert f"strayfilt: event {KEV_DL_SIFFLAGS} on disc1" in said

    guest.unload("com.example.disc1")  # its detach takes the filter off

    guest.machine.expect("strayfilt: detached from disc1")
    guest.unload("com.example.strayfilt")
    assert_gone(guest, "strayfilt")


def test_kextunload_w_waits_for_an_iff_detached_that_comes_later_on_the_dlil_thread(
    module_kext_guest: KextGuest, make_kext: MakeKext, capsys: pytest.CaptureFixture[str]
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "slowfilt", kexts.patient("slowfilt", 2))
    guest.machine.sendline("ping -c 1 127.0.0.1")  # on COM1: the host link stays free
    guest.machine.expect("slowfilt: input, sleeping")  # the DLIL thread is inside the filter

    status = kextunload.main(
        ["--rundir", str(guest.rundir), "-w", "20", "-b", "com.example.slowfilt"]
    )

    out, err = capsys.readouterr()
    assert status == 0
    assert out == "kextunload: unload id com.example.slowfilt succeeded\n"
    assert err.count("\n") == 1  # the stop's refusal, printed once however often it came
    assert err.startswith(
        "kextunload: com.example.slowfilt: stop routine returned 5 (KERN_FAILURE); the kext "
        "stays loaded and running.  If stop is waiting for an asynchronous detach (an "
        "interface filter's iff_detached"
    )
    assert "that is normal" in err
    guest.machine.expect("packet loss")  # the ping gave up after 1 s, the filter slept 2
    guest.machine.expect("slowfilt: detached")
    assert_gone(guest, "slowfilt")


# -- protocols, plumbers, interfaces, the packet tap ---------------------------


def test_a_protocol_left_attached_pins_its_kext_until_its_detached_callback(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "disc2", kexts.discard("disc2", "disc", 2))
    load(guest, make_kext, "strayproto", kexts.protocol_on("strayproto", "disc2"))

    message = refusal(guest, "strayproto")

    assert re.search(
        rf"protocol family 20043 \(input {ADDRESS} \(strayproto_input\)\) is still attached "
        r"to disc2: stop must call ifnet_detach_protocol and wait for its detached callback",
        message,
    ), message
    assert_pinned(guest, "strayproto", "protocol family 20043 .* attached to disc2")
    said = guest.monitor("ifconfig disc2 down")
    assert f"strayproto: event {KEV_DL_SIFFLAGS} on disc2" in said

    guest.unload("com.example.disc2")  # its detach detaches every protocol

    guest.machine.expect("strayproto: detached from disc2")
    guest.unload("com.example.strayproto")
    assert_gone(guest, "strayproto")


def test_a_plumber_left_registered_pins_its_kext_and_still_plumbs(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "disc3", kexts.discard("disc3", "disc", 3, "IFNET_FAMILY_FAITH"))
    load(guest, make_kext, "strayplumb", kexts.plumber("strayplumb", "IFNET_FAMILY_FAITH"))

    message = refusal(guest, "strayplumb")

    assert re.search(
        rf"the plumber of protocol family 2 on interface family 11 \(plumb {ADDRESS} "
        r"\(strayplumb_plumb\)\) is still registered: stop must call "
        r"proto_unregister_plumber",
        message,
    ), message
    assert_pinned(guest, "strayplumb", "the plumber of protocol family 2")
    said = guest.monitor("ifconfig disc3 inet 10.9.9.9/24")
    assert "strayplumb: plumb 2 on disc3" in said
    guest.unload("com.example.disc3")


def test_an_interface_left_attached_pins_its_kext_and_its_driver_still_answers(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "strayif", kexts.interface("strayif", "stray"))

    message = refusal(guest, "strayif")

    assert re.search(
        rf"interface stray0 \(output {ADDRESS} \(strayif_output\)\) is still attached: stop "
        r"must call ifnet_detach, wait for its detach callback, then ifnet_release",
        message,
    ), message
    assert_pinned(guest, "strayif", "interface stray0 .* is still attached")
    said = guest.monitor("ifconfig stray0 down")
    assert re.search("strayif: ioctl 0x[0-9a-f]{8} on stray0", said), said


def test_an_interface_whose_detach_stop_did_not_wait_for_is_freed_once_it_is_over(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "lateif", kexts.interface("lateif", "late", late=True))

    message = refusal(guest, "lateif")

    assert re.search(
        rf"interface late0 \(output {ADDRESS} \(lateif_output\)\) is detaching, but its "
        r"detach callback has not returned yet: stop must wait for it",
        message,
    ), message
    with guest.session() as session:
        result = unload_kext(session, "com.example.lateif", wait=20)
    assert result.tries > 1
    guest.machine.expect("lateif: detached")
    assert_gone(guest, "lateif")


def test_a_packet_tap_left_on_an_interface_pins_its_kext_until_the_interface_goes(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "disc4", kexts.discard("disc4", "disc", 4))
    load(guest, make_kext, "straytap", kexts.tap_on("straytap", "disc4"))

    message = refusal(guest, "straytap")

    assert re.search(
        rf"the packet tap of disc4 still has the tap function {ADDRESS} \(straytap_tap\) "
        r"given to bpf_attach: stop must take it back \(bpf_attach again with NULL "
        r"functions, or ifnet_detach its own interface\)",
        message,
    ), message
    assert_pinned(guest, "straytap", "the packet tap of disc4")
    said = guest.monitor("tcpdump -i disc4 -c 1 -t 1")
    assert "straytap: tap mode 3 on disc4" in said  # tcpdump started
    assert "straytap: tap mode 0 on disc4" in said  # and stopped

    guest.unload("com.example.disc4")  # the detach takes the tap off

    guest.unload("com.example.straytap")
    assert_gone(guest, "straytap")


# -- timers and threads ---------------------------------------------------------


def test_a_pending_timeout_pins_its_kext_until_it_has_fired(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "latetimer", kexts.timeout("latetimer"))

    message = refusal(guest, "latetimer")

    assert re.search(
        rf"timeout to {ADDRESS} \(latetimer_fire\) with argument 0x00000000 is still "
        r"pending: stop must call untimeout",
        message,
    ), message
    assert_pinned(guest, "latetimer", "timeout to .* is still pending")
    guest.machine.expect("latetimer: fired")
    guest.unload("com.example.latetimer")
    assert_gone(guest, "latetimer")


def test_a_timeout_that_rearms_itself_after_stop_pins_its_kext_until_reboot(
    module_kext_guest: KextGuest, make_kext: MakeKext, capsys: pytest.CaptureFixture[str]
) -> None:
    guest = module_kext_guest
    bundle = make_kext("ticker", kexts.timeout("ticker", rearm_ticks="hz"), libraries=kexts.KPIS)
    guest.load(bundle)
    first = refusal(guest, "ticker")
    assert "is still pending" in first
    assert "kextunload frees it" in first
    guest.machine.expect("ticker: fired")  # and armed again, after stop

    message = refusal(guest, "ticker")

    assert re.search(
        rf"timeout to {ADDRESS} \(ticker_fire\) with argument 0x00000000 re-armed itself "
        r"after stop, as it does each time it runs: stop must end the re-arming and call "
        r"untimeout\.  Nothing else can release it \(only its own code could stop the "
        r"re-arming\): its memory stays until the guest reboots\.  Fix the kext; restart "
        r"the guest to load the fixed one",
        message,
    ), message
    kext = listed(guest, "ticker")
    assert kext is not None
    assert kext.pinned_forever
    started = time.monotonic()
    status = kextunload.main(
        ["--rundir", str(guest.rundir), "-w", "30", "-b", "com.example.ticker"]
    )
    assert status == 1
    assert time.monotonic() - started < 10  # not waited for
    assert "nothing will release it, so waiting cannot help" in capsys.readouterr().err
    with pytest.raises(FinchError) as reloaded:
        guest.load(bundle)
    assert "com.example.ticker is already loaded (index" in str(reloaded.value)
    assert "stopped and pinned in memory" in str(reloaded.value)
    assert "restart the guest to load the fixed kext" in str(reloaded.value)


def test_a_pending_thread_call_pins_its_kext_until_it_has_run(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "latecall", kexts.source("latecall", kexts.THREAD_CALL))

    message = refusal(guest, "latecall")

    assert re.search(
        rf"thread call {ADDRESS} to {ADDRESS} \(latecall_fire\) is still pending: stop must "
        r"call thread_call_cancel \(then thread_call_free\)",
        message,
    ), message
    assert_pinned(guest, "latecall", "thread call .* is still pending")
    guest.machine.expect("latecall: fired")
    guest.unload("com.example.latecall")
    assert_gone(guest, "latecall")


def test_a_thread_that_stop_did_not_wait_for_pins_its_kext_until_it_ends(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    load(guest, make_kext, "latethread", kexts.source("latethread", kexts.THREAD))

    message = refusal(guest, "latethread")

    assert re.search(
        rf"thread 'thread\d+' started at {ADDRESS} \(latethread_main\) has not ended: stop "
        r"must make it return \(and wait until it has\)",
        message,
    ), message
    assert_pinned(guest, "latethread", "has not ended")
    guest.machine.expect("latethread: thread ends")
    with guest.session() as session:
        unload_kext(session, "com.example.latethread", wait=10)
    assert_gone(guest, "latethread")


# -- a kext that does it right -----------------------------------------------------


def test_a_kext_that_takes_back_everything_it_registered_unloads_at_once_and_leaks_nothing(
    module_kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    bundle = make_kext("tidy", kexts.source("tidy", kexts.TIDY), libraries=kexts.KPIS)
    guest.load(bundle)  # once: the kernel keeps the vendor code and tag id strings
    guest.unload("com.example.tidy")
    guest.machine.expect("tidy: all taken back")
    heap = guest.heap()

    guest.load(bundle)
    result = guest.unload("com.example.tidy")

    assert result.tries == 1
    guest.machine.expect("tidy: all taken back")
    assert_gone(guest, "tidy")
    assert heap.differences(guest.heap()) == []
