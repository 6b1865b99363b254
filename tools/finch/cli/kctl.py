"""Talk to a kext's kernel control in the running guest, as a client
program would on a Mac: look the control up by name, connect to a unit,
send data, print what the kext sends back, set and get its options.

    finch kctl com.example.echo                      # its id, if registered
    finch kctl com.example.echo --send hello --recv
    finch kctl com.example.echo --setopt 1=42 --getopt 1

Actions run in the order given on one connection.  Received records are
printed as text when they are printable, else in hex.  Option values are
32-bit integers (1=42, 1=0x2a) or bytes in hex (1=hex:00ff).  The host is
root unless --unprivileged: a CTL_FLAG_PRIVILEGED control then refuses
to connect.  Sockets a tool that died left open in the guest (its
`hostsock` command lists them) keep their controls busy: --close-all
closes them.  QEMU serves the host link to one tool at a time.
"""

from __future__ import annotations

import argparse
import struct
from collections.abc import Sequence
from pathlib import Path

from finch.cli.kexttool import RUNDIR_HELP, run_tool, rundir
from finch.kctl import KctlError, KernelControl, close_all, lookup
from finch.session import GuestSession

NAME = "kctl"
HELP = "talk to a kext's kernel control (connect, send, receive, options)"
ACCEPTS_PASSTHROUGH = False


def _option(text: str) -> tuple[int, int | bytes]:
    """OPT=VALUE: an int value, or hex:-prefixed bytes."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not OPT=VALUE (for example 1=42)")
    try:
        option = int(name, 0)
        if value.startswith("hex:"):
            return option, bytes.fromhex(value[4:])
        return option, int(value, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the option is a number and the value a number or hex:BYTES"
        ) from None


class _Append(argparse.Action):
    """Keep every action in command-line order in args.actions."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        actions = list(getattr(namespace, "actions", None) or [])
        actions.append((self.dest, values))
        namespace.actions = actions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="the control's name, as the kext registered it")
    parser.add_argument(
        "--close-all",
        action="store_true",
        help="close every socket the host left open in the guest (a tool that died "
        "leaves them; the guest's `hostsock` lists them), then do the rest",
    )
    parser.add_argument("--rundir", type=Path, default=None, metavar="DIR", help=RUNDIR_HELP)
    parser.add_argument(
        "-u",
        "--unit",
        type=int,
        default=0,
        help="the unit to connect to (default 0: the lowest free)",
    )
    parser.add_argument(
        "--unprivileged", action="store_true", help="connect without root's credential"
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="connect with a SOCK_STREAM socket (for a CTL_FLAG_REG_SOCK_STREAM control)",
    )
    parser.add_argument(
        "-s",
        "--send",
        dest="send",
        action=_Append,
        metavar="TEXT",
        help="send TEXT (UTF-8) as one record",
    )
    parser.add_argument(
        "-r",
        "--recv",
        dest="recv",
        action=_Append,
        nargs=0,
        help="print the next record the kext enqueued (waits --timeout)",
    )
    parser.add_argument(
        "--setopt",
        dest="setopt",
        action=_Append,
        type=_option,
        metavar="OPT=VALUE",
        help="setsockopt(SYSPROTO_CONTROL, OPT)",
    )
    parser.add_argument(
        "--getopt",
        dest="getopt",
        action=_Append,
        type=int,
        metavar="OPT",
        help="print getsockopt(SYSPROTO_CONTROL, OPT)",
    )
    parser.add_argument(
        "-t",
        "--timeout",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how long --recv waits for a record (default 2)",
    )
    parser.set_defaults(actions=[])


def _show(data: bytes) -> str:
    """Text (lines and tabs allowed; a last newline dropped), else hex."""
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text or not text.replace("\n", "").replace("\t", "").isprintable():
        return data.hex()
    return text.removesuffix("\n")


def run(args: argparse.Namespace) -> int:
    if args.name is None and not args.close_all:
        raise KctlError("name a kernel control (or give --close-all)")
    with GuestSession.open(rundir(args)) as session:
        if args.close_all:
            close_all(session)
        if args.name is None:
            return 0
        if not args.actions:
            print(f"{args.name}: id {lookup(session, args.name)}")
            return 0
        with KernelControl.connect(
            session, args.name, args.unit, privileged=not args.unprivileged, stream=args.stream
        ) as ctl:
            for action, value in args.actions:
                _act(ctl, action, value, args.timeout)
    return 0


def _act(ctl: KernelControl, action: str, value: object, timeout: float) -> None:
    if action == "send":
        assert isinstance(value, str)
        print(f"sent {ctl.send(value.encode('utf-8'))} bytes")
    elif action == "recv":
        data = ctl.recv(timeout=timeout)
        if data is None:
            raise KctlError(f"nothing came from {ctl.name!r} within {timeout:g} s")
        print(_show(data))
    elif action == "setopt":
        assert isinstance(value, tuple)
        ctl.setsockopt(*value)
    elif action == "getopt":
        assert isinstance(value, int)
        data = ctl.getsockopt(value, 256)
        shown = str(struct.unpack("<i", data)[0]) if len(data) == 4 else data.hex()
        print(f"option {value}: {shown}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run_tool("kctl", parser, run, argv)
