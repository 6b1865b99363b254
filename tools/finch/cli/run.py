"""Build the kernel and the kexts (build/kexts), and boot the kernel in
QEMU with COM1 on this terminal: you type at the kernel monitor's
`finch> ` prompt.  `halt [status]` ends the
machine (this command then exits with that status); Ctrl-A X quits QEMU
at any time, Ctrl-A C switches to QEMU's own monitor, and Ctrl-C goes to
the guest.  The console is also logged to build/run/console.log; COM2,
the host link, is the unix socket build/run/serial2.sock; guest RAM is a
file under /dev/shm shared with the host (kextload writes kexts into it);
and build/run/machine.json tells kextload, kextstat and kextunload where
the guest is.  The guest's en0 is an e1000 on QEMU's user networking
(10.0.2.15, gateway 10.0.2.2); host UDP port 7007 (--udp-echo-port)
reaches its UDP echo service on port 7.

With --services the guest boots with `noudpecho`, kexts/inetd is loaded
as soon as the host link answers, and host ports on 127.0.0.1 reach its
services: echo 7007, discard 9009 and chargen 19019 (TCP and UDP) and the
HTTP status page 8080 (`curl http://127.0.0.1:8080/`).

Arguments after `--` go to QEMU as they are:  finch run -- -s -S
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from finch.build import Tree, build_kernel
from finch.errors import FinchError, MachineError
from finch.kext.build import build_all_kexts
from finch.kext.load import load_kexts
from finch.kext.records import KextRecords
from finch.machine import Machine
from finch.panic import run_symbolizer, symbolize_panics
from finch.preflight import preflight
from finch.qemu_args import (
    DEFAULT_MEMORY_MB,
    HOSTLINK_SOCKET,
    ConsoleMode,
    QemuOptions,
    SerialSocket,
)
from finch.runinfo import FILE_NAME, RunInfo
from finch.services import INETD, NO_UDP_ECHO, RUN_FORWARDS, Forward, hostfwd_rules

NAME = "run"
HELP = "build and boot Finch with its console on this terminal"
ACCEPTS_PASSTHROUGH = True

DEFAULT_UDP_ECHO_PORT = 7007
SOCKET_WAIT = 10.0  # seconds --services waits for QEMU to make the host link's socket


def service_forwards(udp_echo_port: int, services: bool) -> list[Forward]:
    """The host ports forwarded to the guest: UDP echo alone, or with
    --services every service of inetd (RUN_FORWARDS)."""
    udp_echo = Forward("udp", udp_echo_port, 7, "UDP echo")
    if not services:
        return [udp_echo]
    return [udp_echo if (f.proto, f.guest) == ("udp", 7) else f for f in RUN_FORWARDS]


def network_options(udp_echo_port: int, services: bool = False) -> tuple[list[str], list[str]]:
    """-netdev and -device values: an e1000 (en0) on QEMU's user
    networking, with host ports forwarded to the guest's services."""
    netdev = f"user,id=net0{hostfwd_rules(service_forwards(udp_echo_port, services))}"
    return [netdev], ["e1000,netdev=net0"]


def load_services_when_ready(rundir: Path, bundle: Path, hostlink: Path) -> threading.Thread:
    """kextload inetd in the background, once QEMU has made the host
    link's socket (QEMU starts while this runs) and the guest answers on
    it; the guest's console says when inetd serves.  The terminal is raw
    while QEMU runs: lines end in CR LF."""

    def load() -> None:
        deadline = time.monotonic() + SOCKET_WAIT
        while not hostlink.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # if it never comes, load_kexts says so
        try:
            load_kexts(rundir, [bundle])
        except FinchError as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            sys.stderr.write(f"\r\nFinch: --services: {bundle.name} did not load: {first}\r\n")
            sys.stderr.flush()

    thread = threading.Thread(target=load, name="finch-run-services", daemon=True)
    thread.start()
    return thread


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m",
        "--memory",
        type=int,
        default=DEFAULT_MEMORY_MB,
        metavar="MB",
        help=f"guest memory in MiB (default {DEFAULT_MEMORY_MB})",
    )
    parser.add_argument(
        "--rundir",
        type=Path,
        default=None,
        help="where machine.json and the logs go (default build/run)",
    )
    parser.add_argument("--no-build", action="store_true", help="boot images/finch.elf as it is")
    parser.add_argument(
        "--kernel", type=Path, default=None, help="boot this Multiboot ELF instead (no build)"
    )
    parser.add_argument(
        "--no-net", action="store_true", help="no network card (the guest has only lo0)"
    )
    parser.add_argument(
        "--udp-echo-port",
        type=int,
        default=DEFAULT_UDP_ECHO_PORT,
        metavar="PORT",
        help=f"host UDP port forwarded to the guest's echo service (default "
        f"{DEFAULT_UDP_ECHO_PORT})",
    )
    parser.add_argument(
        "--services",
        action="store_true",
        help="load kexts/inetd at boot and forward host ports to its services: echo 7007, "
        "discard 9009, chargen 19019 (TCP and UDP), HTTP status page 8080",
    )
    parser.add_argument(
        "--no-reboot",
        action="store_true",
        help="end QEMU when the guest reboots instead of booting again",
    )


