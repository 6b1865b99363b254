"""A private network namespace holding one tap device with an address:
the tap path of the TCP benchmark, where a guest's e1000 is wired to
Linux's own stack instead of QEMU's user networking.

    with private_netns("10.0.2.2/24") as ns:      # ip netns add, ip tuntap add, ...
        ns.netdev                                  # tap,id=net0,ifname=...,script=no,...
        ns.qemu_wrapper(rundir)                    # QEMU started inside the namespace
        subprocess.run(ns.exec_argv(["ping", ...]))

QEMU opens the tap by name in its own namespace, so it runs inside ours
(a two-line wrapper script: `exec ip netns exec NAME qemu ...`, the same
process, so signals still reach QEMU).  Clients run there too with
`ip netns exec`.  Traffic never leaves the namespace; deleting it (always,
on the way out) deletes the tap.  Needs root.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from finch.errors import FinchError
from finch.qemu_args import QEMU

TAP = "finchtap0"


class NetnsError(FinchError):
    """A network namespace or its tap could not be set up."""


@dataclass(frozen=True)
class Netns:
    name: str
    tap: str
    address: str  # the namespace's end of the tap, with its prefix: "10.0.2.2/24"

    @property
    def netdev(self) -> str:
        return f"tap,id=net0,ifname={self.tap},script=no,downscript=no"

    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def qemu_wrapper(self, directory: Path, qemu: str = QEMU) -> Path:
        """A script that runs `qemu` (with the arguments it is given) in
        this namespace: QemuOptions.qemu for a guest on the tap."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"qemu-in-{self.name}"
        path.write_text(f'#!/bin/sh\nexec {" ".join(self.exec_argv([qemu]))} "$@"\n')
        path.chmod(0o755)
        return path


def setup_commands(ns: Netns) -> list[list[str]]:
    """The ip commands that make the namespace, in order."""
    inside = ["ip", "-n", ns.name]
    return [
        ["ip", "netns", "add", ns.name],
        [*inside, "link", "set", "lo", "up"],
        [*inside, "tuntap", "add", "dev", ns.tap, "mode", "tap"],
        [*inside, "addr", "add", ns.address, "dev", ns.tap],
        [*inside, "link", "set", ns.tap, "up"],
        # Short connections leave TIME_WAIT sockets here, as on loopback,
        # where Linux reuses them by default (tcp_tw_reuse=2).
        ns.exec_argv(["sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"]),
    ]


def _ip(argv: list[str]) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except FileNotFoundError as e:
        raise NetnsError("`ip` was not found: install iproute2 (apt-get install iproute2)") from e
    if proc.returncode != 0:
        raise NetnsError(
            f"`{' '.join(argv)}` failed (exit {proc.returncode}): {proc.stderr.strip()}; "
            "the tap path needs root, iproute2 and /dev/net/tun"
        )


@contextlib.contextmanager
def private_netns(address: str, name: str | None = None, tap: str = TAP) -> Iterator[Netns]:
    """A namespace (named after this process unless `name` is given) with
    `tap` up and holding `address`; deleted on the way out, even when
    setting it up failed half way."""
    if os.geteuid() != 0:
        raise NetnsError("the tap path needs root (ip netns add); run as root or skip it")
    ns = Netns(name or f"finch-{os.getpid()}", tap, address)
    try:
        for argv in setup_commands(ns):
            _ip(argv)
        yield ns
    finally:
        subprocess.run(
            ["ip", "netns", "delete", ns.name], capture_output=True, check=False, timeout=30
        )
