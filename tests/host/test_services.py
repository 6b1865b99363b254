"""finch.services: the ports `finch run --services` forwards and the text
chargen sends, checked without a guest."""

from __future__ import annotations

from finch.cli.run import network_options, service_forwards
from finch.services import (
    CHARGEN_LINELEN,
    CHARGEN_PERIOD,
    UDP_CHARGEN_LINES,
    chargen_bytes,
    chargen_first_line,
    chargen_line,
)


def test_chargen_lines_rotate_through_the_95_printable_characters() -> None:
    assert chargen_line(0) == bytes(range(0x20, 0x20 + 72)) + b"\r\n"
    assert chargen_line(1)[:3] == b'!"#'
    assert chargen_line(94)[:2] == b"~ "
    assert chargen_line(95) == chargen_line(0)


def test_chargen_bytes_cross_the_end_of_the_period() -> None:
    stream = b"".join(chargen_line(i) for i in range(200))
    assert chargen_bytes(0, len(stream)) == stream
    assert (
        chargen_bytes(CHARGEN_PERIOD - 10, 30) == stream[CHARGEN_PERIOD - 10 : CHARGEN_PERIOD + 20]
    )


def test_a_udp_chargen_answer_is_recognised_by_its_first_line() -> None:
    answer = chargen_bytes(93 * CHARGEN_LINELEN, UDP_CHARGEN_LINES * CHARGEN_LINELEN)
    assert chargen_first_line(answer) == 93
    assert chargen_first_line(answer[:-1]) is None
    assert chargen_first_line(b"x" + answer[1:]) is None


def test_finch_run_forwards_udp_echo_alone_unless_asked_for_the_services() -> None:
    assert network_options(7007) == (
        ["user,id=net0,hostfwd=udp:127.0.0.1:7007-:7"],
        ["e1000,netdev=net0"],
    )
    netdev = network_options(5007, services=True)[0][0]
    rules = [
        "udp:127.0.0.1:5007-:7",
        "udp:127.0.0.1:9009-:9",
        "tcp:127.0.0.1:7007-:7",
        "tcp:127.0.0.1:9009-:9",
        "tcp:127.0.0.1:19019-:19",
        "tcp:127.0.0.1:8080-:80",
    ]
    for rule in rules:
        assert f"hostfwd={rule}" in netdev
    names = [f.name for f in service_forwards(7007, services=True)]
    assert names == ["UDP echo", "UDP discard", "UDP chargen", "TCP echo", "TCP discard",
                     "TCP chargen", "HTTP status page"]  # fmt: skip
