"""The TCP rows of `finch bench` for IP and interface filters: what a
no-op filter of each kind costs a TCP transfer, as a ratio of the same
transfer without it, in the same run.

A guest on user networking with kexts/inetd (finch.inetdbench.InetdGuest)
takes TCP_BYTES into its discard service (finch.tcpbench.send_to_discard)
in three states:

    none    no filter
    ipf     the bench kext nopipf: an IP filter whose ipf_input and
            ipf_output return 0
    iflt    the bench kext nopiflt: an interface filter on en0 whose
            iff_input and iff_output return 0

(the two kexts of finch.filterbench, which measures them on UDP echo).
Each round measures every state once, a kext loaded just before its
transfers and unloaded after; the state that goes first turns round by
round, so that none gains from its place.  A state's sample in a round
is the fastest of REPEATS transfers: the machine is shared, and other
work only ever slows a transfer down, so the fastest is the one least
disturbed.  Each round gives a ratio, filtered over unfiltered
throughput in percent:

    TCP into discard (N MiB), <state>          MB/s
    no-op IP filter vs none, TCP               target: at least RATIO_TARGET
    no-op interface filter vs none, TCP        (a no-op filter costs < 5%)

A kernel without TCP gets noted rows.  finch.sfltbench measures the
no-op socket filter on the same traffic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from finch.benchrow import BenchRow
from finch.build import Tree
from finch.errors import FinchError
from finch.filterbench import build_filter_kexts
from finch.inetdbench import InetdGuest
from finch.kext.build import build_all_kexts
from finch.kext.guest import KextGuest
from finch.netbench import ratios
from finch.tcpbench import Client, user_network

TCP_BYTES = 8 << 20
ROUNDS = 5
REPEATS = 3  # transfers per state and round; the fastest counts
RATIO_TARGET = 95.0  # percent: a no-op filter costs less than 5%
STATES = ("none", "ipf", "iflt")
LABELS = {"none": "no filter", "ipf": "no-op IP filter", "iflt": "no-op interface filter"}

Echo = Callable[[str], None]


def ratio_name(state: str) -> str:
    return f"{LABELS[state]} vs none, TCP"


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


def round_order(round_: int, states: Sequence[str] = STATES) -> list[str]:
    """The states of round `round_`, the first one turning each round."""
    k = round_ % len(states)
    return [*states[k:], *states[:k]]


def measure(
    guest: KextGuest,
    client: Client,
    bundles: dict[str, Path],
    rounds: int,
    size: int = TCP_BYTES,
    echo: Echo = lambda line: None,
) -> dict[str, list[float]]:
    """MB/s into discard per state, a sample per round."""
    rates: dict[str, list[float]] = {state: [] for state in STATES}
    for round_ in range(rounds):
        for state in round_order(round_):
            with _loaded(guest, bundles.get(state)):
                rates[state].append(max(client.send(size).mb_per_s for _ in range(REPEATS)))
        echo(
            f"  round {round_ + 1}/{rounds}: "
            + ", ".join(f"{LABELS[s]} {rates[s][-1]:.1f} MB/s" for s in STATES)
        )
    return rates


def rows_from_rates(rates: dict[str, list[float]], size: int = TCP_BYTES) -> list[BenchRow]:
    mib = f"{size >> 20} MiB"
    rows = [
        BenchRow(f"TCP into discard ({mib}), {LABELS[state]}", rates[state], unit="MB/s")
        for state in STATES
    ]
    for state in ("ipf", "iflt"):
        rows.append(
            BenchRow(
                ratio_name(state),
                ratios(rates[state], rates["none"]),
                target=RATIO_TARGET,
                unit="%",
                at_least=True,
            )
        )
    return rows


def error_rows(message: str | None = None, note: str | None = None) -> list[BenchRow]:
    """The two ratio rows, failed with `message` or noted with `note`."""
    return [
        BenchRow(ratio_name(state), error=message, note=note, unit="%") for state in ("ipf", "iflt")
    ]


def run_tcp_filter_benchmarks(
    tree: Tree, kernel: Path, rundir: Path, *, rounds: int = ROUNDS, echo: Echo = print
) -> list[BenchRow]:
    try:
        build_all_kexts(tree, echo=lambda line: None)  # build/kexts/inetd.kext
        bundles = build_filter_kexts(tree, rundir / "filters", lambda line: None)
        network = user_network()
        with InetdGuest(kernel, tree.build_dir / "kexts", rundir / "guest", network) as inetd:
            if not inetd.boot():
                return error_rows(note="n/a (no TCP)")
            echo(
                f"timing a no-op IP filter and a no-op interface filter on TCP: {rounds} "
                f"rounds, in each the best of {REPEATS} transfers of {TCP_BYTES >> 20} MiB "
                "into inetd's discard per state ..."
            )
            rates = measure(inetd.guest, network.client, bundles, rounds, echo=echo)
    except (FinchError, OSError) as e:
        return error_rows(str(e).splitlines()[0] if str(e) else type(e).__name__)
    return rows_from_rates(rates)
