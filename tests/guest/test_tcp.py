"""TCP, against peers nobody on this project wrote.

Two guests serve the module.  One sits behind QEMU's user networking
(libslirp's BSD-derived TCP): the host reaches a small echo kext in it
through a hostfwd port, and the guest's `tcp connect` reaches listeners
on the host through the gateway 10.0.2.2.  The other owns a `-netdev
dgram` wire whose far end a scapy peer plays, for what real peers rarely
do: RSTs with bad sequence numbers, out-of-window data, lost, duplicated
and reordered segments, zero windows, a SYN flood, fuzz.  Every transfer
is checked by hash; every drop must show under its reason in `netstat -s`,
and `netstat -m` must come back to idle afterwards.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import checksum

from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.wire import GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire
from finch.wirepeer import WirePeer, netstat_s

MakeKext = Callable[..., Path]

KPIS = {"com.apple.kpi.bsd": "8.0.0", "com.apple.kpi.libkern": "8.0.0"}
ECHO_PORT = 7007
MIB = 1 << 20

# --------------------------------------------------------------------------
# The echo kext: one connection at a time, driven by upcalls only.

TCPECHO = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <netinet/in.h>

kern_return_t tcpecho_start(kmod_info_t *ki, void *data);
kern_return_t tcpecho_stop(kmod_info_t *ki, void *data);

static socket_t tcpecho_listener, tcpecho_conn;
static char tcpecho_buf[8192];
static size_t tcpecho_off, tcpecho_len;	/* bytes read, not yet echoed */

static void
tcpecho_done(socket_t so)
{
	sock_close(so);
	tcpecho_conn = NULL;
}

/* Echo what comes, never blocking: write what is pending, then read. */
static void
tcpecho_upcall(socket_t so, void *cookie, int waitf)
{
	struct msghdr msg;
	struct iovec iov;
	size_t n;
	errno_t error;

	if (so != tcpecho_conn)
		return;
	for (;;) {
		while (tcpecho_off < tcpecho_len) {
			bzero(&msg, sizeof(msg));
			iov.iov_base = tcpecho_buf + tcpecho_off;
			iov.iov_len = tcpecho_len - tcpecho_off;
			msg.msg_iov = &iov;
			msg.msg_iovlen = 1;
			error = sock_send(so, &msg, MSG_DONTWAIT, &n);
			tcpecho_off += n;
			if (error == EWOULDBLOCK)
				return;		/* the next upcall says: room */
			if (error != 0) {
				tcpecho_done(so);
				return;
			}
		}
		bzero(&msg, sizeof(msg));
		iov.iov_base = tcpecho_buf;
		iov.iov_len = sizeof(tcpecho_buf);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		error = sock_receive(so, &msg, MSG_DONTWAIT, &n);
		if (error == EWOULDBLOCK)
			return;
		if (error != 0 || n == 0) {	/* the peer is done: so are we */
			tcpecho_done(so);
			return;
		}
		tcpecho_off = 0;
		tcpecho_len = n;
	}
}

static void
tcpecho_accept(socket_t so, void *cookie, int waitf)
{
	socket_t new;

	while (sock_accept(so, NULL, 0, MSG_DONTWAIT, tcpecho_upcall, NULL,
		&new) == 0) {
		if (tcpecho_conn != NULL) {
			sock_close(new);	/* busy */
			continue;
		}
		tcpecho_off = tcpecho_len = 0;
		tcpecho_conn = new;
		tcpecho_upcall(new, NULL, waitf);
	}
}

kern_return_t
tcpecho_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in sin;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(PORT);
	if (sock_socket(PF_INET, SOCK_STREAM, IPPROTO_TCP, tcpecho_accept,
		NULL, &tcpecho_listener) != 0)
		return KERN_FAILURE;
	if (sock_bind(tcpecho_listener, (struct sockaddr *)&sin) != 0 ||
		sock_listen(tcpecho_listener, 8) != 0) {
		sock_close(tcpecho_listener);
		return KERN_FAILURE;
	}
	printf("tcpecho: listening on port %d\\n", PORT);
	return KERN_SUCCESS;
}

kern_return_t
tcpecho_stop(kmod_info_t *ki, void *data)
{
	sock_close(tcpecho_listener);
	if (tcpecho_conn != NULL)
		tcpecho_done(tcpecho_conn);
	return KERN_SUCCESS;
}
""".replace("PORT", str(ECHO_PORT))


# Checks the socket KPI on TCP over lo0, in its start routine: connect
# blocking and not (EINPROGRESS), accept, the backlog, shutdown's
# half-close, SO_LINGER 0's reset, a refused connect.  One line per
# failed check, then a summary.
TCPKPI = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <netinet/in.h>

kern_return_t tcpkpi_start(kmod_info_t *ki, void *data);
kern_return_t tcpkpi_stop(kmod_info_t *ki, void *data);

static int tcpkpi_failed;

#define CHECK(what, got, want) do {					\\
	int g_ = (got), w_ = (want);					\\
	if (g_ != w_) {							\\
		tcpkpi_failed++;					\\
		printf("tcpkpi: FAIL %s: got %d, want %d\\n", what, g_, w_);	\\
	}								\\
} while (0)

static struct sockaddr_in
tcpkpi_sin(int port)
{
	struct sockaddr_in sin;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return sin;
}

static socket_t
tcpkpi_socket(void)
{
	socket_t so = NULL;

	CHECK("sock_socket", sock_socket(PF_INET, SOCK_STREAM, 0, NULL, NULL,
		&so), 0);
	return so;
}

