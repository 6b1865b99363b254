"""The host link against the real kernel when things go wrong on the wire
(issue 9): what a killed tool leaves behind, a damaged HELLO, a lost
reply, and a guest that reboots between two tools.  The damage is done by
a Tap on the host's side of the link.  All but the last share one guest."""

from __future__ import annotations

import re
import socket
from functools import partial
from pathlib import Path

import pytest

from finch.cli import kextstat, kextunload
from finch.hostlink.client import GuestRebooted, HostLink
from finch.hostlink.codec import DecodeError, FrameDecoder, MsgType, encode, encode_frame
from finch.hostlink.messages import KmodListRequest, KmodWriteRequest
from finch.kext.guest import KextGuest, kext_options
from finch.kext.load import load_kexts
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.session import GuestSession

HELLO = "com.finch.sample.hello"


class DamageFirstFrame:
    """Flips bits of one byte of the first frame the host sends."""

    def __init__(self, offset: int, bits: int) -> None:
        self.offset, self.bits, self.sent_frames = offset, bits, 0

    def sent(self, frame: bytes) -> bytes:
        self.sent_frames += 1
        if self.sent_frames > 1:
            return frame
        damaged = bytearray(frame)
        damaged[self.offset] ^= self.bits
        return bytes(damaged)

    def received(self, data: bytes) -> bytes:
        return data


class LoseFrames:
    """Loses every frame of one type the guest sends."""

    def __init__(self, frame_type: int) -> None:
        self.frame_type, self.lost = frame_type, 0
        self.decoder = FrameDecoder()

    def sent(self, frame: bytes) -> bytes:
        return frame

    def received(self, data: bytes) -> bytes:
        kept = []
        for item in self.decoder.feed(data):
            if isinstance(item, DecodeError):
                continue
            if item.type == self.frame_type:
                self.lost += 1
            else:
                kept.append(encode_frame(item))
        return b"".join(kept)


def counters(guest: KextGuest) -> dict[str, int]:
    """The `hostlink` command's drop counters, by name."""
    lines = guest.machine.command("hostlink").splitlines()
    dropped = next(line for line in lines if line.startswith("dropped: "))
    return {name.strip(): int(n) for n, name in re.findall(r"(\d+) ([^,]+)", dropped)}


def test_a_frame_a_killed_tool_left_half_sent_does_not_hold_up_kextstat(
    module_kext_guest: KextGuest,
) -> None:
    guest = module_kext_guest
    before = counters(guest)
    write = encode(MsgType.KMOD_WRITE, 7, KmodWriteRequest(0xC000_0000, bytes(60000)).encode())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as killed:
        killed.connect(str(guest.machine.serial_socket(2)))
        killed.sendall(write[:3000])  # and then it died

    kexts = guest.kextstat()

    after = counters(guest)
    assert kexts  # it got through...
    assert after["partial ended by a HELLO"] == before["partial ended by a HELLO"] + 1
    assert after["abandoned partial"] == before["abandoned partial"]  # ...not after a silence


def test_a_load_whose_first_hello_is_damaged_succeeds(module_kext_guest: KextGuest) -> None:
    guest = module_kext_guest
    # Its length field says 20 bytes of payload, not 4: the kernel takes
    # the second copy for the rest, reports the damage, then answers that
    # second copy.
    tap = DamageFirstFrame(offset=6, bits=0x10)

    [result] = load_kexts(
        guest.rundir, [guest.bundle("hello")], open_session=partial(GuestSession.open, tap=tap)
    )

    guest.machine.expect(f"hello: hello from {HELLO} 1.0.0 \\(kmod id {result.kmod_id} ")
    assert counters(guest)["bad CRC"] >= 1
    guest.unload(HELLO)


def test_a_load_whose_reply_is_lost_reports_what_the_guest_lists(
    module_kext_guest: KextGuest,
) -> None:
    guest = module_kext_guest
    tap = LoseFrames(MsgType.KMOD_LOAD | 0x80)
    notes: list[str] = []

    [result] = load_kexts(
        guest.rundir,
        [guest.bundle("hello")],
        notify=notes.append,
        open_session=partial(GuestSession.open, tap=tap, timeout=1.0),
    )

    [listed] = [k for k in guest.kextstat() if k.identifier == HELLO]
    assert tap.lost == 2  # the reply, and the one to the copy
    assert result.kmod_id == listed.index
    [note] = notes
    assert note.startswith(f"{HELLO}: the reply to KMOD_LOAD was lost (KMOD_LOAD (seq ")
    assert note.endswith(f"but the guest lists {HELLO} as loaded, with id {listed.index}")
    guest.unload(HELLO)


def test_the_tools_notice_a_rebooted_guest_and_say_so(
    machine_factory: MachineFactory, built_kexts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = machine_factory(kext_options(QemuOptions(no_reboot=False)))
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.load(guest.bundle("hello"))
    # A tool connected across the reboot, which misses the READY event.
    with HostLink(machine.serial_socket(2), tap=LoseFrames(MsgType.EVENT)).connect() as link:
        link.hello()
        machine.sendline("reboot")
        machine.boot()
        with pytest.raises(GuestRebooted) as under_it:
            link.call(KmodListRequest())

    statuses = [
        kextstat.main(["--rundir", str(guest.rundir), "-l", "-b", HELLO]),
        kextunload.main(["--rundir", str(guest.rundir), "-b", HELLO]),
    ]

    out, err = capsys.readouterr()
    assert under_it.value.new_boot not in (None, under_it.value.old_boot)
    assert statuses == [0, 1]
    assert out == ""  # not loaded
    assert err.splitlines() == [
        "kextstat: the guest rebooted (its boot id changed) since a host tool last talked to "
        f"it: the kexts loaded before are gone ({HELLO}); their symbol files were removed.  "
        f"Its console log ({machine.paths.console_log}) says why it rebooted",
        f"kextunload: {HELLO} is not loaded (`kextstat` lists what is)",
    ]
    assert not (guest.rundir / "symbols" / f"{HELLO}.sym").exists()
