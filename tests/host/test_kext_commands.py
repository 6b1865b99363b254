"""kextload, kextstat, kextunload (and kmodstat, kmodunload) and `finch
new-kext` without a guest: installed under their names, every flag
explained by --help, and a missing guest reported in one line."""

from __future__ import annotations

import json
import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from finch.cli import kextload, kextstat, kextunload
from finch.cli import main as finch_main


def test_the_commands_are_installed_under_darwins_names_and_the_2001_ones() -> None:
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}

    assert scripts["kextload"] == "finch.cli.kextload:main"
    assert scripts["kextstat"] == scripts["kmodstat"] == "finch.cli.kextstat:main"
    assert scripts["kextunload"] == scripts["kmodunload"] == "finch.cli.kextunload:main"


@pytest.mark.parametrize(
    ("main", "flags"),
    [
        (kextload.main, ["-v", "-d DEPENDENCY", "-r SEARCHDIR", "-e", "--rundir DIR", "BUNDLE"]),
        (kextstat.main, ["-l", "-k", "-b ID", "--rundir DIR"]),
        (kextunload.main, ["-b ID", "-w SECONDS", "--rundir DIR", "BUNDLE"]),
    ],
)
def test_help_explains_every_flag(main, flags: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    out = capsys.readouterr().out
    assert exited.value.code == 0
    for flag in flags:
        assert flag in out


def test_without_a_guest_each_command_says_how_to_start_one(tmp_path: Path, capsys) -> None:
    statuses = [
        kextload.main(["--rundir", str(tmp_path), str(tmp_path / "hello.kext")]),
        kextstat.main(["--rundir", str(tmp_path)]),
        kextunload.main(["--rundir", str(tmp_path), "-b", "com.example.hello"]),
    ]

    err = capsys.readouterr().err.splitlines()
    assert statuses == [1, 1, 1]
    assert err[0].startswith("kextload: ")
    assert "hello.kext: no such kext bundle" in err[0]
    assert err[1] == (
        f"kextstat: no Finch guest is running: {tmp_path}/machine.json does not exist; "
        "start one with `make run`"
    )
    assert err[2].startswith("kextunload: no Finch guest is running")


def test_a_guest_whose_host_link_socket_is_gone_is_not_running(tmp_path: Path, capsys) -> None:
    (tmp_path / "machine.json").write_text(
        json.dumps(
            {
                "pid": os.getpid(),  # alive, but nothing listens on the socket
                "qmp_socket": str(tmp_path / "qmp.sock"),
                "kernel": str(tmp_path / "finch.elf"),
                "console_log": str(tmp_path / "console.log"),
                "qemu_log": str(tmp_path / "qemu.log"),
                "serial2": str(tmp_path / "serial2.sock"),
                "argv": [],
                "started": "2026-01-01T00:00:00Z",
            }
        )
    )
    (tmp_path / "finch.elf").write_bytes(b"")

    status = kextstat.main(["--rundir", str(tmp_path)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"kextstat: no guest is running: the host link socket {tmp_path}/serial2.sock does "
        "not exist; start the guest with `finch run` (or name its run directory) and try again\n"
    )


def test_kextunload_wants_a_kext_to_unload(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        kextunload.main([])

    assert exited.value.code == 2
    assert "name a kext to unload: -b ID or a BUNDLE" in capsys.readouterr().err


def test_finch_new_kext_creates_a_bundle_that_names_its_next_steps(tmp_path: Path, capsys) -> None:
    status = finch_main(
        ["new-kext", "pktcount", "--id", "com.example.pktcount", "--dir", str(tmp_path)]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert (tmp_path / "pktcount" / "Info.plist").is_file()
    assert (tmp_path / "pktcount" / "pktcount.c").is_file()
    assert "kextload build/kexts/pktcount.kext" in out


def test_finch_new_kext_refuses_an_existing_folder(tmp_path: Path, capsys) -> None:
    (tmp_path / "pktcount").mkdir()

    status = finch_main(
        ["new-kext", "pktcount", "--id", "com.example.pktcount", "--dir", str(tmp_path)]
    )

    assert status == 1
    assert "already exists: refusing to overwrite it" in capsys.readouterr().err
