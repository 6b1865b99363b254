"""What kextload, kextstat and the session tell the user when the link
fails under a load or the guest reboots, against a scripted guest
(fakeguest.FakeGuest) in a run directory of its own: the truth the guest
gives when asked, never a guess."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from fakeguest import FakeGuest, build_hello, make_rundir
from kextinfo import kext_info

from finch.cli import kextstat
from finch.hostlink.client import HostLink
from finch.hostlink.codec import Frame, MsgType
from finch.kext.bundle import KextError
from finch.kext.load import LoadError, load_kexts
from finch.kext.records import KextRecord, KextRecords
from finch.kext.unload import unload_kext
from finch.session import GuestSession, SessionError

IDENTIFIER = "com.example.hello"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """com.example.hello, built: it links against nothing but kmod_info."""
    return build_hello(tmp_path_factory.mktemp("hello"), kext_info())


@pytest.fixture
def rundir() -> Iterator[Path]:
    """A run directory for the fake guest (a short path: a socket's)."""
    with tempfile.TemporaryDirectory(prefix="finch-") as d:
        yield make_rundir(Path(d))


@pytest.fixture
def guest(rundir: Path) -> Iterator[FakeGuest]:
    guest = FakeGuest(rundir / "com2")
    yield guest
    guest.close()


def load(rundir: Path, bundle: Path, notes: list[str]) -> list[int]:
    """kextload with a short timeout; the kmod ids it reports."""
    results = load_kexts(
        rundir,
        [bundle],
        notify=notes.append,
        open_session=partial(GuestSession.open, timeout=0.2),
    )
    return [r.kmod_id for r in results]


def kmod_load(request: Frame) -> bool:
    return request.type == MsgType.KMOD_LOAD


# -- a load whose link fails after KMOD_LOAD went out ------------------------


def test_a_load_whose_reply_is_lost_reports_the_kext_loaded_as_the_guest_lists_it(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    guest.lose = kmod_load  # every copy's reply
    notes: list[str] = []

    ids = load(rundir, bundle, notes)

    [loaded] = [k for k in guest.kmods if k.name == IDENTIFIER]
    assert ids == [loaded.kmod_id]
    [note] = notes
    assert re.fullmatch(
        rf"{IDENTIFIER}: the reply to KMOD_LOAD was lost \(KMOD_LOAD \(seq 5\): no reply to 2 "
        rf"copies in [\d.]+ s\), but the guest lists {IDENTIFIER} as loaded, with id "
        rf"{loaded.kmod_id}",
        note,
    )
    record = KextRecords.in_rundir(rundir).read(IDENTIFIER)
    assert record is not None
    assert record.kmod_id == loaded.kmod_id
    assert [f.type for f in guest.acted].count(MsgType.KMOD_LOAD) == 1


def test_a_load_that_never_reached_the_guest_says_it_is_not_loaded(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    guest.on_frame = lambda frame: setattr(guest, "silent", kmod_load(frame))

    with pytest.raises(LoadError) as failed:
        load(rundir, bundle, [])

    message = str(failed.value)
    assert f"loading {IDENTIFIER} failed: KMOD_LOAD (seq 5): no reply to 2 copies" in message
    assert "The guest says it is not loaded (KMOD_LIST does not list it): load it again" in message
    assert not any(k.name == IDENTIFIER for k in guest.kmods)
    assert guest.blocks == {}  # given back
    assert KextRecords.in_rundir(rundir).read(IDENTIFIER) is None


def test_a_load_after_which_the_guest_stops_answering_says_it_cannot_tell(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    def stop_answering(frame: Frame) -> None:
        guest.silent = guest.silent or kmod_load(frame)

    guest.on_frame = stop_answering

    with pytest.raises(LoadError) as failed:
        load(rundir, bundle, [])

    message = str(failed.value)
    assert f"loading {IDENTIFIER} failed: KMOD_LOAD (seq 5): no reply to 2 copies" in message
    assert "Whether it is loaded cannot be told: the guest does not answer (KMOD_LIST" in message
    assert f"once the guest answers, `kextstat -b {IDENTIFIER}` tells" in message
    assert "restart" not in message


def test_a_guest_that_reboots_under_a_load_is_said_to_have_rebooted(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    def reboot(request: Frame) -> None:
        if kmod_load(request):
            guest.reboot("b0000000000000002")

    guest.on_request = reboot

    with pytest.raises(LoadError) as failed:
        load(rundir, bundle, [])

    message = str(failed.value)
    assert (
        f"loading {IDENTIFIER} failed: KMOD_LOAD (seq 5): the guest rebooted (its boot id "
        "changed from b0000000000000001 to b0000000000000002).  The guest says it is not "
        "loaded" in message
    )
    assert f"its console log ({rundir}/console.log) says why it rebooted" in message
    assert "no block from KMOD_ALLOC" not in message
    assert KextRecords.in_rundir(rundir).boot_id() == "b0000000000000002"


def test_a_load_that_failed_before_kmod_load_says_it_is_not_loaded_without_asking(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    guest.on_frame = lambda frame: setattr(guest, "silent", frame.type == MsgType.KMOD_ALLOC)

    with pytest.raises(LoadError) as failed:
        load(rundir, bundle, [])

    assert (
        f"loading {IDENTIFIER} failed before the kernel was asked to load it, so it is not "
        "loaded: KMOD_ALLOC (seq 3): no reply to 2 copies"
    ) in str(failed.value)


# -- a guest that rebooted between two tools ----------------------------------


# -- an unload whose reply is lost ------------------------------------------


def kmod_unload(request: Frame) -> bool:
    return request.type == MsgType.KMOD_UNLOAD


def test_an_unload_whose_reply_is_lost_reports_it_unloaded_as_the_guest_no_longer_lists_it(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    [kmod_id] = load(rundir, bundle, [])
    guest.lose = kmod_unload  # every copy's reply
    notes: list[str] = []

    with GuestSession.open(rundir, timeout=0.2, notify=notes.append) as session:
        result = unload_kext(session, IDENTIFIER)

    assert result.kmod_id == kmod_id
    assert not any(k.name == IDENTIFIER for k in guest.kmods)
    [note] = notes
    assert re.fullmatch(
        rf"{IDENTIFIER}: the reply to KMOD_UNLOAD was lost \(KMOD_UNLOAD \(seq \d+\): no reply "
        rf"to 2 copies in [\d.]+ s\), but the guest no longer lists it: it is unloaded",
        note,
    )
    assert KextRecords.in_rundir(rundir).read(IDENTIFIER) is None


def test_an_unload_after_which_the_guest_stops_answering_says_it_cannot_tell(
    rundir: Path, guest: FakeGuest, bundle: Path
) -> None:
    load(rundir, bundle, [])
    guest.on_frame = lambda frame: setattr(guest, "silent", guest.silent or kmod_unload(frame))

    with (
        GuestSession.open(rundir, timeout=0.2) as session,
        pytest.raises(KextError) as failed,
    ):
        unload_kext(session, IDENTIFIER)

    message = str(failed.value)
    assert f"unloading {IDENTIFIER} failed: KMOD_UNLOAD (seq" in message
    assert "Whether it is still loaded cannot be told: the guest does not answer" in message
    assert f"`kextstat -b {IDENTIFIER}` tells" in message


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