def run(args: argparse.Namespace) -> int:
    tree = Tree.find()
    if args.kernel is not None:
        kernel = args.kernel
    elif args.no_build:
        kernel = tree.kernel_elf
    else:
        kernel = build_kernel(tree).elf
        build_all_kexts(tree)  # build/kexts, for kextload in another terminal
    if not kernel.exists():
        raise MachineError(f"{kernel} does not exist: run `make build` first")
    preflight()
    rundir = args.rundir or tree.run_dir
    _refuse_second_guest(rundir / FILE_NAME)
    KextRecords.in_rundir(rundir).clear()  # the kexts of an earlier guest are not in this one
    if args.services and args.no_net:
        raise MachineError("--services needs the network: drop --no-net")
    inetd = tree.build_dir / "kexts" / f"{INETD}.kext"
    if args.services and not inetd.is_dir():
        raise MachineError(f"{inetd} does not exist: run `make build` first")
    netdevs, devices = (
        ([], []) if args.no_net else network_options(args.udp_echo_port, args.services)
    )
    options = QemuOptions(
        memory_mb=args.memory,
        netdevs=netdevs,
        devices=devices,
        serial=(SerialSocket(HOSTLINK_SOCKET),),  # COM2: the host link, for kextload & co.
        shared_ram=True,  # kextload copies images straight into guest RAM
        no_reboot=args.no_reboot,
        extra_args=tuple(args.passthrough),
    )
    if args.services:  # the kernel's own UDP echo leaves port 7 to inetd
        options = replace(options, extra_args=("-append", NO_UDP_ECHO, *options.extra_args))
    machine = Machine(kernel, rundir, options, console=ConsoleMode.TERMINAL)
    if args.services:
        print(
            "Finch: services (kexts/inetd): "
            + ", ".join(
                f"{f.name}: host port {f.host}" for f in service_forwards(args.udp_echo_port, True)
            ),
            flush=True,
        )
    print(
        "Finch: type `halt` at the finch> prompt, or press Ctrl-A X, to quit. "
        f"Console log: {tree.relative(machine.paths.console_log)}",
        flush=True,
    )
    with machine:
        if args.services:
            load_services_when_ready(rundir, inetd, machine.serial_socket(2))
        # Ctrl-C belongs to the guest (the terminal is raw while QEMU runs);
        # a SIGTERM (kill, timeout) ends QEMU with us instead of orphaning it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        previous_term = signal.signal(signal.SIGTERM, _terminated)
        try:
            qemu_exit = machine.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, previous_term)
    _report_panic(machine)
    if qemu_exit.guest_status is not None:
        return qemu_exit.guest_status
    if qemu_exit.returncode == 0:
        print("Finch: QEMU quit.")
        return 0
    print(f"Finch: {qemu_exit.describe()}", file=sys.stderr)
    if qemu_exit.qemu_log.strip():
        print(qemu_exit.qemu_log.rstrip(), file=sys.stderr)
    return 128 - qemu_exit.returncode if qemu_exit.returncode < 0 else 1


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM: leave through the `with machine:`, which shuts QEMU down."""
    raise SystemExit(128 + signum)


def _refuse_second_guest(machine_json: Path) -> None:
    try:
        info = RunInfo.read(machine_json)
    except MachineError:
        return  # none, or a stale file from a guest that is gone
    raise MachineError(
        f"a Finch guest is already running from {machine_json.parent} (QEMU pid {info.pid}): "
        "quit it first (`halt` or Ctrl-A X in its terminal), or use --rundir"
    )


def _report_panic(machine: Machine) -> None:
    """If the guest panicked, print its report with every address named
    (in the kernel and in the kexts loaded when it panicked)."""
    try:
        text = machine.paths.console_log.read_text(errors="replace")
    except FileNotFoundError:
        return
    panics = symbolize_panics(text, lambda: run_symbolizer(machine.kernel, machine.paths.rundir))
    if panics:  # the first stopped the guest
        print("\nFinch: the kernel panicked:\n" + panics[0].format(), file=sys.stderr)