static errno_t
tcpkpi_io(socket_t so, char *buf, size_t len, int flags, size_t *n, int send)
{
	struct msghdr msg;
	struct iovec iov;

	bzero(&msg, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	return send ? sock_send(so, &msg, flags, n) :
		sock_receive(so, &msg, flags, n);
}

kern_return_t
tcpkpi_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in sin = tcpkpi_sin(7100), from, me;
	struct timeval tv = { 3, 0 }, short_tv = { 0, 300000 };
	struct linger lg = { 1, 0 };
	socket_t l, c, s, c2, s2, c3, c4;
	char buf[16];
	size_t n;

	l = tcpkpi_socket();
	CHECK("bind", sock_bind(l, (struct sockaddr *)&sin), 0);
	CHECK("listen", sock_listen(l, 1), 0);
	CHECK("accept on an empty queue, non-blocking", sock_accept(l, NULL,
		0, MSG_DONTWAIT, NULL, NULL, &s), EWOULDBLOCK);

	c = tcpkpi_socket();
	CHECK("non-blocking connect", sock_connect(c, (struct sockaddr *)&sin,
		MSG_DONTWAIT), EINPROGRESS);
	CHECK("connectwait", sock_connectwait(c, &tv), 0);
	CHECK("isconnected", sock_isconnected(c), 1);
	CHECK("accept", sock_accept(l, (struct sockaddr *)&from, sizeof(from),
		0, NULL, NULL, &s), 0);
	sock_getsockname(c, (struct sockaddr *)&me, sizeof(me));
	CHECK("accept's peer is the client", from.sin_port, me.sin_port);

	CHECK("send", tcpkpi_io(c, "ping", 4, 0, &n, 1), 0);
	CHECK("receive MSG_WAITALL", tcpkpi_io(s, buf, 4, MSG_WAITALL, &n, 0), 0);
	CHECK("received bytes", n == 4 && bcmp(buf, "ping", 4) == 0, 1);
	CHECK("shutdown SHUT_WR", sock_shutdown(c, SHUT_WR), 0);
	CHECK("EOF after the peer's shutdown", tcpkpi_io(s, buf, sizeof(buf),
		0, &n, 0), 0);
	CHECK("EOF is 0 bytes", (int)n, 0);
	CHECK("send on the half-closed connection", tcpkpi_io(s, "pong", 4, 0,
		&n, 1), 0);
	CHECK("receive after our shutdown", tcpkpi_io(c, buf, 4, MSG_WAITALL,
		&n, 0), 0);
	CHECK("received pong", n == 4 && bcmp(buf, "pong", 4) == 0, 1);
	CHECK("send after shutdown", tcpkpi_io(c, "x", 1, 0, &n, 1), EPIPE);
	sock_close(s);
	CHECK("EOF after close", tcpkpi_io(c, buf, sizeof(buf), 0, &n, 0), 0);
	CHECK("EOF is 0 bytes", (int)n, 0);
	sock_close(c);

	/* SO_LINGER with 0: close resets. */
	c2 = tcpkpi_socket();
	CHECK("blocking connect", sock_connect(c2, (struct sockaddr *)&sin, 0),
		0);
	CHECK("accept 2", sock_accept(l, NULL, 0, 0, NULL, NULL, &s2), 0);
	CHECK("SO_LINGER", sock_setsockopt(s2, SOL_SOCKET, SO_LINGER, &lg,
		sizeof(lg)), 0);
	sock_close(s2);
	sock_setsockopt(c2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK("receive after the peer's reset", tcpkpi_io(c2, buf,
		sizeof(buf), 0, &n, 0), ECONNRESET);
	sock_close(c2);

	/* The backlog: 1 (BSD's slack lets 2 wait). */
	/* The third waits in SYN_SENT until accept makes room. */
	c = tcpkpi_socket();
	c3 = tcpkpi_socket();
	c4 = tcpkpi_socket();
	CHECK("connect 1", sock_connect(c, (struct sockaddr *)&sin, 0), 0);
	CHECK("connect 2", sock_connect(c3, (struct sockaddr *)&sin, 0), 0);
	CHECK("connect 3 (over the backlog)", sock_connect(c4,
		(struct sockaddr *)&sin, MSG_DONTWAIT), EINPROGRESS);
	CHECK("connect 3 waits", sock_connectwait(c4, &short_tv), EINPROGRESS);
	CHECK("accept makes room", sock_accept(l, NULL, 0, 0, NULL, NULL, &s),
		0);
	CHECK("connect 3 gets in", sock_connectwait(c4, &tv), 0);
	sock_close(s);
	sock_close(c);
	sock_close(c3);
	sock_close(c4);
	sock_close(l);

	sin = tcpkpi_sin(7199);
	c = tcpkpi_socket();
	CHECK("connect to a closed port", sock_connect(c,
		(struct sockaddr *)&sin, 0), ECONNREFUSED);
	sock_close(c);
	printf("tcpkpi: done, %d failed\\n", tcpkpi_failed);
	return KERN_SUCCESS;
}

kern_return_t
tcpkpi_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""


# Connects to the peer with keepalive after 1 s of silence, and waits.
TCPKEEP = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

kern_return_t tcpkeep_start(kmod_info_t *ki, void *data);
kern_return_t tcpkeep_stop(kmod_info_t *ki, void *data);

static socket_t tcpkeep_so;

kern_return_t
tcpkeep_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in sin;
	int on = 1, idle = 1;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x0a000202);	/* 10.0.2.2 */
	sin.sin_port = htons(6000);
	if (sock_socket(PF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, NULL,
		&tcpkeep_so) != 0)
		return KERN_FAILURE;
	sock_setsockopt(tcpkeep_so, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	sock_setsockopt(tcpkeep_so, IPPROTO_TCP, TCP_KEEPALIVE, &idle,
		sizeof(idle));
	printf("tcpkeep: connect: %d\\n", sock_connect(tcpkeep_so,
		(struct sockaddr *)&sin, MSG_DONTWAIT));
	return KERN_SUCCESS;
}

