"""kextunload and kextstat for a kext the kernel keeps pinned: the state
and reason KMOD_LIST carries, the line kextstat prints under the row (and
reads back), the function named at each address, and kextunload -w's
retries -- against a fake session, without a guest."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from finch.cli import kextunload
from finch.hostlink.messages import (
    KMOD_PINNED,
    KMOD_PINNED_FOREVER,
    KMOD_RUNNING,
    KmodEntry,
    KmodListReply,
    KmodUnloadReply,
)
from finch.kext.loaded import (
    KextstatParseError,
    LoadedKext,
    format_kextstat,
    parse_kextstat,
)
from finch.kext.naming import KextNames
from finch.kext.records import KextRecord, KextRecords
from finch.kext.unload import RETRY_PAUSE, UnloadRefused, unload_kext

LEAKY = "com.example.leaky"
REASON = (
    "interface filter 'leaky' (iff_input 0x00200010) is still attached to lo0: "
    "stop must call iflt_detach and wait for iff_detached"
)
BSD = LoadedKext(1, 4, 0, 0, 0, "com.apple.kpi.bsd", "8.0.0", kernel_component=True)
RUNNING = LoadedKext(12, 0, 0x0020_0000, 0x1000, 0x1000, LEAKY, "1.0.0", (1,), image_crc=7)
PINNED = LoadedKext(
    12, 0, 0x0020_0000, 0x1000, 0x1000, LEAKY, "1.0.0", (1,), image_crc=7,
    state=KMOD_PINNED, reason=REASON,
)  # fmt: skip


# -- KMOD_LIST ---------------------------------------------------------------


def test_kmod_list_carries_each_kexts_state_and_what_pins_it() -> None:
    reply = KmodListReply(
        (
            KmodEntry(1, 3, 0, 0, 0, 0, 1, (), "com.apple.kpi.bsd", "8.0.0", "8.0.0b1"),
            KmodEntry(12, 0, 0x200000, 4096, 4096, 7, 0, (1,), LEAKY, "1.0", "", 1, REASON),
        )
    )

    decoded = KmodListReply.decode(reply.encode())

    assert decoded == reply
    assert [e.state for e in decoded.entries] == [KMOD_RUNNING, KMOD_PINNED]
    assert LoadedKext.from_entry(decoded.entries[1]).pinned
    assert LoadedKext.from_entry(decoded.entries[1]).reason == REASON


# -- kextstat ----------------------------------------------------------------


def test_a_pinned_kext_has_its_state_on_an_indented_line_under_its_row() -> None:
    out = format_kextstat([BSD, PINNED], header=False)

    assert out.splitlines() == [
        "    1    4 0x0        0x0        0x0        com.apple.kpi.bsd (8.0.0)",
        "   12    0 0x200000   0x1000     0x1000     com.example.leaky (1.0.0) <1>",
        f"      stopped, pinned: {REASON}",
    ]


def test_a_kext_pinned_until_reboot_says_so() -> None:
    forever = LoadedKext(5, 0, 0x1000, 0x1000, 0x1000, "com.example.t", "1.0", state=2, reason="x")

    assert forever.pinned_forever
    assert format_kextstat([forever], header=False).splitlines()[1] == (
        "      stopped, pinned until reboot: x"
    )


def test_kextstat_is_read_back_with_the_states() -> None:
    text = format_kextstat([BSD, RUNNING, PINNED])

    rows = parse_kextstat(text)

    assert [(k.index, k.identifier, k.state, k.reason) for k in rows] == [
        (1, "com.apple.kpi.bsd", KMOD_RUNNING, ""),
        (12, LEAKY, KMOD_RUNNING, ""),
        (12, LEAKY, KMOD_PINNED, REASON),
    ]
    assert rows[0].kernel_component
    assert rows[2].linked_against == (1,)


def test_the_guests_own_kextstat_is_read_too() -> None:
    monitor = (
        "Index Refs Address    Size       Wired      Name (Version) <Linked Against>\n"
        "    0    1 0x00000000 0x00000000 0x00000000 com.apple.kernel (8.0.0)\n"
        "    7    0 0x001f2000 0x00001000 0x00001000 com.example.tick (1.0.0) <3 2>\n"
        "      stopped, pinned until reboot: timeout to 0x001f2010(0x00000000) re-armed\n"
    )

    rows = parse_kextstat(monitor)

    assert rows[1].address == 0x1F2000
    assert rows[1].linked_against == (3, 2)
    assert rows[1].state == KMOD_PINNED_FOREVER
    assert rows[1].reason.startswith("timeout to 0x001f2010")


def test_a_line_that_is_no_kextstat_row_is_named() -> None:
    with pytest.raises(KextstatParseError, match="line 2 is not a kextstat row: 'oops'"):
        parse_kextstat("    0    1 0x0 0x0 0x0 com.apple.kernel (8.0.0)\noops\n")


# -- naming the kext's functions ----------------------------------------------

SOURCE = """\
int leaky_count;

