"""Library kexts: kextload loads a kext's libraries first (or reuses a
loaded one whose version fits), kextstat shows who links against whom,
and a library cannot be unloaded while a dependent is loaded."""

from __future__ import annotations

import pytest

from finch.kext.guest import KextGuest
from finch.kext.loaded import LoadedKext
from finch.kext.unload import UnloadRefused

COUNTERLIB = "com.finch.sample.counterlib"
COUNTUSER = "com.finch.sample.countuser"


def by_id(kexts: list[LoadedKext]) -> dict[str, LoadedKext]:
    return {k.identifier: k for k in kexts}


def test_a_kext_loads_its_library_first(kext_guest: KextGuest) -> None:
    results = kext_guest.load(kext_guest.bundle("countuser"), search_dirs=[kext_guest.kexts_dir])

    assert [r.bundle.identifier for r in results] == [COUNTERLIB, COUNTUSER]
    kext_guest.machine.expect("counterlib: ready \\(version 1.2.0\\)")
    kext_guest.machine.expect("countuser: counter is now 5")


def test_kextstat_shows_the_ids_a_kext_links_against_highest_first(
    kext_guest: KextGuest,
) -> None:
    lib, _user = kext_guest.load(kext_guest.bundle("countuser"), search_dirs=[kext_guest.kexts_dir])

    kexts = by_id(kext_guest.kextstat())

    assert kexts[COUNTUSER].linked_against == (lib.kmod_id, 3)  # counterlib, kpi.libkern
    assert kexts[COUNTERLIB].refs == 1
    assert f"<{lib.kmod_id} 3>" in kext_guest.monitor("kextstat")


def test_a_loaded_library_is_reused_when_its_version_fits(kext_guest: KextGuest) -> None:
    [lib] = kext_guest.load(kext_guest.bundle("counterlib"))

    results = kext_guest.load(kext_guest.bundle("countuser"))  # no -d, no -r

    assert [r.bundle.identifier for r in results] == [COUNTUSER]
    assert by_id(kext_guest.kextstat())[COUNTUSER].linked_against[0] == lib.kmod_id
    kext_guest.machine.expect("countuser: counter is now 5")


def test_a_library_named_with_d_is_loaded_first(kext_guest: KextGuest) -> None:
    results = kext_guest.load(
        kext_guest.bundle("countuser"), dependencies=[kext_guest.bundle("counterlib")]
    )

    assert [r.bundle.identifier for r in results] == [COUNTERLIB, COUNTUSER]


def test_a_library_cannot_be_unloaded_while_a_dependent_is_loaded(
    kext_guest: KextGuest,
) -> None:
    kext_guest.load(kext_guest.bundle("countuser"), search_dirs=[kext_guest.kexts_dir])

    with pytest.raises(UnloadRefused) as refused:
        kext_guest.unload(COUNTERLIB)

    assert "linked against by 1 loaded kext(s)" in str(refused.value)
    assert COUNTUSER in str(refused.value)
    assert "unload those first" in str(refused.value)
    assert COUNTERLIB in by_id(kext_guest.kextstat())


def test_once_its_dependent_is_gone_a_library_unloads(kext_guest: KextGuest) -> None:
    kext_guest.load(kext_guest.bundle("countuser"), search_dirs=[kext_guest.kexts_dir])
    kext_guest.unload(COUNTUSER)

    kext_guest.unload(COUNTERLIB)

    kext_guest.machine.expect("counterlib: stopping at count 5")
    assert not {COUNTERLIB, COUNTUSER} & set(by_id(kext_guest.kextstat()))