kern_return_t
tcpkeep_stop(kmod_info_t *ki, void *data)
{
	sock_close(tcpkeep_so);
	return KERN_SUCCESS;
}
"""


def pattern(n: int) -> bytes:
    """What `tcp connect ADDR PORT n` sends: byte i is i mod 251."""
    block = bytes(i % 251 for i in range(251 * 64))
    return (block * (n // len(block) + 1))[:n]


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mbufs_in_use(machine: Machine) -> tuple[int, int, int]:
    """(mbufs, 2 KB clusters, 4 KB clusters) in use, from `netstat -m`."""
    out = machine.command("netstat -m")
    m = re.search(r"^mbufs\s+(\d+).*\n^2 KB clusters\s+(\d+).*\n^4 KB clusters\s+(\d+)", out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


# --------------------------------------------------------------------------
# (a) QEMU user networking: libslirp's TCP as the peer


@dataclass
class SlirpGuest:
    kexts: KextGuest
    echo_port: int  # the host port forwarded to the guest's ECHO_PORT

    @property
    def machine(self) -> Machine:
        return self.kexts.machine


@pytest.fixture(scope="module")
def tcpecho(module_make_kext: MakeKext) -> Path:
    """The echo kext's bundle, built once for both guests."""
    return module_make_kext("tcpecho", TCPECHO, libraries=KPIS)


@pytest.fixture(scope="module")
def slirp(module_machine_factory: MachineFactory, tcpecho: Path, built_kexts: Path) -> SlirpGuest:
    port = free_tcp_port()
    netdev = f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:{ECHO_PORT}"
    options = kext_options(QemuOptions(netdevs=[netdev], devices=["e1000,netdev=net0"]))
    machine = module_machine_factory(options, name="slirp")
    machine.boot()
    kexts = KextGuest(machine, built_kexts)
    kexts.wait_ready()
    kexts.load(tcpecho)
    machine.expect(re.compile(r"tcpecho: listening on port \d+"), 10)
    return SlirpGuest(kexts, port)


