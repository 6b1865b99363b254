"""The host's records of the kexts it loaded, trusted only while the
kernel lists the same image at the same address."""

from __future__ import annotations

from pathlib import Path

from finch.kext.loaded import LoadedKext
from finch.kext.records import KextRecord, KextRecords

RECORD = KextRecord(
    identifier="com.example.lib",
    version="1.0.0",
    address=0x0019_2000,
    size=556,
    image_crc=0xDEADBEEF,
    bundle="build/kexts/lib.kext",
    kmod_id=7,
    symbols={"com_example_lib_add": 0x0019_2010},
)


def listed(address: int = RECORD.address, crc: int = RECORD.image_crc) -> LoadedKext:
    return LoadedKext(7, 0, address, 0x1000, 0x1000, RECORD.identifier, "1.0.0", image_crc=crc)


def test_a_record_is_read_back_for_the_kext_the_kernel_lists(tmp_path: Path) -> None:
    records = KextRecords.in_rundir(tmp_path)
    records.write(RECORD)

    assert records.for_loaded(listed()) == RECORD
    assert records.all() == [RECORD]


def test_a_record_of_another_image_or_address_is_not_trusted(tmp_path: Path) -> None:
    records = KextRecords.in_rundir(tmp_path)
    records.write(RECORD)

    assert records.for_loaded(listed(crc=0x12345678)) is None
    assert records.for_loaded(listed(address=0x0020_0000)) is None


def test_removing_a_record_removes_its_symbol_file_too(tmp_path: Path) -> None:
    records = KextRecords.in_rundir(tmp_path)
    records.write(RECORD)
    records.symbol_file(RECORD.identifier).write_bytes(b"\x7fELF")

    records.remove(RECORD.identifier)

    assert records.all() == []
    assert not records.symbol_file(RECORD.identifier).exists()
