"""kextload on damaged input: a refusal or a link, never a traceback.

Each test takes a real built kext (countuser, which links against the
library kext counterlib and a KPI bundle), damages one of its files a few
hundred times with a fixed seed, and runs kextload's host side on it:
open the bundle (Info.plist, the executable, kmod_info), resolve its
libraries, lay it out and link it at a fixed address against the kernel's
exports, and make its symbol file -- everything up to asking the guest
for memory.  Every outcome must be a link or a FinchError whose first
line names the bundle's file; anything else is a bug in Finch.  The last
test reads damaged kexts' symbol files as the panic symbolizer does.

A damaged object may still link (a flipped bit in its code or debug
info): the kernel checks the image's CRC and kmod_info, and that is
acceptable here.  Only tracebacks fail.
"""

from __future__ import annotations

import plistlib
import random
import re
import struct
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from finch.build import Tree
from finch.elf32 import read_sections
from finch.errors import FinchError
from finch.exports import KpiExports, load_exports
from finch.kext.build import build_kext
from finch.kext.bundle import find_bundles, open_bundle
from finch.kext.dependencies import namespace_for, resolve_load_order
from finch.kext.load import KMOD_MAX_IMAGE
from finch.link import link_kext, plan, read_object, with_section_addresses
from finch.symbolize import Symbolizer

REPO = Path(__file__).resolve().parents[2]
SEED = 9  # issue 9
LOAD_ADDRESS = 0x4000_0000
PAGE = 4096
INTERESTING_WORDS = (0, 1, 4, 16, 40, 0x7F, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF)

# Cutting a file short is refused the same way almost wherever it is cut: rarer.
OPERATIONS, WEIGHTS = ("flip", "byte", "word", "swap", "truncate", "extend"), (3, 3, 3, 2, 1, 1)

Mutation = tuple[bytes, list[str]]  # the damaged bytes, and what was done to them


@dataclass(frozen=True)
class Kexts:
    """countuser and the library it needs, built into a scratch folder."""

    countuser: Path
    counterlib: Path

    @property
    def plist(self) -> Path:
        return self.countuser / "Contents" / "Info.plist"

    @property
    def executable(self) -> Path:
        return self.countuser / "Contents" / "MacOS" / "countuser"


@pytest.fixture(scope="module")
def kexts(tmp_path_factory: pytest.TempPathFactory) -> Kexts:
    out = tmp_path_factory.mktemp("kexts")
    tree = Tree(REPO)
    built = {
        name: build_kext(REPO / "kexts" / name, tree=tree, out_dir=out, echo=lambda _: None)
        for name in ("counterlib", "countuser")
    }
    return Kexts(built["countuser"].bundle.path, built["counterlib"].bundle.path)


@pytest.fixture(scope="module")
def kpis() -> KpiExports:
    return load_exports()


def kernel_symbols(kpis: KpiExports) -> dict[str, int]:
    """A stand-in kernel: every exported symbol at a fixed address."""
    return {name: 0x0010_0000 + 16 * i for i, name in enumerate(sorted(kpis.all_symbols()))}


def host_side_load(bundle: Path, libraries: Sequence[Path], kpis: KpiExports) -> None:
    """kextload's steps before it talks to the guest (finch.kext.load:
    load_kexts and KextLoader), each kext linked at its own address."""
    target = open_bundle(bundle)
    search = find_bundles([], [*libraries, target.path])
    order = resolve_load_order(target, kpis=kpis, search=search)
    kernel = kernel_symbols(kpis)
    loaded: dict[str, dict[str, int]] = {}
    address = LOAD_ADDRESS
    for each in order:
        namespace = namespace_for(
            each.info, kpis=kpis, kernel_symbols=kernel, loaded_symbols=loaded
        )
        obj = read_object(each.executable)
        size = plan(obj).size
        linked = link_kext(
            obj, address, namespace, bundle_id=each.identifier, max_size=KMOD_MAX_IMAGE
        )
        with_section_addresses(linked.source, linked.sections)  # the symbol file's bytes
        loaded[each.identifier] = linked.symbols
        address += (size + PAGE - 1) // PAGE * PAGE