def echo_through(port: int, payload: bytes) -> bytes:
    """Send payload to the echo service from one thread while another
    reads the answer; the sender shuts down its side when done."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:

        def send() -> None:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        received = bytearray()
        while chunk := conn.recv(65536):
            received += chunk
        sender.join()
    return bytes(received)


def test_a_host_client_echoes_a_mebibyte_through_a_guest_listener(slirp: SlirpGuest) -> None:
    payload = random.Random(10).randbytes(MIB)

    echoed = echo_through(slirp.echo_port, payload)

    assert hashlib.sha256(echoed).hexdigest() == hashlib.sha256(payload).hexdigest()
    counters = netstat_s(slirp.machine)
    assert counters["tcp.accepts"] >= 1
    assert counters["tcp.rcvbyte"] >= MIB
    assert counters["tcp.rcvbadsum"] == 0


def test_tcp_connect_sends_and_receives_a_mebibyte_with_a_host_listener(
    slirp: SlirpGuest,
) -> None:
    answer = random.Random(11).randbytes(MIB)
    got = bytearray()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(30)
                while chunk := conn.recv(65536):
                    got.extend(chunk)
                conn.sendall(answer)

        server = threading.Thread(target=serve)
        server.start()
        out = slirp.machine.command(f"tcp connect 10.0.2.2 {port} {MIB}", timeout=120)
        server.join(30)

    assert re.search(rf"^connected to 10\.0\.2\.2\.{port} from 10\.0\.2\.15\.\d+$", out, re.M), out
    assert f"sent {MIB} bytes, crc32 {zlib.crc32(pattern(MIB)):08x}" in out
    assert bytes(got) == pattern(MIB)
    assert f"received {MIB} bytes, crc32 {zlib.crc32(answer):08x}" in out, out


def test_netstat_shows_listeners_and_the_tcp_counters(slirp: SlirpGuest) -> None:
    table = slirp.machine.command("netstat -a")
    assert re.search(rf"^tcp4\s+0\s+0\s+\*\.{ECHO_PORT}\s+\*\.\*\s+LISTEN\s*$", table, re.M), table
    tcp = slirp.machine.command("tcp")
    assert re.search(rf"^0\.0\.0\.0\.{ECHO_PORT}\s+0\.0\.0\.0\.0\s+LISTEN\b", tcp, re.M), tcp


def test_the_socket_kpi_connects_accepts_shuts_down_and_lingers_over_tcp(
    slirp: SlirpGuest, module_make_kext: MakeKext
) -> None:
    slirp.kexts.load(module_make_kext("tcpkpi", TCPKPI, libraries=KPIS))

    done = slirp.machine.expect(re.compile(r"(.*?)tcpkpi: done, (\d+) failed", re.S), 20)

    assert done.group(2) == "0", done.group(1)
    slirp.kexts.unload("com.example.tcpkpi")


def test_connecting_to_a_closed_host_port_is_refused(slirp: SlirpGuest) -> None:
    port = free_tcp_port()
    out = slirp.machine.command(f"tcp connect 10.0.2.2 {port}", timeout=30)
    assert f"tcp: connect to 10.0.2.2.{port}: connection refused (error 61)" in out


# --------------------------------------------------------------------------
# (b) A scapy peer on the wire: what real peers rarely do


@dataclass
class WireGuest:
    kexts: KextGuest
    peer: WirePeer
    idle: tuple[int, int, int]  # netstat -m's in-use counts, echo kext loaded
    ports: Iterator[int] = field(default_factory=lambda: iter(range(40000, 60000)))

    @property
    def machine(self) -> Machine:
        return self.kexts.machine


@pytest.fixture(scope="module")
def wire(
    request: pytest.FixtureRequest,
    module_machine_factory: MachineFactory,
    tcpecho: Path,
    built_kexts: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WireGuest]:
    failed = request.session.testsfailed
    with Wire.open(rcvbuf=1 << 22) as w:
        pcap = tmp_path_factory.mktemp("wire") / "net0.pcap"
        peer = WirePeer(w, pcap)
        machine = module_machine_factory(kext_options(peer.options()), name="wire")
        machine.boot()
        kexts = KextGuest(machine, built_kexts)
        kexts.wait_ready()
        peer.wait_guest_ready()
        kexts.load(tcpecho)
        machine.expect(re.compile(r"tcpecho: listening on port \d+"), 10)
        peer.drain(0.3)
        yield WireGuest(kexts, peer, mbufs_in_use(machine))
        if request.session.testsfailed != failed and pcap.exists():
            shutil.copy(pcap, machine.paths.rundir / "net0.pcap")  # kept with the logs


@dataclass
class Conn:
    """One connection of the peer's to the echo kext, tracked by hand:
    snd_nxt is our next sequence number, rcv_nxt the guest's."""

    guest: WireGuest
    sport: int
    snd_nxt: int = 1000
    rcv_nxt: int = 0
    received: bytearray = field(default_factory=bytearray)

    def segment(
        self, flags: str | int = "A", payload: bytes = b"", *, seq: int | None = None,
        ack: int | None = None, window: int = 65535, **tcp: object,
    ) -> Packet:  # fmt: skip
        seq = self.snd_nxt if seq is None else seq
        ack = self.rcv_nxt if ack is None else ack
        return (
            Ether(dst=GUEST_MAC, src=PEER_MAC)
            / IP(src=PEER_IP, dst=GUEST_IP)
            / TCP(sport=self.sport, dport=ECHO_PORT, flags=flags, seq=seq % (1 << 32),
                  ack=ack % (1 << 32), window=window, **tcp)
            / payload
        )  # fmt: skip

    def send(self, flags: str = "A", payload: bytes = b"", **tcp: object) -> None:
        self.guest.peer.send(self.segment(flags, payload, **tcp))

    def mine(self, pkt: Packet) -> bool:
        return TCP in pkt and pkt[IP].src == GUEST_IP and pkt[TCP].dport == self.sport

    def expect(self, match: Callable[[TCP], bool] = lambda t: True, timeout: float = 5) -> TCP:
        return self.guest.peer.expect(lambda p: self.mine(p) and match(p[TCP]), timeout)[TCP]

    def quiet(self, seconds: float) -> list[TCP]:
        """Whatever the guest says on this connection for `seconds`."""
        return [p[TCP] for p in self.guest.peer.frames(seconds) if self.mine(p)]

    def write(self, data: bytes, **tcp: object) -> None:
        self.send("PA", data, **tcp)
        self.snd_nxt += len(data)

    def read(self, n: int, timeout: float = 10, window: int = 65535) -> bytes:
        """n bytes of the echo, in order, each segment acknowledged."""
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            seg = self.expect(lambda t: len(t.payload) > 0, deadline - time.monotonic())
            data = bytes(seg.payload)
            if seg.seq == self.rcv_nxt:
                self.received += data
                self.rcv_nxt += len(data)
            self.send("A", window=window)
        out, self.received = bytes(self.received[:n]), self.received[n:]
        return out

    def close(self) -> None:
        """FIN; the echo kext closes on EOF: ACK its FIN."""
        self.send("FA")
        self.snd_nxt += 1
        fin = self.expect(lambda t: bool(t.flags.F))
        self.rcv_nxt = fin.seq + len(fin.payload) + 1
        self.send("A")

    def reset(self) -> None:
        """A RST exactly at the guest's RCV.NXT: learn it from the ACK
        an out-of-window segment earns, then reset."""
        self.guest.peer.drain(0.2)
        self.send("A", seq=self.snd_nxt + (1 << 30))
        ack = self.expect(lambda t: bool(t.flags.A))
        self.send("R", seq=ack.ack)


def connect(guest: WireGuest, options: list[tuple[str, object]] | None = None) -> Conn:
    conn = Conn(guest, next(guest.ports))
    conn.send("S", options=options if options is not None else [("MSS", 1460)], ack=0)
    synack = conn.expect(lambda t: t.flags == "SA")
    assert synack.ack == conn.snd_nxt + 1
    conn.snd_nxt += 1
    conn.rcv_nxt = synack.seq + 1
    conn.send("A")
    return conn


def count(guest: WireGuest, *names: str) -> dict[str, int]:
    counters = netstat_s(guest.machine)
    return {name: counters[f"tcp.{name}"] for name in names}


