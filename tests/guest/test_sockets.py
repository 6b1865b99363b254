"""In-kernel sockets, seen from kexts, from the monitor and from the wire.

One guest serves the module: en0 on a `-netdev dgram` wire whose far end
the tests play with scapy (the gateway 10.0.2.2), and the host link for
kexts built in each test.  The kexts are small NKEs of the kind a student
writes against <sys/kpi_socket.h>: one answers datagrams from its upcall,
one leaves its socket open, one never reads, one checks the KPI's errno
rules.  After each, the guest holds no more mbufs and no more sockets
than it did idle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet

from finch.errors import FinchError
from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.pytest_plugin import MachineFactory
from finch.wire import GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire
from finch.wirepeer import WirePeer as Peer
from finch.wirepeer import netstat_s

MakeKext = Callable[..., Path]

KPIS = {"com.apple.kpi.bsd": "8.0.0", "com.apple.kpi.libkern": "8.0.0"}
ALIAS_IP = "10.0.2.16"

# --------------------------------------------------------------------------
# Kexts


PROLOGUE = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>

kern_return_t {name}_start(kmod_info_t *ki, void *data);
kern_return_t {name}_stop(kmod_info_t *ki, void *data);

static socket_t {name}_so;

/* A UDP socket bound to port, with upcall (may be NULL). */
static errno_t __attribute__((unused))
{name}_open(int port, sock_upcall upcall)
{{
	struct sockaddr_in sin;
	errno_t error;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	error = sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, upcall, NULL,
		&{name}_so);
	if (error == 0 && (error = sock_bind({name}_so,
		(struct sockaddr *)&sin)) != 0)
		sock_close({name}_so);
	if (error != 0)
		printf("{name}: cannot open port %d: error %d\\n", port, error);
	return error;
}}
"""

# Answers every datagram with "got: " and the datagram, from its upcall.
UDPANSWER = (
    PROLOGUE.format(name="udpanswer")
    + """
static void
udpanswer_upcall(socket_t so, void *cookie, int waitf)
{
	struct sockaddr_in from;
	char buf[256], reply[300];
	struct msghdr msg;
	struct iovec iov;
	size_t n;

	for (;;) {
		bzero(&msg, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (sock_receive(so, &msg, MSG_DONTWAIT, &n) != 0)
			return;		/* EWOULDBLOCK: nothing left */
		memcpy(reply, "got: ", 5);
		memcpy(reply + 5, buf, n);
		iov.iov_base = reply;
		iov.iov_len = n + 5;
		sock_send(so, &msg, MSG_DONTWAIT, NULL);
	}
}

kern_return_t
udpanswer_start(kmod_info_t *ki, void *data)
{
	return udpanswer_open(5000, udpanswer_upcall) ? KERN_FAILURE :
		KERN_SUCCESS;
}

kern_return_t
udpanswer_stop(kmod_info_t *ki, void *data)
{
	sock_close(udpanswer_so);
	return KERN_SUCCESS;
}
"""
)

