"""The socket filter rows of `finch bench`: what one no-op socket filter
costs UDP echo, as a ratio of the same traffic without it, in the same run.

One guest with the host link and an e1000 on a `-netdev dgram` wire whose
far end is a finch.wire.Wire here, and the bench kext sfltnoop
(tools/finch/data/sfltnoop.c, built into the run directory): two UDP echo
sockets answered from their upcalls by the same code, port 5007 bare and
port 5008 with a no-op socket filter attached (its sf_data_in and
sf_data_out return 0).  So the only difference is the filter: the hooks,
the socket lock released and taken back around each call, the callback.

Each round measures both ports' echo rate with IN_FLIGHT datagrams in
flight (finch.netbench.echo_rate) for SECONDS each, cut into SLICES short
slices that alternate between the ports (the machine is shared: other
work comes and goes), and the ratio filtered/bare of that round:

    UDP echo via a kext socket, N B        replies per second, no filter
    UDP echo, no-op socket filter, N B     replies per second
    no-op socket filter vs none, N B       the ratio in percent; target:
                                           at least RATIO_TARGET (a no-op
                                           filter costs under 5%)

And TCP, on a kernel that has it: a guest on user networking with
kexts/inetd (finch.inetdbench.InetdGuest), TCP_BYTES into its discard
service per sample (finch.tcpbench.send_to_discard), with and without the
bench kext sfltnooptcp (written below) loaded -- a global no-op filter
on TCP, so that it is on every connection inetd accepts while it is
loaded -- in alternating order, TCP_ROUNDS rounds:

    TCP into discard, no socket filter      MB/s
    TCP into discard, no-op socket filter   MB/s
    no-op socket filter vs none, TCP        the ratio; the same target
"""

from __future__ import annotations

import plistlib
import shutil
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from finch.benchrow import BenchRow
from finch.build import Tree
from finch.errors import FinchError
from finch.inetdbench import InetdGuest
from finch.kext.build import build_all_kexts, build_kext
from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.netbench import (
    DRAIN_SECONDS,
    FRAME_SIZES,
    IN_FLIGHT,
    ROUNDS,
    Probe,
    echo_rate,
    per_second,
    ratios,
    udp_probe,
    wait_ready,
)
from finch.tcpbench import user_network
from finch.wire import Wire

BARE_PORT = 5007
FILTERED_PORT = 5008
RATIO_TARGET = 95.0  # percent of the bare socket's rate
SECONDS = 1.0  # per port and round
SLICES = 10  # alternating slices a round is cut into
KEXT = "sfltnoop"
TCP_KEXT = "sfltnooptcp"
TCP_BYTES = 16 << 20
TCP_ROUNDS = 5

# A global no-op socket filter on TCP: on every connection made while it
# is loaded.  Stop waits (bounded) for sf_unregistered.
NOOP_TCP = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socketfilter.h>
#include <netinet/in.h>

kern_return_t sfltnooptcp_start(kmod_info_t *ki, void *data);
kern_return_t sfltnooptcp_stop(kmod_info_t *ki, void *data);

static volatile int gone;

static errno_t
nop_attach(void **cookie, socket_t so)
{
	return 0;
}

static void
nop_detach(void *cookie, socket_t so)
{
}

static void
nop_unregistered(sflt_handle handle)
{
	gone = 1;
	wakeup((void *)&gone);
}

static errno_t
nop_data(void *cookie, socket_t so, const struct sockaddr *addr,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	return 0;
}

static struct sflt_filter nop = {
	0x6e6f7074, SFLT_GLOBAL, "sfltnooptcp", nop_unregistered, nop_attach,
	nop_detach, NULL, NULL, NULL, nop_data, nop_data, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL,
};

kern_return_t
sfltnooptcp_start(kmod_info_t *ki, void *data)
{
	if (sflt_register(&nop, PF_INET, SOCK_STREAM, IPPROTO_TCP) != 0)
		return KERN_FAILURE;
	return KERN_SUCCESS;
}

