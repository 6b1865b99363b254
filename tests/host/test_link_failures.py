"""What kextstat and the session tell the user when the guest rebooted
or does not answer, against a scripted guest (fakeguest.FakeGuest) in a
run directory of its own."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeguest import BUILD_ID, FakeGuest

from finch.cli import kextstat
from finch.hostlink.client import HostLink
from finch.kext.records import KextRecord, KextRecords
from finch.session import GuestSession, SessionError

IDENTIFIER = "com.example.hello"


@pytest.fixture
def rundir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run directory whose machine.json names a live pid (ours), a kernel
    ELF of the fake guest's build and a host link socket (short path)."""
    with tempfile.TemporaryDirectory(prefix="finch-") as d:
        rundir = Path(d)
        source = rundir / "kernel.c"
        source.write_text(f'const char finch_build_id[] = "{BUILD_ID}";\n')
        subprocess.run(["gcc", "-m32", "-c", str(source), "-o", str(rundir / "finch.elf")],
                       check=True)  # fmt: skip
        (rundir / "console.log").write_text("")
        info = {
            "pid": os.getpid(),
            "qmp_socket": str(rundir / "qmp.sock"),
            "kernel": str(rundir / "finch.elf"),
            "console_log": str(rundir / "console.log"),
            "qemu_log": str(rundir / "qemu.log"),
            "serial2": str(rundir / "com2"),
            "argv": [],
            "started": "2026-01-01T00:00:00Z",
        }
        (rundir / "machine.json").write_text(json.dumps(info))
        yield rundir


@pytest.fixture
def guest(rundir: Path) -> Iterator[FakeGuest]:
    guest = FakeGuest(rundir / "com2")
    yield guest
    guest.close()


# -- a guest that rebooted between two tools ----------------------------------


def test_kextstat_after_a_reboot_says_the_kexts_loaded_before_are_gone(
    rundir: Path, guest: FakeGuest, capsys: pytest.CaptureFixture[str]
) -> None:
    records = KextRecords.in_rundir(rundir)
    records.write(KextRecord(IDENTIFIER, "1.0.0", 0xC010_0000, 4096, 1, "hello.kext", 5))
    records.set_boot_id("b0000000000000000")  # the boot kextload talked to

    status = kextstat.main(["--rundir", str(rundir), "-l"])

    out, err = capsys.readouterr()
    assert status == 0
    assert err == (
        "kextstat: the guest rebooted (its boot id changed) since a host tool last talked to "
        f"it: the kexts loaded before are gone ({IDENTIFIER}); their symbol files were "
        f"removed.  Its console log ({rundir}/console.log) says why it rebooted\n"
    )
    assert IDENTIFIER not in out
    assert records.read(IDENTIFIER) is None
    assert records.boot_id() == guest.boot_id


def test_the_same_boot_leaves_the_records_alone(rundir: Path, guest: FakeGuest) -> None:
    records = KextRecords.in_rundir(rundir)
    records.write(KextRecord(IDENTIFIER, "1.0.0", 0xC010_0000, 4096, 1, "hello.kext", 5))
    records.set_boot_id(guest.boot_id)

    with GuestSession.open(rundir) as session:
        notes = session.notes

    assert notes == []
    assert records.read(IDENTIFIER) is not None


# -- a guest that does not answer HELLO ----------------------------------------


def test_a_guest_held_by_another_tool_says_to_wait_for_it(rundir: Path, guest: FakeGuest) -> None:
    with HostLink(rundir / "com2").connect() as other:  # holds the link: accepted first
        other.hello()
        with pytest.raises(SessionError) as busy:
            GuestSession.open(rundir, ready_deadline=1)

    assert str(busy.value).startswith("another host tool is talking to the guest")
    assert "wait for it to finish, or stop it" in str(busy.value)


def test_a_guest_that_does_not_answer_hello_says_to_look_at_its_console(
    rundir: Path, guest: FakeGuest
) -> None:
    guest.silent = True

    with pytest.raises(SessionError) as silent:
        GuestSession.open(rundir, ready_deadline=1)

    assert str(silent.value) == (
        "the guest did not become ready within 1 s (no reply to HELLO); look at its console "
        f"log ({rundir}/console.log)"
    )