def test_the_handshake_settles_mss_window_scaling_and_timestamps(wire: WireGuest) -> None:
    conn = Conn(wire, next(wire.ports))
    options = [("MSS", 1400), ("WScale", 7), ("Timestamp", (1000, 0)), ("SAckOK", b"")]
    conn.send("S", options=options, ack=0)

    synack = conn.expect(lambda t: t.flags == "SA")

    got = dict(synack.options)
    assert got["MSS"] == 1460
    assert 0 < got["WScale"] <= 14
    assert got["Timestamp"][1] == 1000  # our TSval, echoed
    assert "SAckOK" not in got  # not offered by Finch
    conn.snd_nxt += 1
    conn.rcv_nxt = synack.seq + 1
    ts = (2000, got["Timestamp"][0])
    conn.send("A", options=[("Timestamp", ts)])
    conn.write(b"hello, finch", options=[("Timestamp", ts)])
    echo = conn.expect(lambda t: len(t.payload) > 0)
    assert bytes(echo.payload) == b"hello, finch"
    assert dict(echo.options)["Timestamp"][1] == 2000
    table = wire.machine.command("tcp")
    row = rf"^10\.0\.2\.15\.{ECHO_PORT}\s+10\.0\.2\.2\.{conn.sport}\s+ESTABLISHED\s"
    assert re.search(row, table, re.M), table
    conn.rcv_nxt += len(echo.payload)
    conn.send("A", options=[("Timestamp", ts)])
    conn.reset()


def test_rsts_and_syns_with_bad_sequence_numbers_earn_a_challenge_ack(wire: WireGuest) -> None:
    conn = connect(wire)
    before = count(wire, "rst_challenge", "rst_badseq", "syn_challenge")

    conn.send("R", seq=conn.snd_nxt + 100)  # in the window, not at RCV.NXT
    challenge = conn.expect(lambda t: t.flags == "A")
    conn.send("R", seq=conn.snd_nxt + (1 << 31))  # outside: ignored
    conn.send("S", seq=conn.snd_nxt + 5)  # a SYN on a live connection
    syn_challenge = conn.expect(lambda t: t.flags == "A")

    assert challenge.ack == conn.snd_nxt == syn_challenge.ack
    conn.write(b"still here")
    assert conn.read(10) == b"still here"
    after = count(wire, "rst_challenge", "rst_badseq", "syn_challenge")
    assert after == {k: v + 1 for k, v in before.items()}
    conn.send("R", seq=conn.snd_nxt)  # exactly at RCV.NXT: reset
    wire.peer.drain(0.3)
    assert f"10.0.2.2.{conn.sport} " not in wire.machine.command("tcp")
    conn.send("PA", b"anyone?")
    assert conn.expect(lambda t: bool(t.flags.R)).seq == conn.rcv_nxt


def test_data_outside_the_window_is_dropped_and_acknowledged(wire: WireGuest) -> None:
    conn = connect(wire)
    before = count(wire, "outofwin", "rcvduppack")

    conn.send("PA", b"far ahead", seq=conn.snd_nxt + 500_000)
    ahead = conn.expect(lambda t: t.flags == "A")
    conn.send("PA", b"old", seq=conn.snd_nxt - 3)  # before RCV.NXT: a duplicate
    old = conn.expect(lambda t: t.flags == "A")

    assert ahead.ack == old.ack == conn.snd_nxt
    assert conn.quiet(0.3) == []  # nothing echoed
    after = count(wire, "outofwin", "rcvduppack")
    assert after == {k: v + 1 for k, v in before.items()}
    conn.close()


def test_reordered_and_duplicated_segments_come_out_once_in_order(wire: WireGuest) -> None:
    conn = connect(wire)
    a, b, c = (bytes([65 + i]) * 300 for i in range(3))
    base = conn.snd_nxt
    before = count(wire, "rcvoopack", "rcvduppack")

    conn.send("PA", c, seq=base + 600)
    dup_ack = conn.expect(lambda t: t.flags == "A")  # at once, for the hole
    conn.send("PA", b, seq=base + 300)
    conn.send("PA", a, seq=base)
    conn.send("PA", a, seq=base)  # again
    conn.snd_nxt = base + 900

    assert dup_ack.ack == base
    assert conn.read(900) == a + b + c
    after = count(wire, "rcvoopack", "rcvduppack")
    assert after["rcvoopack"] >= before["rcvoopack"] + 2
    assert after["rcvduppack"] == before["rcvduppack"] + 1
    conn.close()


def test_urgent_data_stays_in_line(wire: WireGuest) -> None:
    """RFC 6093: the urgent pointer is noted (the mark), the bytes are
    read in order with the rest."""
    conn = connect(wire)
    before = count(wire, "rcvurg")

    conn.send("PAU", b"urgent!", urgptr=7)
    conn.snd_nxt += 7
    conn.write(b" and the rest")

    assert conn.read(20) == b"urgent! and the rest"
    assert count(wire, "rcvurg") == {"rcvurg": before["rcvurg"] + 1}
    conn.close()