kern_return_t
sfltnooptcp_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { 2, 0 };

	if (!gone && sflt_unregister(0x6e6f7074) == 0 && !gone)
		msleep((void *)&gone, NULL, 0, "sfltnooptcp", &wait);
	return gone ? KERN_SUCCESS : KERN_FAILURE;
}
"""

Echo = Callable[[str], None]


def kext_source(folder: Path, name: str = KEXT, source: str | None = None) -> Path:
    """A bench kext's source bundle, written into `folder`: `name`.c is
    `source`, or tools/finch/data/<name>.c."""
    folder.mkdir(parents=True, exist_ok=True)
    if source is None:
        source = (resources.files("finch") / "data" / f"{name}.c").read_text()
    (folder / f"{name}.c").write_text(source)
    plist = {
        "CFBundleExecutable": name,
        "CFBundleIdentifier": f"com.finch.bench.{name}",
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": name,
        "CFBundlePackageType": "KEXT",
        "CFBundleVersion": "1.0.0",
        "OSBundleLibraries": {
            "com.apple.kpi.bsd": "8.0.0",
            "com.apple.kpi.libkern": "8.0.0",
            "com.apple.kpi.mach": "8.0.0",
        },
    }
    (folder / "Info.plist").write_bytes(plistlib.dumps(plist))
    return folder


def rows_from_rates(
    bare: dict[int, list[float]], filtered: dict[int, list[float]], sizes: Sequence[int]
) -> list[BenchRow]:
    """The three rows per frame size from the per-round rates."""
    rows = []
    for size in sizes:
        rows.append(BenchRow(f"UDP echo via a kext socket, {size} B", bare[size], unit="/s"))
        rows.append(BenchRow(f"UDP echo, no-op socket filter, {size} B", filtered[size], unit="/s"))
        rows.append(
            BenchRow(
                f"no-op socket filter vs none, {size} B",
                ratios(filtered[size], bare[size]),
                target=RATIO_TARGET,
                unit="%",
                at_least=True,
            )
        )
    return rows


def error_rows(message: str, sizes: Sequence[int] = FRAME_SIZES) -> list[BenchRow]:
    return [
        BenchRow(f"no-op socket filter vs none, {size} B", error=message, unit="%")
        for size in sizes
    ]


def interleaved_rates(
    wire: Wire, bare: Probe, filtered: Probe, seconds: float
) -> tuple[float, float]:
    """Both ports' echo rates over `seconds` each, measured in SLICES
    alternating slices (ABBA order), so that both see the same machine
    even when other work on it comes and goes."""
    answered = {id(bare): 0, id(filtered): 0}
    spent = {id(bare): 0.0, id(filtered): 0.0}
    for i in range(SLICES):
        pair = (bare, filtered) if i % 2 == 0 else (filtered, bare)
        for probe in pair:
            wire.drain(DRAIN_SECONDS)
            result = echo_rate(wire, probe, IN_FLIGHT, seconds / SLICES)
            answered[id(probe)] += result.answered
            spent[id(probe)] += result.seconds
    return (
        per_second(answered[id(bare)], spent[id(bare)]),
        per_second(answered[id(filtered)], spent[id(filtered)]),
    )


def run_sflt_benchmarks(
    tree: Tree,
    kernel: Path,
    rundir: Path,
    *,
    sizes: Sequence[int] = FRAME_SIZES,
    rounds: int = ROUNDS,
    seconds: float = SECONDS,
    echo: Echo = print,
) -> list[BenchRow]:
    bare: dict[int, list[float]] = {size: [] for size in sizes}
    filtered: dict[int, list[float]] = {size: [] for size in sizes}
    shutil.rmtree(rundir, ignore_errors=True)
    try:
        built = build_kext(
            kext_source(rundir / "src" / KEXT),
            tree=tree,
            out_dir=rundir / "kexts",
            echo=lambda line: None,
        )
        with Wire.open(rcvbuf=1 << 22) as wire:
            machine = Machine(kernel, rundir / "guest", kext_options(wire.options()))
            try:
                machine.boot()
                guest = KextGuest(machine, rundir / "kexts")
                guest.wait_ready()
                guest.load(built.bundle.path)
                probes = {
                    (port, size): udp_probe(size, port=port)
                    for port in (BARE_PORT, FILTERED_PORT)
                    for size in sizes
                }
                wait_ready(wire, probes[(BARE_PORT, sizes[0])])
                echo(
                    f"timing a no-op socket filter: {rounds} rounds of {seconds:g} s with "
                    f"{IN_FLIGHT} in flight, UDP echo with and without it "
                    f"({', '.join(f'{s} B' for s in sizes)}) ..."
                )
                for _ in range(rounds):
                    for size in sizes:
                        b, f = interleaved_rates(
                            wire, probes[(BARE_PORT, size)], probes[(FILTERED_PORT, size)], seconds
                        )
                        bare[size].append(b)
                        filtered[size].append(f)
            finally:
                machine.shutdown()
    except (FinchError, OSError) as e:
        return error_rows(str(e).splitlines()[0] if str(e) else type(e).__name__, sizes)
    return rows_from_rates(bare, filtered, sizes)


def tcp_rows_from_rates(bare: list[float], filtered: list[float]) -> list[BenchRow]:
    size = f"{TCP_BYTES >> 20} MiB"
    return [
        BenchRow(f"TCP into discard ({size}), no socket filter", bare, unit="MB/s"),
        BenchRow(f"TCP into discard ({size}), no-op socket filter", filtered, unit="MB/s"),
        BenchRow(
            "no-op socket filter vs none, TCP",
            ratios(filtered, bare),
            target=RATIO_TARGET,
            unit="%",
            at_least=True,
        ),
    ]


def run_sflt_tcp_benchmarks(
    tree: Tree,
    kernel: Path,
    rundir: Path,
    *,
    rounds: int = TCP_ROUNDS,
    echo: Echo = print,
) -> list[BenchRow]:
    """The TCP rows; one noted row on a kernel without TCP."""
    bare: list[float] = []
    filtered: list[float] = []
    shutil.rmtree(rundir, ignore_errors=True)
    name = "no-op socket filter vs none, TCP"
    try:
        build_all_kexts(tree, echo=lambda line: None)  # build/kexts/inetd.kext
        built = build_kext(
            kext_source(rundir / "src" / TCP_KEXT, TCP_KEXT, NOOP_TCP),
            tree=tree,
            out_dir=rundir / "kexts",
            echo=lambda line: None,
        )
        network = user_network()
        with InetdGuest(kernel, tree.build_dir / "kexts", rundir / "guest", network) as inetd:
            if not inetd.boot():
                return [BenchRow(name, note="n/a (no TCP)", unit="%")]
            echo(
                f"timing a no-op socket filter on TCP: {rounds} rounds of {TCP_BYTES >> 20} MiB "
                "into inetd's discard, with and without it ..."
            )
            for round_ in range(rounds):
                for with_filter in (False, True) if round_ % 2 == 0 else (True, False):
                    if with_filter:
                        [loaded] = inetd.guest.load(built.bundle.path)
                    try:
                        rate = network.client.send(TCP_BYTES).mb_per_s
                    finally:
                        if with_filter:
                            inetd.guest.unload(loaded.bundle.identifier)
                    (filtered if with_filter else bare).append(rate)
    except (FinchError, OSError) as e:
        return [BenchRow(name, error=str(e).splitlines()[0] if str(e) else type(e).__name__)]
    return tcp_rows_from_rates(bare, filtered)