# -- damage ------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random, regions: Sequence[tuple[int, int]] = ()) -> Mutation:
    """One to three byte-level changes, most of them aimed at `regions`
    ((start, length): the parts of the file worth hitting) if given."""
    out = bytearray(data)
    done: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if not out:
            break
        if regions and rng.random() < 0.8:
            start, length = rng.choice(regions)
            at = min(start + rng.randrange(max(length, 1)), len(out) - 1)
        else:
            at = rng.randrange(len(out))
        op = rng.choices(OPERATIONS, weights=WEIGHTS)[0]
        if op == "flip":
            bit = rng.randrange(8)
            out[at] ^= 1 << bit
            done.append(f"flip bit {bit} at {at:#x}")
        elif op == "byte":
            value = rng.choice((0, 0xFF, rng.randrange(256)))
            out[at] = value
            done.append(f"set byte {at:#x} to {value:#x}")
        elif op == "word":
            value = rng.choice((*INTERESTING_WORDS, len(out), rng.randrange(1 << 32)))
            out[at : at + 4] = struct.pack("<I", value)[: len(out[at : at + 4])]
            done.append(f"set word {at:#x} to {value:#x}")
        elif op == "swap":
            other = rng.randrange(max(len(out) - 4, 1))
            at = min(at, max(len(out) - 4, 0))
            out[at : at + 4], out[other : other + 4] = out[other : other + 4], out[at : at + 4]
            done.append(f"swap words {at:#x} and {other:#x}")
        elif op == "truncate":
            del out[at:]
            done.append(f"truncate at {at:#x}")
        else:
            extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
            out += extra
            done.append(f"append {len(extra)} bytes")
    return bytes(out), done


def object_regions(data: bytes) -> list[tuple[int, int]]:
    """The ELF header, the section header table, and the symbol, string
    and relocation tables: where damage reaches the reader."""
    sections = read_sections(data)
    table = min(s.header_offset for s in sections)
    regions = [(0, 52), (table, len(sections) * 40)]
    wanted = (2, 3, 4, 9)  # SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_REL
    regions += [(s.offset, s.size) for s in sections if s.type in wanted and s.size]
    return regions


def plist_regions(data: bytes) -> list[tuple[int, int]]:
    """An XML plist's values (the text between tags), or a binary plist's
    trailer (its object count and offset table's place)."""
    if data.startswith(b"bplist00"):
        return [(len(data) - 32, 32)]
    return [(m.start(1), len(m.group(1))) for m in re.finditer(rb">([^<]*\S[^<]*)<", data)]


def rich_plist(plist: Path) -> dict[str, object]:
    """countuser's Info.plist plus a key of every plist type, so that
    damage reaches plistlib's date, data, integer and real parsers."""
    info = plistlib.loads(plist.read_bytes())
    info["FinchFuzz"] = {
        "dates": [datetime(2006, 1, 2, 15, 4, 5), datetime(1999, 12, 31), datetime(2026, 2, 28)],
        "data": [b"\x00\x01kext\xff", b"finch" * 4],
        "integers": [-42, 0x7FFF_FFFF],
        "reals": [2.5, -1e-3],
        "flags": [True, False],
    }
    return info


# -- the runs ----------------------------------------------------------------------


@dataclass
class Outcomes:
    counts: Counter[str]
    failures: list[str]

    def report(self) -> str:
        return f"{len(self.failures)} tracebacks ({dict(self.counts)}):\n\n" + "\n\n".join(
            self.failures[:5]
        )


