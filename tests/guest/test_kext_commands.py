"""The commands as a student types them (run in-process): kextload,
kextstat and kextunload find the guest through its run directory, print
what Darwin's did, and report every refusal as one line on stderr with a
non-zero exit status, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finch.cli import kextload, kextstat, kextunload
from finch.kext.guest import KextGuest
from finch.session import GuestSession, SessionError

HELLO = "com.finch.sample.hello"


def run(main, *argv: str | Path) -> int:
    return main([str(a) for a in argv])


def test_kextload_prints_each_kext_it_loaded_with_its_id(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = kext_guest.bundle("countuser")

    status = run(kextload.main, "--rundir", kext_guest.rundir, "-r", kext_guest.kexts_dir, bundle)

    ids = {k.identifier: k.index for k in kext_guest.kextstat()}
    lib = kext_guest.bundle("counterlib")
    lib_id, user_id = ids["com.finch.sample.counterlib"], ids["com.finch.sample.countuser"]
    assert status == 0
    assert capsys.readouterr().out == (
        f"kextload: {lib} loaded as {lib_id} (com.finch.sample.counterlib)\n"
        f"kextload: {bundle} loaded as {user_id} (com.finch.sample.countuser)\n"
    )


def test_kextload_v_tells_each_step_and_the_gdb_command(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(kextload.main, "-v", "--rundir", kext_guest.rundir, kext_guest.bundle("hello"))

    out = capsys.readouterr().out
    symbols = kext_guest.rundir / "symbols" / f"{HELLO}.sym"
    assert status == 0
    assert "appears to be valid" in out
    assert "image written through shared RAM" in out
    assert f"kextload: symbols for gdb: add-symbol-file {symbols} -s .text 0x" in out
    assert symbols.is_file()


def test_kextstat_prints_tigers_columns_and_its_flags_filter_them(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    [hello] = kext_guest.load(kext_guest.bundle("hello"))
    address = f"{hello.address:#x}"  # <3>: com.apple.kpi.libkern, id 3 as in Tiger
    row = f"{hello.kmod_id:5d}    0 {address:<10} 0x1000     0x1000     {HELLO} (1.0.0) <3>\n"

    assert run(kextstat.main, "--rundir", kext_guest.rundir) == 0
    full = capsys.readouterr().out
    assert run(kextstat.main, "--rundir", kext_guest.rundir, "-l", "-k") == 0
    mine = capsys.readouterr().out
    assert run(kextstat.main, "--rundir", kext_guest.rundir, "-b", "com.apple.kpi.bsd") == 0
    bsd = capsys.readouterr().out

    assert full.splitlines()[0] == (
        "Index Refs Address    Size       Wired      Name (Version) <Linked Against>"
    )
    assert "    0    1 0x0        0x0        0x0        com.apple.kernel (8.0.0)\n" in full
    assert full.endswith(row)
    assert mine == row
    assert bsd.splitlines()[1:] == [
        "    1    1 0x0        0x0        0x0        com.apple.kpi.bsd (8.0.0)"
    ]


def test_kextunload_by_bundle_id_or_by_bundle(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    kext_guest.load(kext_guest.bundle("hello"), kext_guest.bundle("counterlib"))

    by_id = run(kextunload.main, "--rundir", kext_guest.rundir, "-b", HELLO)
    by_bundle = run(kextunload.main, "--rundir", kext_guest.rundir, kext_guest.bundle("counterlib"))

    assert (by_id, by_bundle) == (0, 0)
    assert capsys.readouterr().out == (
        f"kextunload: unload id {HELLO} succeeded\n"
        f"kextunload: unload kext {kext_guest.bundle('counterlib')} succeeded\n"
    )
    assert all(k.kernel_component for k in kext_guest.kextstat())  # only the kernel's left


def test_kextunload_names_what_a_refusing_stop_routine_returned(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    kext_guest.load(kext_guest.bundle("stubborn"))

    status = run(kextunload.main, "--rundir", kext_guest.rundir, "-b", "com.finch.sample.stubborn")

    assert status == 1
    assert capsys.readouterr().err == (
        "kextunload: com.finch.sample.stubborn: stop routine returned 5 (KERN_FAILURE); "
        "the kext stays loaded and running.  If stop is waiting for an asynchronous detach "
        "(an interface filter's iff_detached, an interface's detach callback) that is "
        "normal: unload it again, or use kextunload -w SECONDS\n"
    )


def test_a_refusal_is_one_message_and_a_failing_exit_status(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    kext_guest.load(kext_guest.bundle("hello"))

    status = run(kextload.main, "--rundir", kext_guest.rundir, kext_guest.bundle("hello"))

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"kextload: {HELLO} is already loaded")
    assert "Traceback" not in err


def test_a_guest_running_another_kernel_build_is_refused(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    machine_json = kext_guest.rundir / "machine.json"
    info = json.loads(machine_json.read_text())
    rebuilt = tmp_path / "finch.elf"
    data = Path(info["kernel"]).read_bytes()
    build_id = kext_guest.monitor("version").split("build ")[1][:16]
    other_id = "f" * 16 if build_id != "f" * 16 else "e" * 16
    rebuilt.write_bytes(data.replace(build_id.encode(), other_id.encode()))
    info["kernel"] = str(rebuilt)  # as if images/finch.elf were rebuilt while it ran
    machine_json.write_text(json.dumps(info))

    status = run(kextstat.main, "--rundir", kext_guest.rundir)

    err = capsys.readouterr().err
    assert status == 1
    assert f"the guest runs kernel build {build_id}, but {rebuilt} is build {other_id}" in err
    assert "Restart the guest (`make run`)" in err


def test_kextload_fails_clearly_when_the_guest_has_gone(
    kext_guest: KextGuest, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rundir = tmp_path / "run"
    shutil.copytree(kext_guest.rundir, rundir, ignore=shutil.ignore_patterns("*.sock"))
    kext_guest.machine.shutdown()

    status = run(kextload.main, "--rundir", rundir, kext_guest.bundle("hello"))

    err = capsys.readouterr().err
    assert status == 1
    assert "is no longer running; start one with `make run`" in err


def test_a_second_tool_while_one_holds_the_link_is_told_to_wait(kext_guest: KextGuest) -> None:
    with kext_guest.session(), pytest.raises(SessionError) as refused:
        GuestSession.open(kext_guest.rundir, ready_deadline=0.5)

    assert "another host tool is talking to the guest" in str(refused.value)
    assert kext_guest.kextstat()  # and once it is done, the next one gets through