def test_a_lost_segment_is_retransmitted_after_the_rto(wire: WireGuest) -> None:
    conn = connect(wire)
    before = count(wire, "rexmttimeo", "sndrexmitpack")

    conn.write(b"lose my echo")
    first = conn.expect(lambda t: len(t.payload) > 0)  # not acknowledged
    again = conn.expect(lambda t: len(t.payload) > 0, timeout=5)

    assert (again.seq, bytes(again.payload)) == (first.seq, b"lose my echo")
    conn.rcv_nxt = again.seq + len(again.payload)
    conn.send("A")
    after = count(wire, "rexmttimeo", "sndrexmitpack")
    assert after["rexmttimeo"] >= before["rexmttimeo"] + 1
    assert after["sndrexmitpack"] >= before["sndrexmitpack"] + 1
    conn.close()


def test_three_duplicate_acks_bring_a_fast_retransmit_before_the_rto(wire: WireGuest) -> None:
    conn = connect(wire, options=[("MSS", 1000)])
    before = count(wire, "fastrexmt", "rexmttimeo")
    payload = random.Random(3).randbytes(4000)
    for i in range(0, 4000, 1000):
        conn.write(payload[i : i + 1000])

    segs: dict[int, bytes] = {}
    while sum(map(len, segs.values())) < 4000:  # the initial window: 4 x 1000
        seg = conn.expect(lambda t: len(t.payload) > 0)
        segs[seg.seq] = bytes(seg.payload)
    first = min(segs, key=lambda q: (q - conn.rcv_nxt) % (1 << 32))
    for _ in range(3):  # the first one was "lost"; the others came
        conn.send("A", ack=first)
    again = conn.expect(lambda t: t.seq == first and len(t.payload) > 0, timeout=3)

    assert bytes(again.payload) == segs[first]
    conn.send("A", ack=first + 4000)
    conn.rcv_nxt = first + 4000
    assert b"".join(segs[first + i] for i in range(0, 4000, 1000)) == payload
    after = count(wire, "fastrexmt", "rexmttimeo")  # fast, not the timer's
    assert after == {"fastrexmt": before["fastrexmt"] + 1, "rexmttimeo": before["rexmttimeo"]}
    conn.close()


def test_a_zero_window_is_probed_until_it_opens(wire: WireGuest) -> None:
    conn = connect(wire)
    before = count(wire, "persisttimeo", "sndprobe")

    conn.write(b"wait for the window", window=0)
    probe = conn.expect(lambda t: len(t.payload) > 0, timeout=5)
    assert len(probe.payload) == 1  # one byte into the closed window
    conn.send("A", window=0)  # still closed: the byte is not taken
    conn.send("A", window=65535)  # open

    assert conn.read(19) == b"wait for the window"
    after = count(wire, "persisttimeo", "sndprobe")
    assert after["persisttimeo"] >= before["persisttimeo"] + 1
    assert after["sndprobe"] >= before["sndprobe"] + 1
    conn.close()


def test_a_window_shrunk_to_zero_under_data_in_flight_is_probed(wire: WireGuest) -> None:
    """A peer that closes its window on data it has not acknowledged is
    probed (RFC 9293 3.8.6.1), not retransmitted into silence until the
    connection is given up (RFC 1122 4.2.2.17)."""
    conn = connect(wire)

    conn.write(b"shrink the window")
    first = conn.expect(lambda t: len(t.payload) > 0)  # not acknowledged
    conn.send("A", window=0)  # the window closes on it
    probes = [t for t in conn.quiet(5) if len(t.payload) > 0]

    assert probes, "the guest went silent on a zero window"
    assert {(t.seq, len(t.payload)) for t in probes} == {(first.seq, 1)}
    conn.send("A", window=65535)  # open
    assert conn.read(17) == b"shrink the window"
    conn.close()


def test_a_syn_flood_fills_a_bounded_queue_and_a_real_client_still_gets_in(
    wire: WireGuest,
) -> None:
    before = count(wire, "synflood")
    rng = random.Random(7)
    flood = Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(dst=GUEST_IP) / TCP(dport=ECHO_PORT, flags="S")
    for i in range(400):
        flood[IP].src = f"198.51.{100 + i // 250}.{1 + i % 250}"
        flood[TCP].sport = rng.randrange(1024, 65535)
        flood[TCP].seq = rng.randrange(1 << 32)
        wire.peer.send(flood)
    wire.peer.drain(0.5)

    conn = connect(wire)
    conn.write(b"made it")
    assert conn.read(7) == b"made it"
    conn.close()
    half_open = wire.machine.command("netstat -a").count("SYN_RCVD")
    assert half_open <= 3 * 8 // 2 + 1  # the backlog of 8, with BSD's slack
    assert count(wire, "synflood")["synflood"] >= before["synflood"] + 300


def fix_tcp_checksum(frame: bytearray) -> bytes:
    """The TCP checksum of an Ethernet frame (IPv4, no IP options), redone
    after its bytes were changed by hand."""
    ip, tcp = frame[14:34], frame[34:]
    tcp[16:18] = b"\0\0"
    pseudo = ip[12:20] + bytes([0, 6]) + len(tcp).to_bytes(2, "big")
    tcp[16:18] = checksum(bytes(pseudo + tcp)).to_bytes(2, "big")
    return bytes(frame[:34] + tcp)