def fuzz(
    kexts: Kexts,
    kpis: KpiExports,
    victim: Path,
    original: bytes,
    damage: Callable[[random.Random], Mutation],
    rounds: int,
) -> Outcomes:
    """Write `rounds` damaged versions of `original` to `victim` (a file of
    countuser's bundle) and run the host side of kextload on each."""
    rng = random.Random(SEED)
    outcomes = Outcomes(Counter(), [])
    saved = victim.read_bytes()
    try:
        for round_ in range(rounds):
            data, done = damage(rng)
            victim.write_bytes(data)
            try:
                host_side_load(kexts.countuser, [kexts.counterlib], kpis)
                outcomes.counts["linked"] += 1
            except FinchError as e:
                outcomes.counts["refused"] += 1
                first = str(e).splitlines()[0] if str(e) else ""
                if str(kexts.countuser) not in first:
                    outcomes.failures.append(
                        f"round {round_} ({'; '.join(done)}): the refusal names no file: {e}"
                    )
            except Exception as e:  # a traceback: what this test looks for
                outcomes.counts[type(e).__name__] += 1
                trace = "".join(traceback.format_exception(e))
                outcomes.failures.append(f"round {round_} ({'; '.join(done)}):\n{trace}")
    finally:
        victim.write_bytes(saved)
    return outcomes


def test_a_damaged_kext_object_is_refused_or_linked_never_a_traceback(
    kexts: Kexts, kpis: KpiExports
) -> None:
    original = kexts.executable.read_bytes()
    regions = object_regions(original)

    outcomes = fuzz(
        kexts,
        kpis,
        kexts.executable,
        original,
        lambda rng: mutate(original, rng, regions),
        rounds=400,
    )

    assert not outcomes.failures, outcomes.report()
    assert outcomes.counts["linked"] > 20  # damage that only reaches code or debug info
    assert outcomes.counts["refused"] > 100


@pytest.mark.parametrize("variant", ["as built", "every value type", "binary"])
def test_a_damaged_info_plist_is_refused_or_loaded_never_a_traceback(
    kexts: Kexts, kpis: KpiExports, variant: str
) -> None:
    if variant == "as built":
        original = kexts.plist.read_bytes()
    elif variant == "every value type":
        original = plistlib.dumps(rich_plist(kexts.plist))
    else:
        original = plistlib.dumps(rich_plist(kexts.plist), fmt=plistlib.FMT_BINARY)

    regions = plist_regions(original)

    outcomes = fuzz(
        kexts,
        kpis,
        kexts.plist,
        original,
        lambda rng: mutate(original, rng, regions),
        rounds=300,
    )

    assert not outcomes.failures, outcomes.report()
    assert outcomes.counts["refused"] > 50


def test_a_damaged_kexts_symbol_file_names_what_it_can_never_a_traceback(
    kexts: Kexts, kpis: KpiExports, tmp_path: Path
) -> None:
    """After a panic, the symbolizer reads the DWARF of every loaded kext:
    damage there (which nothing checks at load) must cost file:line only."""
    library = open_bundle(kexts.counterlib)
    original = library.executable.read_bytes()
    debug = [(s.offset, s.size) for s in read_sections(original) if s.name.startswith(".debug")]
    namespace = namespace_for(library.info, kpis=kpis, kernel_symbols=kernel_symbols(kpis))
    rng = random.Random(SEED)
    counts: Counter[str] = Counter()
    failures = []
    for round_ in range(150):
        data, done = mutate(original, rng, debug)
        try:
            linked = link_kext(read_object(data, "counterlib"), LOAD_ADDRESS, namespace)
        except FinchError:
            continue
        symbol_file = linked.write_symbol_file(tmp_path / "counterlib.sym")
        try:
            image = Symbolizer().add_image(symbol_file, name=library.identifier)
            for address in range(LOAD_ADDRESS, LOAD_ADDRESS + linked.size, 16):
                image.line_at(address)
                image.function_at(address)
            counts["damaged debug info" if image.problem else "read"] += 1
        except FinchError:
            counts["refused"] += 1
        except Exception as e:  # a traceback: what this test looks for
            trace = "".join(traceback.format_exception(e))
            failures.append(f"round {round_} ({'; '.join(done)}):\n{trace}")

    assert not failures, f"{len(failures)} tracebacks ({dict(counts)}):\n\n" + "\n\n".join(
        failures[:5]
    )
    assert counts["damaged debug info"] > 10