void
leaky_input(void)
{
	leaky_count++;
}
"""


@pytest.fixture(scope="module")
def symbol_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kext-like object linked at 0x00200000 with leaky_input first."""
    work = tmp_path_factory.mktemp("naming")
    (work / "leaky.c").write_text(SOURCE)
    subprocess.run(
        ["gcc", "-m32", "-O1", "-ffreestanding", "-fno-pic", "-c", "leaky.c", "-o", "leaky.o"],
        cwd=work,
        check=True,
    )
    subprocess.run(
        ["ld", "-m", "elf_i386", "-nostdlib", "-e", "leaky_input", "-Ttext=0x200000",
         "-o", "leaky.sym", "leaky.o"],
        cwd=work,
        check=True,
    )  # fmt: skip
    return work / "leaky.sym"


def recorded(tmp_path: Path, symbol_file: Path) -> KextRecords:
    records = KextRecords.in_rundir(tmp_path)
    records.write(KextRecord(LEAKY, "1.0.0", 0x0020_0000, 0x1000, 7, "leaky.kext", 12))
    records.symbol_file(LEAKY).write_bytes(symbol_file.read_bytes())
    return records


def test_each_kext_address_in_the_kernels_words_gets_its_function(
    tmp_path: Path, symbol_file: Path
) -> None:
    names = KextNames(recorded(tmp_path, symbol_file), [BSD, PINNED])

    text = names.annotate("iff_input 0x00200000, and 0x00200001; the kernel's 0x00100000")

    assert text == (
        "iff_input 0x00200000 (leaky_input), and 0x00200001 (leaky_input+0x1); "
        "the kernel's 0x00100000"
    )


def test_an_address_the_kernel_named_itself_is_left_as_it_is(
    tmp_path: Path, symbol_file: Path
) -> None:
    names = KextNames(recorded(tmp_path, symbol_file), [BSD, PINNED])

    text = names.annotate("timeout to 0x00200000 leaky_input(0x00000000); 0x00200001 leaky_input2")

    assert text == (
        "timeout to 0x00200000 leaky_input(0x00000000); 0x00200001 (leaky_input+0x1) leaky_input2"
    )


def test_a_record_of_another_load_names_nothing(tmp_path: Path, symbol_file: Path) -> None:
    moved = LoadedKext(12, 0, 0x0030_0000, 0x1000, 0x1000, LEAKY, "1.0.0", image_crc=7)
    names = KextNames(recorded(tmp_path, symbol_file), [moved])

    assert names.annotate("0x00200000") == "0x00200000"


# -- kextunload, against a fake session -----------------------------------------


@dataclass
class FakeSession:
    """Answers KMOD_UNLOAD from a script; KMOD_LIST from `kexts`."""

    records: KextRecords
    replies: Iterator[KmodUnloadReply]
    kexts: list[LoadedKext] = field(default_factory=lambda: [BSD, RUNNING])
    unloads: int = 0

    def list_kexts(self) -> list[LoadedKext]:
        return list(self.kexts)

    def unload(self, kmod_id: int) -> KmodUnloadReply:
        self.unloads += 1
        reply = next(self.replies)
        self.kexts = [BSD] if reply.status == 0 else self.kexts
        return reply


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


STOP_FAILED = KmodUnloadReply(5, 5, "")
PINNED_REPLY = KmodUnloadReply(16, 0, f"{LEAKY} (id 12) was stopped ... {REASON}")


