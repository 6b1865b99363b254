"""What kextload, kextstat and kextunload say of a kext whose start or
stop routine runs past the kernel's two-second wait (issue 9), against a
scripted guest (fakeguest.FakeGuest) that answers as kern/kmod.c does:
KMOD_LOAD and KMOD_UNLOAD EINPROGRESS, the kext listed as starting or
stopping until its routine returns, KMOD_UNLOAD of it refused meanwhile.
A kext still starting IS loaded: kextload says so, keeps its record and
exits 3."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakeguest import FakeGuest, build_hello, make_rundir
from kextinfo import kext_info

from finch.cli import kextload, kextstat, kextunload
from finch.kext.load import load_kexts
from finch.kext.loaded import parse_kextstat
from finch.kext.records import KextRecord, KextRecords

HELLO = "com.example.hello"
STILL_STARTING = (
    f"{HELLO}: still starting (its start routine has run for 2.0 s); it is loaded, kextstat "
    "shows when it is running"
)
STILL_STOPPING = (
    f"{HELLO}: still stopping (its stop routine has run for 2.0 s); it stays loaded until stop "
    "returns, and the kernel then unloads it: kextstat shows its state, kextunload -w SECONDS "
    "waits for it"
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hello(tmp_path_factory.mktemp("hello"), kext_info())


@pytest.fixture
def rundir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="finch-") as d:
        yield make_rundir(Path(d))


@pytest.fixture
def guest(rundir: Path) -> Iterator[FakeGuest]:
    guest = FakeGuest(rundir / "com2")
    yield guest
    guest.close()


def run(main: Callable[[list[str]], int], *argv: str | Path) -> int:
    return main([str(a) for a in argv])


def loaded(rundir: Path, bundle: Path) -> int:
    """Load the kext as kextload does; its kmod id."""
    [result] = load_kexts(rundir, [bundle])
    return result.kmod_id


# -- kextload -----------------------------------------------------------------


def test_kextload_of_a_kext_still_starting_says_it_is_loaded_keeps_its_record_and_exits_3(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.start_takes[HELLO] = 60

    status = run(kextload.main, "--rundir", rundir, "-e", bundle)

    out, err = capsys.readouterr()
    [kext] = [k for k in guest.kmods if k.name == HELLO]
    record = KextRecords.in_rundir(rundir).read(HELLO)
    assert status == 3
    assert out == f"kextload: {bundle} loaded as {kext.kmod_id} ({HELLO})\n"
    assert err == f"kextload: {STILL_STARTING}\n"
    assert record is not None
    assert record.kmod_id == kext.kmod_id  # a panic in it later is symbolized
    assert KextRecords.in_rundir(rundir).symbol_file(HELLO).is_file()


def test_kextload_help_says_what_exit_status_3_means(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        kextload.main(["--help"])

    text = " ".join(capsys.readouterr().out.split())
    assert "exits with status 3. Not 0: a script that goes on to use the kext" in text
    assert "3 loaded, but a start routine was still running" in text


def test_loading_it_again_while_it_starts_says_it_is_still_starting(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.start_takes[HELLO] = 60
    kmod_id = loaded(rundir, bundle)

    status = run(kextload.main, "--rundir", rundir, "-e", bundle)

    assert status == 1
    assert re.fullmatch(
        rf"kextload: {HELLO} is already loaded \(index {kmod_id}\) and still starting: its "
        r"start routine has run for \d+\.\d s \(thread 9 in `ps`\)\n",
        capsys.readouterr().err,
    )


# -- kextstat -----------------------------------------------------------------


def test_kextstat_shows_a_kext_starting_then_running(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.start_takes[HELLO] = 3  # 1 s more after the reply
    loaded(rundir, bundle)

    run(kextstat.main, "--rundir", rundir, "-l", "-k")
    starting = capsys.readouterr().out.splitlines()
    time.sleep(1.2)
    run(kextstat.main, "--rundir", rundir, "-l", "-k")
    running = capsys.readouterr().out.splitlines()

    assert len(starting) == 2
    assert re.fullmatch(
        r"      starting: its start routine has run for 2\.\d s \(thread 9 in `ps`\)", starting[1]
    ), starting[1]
    assert running == starting[:1]


def test_the_starting_and_stopping_lines_are_read_back_from_the_guests_kextstat() -> None:
    monitor = (
        "Index Refs Address    Size       Wired      Name (Version) <Linked Against>\n"
        "    5    0 0x0020a000 0x00001000 0x00001000 com.example.forever (1.0.0) <4 2 1>\n"
        "      starting: its start routine has run for 10.6 s (thread 6 in `ps`); if it never "
        "returns, only a reboot ends it: a kernel thread cannot be killed safely\n"
        "    6    0 0x0020c000 0x00001000 0x00001000 com.example.slowstop (1.0.0) <2>\n"
        "      stopping: its stop routine has run for 2.3 s (thread 8 in `ps`)\n"
    )

    forever, slowstop = parse_kextstat(monitor)

    assert forever.starting
    assert forever.busy
    assert not forever.pinned
    assert forever.reason.endswith("a kernel thread cannot be killed safely")
    assert slowstop.stopping
    lines = monitor.splitlines()
    assert [forever.state_line(), slowstop.state_line()] == [lines[2], lines[4]]


def test_kextstat_forgets_the_record_of_a_kext_the_guest_no_longer_lists(
    rundir: Path, guest: FakeGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    records = KextRecords.in_rundir(rundir)
    records.write(KextRecord(HELLO, "1.0.0", 0xC010_0000, 4096, 1, "hello.kext", kmod_id=5))
    records.set_boot_id(guest.boot_id)  # this boot: its start failed after kextload left

    status = run(kextstat.main, "--rundir", rundir, "-l", "-k")

    assert status == 0
    assert capsys.readouterr().err == (
        f"kextstat: {HELLO} (id 5) is no longer loaded, and its symbol file was removed: its "
        "start routine failed after kextload stopped waiting for it, or its stop routine "
        f"returned after kextunload did; its console log ({rundir}/console.log) says what "
        "it returned\n"
    )
    assert records.read(HELLO) is None


# -- kextunload ---------------------------------------------------------------


def test_kextunload_of_a_kext_still_starting_is_refused_with_the_kernels_reason(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.start_takes[HELLO] = 60
    kmod_id = loaded(rundir, bundle)

    status = run(kextunload.main, "--rundir", rundir, "-b", HELLO)

    assert status == 1
    assert re.fullmatch(
        rf"kextunload: {HELLO} \(id {kmod_id}\) is still starting: its start routine has run "
        r"for 2\.\d s \(thread 9 in `ps`\)\.  It cannot be unloaded before its start routine "
        r"returns: wait \(kextunload -w waits for it\), or look at its thread with `ps`\n",
        capsys.readouterr().err,
    )
    assert any(k.name == HELLO for k in guest.kmods)


def test_kextunload_w_waits_for_the_start_routine_then_unloads(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.start_takes[HELLO] = 2.6
    loaded(rundir, bundle)

    status = run(kextunload.main, "--rundir", rundir, "-w", "5", "-b", HELLO)

    out, err = capsys.readouterr()
    assert status == 0
    assert out == f"kextunload: unload id {HELLO} succeeded\n"
    [refusal] = err.splitlines()  # once, though the time it gives grows
    assert "is still starting: its start routine has run for" in refusal
    assert not any(k.name == HELLO for k in guest.kmods)


def test_kextunload_of_a_stop_routine_that_runs_on_says_still_stopping_and_exits_3(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.stop_takes[HELLO] = 60
    loaded(rundir, bundle)

    status = run(kextunload.main, "--rundir", rundir, "-b", HELLO)

    out, err = capsys.readouterr()
    assert status == 3
    assert out == ""
    assert err == f"kextunload: {STILL_STOPPING}\n"
    assert KextRecords.in_rundir(rundir).read(HELLO) is not None  # still loaded


def test_kextunload_w_waits_for_the_stop_routine_and_forgets_the_kext(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.stop_takes[HELLO] = 2.6
    kmod_id = loaded(rundir, bundle)

    status = run(kextunload.main, "--rundir", rundir, "-w", "5", "-b", HELLO)

    out, err = capsys.readouterr()
    assert status == 0
    assert out == f"kextunload: unload id {HELLO} succeeded\n"
    lines = err.splitlines()
    assert lines[0] == f"kextunload: {STILL_STOPPING}"
    assert lines[1].startswith(f"kextunload: {HELLO} (id {kmod_id}) is still stopping: its stop")
    assert lines[1].endswith(
        "The kernel finishes unloading it when its stop routine returns: wait (kextunload -w "
        "waits for it), or look at its thread with `ps`"
    )
    assert lines[2] == (
        f"kextunload: {HELLO}: its stop routine returned after the kernel stopped waiting for "
        "it, and the kernel unloaded it; what it left behind, if anything, is reported in its "
        f"console log ({rundir}/console.log)"
    )
    assert len(lines) == 3
    assert KextRecords.in_rundir(rundir).read(HELLO) is None


def test_kextunload_w_that_runs_out_while_stop_runs_says_the_unload_goes_on(
    rundir: Path, guest: FakeGuest, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.stop_takes[HELLO] = 60
    loaded(rundir, bundle)

    status = run(kextunload.main, "--rundir", rundir, "-w", "0.5", "-b", HELLO)

    err = capsys.readouterr().err
    assert status == 3
    assert err.splitlines()[-1] == (
        f"kextunload: unload id {HELLO}: its stop routine still runs after 0.5 s (see above); "
        "the kernel finishes the unload when stop returns"
    )