# Opens port 5001 and forgets to close it in stop.
UDPLEAK = (
    PROLOGUE.format(name="udpleak")
    + """
kern_return_t
udpleak_start(kmod_info_t *ki, void *data)
{
	return udpleak_open(5001, NULL) ? KERN_FAILURE : KERN_SUCCESS;
}

kern_return_t
udpleak_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

# Holds port 5002 with a 1 KB buffer and reads nothing until stop, which
# counts what it can read without blocking.
UDPHOLD = (
    PROLOGUE.format(name="udphold")
    + """
kern_return_t
udphold_start(kmod_info_t *ki, void *data)
{
	int size = 1024;

	if (udphold_open(5002, NULL) != 0)
		return KERN_FAILURE;
	sock_setsockopt(udphold_so, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return KERN_SUCCESS;
}

kern_return_t
udphold_stop(kmod_info_t *ki, void *data)
{
	struct msghdr msg;
	struct iovec iov;
	char buf[64];
	int nbio = 1, count = 0;
	size_t n;
	errno_t error;

	sock_ioctl(udphold_so, FIONBIO, &nbio);
	do {
		bzero(&msg, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		error = sock_receive(udphold_so, &msg, 0, &n);
		count += error == 0;
	} while (error == 0);
	printf("udphold: read %d datagrams, then error %d\\n", count, error);
	sock_close(udphold_so);
	return KERN_SUCCESS;
}
"""
)

# Checks the KPI's errno rules from a kext; prints one line per check.
SOCKTEST = (
    PROLOGUE.format(name="socktest")
    + """
static int socktest_failed;

static void
socktest_check(const char *what, int got, int want)
{
	if (got != want) {
		socktest_failed++;
		printf("socktest: FAIL %s: got %d, want %d\\n", what, got, want);
	}
}

static struct sockaddr_in
socktest_sin(u_int32_t addr, int port)
{
	struct sockaddr_in sin;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	sin.sin_port = htons(port);
	return sin;
}

kern_return_t
socktest_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in sin, echo = socktest_sin(INADDR_LOOPBACK, 7);
	struct timeval tv = { 2, 0 };
	struct msghdr msg;
	struct iovec iov;
	struct ifreq ifr;
	socket_t so, other;
	char buf[32], ping[] = "ping", late[] = "late";
	int v, len, nbio = 1;
	size_t n;

	socktest_check("SOCK_RAW, not offered", sock_socket(PF_INET,
		SOCK_RAW, 0, NULL, NULL, &other), EPROTONOSUPPORT);
	socktest_check("an unknown domain", sock_socket(77, SOCK_DGRAM, 0,
		NULL, NULL, &other), EAFNOSUPPORT);
	socktest_check("sock_socket", sock_socket(PF_INET, SOCK_DGRAM, 0,
		NULL, NULL, &so), 0);
	sin = socktest_sin(0xc0000201, 0);	/* 192.0.2.1: not ours */
	socktest_check("bind to another host's address",
		sock_bind(so, (struct sockaddr *)&sin), EADDRNOTAVAIL);
	sin = socktest_sin(INADDR_ANY, 0);
	socktest_check("bind to port 0", sock_bind(so,
		(struct sockaddr *)&sin), 0);
	socktest_check("getsockname", sock_getsockname(so,
		(struct sockaddr *)&sin, sizeof(sin)), 0);
	socktest_check("an ephemeral port", ntohs(sin.sin_port) >= 49152, 1);
	socktest_check("sock_socket", sock_socket(PF_INET, SOCK_DGRAM, 0,
		NULL, NULL, &other), 0);
	socktest_check("the same port twice", sock_bind(other,
		(struct sockaddr *)&sin), EADDRINUSE);
	sock_close(other);
	socktest_check("listen on UDP", sock_listen(so, 5), EOPNOTSUPP);
	socktest_check("accept on UDP", sock_accept(so, NULL, 0, MSG_DONTWAIT,
		NULL, NULL, &other), EINVAL);
	socktest_check("getpeername unconnected", sock_getpeername(so,
		(struct sockaddr *)&sin, sizeof(sin)), ENOTCONN);
	bzero(&msg, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	socktest_check("MSG_DONTWAIT on nothing", sock_receive(so, &msg,
		MSG_DONTWAIT, &n), EWOULDBLOCK);
	socktest_check("FIONBIO", sock_ioctl(so, FIONBIO, &nbio), 0);
	socktest_check("sock_isnonblocking", sock_isnonblocking(so), 1);
	socktest_check("FIONBIO on nothing", sock_receive(so, &msg, 0, &n),
		EWOULDBLOCK);
	nbio = 0;
	sock_ioctl(so, FIONBIO, &nbio);
	v = 6000;
	socktest_check("SO_RCVBUF", sock_setsockopt(so, SOL_SOCKET, SO_RCVBUF,
		&v, sizeof(v)), 0);
	len = sizeof(v);
	socktest_check("getsockopt SO_RCVBUF", sock_getsockopt(so, SOL_SOCKET,
		SO_RCVBUF, &v, &len) == 0 && v == 6000 && len == sizeof(v), 1);
	socktest_check("an unknown option", sock_setsockopt(so, SOL_SOCKET,
		0x7abc, &v, sizeof(v)), ENOPROTOOPT);
	socktest_check("SO_RCVTIMEO", sock_setsockopt(so, SOL_SOCKET,
		SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	/* The echo service on port 7, over lo0. */
	socktest_check("connect to 127.0.0.1:7", sock_connect(so,
		(struct sockaddr *)&echo, 0), 0);
	socktest_check("sock_isconnected", sock_isconnected(so), 1);
	iov.iov_base = ping;
	iov.iov_len = 4;
	socktest_check("send to the peer", sock_send(so, &msg, 0, &n) == 0 &&
		n == 4, 1);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	socktest_check("the echo comes back", sock_receive(so, &msg, 0,
		&n) == 0 && n == 4 && memcmp(buf, "ping", 4) == 0, 1);
	socktest_check("shutdown(SHUT_WR)", sock_shutdown(so, SHUT_WR), 0);
	iov.iov_base = late;
	iov.iov_len = 4;
	socktest_check("send after SHUT_WR", sock_send(so, &msg, 0, &n),
		EPIPE);
	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, "en0", sizeof(ifr.ifr_name));
	socktest_check("SIOCGIFADDR en0", sock_ioctl(so, SIOCGIFADDR, &ifr) ==
		0 && ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr ==
		htonl(0x0a00020f), 1);
	strlcpy(ifr.ifr_name, "xx7", sizeof(ifr.ifr_name));
	socktest_check("an unknown interface", sock_ioctl(so, SIOCGIFADDR,
		&ifr), ENXIO);
	sock_close(so);
	printf("socktest: done, %d failed\\n", socktest_failed);
	return KERN_SUCCESS;
}

kern_return_t
socktest_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)


# --------------------------------------------------------------------------
# The guest and its wire


def to_guest(payload: Packet, dst: str = GUEST_IP, **ip: object) -> Packet:
    return Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=dst, **ip) / payload


def udp_from_guest(dport: int) -> Callable[[Packet], bool]:
    return lambda p: UDP in p and p[IP].src.startswith("10.0.2.") and p[UDP].dport == dport


def mbufs_in_use(machine: Machine) -> tuple[int, int, int]:
    """(mbufs, 2 KB clusters, 4 KB clusters) in use, from `netstat -m`."""
    out = machine.command("netstat -m")
    m = re.search(r"^mbufs\s+(\d+).*\n^2 KB clusters\s+(\d+).*\n^4 KB clusters\s+(\d+)", out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def sockets_open(machine: Machine) -> int:
    counters = netstat_s(machine)
    return counters["socket.created"] - counters["socket.freed"]


@dataclass
class Guest:
    kexts: KextGuest
    peer: Peer
    idle: tuple[int, int, int]  # netstat -m's in-use counts after boot
    sockets: int  # sockets open after boot: the echo service's

    @property
    def machine(self) -> Machine:
        return self.kexts.machine

    def command(self, line: str) -> str:
        return self.machine.command(line, timeout=20)

    def assert_idle(self) -> None:
        """No more mbufs or sockets than after boot (the wire is quiet)."""
        self.peer.drain(0.2)
        assert mbufs_in_use(self.machine) == self.idle
        assert sockets_open(self.machine) == self.sockets


@pytest.fixture(scope="module")
def guest(
    module_machine_factory: MachineFactory,
    built_kexts: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Guest]:
    with Wire.open(rcvbuf=1 << 22) as wire:
        peer = Peer(wire, tmp_path_factory.mktemp("wire") / "net0.pcap")
        machine = module_machine_factory(kext_options(peer.options()))
        machine.boot()
        kexts = KextGuest(machine, built_kexts)
        kexts.wait_ready()
        peer.wait_guest_ready()
        peer.drain(0.3)
        yield Guest(kexts, peer, mbufs_in_use(machine), sockets_open(machine))


# --------------------------------------------------------------------------
# The echo service and the monitor


def test_the_echo_service_is_an_ordinary_socket_on_port_7(guest: Guest) -> None:
    table = guest.command("netstat -a")
    assert table.splitlines()[:2] == [
        "Active Internet connections (including servers)",
        "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)",
    ]
    assert re.search(r"^udp4\s+0\s+0\s+\*\.7\s+\*\.\*\s*$", table, re.M), table
    before = netstat_s(guest.machine)
    guest.peer.send(to_guest(UDP(sport=40100, dport=7) / b"echo through a socket"))
    reply = guest.peer.expect(udp_from_guest(40100))
    assert (reply[IP].src, reply[UDP].sport) == (GUEST_IP, 7)
    assert bytes(reply[UDP].payload) == b"echo through a socket"
    after = netstat_s(guest.machine)
    assert after["udp.echoed"] == before["udp.echoed"] + 1
    assert after["udp.delivered"] == before["udp.delivered"] + 1
    assert after["socket.upcalls"] > before["socket.upcalls"]


def test_udp_send_talks_to_the_echo_service_and_to_the_wire(guest: Guest) -> None:
    out = guest.command("udp send 127.0.0.1 7 hello, finch")
    assert out.splitlines() == [
        "sent 12 bytes to 127.0.0.1.7",
        "12 bytes from 127.0.0.1.7: hello, finch",
    ]
    guest.machine.sendline("udp send -p 40200 -w 3 10.0.2.2 9999 who is there?")
    asked = guest.peer.expect(udp_from_guest(9999))
    assert (asked[UDP].sport, bytes(asked[UDP].payload)) == (40200, b"who is there?")
    guest.peer.send(to_guest(UDP(sport=9999, dport=40200) / b"the peer"))
    out = guest.machine.expect(re.compile(r"(.*?)finch> ", re.S), timeout=10).group(1)
    assert "8 bytes from 10.0.2.2.9999: the peer" in out
    assert "no answer in 1 s" in guest.command("udp send -w 1 127.0.0.1 9 anyone")


# --------------------------------------------------------------------------
# Kexts


def test_a_kext_answers_datagrams_from_its_upcall_and_unloads_cleanly(
    guest: Guest, make_kext: MakeKext
) -> None:
    guest.kexts.load(make_kext("udpanswer", UDPANSWER, libraries=KPIS))
    assert re.search(r"^udp4\s+0\s+0\s+\*\.5000\s+\*\.\*", guest.command("netstat -a"), re.M)

    for n, text in enumerate((b"hello", b"", b"x" * 200)):
        guest.peer.send(to_guest(UDP(sport=41000 + n, dport=5000) / text))
        reply = guest.peer.expect(udp_from_guest(41000 + n))
        assert reply[UDP].sport == 5000
        assert bytes(reply[UDP].payload) == b"got: " + text

    guest.kexts.unload("com.example.udpanswer")
    assert "*.5000" not in guest.command("netstat -a")
    guest.peer.send(to_guest(UDP(sport=41010, dport=5000) / b"gone?"))
    err = guest.peer.expect(lambda p: ICMP in p and p[ICMP].type == 3)
    assert err[ICMP].code == 3  # port unreachable: nothing bound any more
    guest.assert_idle()


def test_a_kext_that_leaves_its_socket_open_is_refused_at_unload(
    guest: Guest, make_kext: MakeKext
) -> None:
    guest.kexts.load(make_kext("udpleak", UDPLEAK, libraries=KPIS))

    with pytest.raises(FinchError) as refused:
        guest.kexts.unload("com.example.udpleak")

    message = str(refused.value)
    assert message.startswith("com.example.udpleak")
    assert (
        "socket (UDP 0.0.0.0:5001) made by the kext is still open: stop must call sock_close"
        in message
    )
    assert any(k.identifier == "com.example.udpleak" for k in guest.kexts.kextstat())
    assert "*.5001" in guest.command("netstat -a")  # it is still there
    guest.sockets += 1  # and stays, with the stopped kext, for the module's life


def test_datagrams_to_a_full_socket_are_counted_and_the_rest_read_without_blocking(
    guest: Guest, make_kext: MakeKext
) -> None:
    guest.kexts.load(make_kext("udphold", UDPHOLD, libraries=KPIS))
    before = netstat_s(guest.machine)

    for _ in range(20):
        guest.peer.send(to_guest(UDP(sport=42000, dport=5002) / bytes(100)))
    guest.peer.drain(0.5)

    after = netstat_s(guest.machine)
    delivered = after["udp.delivered"] - before["udp.delivered"]
    full = after["udp.fullsock"] - before["udp.fullsock"]
    assert delivered + full == 20
    assert 0 < delivered < 20  # 1 KB holds a few of them
    row = re.search(r"^udp4\s+(\d+)\s+0\s+\*\.5002\s", guest.command("netstat -a"), re.M)
    assert row, "no socket on port 5002 in netstat -a"
    assert int(row.group(1)) == delivered * (100 + 16)  # data and addresses
    guest.kexts.unload("com.example.udphold")
    read = guest.machine.expect(r"udphold: read (\d+) datagrams, then error (\d+)")
    assert read.groups() == (str(delivered), "35")  # then EWOULDBLOCK
    guest.assert_idle()


def test_the_socket_kpi_keeps_its_errno_rules_in_a_kext(guest: Guest, make_kext: MakeKext) -> None:
    guest.kexts.load(make_kext("socktest", SOCKTEST, libraries=KPIS))

    done = guest.machine.expect(re.compile(r"(.*?)socktest: done, (\d+) failed", re.S), 10)

    assert done.group(2) == "0", done.group(1)
    guest.kexts.unload("com.example.socktest")


# --------------------------------------------------------------------------
# Addresses


def test_an_alias_added_with_ifconfig_answers_on_the_wire_until_removed(guest: Guest) -> None:
    assert guest.command(f"ifconfig en0 inet {ALIAS_IP} netmask 255.255.255.0 alias") == ""
    announced = guest.peer.expect(lambda p: ARP in p and p[ARP].psrc == ALIAS_IP == p[ARP].pdst)
    assert announced[ARP].hwsrc == GUEST_MAC
    en0 = guest.command("ifconfig en0")
    assert f"inet {GUEST_IP} netmask 0xffffff00 broadcast 10.0.2.255" in en0
    assert f"inet {ALIAS_IP} netmask 0xffffff00 broadcast 10.0.2.255" in en0
    assert re.search(rf"KEV_INET_NEW_ADDR\s+en0 {re.escape(ALIAS_IP)}", guest.command("kevents 3"))

    guest.peer.send(
        Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC)
        / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=ALIAS_IP)
    )
    answer = guest.peer.expect(lambda p: ARP in p and p[ARP].op == 2)
    assert (answer[ARP].psrc, answer[ARP].hwsrc) == (ALIAS_IP, GUEST_MAC)
    guest.peer.send(to_guest(UDP(sport=43000, dport=7) / b"to the alias", dst=ALIAS_IP))
    echo = guest.peer.expect(udp_from_guest(43000))
    assert bytes(echo[UDP].payload) == b"to the alias"

    assert guest.command(f"ifconfig en0 inet {ALIAS_IP} -alias") == ""
    assert ALIAS_IP not in guest.command("ifconfig en0")
    assert re.search(
        rf"KEV_INET_ADDR_DELETED\s+en0 {re.escape(ALIAS_IP)}", guest.command("kevents 1")
    )
    assert re.search(r"^10\.0\.2\.0/24\s+link#\d+\s+U\s", guest.command("netstat -r"), re.M)
    before = netstat_s(guest.machine)
    guest.peer.send(to_guest(UDP(sport=43001, dport=7) / b"anyone?", dst=ALIAS_IP))
    guest.peer.drain(0.3)
    assert netstat_s(guest.machine)["ip.notforus"] == before["ip.notforus"] + 1
    assert "the interface has no such address" in guest.command(
        f"ifconfig en0 inet {ALIAS_IP} -alias"
    )


def test_an_alias_on_another_network_brings_its_route_and_takes_it_away(guest: Guest) -> None:
    assert guest.command("ifconfig en0 inet 192.168.77.1/24 alias") == ""
    assert re.search(
        r"^192\.168\.77\.0/24\s+link#\d+\s+U\s+\d+\s+en0$", guest.command("netstat -r"), re.M
    )
    assert "source: 192.168.77.1" in guest.command("route get 192.168.77.9")
    assert "source: 10.0.2.15" in guest.command("route get 10.0.2.9")
    assert guest.command("ifconfig en0 inet 192.168.77.1 delete") == ""
    assert "192.168.77.0/24" not in guest.command("netstat -r")