def test_a_stop_that_refuses_may_be_waiting_for_a_detach(tmp_path: Path) -> None:
    session = FakeSession(KextRecords.in_rundir(tmp_path), iter([STOP_FAILED]))

    with pytest.raises(UnloadRefused) as refused:
        unload_kext(session, LEAKY)  # type: ignore[arg-type]

    assert str(refused.value).startswith(
        f"{LEAKY}: stop routine returned 5 (KERN_FAILURE); the kext stays loaded and running"
    )
    assert "waiting for an asynchronous detach (an interface filter's iff_detached" in str(
        refused.value
    )
    assert "use kextunload -w SECONDS" in str(refused.value)


def test_wait_tries_again_until_the_unload_succeeds_and_tells_each_refusal_once(
    tmp_path: Path,
) -> None:
    replies = iter([STOP_FAILED, STOP_FAILED, STOP_FAILED, KmodUnloadReply(0, 0, "")])
    session = FakeSession(KextRecords.in_rundir(tmp_path), replies)
    clock, heard = FakeClock(), []

    result = unload_kext(
        session,  # type: ignore[arg-type]
        LEAKY,
        wait=5,
        on_refusal=heard.append,
        clock=clock,
        sleep=clock.sleep,
    )

    assert (result.kmod_id, result.tries) == (12, 4)
    assert len(heard) == 1
    assert clock.now == 3 * RETRY_PAUSE


def test_wait_gives_up_at_its_deadline_with_the_last_refusal(tmp_path: Path) -> None:
    def pinned_forever_after_two() -> Iterator[KmodUnloadReply]:
        yield STOP_FAILED
        while True:
            yield PINNED_REPLY

    session = FakeSession(KextRecords.in_rundir(tmp_path), pinned_forever_after_two())
    clock, heard = FakeClock(), []

    with pytest.raises(UnloadRefused) as refused:
        unload_kext(
            session,  # type: ignore[arg-type]
            LEAKY,
            wait=2,
            on_refusal=heard.append,
            clock=clock,
            sleep=clock.sleep,
        )

    assert len(heard) == 2  # the stop's refusal, then the pinned kext's: once each
    assert str(heard[0]).startswith(f"{LEAKY}: stop routine returned 5 (KERN_FAILURE)")
    assert str(heard[1]) == str(refused.value) == PINNED_REPLY.message
    assert refused.value.status == 16
    assert session.unloads == 9  # at 0, 0.25, ... 2 s
    assert clock.now == 2


def test_a_kext_pinned_until_reboot_is_not_waited_for(tmp_path: Path) -> None:
    forever = LoadedKext(**{**PINNED.__dict__, "state": KMOD_PINNED_FOREVER})
    session = FakeSession(KextRecords.in_rundir(tmp_path), iter([PINNED_REPLY] * 10), [forever])
    clock = FakeClock()

    with pytest.raises(UnloadRefused) as refused:
        unload_kext(session, LEAKY, wait=30, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]

    assert refused.value.hopeless
    assert session.unloads == 1


def test_a_refusal_names_the_kext_function_at_each_address(
    tmp_path: Path, symbol_file: Path
) -> None:
    reply = KmodUnloadReply(16, 0, f"{LEAKY} (id 12) was stopped: iff_input 0x00200000 left")
    session = FakeSession(recorded(tmp_path, symbol_file), iter([reply]), [BSD, PINNED])

    with pytest.raises(UnloadRefused) as refused:
        unload_kext(session, LEAKY)  # type: ignore[arg-type]

    assert (
        str(refused.value)
        == f"{LEAKY} (id 12) was stopped: iff_input 0x00200000 (leaky_input) left"
    )


def test_kextunload_wait_takes_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        kextunload.main(["-w", "soon", "-b", LEAKY])

    assert exited.value.code == 2
    assert "'soon' is not a number of seconds" in capsys.readouterr().err


def test_a_stop_that_answers_ebusy_is_told_in_words(tmp_path: Path) -> None:
    """Tiger NKEs answered EBUSY from stop while their filters detached."""
    reply = KmodUnloadReply(5, 16, "")
    session = FakeSession(KextRecords.in_rundir(tmp_path), iter([reply]))

    with pytest.raises(UnloadRefused) as refused:
        unload_kext(session, LEAKY)  # type: ignore[arg-type]

    assert str(refused.value).startswith(
        f"{LEAKY}: stop routine returned 16 (EBUSY: the kext says it is still busy, "
        "typically a filter still detaching); the kext stays loaded and running"
    )
    assert "use kextunload -w SECONDS" in str(refused.value)
