"""Check that this host can build and run Finch: gcc compiles 32-bit
freestanding code, and qemu-system-i386 is installed, recent enough
(7.2, for -netdev dgram) and has user networking.
"""

from __future__ import annotations

import argparse

from finch.preflight import preflight

NAME = "preflight"
HELP = "check that QEMU and gcc are good enough"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    info = preflight()
    version = ".".join(map(str, info.version))
    print(f"ok: {info.path} (QEMU {version}) with user networking; gcc builds 32-bit code")
    return 0
