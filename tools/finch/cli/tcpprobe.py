"""One TCP measurement of finch.tcpbench, printed as one line of JSON:
what finch.tcpbench.NetnsClient runs inside a network namespace with
`ip netns exec NS python -m finch.cli.tcpprobe KIND HOST PORT AMOUNT`.
Not a `finch` subcommand: a tool for that client.

    send HOST PORT BYTES       into a discard service, until it confirms
    receive HOST PORT BYTES    out of a source service
    connect HOST PORT SECONDS  short connections to an echo service
    ready HOST PORT SECONDS    one short connection, retried up to SECONDS

Prints {"kind": ..., "bytes"/"count": ..., "seconds": ...}, or {"error":
...} and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from finch.errors import FinchError
from finch.tcpbench import (
    TcpService,
    probe_result,
    receive_from_source,
    send_to_discard,
    short_connections,
    wait_until_echoes,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finch.cli.tcpprobe", description=__doc__)
    parser.add_argument("kind", choices=("send", "receive", "connect", "ready"))
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("amount", help="bytes (an integer), or seconds for connect and ready")
    args = parser.parse_args(argv)
    ports = {"send": "discard", "receive": "source", "connect": "echo", "ready": "echo"}
    service = TcpService(args.host, **{ports[args.kind]: args.port})
    transfer = args.kind in ("send", "receive")
    try:
        amount = int(args.amount) if transfer else float(args.amount)
    except ValueError:
        what = "a whole number of bytes" if transfer else "seconds"
        parser.error(f"AMOUNT must be {what}, not {args.amount!r}")
    try:
        if args.kind == "send":
            result = probe_result("send", send_to_discard(service, int(amount)))
        elif args.kind == "receive":
            result = probe_result("receive", receive_from_source(service, int(amount)))
        elif args.kind == "connect":
            result = probe_result("connect", short_connections(service, amount))
        else:
            result = probe_result("ready", wait_until_echoes(service, amount))
    except FinchError as e:
        print(json.dumps({"kind": args.kind, "error": str(e)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
