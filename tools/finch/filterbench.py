"""The filter rows of `finch bench`: what a filter that does nothing costs
the stack.  One guest, on a `-netdev dgram` wire whose far end is a host
peer (finch.wire), answers UDP echo (port 7) at full speed, with 32 frames
in flight (finch.netbench's echo_rate), in three states:

    none    no filter
    ipf     a kext whose IP filter returns 0 from ipf_input and ipf_output
    iflt    a kext whose interface filter on en0 returns 0 from iff_input
            and iff_output

The states alternate round after round, each going first in turn (the
kext loaded before its turn and unloaded after), so that every state
sees the same machine; each round gives a ratio, filtered rate over
unfiltered rate in that round.  On a loaded host the spread is wide:
read the median of the ratios, not one round.
Target: a no-op filter keeps at least RATIO_TARGET percent of the rate.
The two kexts are written here and built into the bench directory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from finch.benchrow import BenchRow
from finch.build import Tree
from finch.errors import FinchError
from finch.kext.build import build_kext
from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.netbench import IN_FLIGHT, echo_rate, ratios, udp_probe, wait_ready
from finch.wire import Wire

SIZE = 64
ROUNDS = 10
SECONDS = 0.5
RATIO_TARGET = 95.0  # percent: a no-op filter costs less than 5%

Echo = Callable[[str], None]

_PLIST = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>{name}</string>
	<key>CFBundleIdentifier</key>
	<string>com.finch.bench.{name}</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>CFBundleName</key>
	<string>{name}</string>
	<key>CFBundlePackageType</key>
	<string>KEXT</string>
	<key>CFBundleVersion</key>
	<string>1.0.0</string>
	<key>OSBundleLibraries</key>
	<dict>
		<key>com.apple.kpi.bsd</key>
		<string>8.0.0</string>
		<key>com.apple.kpi.libkern</key>
		<string>8.0.0</string>
	</dict>
</dict>
</plist>
"""

NOPIPF = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <netinet/kpi_ipfilter.h>

kern_return_t nopipf_start(kmod_info_t *ki, void *data);
kern_return_t nopipf_stop(kmod_info_t *ki, void *data);

static ipfilter_t ref;

static errno_t
nop_input(void *cookie, mbuf_t *data, int offset, u_int8_t protocol)
{
	return 0;
}

static errno_t
nop_output(void *cookie, mbuf_t *data, ipf_pktopts_t options)
{
	return 0;
}