def fuzz_segment(rng: random.Random, conn: Conn) -> bytes:
    """Something between plausible and absurd: any flags, numbers near the
    connection's or anywhere, random options, a bad checksum or a bad
    data offset now and then, to the connection, the listener, or a port
    nobody listens on."""
    seq = conn.snd_nxt + rng.randrange(-70000, 70000) if rng.random() < 0.7 else None
    pkt = conn.segment(
        flags=rng.randrange(256),
        payload=rng.randbytes(rng.choice((0, 0, 1, 10, 536, 1460))),
        seq=seq if seq is not None else rng.randrange(1 << 32),
        ack=conn.rcv_nxt + rng.randrange(-70000, 70000),
        window=rng.randrange(65536),
        urgptr=rng.randrange(65536) if rng.random() < 0.2 else 0,
        options=[],
    )
    tcp = pkt[TCP]
    if rng.random() < 0.3:
        tcp.dport = rng.choice((ECHO_PORT, 1, 8080))
        tcp.sport = rng.randrange(1024, 65535)
    if rng.random() < 0.3:  # raw option bytes, any length that fits
        opts = rng.randbytes(4 * rng.randrange(1, 11))
        tcp.dataofs = 5 + len(opts) // 4
        tcp.remove_payload()
        tcp.add_payload(Raw(opts + rng.randbytes(rng.choice((0, 20)))))
        tcp.options = []
    raw = bytearray(bytes(pkt))
    if rng.random() < 0.1:  # a bad data offset, checksum right
        raw[34 + 12] = (rng.randrange(16) << 4) | (raw[34 + 12] & 0xF)
        return fix_tcp_checksum(raw)
    if rng.random() < 0.1:
        raw[34 + 16] ^= 0xFF  # a bad checksum
    return bytes(raw)


def test_thousands_of_fuzzed_segments_leave_the_guest_serving_and_idle(wire: WireGuest) -> None:
    rng = random.Random(10)
    victim = connect(wire)
    victim.write(b"x" * 100)
    victim.read(100)
    before = netstat_s(wire.machine)

    for _ in range(3000):
        wire.peer.send(fuzz_segment(rng, victim))
    wire.peer.drain(1.0)

    after = netstat_s(wire.machine)
    assert after["tcp.rcvtotal"] >= before["tcp.rcvtotal"] + 2900
    for reason in ("rcvbadsum", "noport", "outofwin", "listen_ack"):
        assert after[f"tcp.{reason}"] > before[f"tcp.{reason}"], reason
    victim.reset()  # if the fuzz left it alive
    conn = connect(wire)
    conn.write(b"still serving")
    assert conn.read(13) == b"still serving"
    conn.close()
    wire.peer.drain(0.5)
    assert mbufs_in_use(wire.machine) == wire.idle


def test_simultaneous_open_and_simultaneous_close(wire: WireGuest) -> None:
    """The guest connects out while the peer connects in (SYN crosses
    SYN), and both send their FIN before either is acknowledged."""
    peer, port, x = wire.peer, 5555, 77_000

    def to_guest(flags: str, seq: int, ack: int = 0) -> Packet:
        return (
            Ether(dst=GUEST_MAC, src=PEER_MAC)
            / IP(src=PEER_IP, dst=GUEST_IP)
            / TCP(sport=port, dport=gport, flags=flags, seq=seq, ack=ack, options=[("MSS", 1460)])
        )

    def from_guest(match: Callable[[TCP], bool]) -> TCP:
        return peer.expect(lambda p: TCP in p and p[TCP].dport == port and match(p[TCP]))[TCP]

    wire.machine.sendline(f"tcp connect -w 5 {PEER_IP} {port} 100")
    syn = from_guest(lambda t: t.flags == "S")
    gport, iss = syn.sport, syn.seq
    peer.send(to_guest("S", x))  # our SYN crosses theirs
    synack = from_guest(lambda t: t.flags == "SA")
    assert (synack.seq, synack.ack) == (iss, x + 1)
    peer.send(to_guest("SA", x, iss + 1))
    data = from_guest(lambda t: len(t.payload) > 0)
    assert bytes(data.payload) == pattern(100)
    peer.send(to_guest("A", x + 1, iss + 101))
    fin = from_guest(lambda t: bool(t.flags.F))
    assert fin.seq == iss + 101
    peer.send(to_guest("FA", x + 1, iss + 101))  # our FIN, theirs not yet acked
    ack = from_guest(lambda t: t.ack == x + 2)  # CLOSING: they ack ours
    assert not ack.flags.F or ack.seq == iss + 101
    peer.send(to_guest("A", x + 2, iss + 102))

    out = wire.machine.expect(re.compile(r"(.*?)finch> ", re.S), 10).group(1)
    assert "connected to 10.0.2.2.5555" in out
    assert "received 0 bytes" in out
    table = wire.machine.command("tcp")
    assert re.search(rf"^10\.0\.2\.15\.{gport}\s+10\.0\.2\.2\.{port}\s+TIME_WAIT\s", table, re.M), (
        table
    )

    # A new SYN of the same 4-tuple, past the old sequence space, ends
    # TIME_WAIT; nobody listens on the guest's port, so: RST.
    before = count(wire, "tw_reopened")
    peer.send(to_guest("S", x + 100_000))
    rst = from_guest(lambda t: bool(t.flags.R))
    assert rst.ack == x + 100_001
    assert count(wire, "tw_reopened") == {"tw_reopened": before["tw_reopened"] + 1}


