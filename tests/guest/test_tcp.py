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
import socket
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions
from finch.wirepeer import netstat_s

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
def slirp(
    module_machine_factory: MachineFactory, module_make_kext: MakeKext, built_kexts: Path
) -> SlirpGuest:
    port = free_tcp_port()
    netdev = f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:{ECHO_PORT}"
    options = kext_options(QemuOptions(netdevs=[netdev], devices=["e1000,netdev=net0"]))
    machine = module_machine_factory(options, name="slirp")
    machine.boot()
    kexts = KextGuest(machine, built_kexts)
    kexts.wait_ready()
    kexts.load(module_make_kext("tcpecho", TCPECHO, libraries=KPIS))
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


def test_connecting_to_a_closed_host_port_is_refused(slirp: SlirpGuest) -> None:
    port = free_tcp_port()
    out = slirp.machine.command(f"tcp connect 10.0.2.2 {port}", timeout=30)
    assert f"tcp: connect to 10.0.2.2.{port}: connection refused (error 61)" in out