kern_return_t
nopipf_start(kmod_info_t *ki, void *data)
{
	struct ipf_filter f = { NULL, "nop", nop_input, nop_output, NULL };

	return ipf_addv4(&f, &ref) == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
nopipf_stop(kmod_info_t *ki, void *data)
{
	return ipf_remove(ref) == 0 ? KERN_SUCCESS : KERN_FAILURE;
}
"""

NOPIFLT = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>

kern_return_t nopiflt_start(kmod_info_t *ki, void *data);
kern_return_t nopiflt_stop(kmod_info_t *ki, void *data);

static interface_filter_t ref;
static volatile int detached;

static errno_t
nop_input(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *data,
    char **frame)
{
	return 0;
}

static errno_t
nop_output(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *data)
{
	return 0;
}

static void
nop_detached(void *cookie, ifnet_t ifp)
{
	detached = 1;
}

kern_return_t
nopiflt_start(kmod_info_t *ki, void *data)
{
	struct iff_filter f = { NULL, "nop", 0, nop_input, nop_output, NULL,
		NULL, nop_detached };
	ifnet_t ifp;
	errno_t error;

	if (ifnet_find_by_name("en0", &ifp) != 0)
		return KERN_FAILURE;
	error = iflt_attach(ifp, &f, &ref);
	ifnet_release(ifp);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

/* iff_detached comes inside iflt_detach when no callback is running;
 * else kextunload -w calls stop again. */
kern_return_t
nopiflt_stop(kmod_info_t *ki, void *data)
{
	if (!detached)
		iflt_detach(ref);
	return detached ? KERN_SUCCESS : KERN_FAILURE;
}
"""

KEXTS = {"ipf": ("nopipf", NOPIPF), "iflt": ("nopiflt", NOPIFLT)}
LABELS = {"none": "no filter", "ipf": "a no-op IP filter", "iflt": "a no-op interface filter"}


def build_filter_kexts(tree: Tree, workdir: Path, echo: Echo) -> dict[str, Path]:
    """The two no-op filter kexts, built under workdir: {state: bundle}."""
    bundles = {}
    for state, (name, source) in KEXTS.items():
        folder = workdir / "src" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Info.plist").write_text(_PLIST.format(name=name))
        (folder / f"{name}.c").write_text(source)
        built = build_kext(folder, tree=tree, out_dir=workdir / "kexts", echo=echo)
        bundles[state] = built.bundle.path
    return bundles


@contextlib.contextmanager
def _loaded(guest: KextGuest, bundle: Path | None) -> Iterator[None]:
    if bundle is None:
        yield
        return
    [result] = guest.load(bundle)
    try:
        yield
    finally:
        guest.unload(result.bundle.identifier)


def measure(guest: KextGuest, wire: Wire, bundles: dict[str, Path]) -> dict[str, list[float]]:
    """UDP echo rates, per state, ROUNDS rounds, the states alternating."""
    probe = udp_probe(SIZE)
    rates: dict[str, list[float]] = {state: [] for state in LABELS}
    states = list(LABELS)
    for round_ in range(ROUNDS):
        # Each state goes first in turn: none gains from its place.
        for state in states[round_ % 3 :] + states[: round_ % 3]:
            with _loaded(guest, bundles.get(state)):
                wire.drain(0.05)
                rates[state].append(echo_rate(wire, probe, IN_FLIGHT, SECONDS).rate)
    return rates


def rates_to_rows(rates: dict[str, list[float]]) -> list[BenchRow]:
    how = f"{SIZE} B, {IN_FLIGHT} in flight ({ROUNDS} x {SECONDS:g} s)"
    rows = [
        BenchRow(f"UDP echo rate with {label}, {how}", samples=rates[state], unit="/s")
        for state, label in LABELS.items()
    ]
    for state in ("ipf", "iflt"):
        rows.append(
            BenchRow(
                f"UDP echo rate with {LABELS[state]} / with none, {SIZE} B",
                samples=ratios(rates[state], rates["none"]),
                target=RATIO_TARGET,
                unit="%",
                at_least=True,
            )
        )
    return rows


def error_rows(message: str) -> list[BenchRow]:
    return [
        BenchRow(
            f"UDP echo rate with {LABELS[state]} / with none, {SIZE} B",
            target=RATIO_TARGET,
            unit="%",
            at_least=True,
            error=message,
        )
        for state in ("ipf", "iflt")
    ]


def run_filter_benchmarks(
    tree: Tree, kernel: Path, rundir: Path, *, echo: Echo = print
) -> list[BenchRow]:
    try:
        bundles = build_filter_kexts(tree, tree.bench_dir / "filters", lambda line: None)
        with Wire.open() as wire:
            machine = Machine(kernel, rundir / "filters", kext_options(wire.options()))
            try:
                machine.boot()
                guest = KextGuest(machine, tree.bench_dir / "filters" / "kexts")
                guest.wait_ready()
                wait_ready(wire, udp_probe(SIZE))
                echo(
                    f"timing UDP echo with no filter, a no-op IP filter and a no-op "
                    f"interface filter: {ROUNDS} rounds of {SECONDS:g} s each ..."
                )
                rates = measure(guest, wire, bundles)
            finally:
                machine.shutdown()
    except (FinchError, OSError) as e:
        return error_rows(str(e).splitlines()[0] if str(e) else type(e).__name__)
    return rates_to_rows(rates)