def test_the_window_of_a_simultaneous_opens_syn_ack_is_not_scaled(wire: WireGuest) -> None:
    """RFC 7323 2.2: a SYN's window field is never scaled, even when the
    SYN-ACK completes a simultaneous open in SYN_RECEIVED."""
    peer, port, x = wire.peer, 5557, 123_000
    scale = [("MSS", 1460), ("WScale", 7)]

    def to_guest(flags: str, seq: int, ack: int = 0, window: int = 65535) -> Packet:
        return (
            Ether(dst=GUEST_MAC, src=PEER_MAC)
            / IP(src=PEER_IP, dst=GUEST_IP)
            / TCP(sport=port, dport=gport, flags=flags, seq=seq, ack=ack, window=window,
                  options=scale if "S" in flags else [])
        )  # fmt: skip

    def from_guest(match: Callable[[TCP], bool]) -> TCP:
        return peer.expect(lambda p: TCP in p and p[TCP].dport == port and match(p[TCP]))[TCP]

    wire.machine.sendline(f"tcp connect -w 5 {PEER_IP} {port} 8000")
    syn = from_guest(lambda t: t.flags == "S")
    gport, iss = syn.sport, syn.seq
    peer.send(to_guest("S", x))
    from_guest(lambda t: t.flags == "SA")
    peer.send(to_guest("SA", x, iss + 1, window=2000))  # 2000 bytes, not 2000 << 7

    sent = [t for p in peer.frames(1.5) if TCP in p and (t := p[TCP]).dport == port]
    edge = max((t.seq + len(t.payload) for t in sent if t.payload), default=iss + 1)
    assert 0 < edge - (iss + 1) <= 2000
    peer.send(to_guest("R", x + 1))
    out = wire.machine.expect(re.compile(r"(.*?)finch> ", re.S), 10).group(1)
    assert "connection reset" in out.lower() or "error 54" in out


def test_a_socket_closed_in_syn_received_ends_with_a_fin_not_a_rst(wire: WireGuest) -> None:
    """RFC 9293 3.10.4: CLOSE in SYN-RECEIVED, with nothing sent, waits
    for the handshake to finish and then sends a FIN (FIN-WAIT-1)."""
    peer, port, x = wire.peer, 5556, 91_000

    def to_guest(flags: str, seq: int, ack: int = 0) -> Packet:
        return (
            Ether(dst=GUEST_MAC, src=PEER_MAC)
            / IP(src=PEER_IP, dst=GUEST_IP)
            / TCP(sport=port, dport=gport, flags=flags, seq=seq, ack=ack, options=[("MSS", 1460)])
        )

    def from_guest(match: Callable[[TCP], bool]) -> TCP:
        return peer.expect(lambda p: TCP in p and p[TCP].dport == port and match(p[TCP]))[TCP]

    wire.machine.sendline(f"tcp connect -w 1 {PEER_IP} {port}")
    syn = from_guest(lambda t: t.flags == "S")
    gport, iss = syn.sport, syn.seq
    peer.send(to_guest("S", x))  # a simultaneous open: SYN_RECEIVED
    from_guest(lambda t: t.flags == "SA")
    out = wire.machine.expect(re.compile(r"(.*?)finch> ", re.S), 10).group(1)
    assert "timed out" in out  # the owner closed while in SYN_RECEIVED
    peer.drain(0.2)

    peer.send(to_guest("A", x + 1, iss + 1))  # the handshake completes

    fin = from_guest(lambda t: bool(t.flags.F) or bool(t.flags.R))
    assert fin.flags == "FA"  # not a RST
    assert (fin.seq, fin.ack) == (iss + 1, x + 1)
    peer.send(to_guest("FA", x + 1, iss + 2))
    from_guest(lambda t: t.flags == "A" and t.ack == x + 2)
    table = wire.machine.command("tcp")
    assert re.search(rf"^10\.0\.2\.15\.{gport}\s+10\.0\.2\.2\.{port}\s+TIME_WAIT\s", table, re.M), (
        table
    )


def test_an_idle_connection_with_keepalive_is_probed(
    wire: WireGuest, module_make_kext: MakeKext
) -> None:
    before = count(wire, "keepprobe")
    wire.kexts.load(module_make_kext("tcpkeep", TCPKEEP, libraries=KPIS))
    wire.machine.expect("tcpkeep: connect: 36", 10)  # EINPROGRESS
    peer = wire.peer
    syn = peer.expect(lambda p: TCP in p and p[TCP].dport == 6000 and p[TCP].flags == "S")
    reply = Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP)
    reply /= TCP(sport=6000, dport=syn.sport, flags="SA", seq=5000, ack=syn.seq + 1)
    peer.send(reply)
    peer.expect(lambda p: TCP in p and p[TCP].dport == 6000 and p[TCP].flags == "A")

    probe = peer.expect(lambda p: TCP in p and p[TCP].dport == 6000, timeout=4)[TCP]

    assert (probe.seq, probe.ack, len(probe.payload)) == (syn.seq, 5001, 0)  # SND.UNA - 1
    assert count(wire, "keepprobe")["keepprobe"] >= before["keepprobe"] + 1
    wire.kexts.unload("com.example.tcpkeep")
    peer.expect(lambda p: TCP in p and p[TCP].dport == 6000 and bool(p[TCP].flags.F))
    reply[TCP].flags, reply[TCP].seq = "R", 5001
    peer.send(reply)  # gone: no FIN_WAIT for us to wait out


def test_tcp_connect_to_a_silent_host_gives_up_after_its_wait(wire: WireGuest) -> None:
    out = wire.machine.command("tcp connect -w 1 192.0.2.1 80", timeout=10)

    assert "tcp: connect to 192.0.2.1.80: timed out (error 60)" in out
    syn = wire.peer.expect(lambda p: TCP in p and p[IP].dst == "192.0.2.1")
    assert syn[TCP].flags == "S"
    assert "192.0.2.1" not in wire.machine.command("netstat -a")  # closed
