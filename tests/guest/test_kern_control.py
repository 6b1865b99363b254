"""Kernel controls (issue 11): a kext registers a control, and the host --
through a PF_SYSTEM socket in the guest, over the host link -- finds it
by name, connects, sends to its ctl_send, reads what it enqueues, sets
and gets its options; a privileged control refuses a client without
root's credential; a control with clients cannot be deregistered; a kext
that leaves its control registered is kept, with words saying why; and
registering posts KEV_CTL_REGISTERED, which an event socket hears.

The tests share one guest.  `kctltest` echoes what it is sent in upper
case (through ctl_enqueuedata for records starting "data:", else by
handing the mbuf back with ctl_enqueuembuf) and answers options:

    1  an int the client sets and gets back (per unit)
    2  get: the client's unit
    3  set: call ctl_deregister on this very control; the error is the answer
    4  get: ctl_getenqueuespace for the client
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.cli import events as events_cli
from finch.cli import kctl as kctl_cli
from finch.kctl import EventFilter, EventSocket, KctlError, KernelControl, lookup
from finch.kevents import KEV_CTL_SUBCLASS, KEV_SYSTEM_CLASS, KEV_VENDOR_APPLE
from finch.kext.guest import KextGuest
from finch.kext.load import LoadResult
from finch.kext.unload import UnloadRefused
from finch.session import GuestSession

MakeKext = Callable[..., Path]

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}

NAME = "com.example.kctltest"
PRIV_NAME = "com.example.kctltest.priv"
STREAM_NAME = "com.example.kctltest.stream"
FIXED_NAME = "com.example.kctltest.fixed"
OPT_VALUE, OPT_UNIT, OPT_DEREGISTER, OPT_SPACE = 1, 2, 3, 4
EBUSY, EPERM, ENOENT, EPROTOTYPE = 16, 1, 2, 41

KCTLTEST = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>

#define MAXUNIT	8
#define PRIV_NAME	"com.example.kctltest.priv"
#define STREAM_NAME	"com.example.kctltest.stream"
#define FIXED_NAME	"com.example.kctltest.fixed"
#define FIXED_ID	0x5a5a
#define FIXED_UNIT	3

kern_return_t kctltest_start(kmod_info_t *ki, void *data);
kern_return_t kctltest_stop(kmod_info_t *ki, void *data);

static kern_ctl_ref ref, priv_ref, stream_ref, fixed_ref;
static int values[MAXUNIT + 1];

static errno_t
kt_connect(kern_ctl_ref r, struct sockaddr_ctl *sac, void **unitinfo)
{
	if (sac->sc_unit > MAXUNIT)
		return ENOBUFS;
	values[sac->sc_unit] = 0;
	*unitinfo = &values[sac->sc_unit];
	return 0;
}

static errno_t
kt_disconnect(kern_ctl_ref r, u_int32_t unit, void *unitinfo)
{
	return 0;
}

static void
kt_upper(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] -= 'a' - 'A';
}

static errno_t
kt_send(kern_ctl_ref r, u_int32_t unit, void *unitinfo, mbuf_t m, int flags)
{
	char buf[256];
	size_t len = mbuf_pkthdr_len(m);
	mbuf_t n;
	errno_t error;
	bool data = len >= 5 && mbuf_copydata(m, 0, 5, buf) == 0;

	if (data && memcmp(buf, "data:", 5) == 0) {
		if (len > sizeof(buf))
			len = sizeof(buf);
		mbuf_copydata(m, 0, len, buf);
		mbuf_freem(m);
		kt_upper(buf, len);
		return ctl_enqueuedata(r, unit, buf, len, CTL_DATA_EOR);
	}
	for (n = m; n != NULL; n = mbuf_next(n))
		kt_upper(mbuf_data(n), mbuf_len(n));
	error = ctl_enqueuembuf(r, unit, m, CTL_DATA_EOR);
	if (error != 0)
		mbuf_freem(m);
	return error;
}

static errno_t
kt_setopt(kern_ctl_ref r, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
	switch (opt) {
	case 1:
		if (len != sizeof(int))
			return EINVAL;
		*(int *)unitinfo = *(int *)data;
		return 0;
	case 3:
		return ctl_deregister(r);
	default:
		return ENOTSUP;
	}
}

static errno_t
kt_getopt(kern_ctl_ref r, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	size_t space;
	int v;

	switch (opt) {
	case 1:
		v = *(int *)unitinfo;
		break;
	case 2:
		v = (int)unit;
		break;
	case 4:
		if (ctl_getenqueuespace(r, unit, &space) != 0)
			return EINVAL;
		v = (int)space;
		break;
	default:
		return ENOTSUP;
	}
	if (data == NULL) {
		*len = sizeof(v);
		return 0;
	}
	if (*len < sizeof(v))
		return EINVAL;
	memcpy(data, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

static errno_t
kt_register(const char *name, u_int32_t flags, kern_ctl_ref *out)
{
	struct kern_ctl_reg reg;

	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, name, sizeof(reg.ctl_name));
	reg.ctl_flags = flags;
	reg.ctl_id = FIXED_ID;		/* used with CTL_FLAG_REG_ID_UNIT */
	reg.ctl_unit = FIXED_UNIT;
	reg.ctl_connect = kt_connect;
	reg.ctl_disconnect = kt_disconnect;
	reg.ctl_send = kt_send;
	reg.ctl_setopt = kt_setopt;
	reg.ctl_getopt = kt_getopt;
	return ctl_register(&reg, out);
}

/* A control with clients cannot go: refuse to stop until they left. */
kern_return_t
kctltest_stop(kmod_info_t *ki, void *data)
{
	kern_ctl_ref *refs[] = { &fixed_ref, &stream_ref, &priv_ref, &ref };
	unsigned i;

	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		if (*refs[i] != NULL && ctl_deregister(*refs[i]) == EBUSY)
			return KERN_FAILURE;
		*refs[i] = NULL;
	}
	return KERN_SUCCESS;
}

kern_return_t
kctltest_start(kmod_info_t *ki, void *data)
{
	errno_t error;

	error = kt_register("com.example.kctltest", 0, &ref);
	if (error == 0)
		error = kt_register(PRIV_NAME, CTL_FLAG_PRIVILEGED, &priv_ref);
	if (error == 0)
		error = kt_register(STREAM_NAME, CTL_FLAG_REG_SOCK_STREAM, &stream_ref);
	if (error == 0)
		error = kt_register(FIXED_NAME, CTL_FLAG_REG_ID_UNIT, &fixed_ref);
	if (error != 0) {
		kctltest_stop(ki, data);
		return KERN_FAILURE;
	}
	return KERN_SUCCESS;
}
"""

# Registers a control and never deregisters it.
KCTLLEAK = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/kern_control.h>

kern_return_t kctlleak_start(kmod_info_t *ki, void *data);
kern_return_t kctlleak_stop(kmod_info_t *ki, void *data);

static kern_ctl_ref ref;

static errno_t
kl_connect(kern_ctl_ref r, struct sockaddr_ctl *sac, void **unitinfo)
{
	return 0;
}

kern_return_t
kctlleak_start(kmod_info_t *ki, void *data)
{
	struct kern_ctl_reg reg;

	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, "com.example.kctlleak", sizeof(reg.ctl_name));
	reg.ctl_connect = kl_connect;
	return ctl_register(&reg, &ref) == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
kctlleak_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot ctl_deregister */
}
"""


@pytest.fixture(scope="module")
def kctltest(module_kext_guest: KextGuest, module_make_kext: MakeKext) -> Iterator[LoadResult]:
    bundle = module_make_kext("kctltest", KCTLTEST, libraries=KPIS)
    [result] = module_kext_guest.load(bundle)
    yield result
    module_kext_guest.unload("com.example.kctltest")


@pytest.fixture
def session(module_kext_guest: KextGuest) -> Iterator[GuestSession]:
    """A host session: the test's only one (QEMU serves one at a time)."""
    with module_kext_guest.session() as session:
        yield session


@pytest.fixture
def control(session: GuestSession, kctltest: LoadResult) -> Iterator[KernelControl]:
    """A client of com.example.kctltest."""
    with KernelControl.connect(session, NAME) as ctl:
        yield ctl


# -- finding and connecting ------------------------------------------------


def test_a_registered_control_is_found_by_name(
    module_kext_guest: KextGuest, kctltest: LoadResult
) -> None:
    with module_kext_guest.session() as session:
        ctl_id = lookup(session, NAME)

    assert ctl_id >= 1
    assert f"id {ctl_id} '{NAME}' (com.example.kctltest)" in module_kext_guest.monitor("kctl")


def test_an_unknown_name_is_refused_with_enoent_and_advice(module_kext_guest: KextGuest) -> None:
    with module_kext_guest.session() as session, pytest.raises(KctlError) as e:
        lookup(session, "com.example.nobody")

    assert e.value.errno == ENOENT
    assert "no kernel control is registered as 'com.example.nobody'" in str(e.value)


def test_connecting_gives_the_lowest_free_unit_and_kctl_lists_the_client(
    control: KernelControl, session: GuestSession
) -> None:
    assert control.getsockopt_int(OPT_UNIT) == 1
    out = session.monitor("kctl")
    assert f"'{NAME}' (com.example.kctltest): dgram; send 2048, recv 8192 bytes; 1 clients" in out
    assert "  unit 1: socket 0x" in out


# -- data both ways --------------------------------------------------------


def test_data_sent_reaches_ctl_send_and_its_mbuf_comes_back_enqueued(
    control: KernelControl,
) -> None:
    assert control.send(b"hello, kext") == 11

    assert control.recv(timeout=5.0) == b"HELLO, KEXT"


def test_ctl_enqueuedata_records_arrive_one_per_receive_in_order(
    control: KernelControl,
) -> None:
    for word in (b"data:one", b"data:two"):
        control.send(word)

    assert control.recv(timeout=5.0) == b"DATA:ONE"
    assert control.recv(timeout=5.0) == b"DATA:TWO"
    assert control.recv(timeout=0.0) is None


# -- options ---------------------------------------------------------------


def test_an_option_set_is_read_back_through_the_kexts_callbacks(
    control: KernelControl,
) -> None:
    control.setsockopt(OPT_VALUE, 4242)

    assert control.getsockopt_int(OPT_VALUE) == 4242


def test_getenqueuespace_reports_the_default_8_kb_receive_buffer(
    control: KernelControl,
) -> None:
    assert control.getsockopt_int(OPT_SPACE) == 8 * 1024


def test_an_option_the_kext_does_not_know_is_its_error(control: KernelControl) -> None:
    with pytest.raises(KctlError) as e:
        control.setsockopt(99, 1)

    assert e.value.errno == 45  # ENOTSUP, from kt_setopt


# -- rules -----------------------------------------------------------------


def test_deregistering_a_control_with_a_client_says_ebusy(control: KernelControl) -> None:
    with pytest.raises(KctlError) as e:
        control.setsockopt(OPT_DEREGISTER, 0)

    assert e.value.errno == EBUSY
    assert control.getsockopt_int(OPT_UNIT) == 1  # still registered and connected


def test_a_privileged_control_refuses_a_client_without_roots_credential(
    module_kext_guest: KextGuest, kctltest: LoadResult
) -> None:
    with module_kext_guest.session() as session:
        with pytest.raises(KctlError) as e:
            KernelControl.connect(session, PRIV_NAME, privileged=False)
        with KernelControl.connect(session, PRIV_NAME) as root:
            unit = root.getsockopt_int(OPT_UNIT)

    assert e.value.errno == EPERM
    assert "CTL_FLAG_PRIVILEGED" in str(e.value)
    assert unit == 1
    assert "0 of 16 host sockets open" in module_kext_guest.monitor("hostsock")


def test_a_stream_control_takes_only_stream_clients(
    session: GuestSession, kctltest: LoadResult
) -> None:
    with pytest.raises(KctlError) as e:
        KernelControl.connect(session, STREAM_NAME)
    with KernelControl.connect(session, STREAM_NAME, stream=True) as ctl:
        ctl.send(b"data:abc")
        echoed = ctl.recv(timeout=5.0)

    assert e.value.errno == EPROTOTYPE
    assert echoed == b"DATA:ABC"


def test_a_fixed_id_control_keeps_its_id_and_takes_clients_on_its_unit(
    session: GuestSession, kctltest: LoadResult
) -> None:
    with pytest.raises(KctlError) as e:
        KernelControl.connect(session, FIXED_NAME)  # unit 0: not its unit
    with KernelControl.connect(session, FIXED_NAME, 3) as ctl:
        unit = ctl.getsockopt_int(OPT_UNIT)

    assert lookup(session, FIXED_NAME) == 0x5A5A
    assert e.value.errno == ENOENT
    assert unit == 3


def test_the_kctl_command_line_sends_and_prints_the_answer(
    module_kext_guest: KextGuest, kctltest: LoadResult, capsys: pytest.CaptureFixture[str]
) -> None:
    rundir = str(module_kext_guest.rundir)
    status = kctl_cli.main(["--rundir", rundir, NAME, "--send", "abc", "--recv", "--getopt", "2"])

    assert status == 0
    assert capsys.readouterr().out.splitlines() == ["sent 3 bytes", "ABC", "option 2: 1"]


# -- events and unloading ----------------------------------------------------


def test_registering_posts_kev_ctl_registered_to_an_event_socket_and_a_left_control_pins_the_kext(
    module_kext_guest: KextGuest, module_make_kext: MakeKext
) -> None:
    ctl_events = EventFilter(KEV_VENDOR_APPLE, KEV_SYSTEM_CLASS, KEV_CTL_SUBCLASS)
    with module_kext_guest.session() as session:
        listener = EventSocket.open(session, ctl_events)
        assert listener.filter() == ctl_events
    bundle = module_make_kext("kctlleak", KCTLLEAK, libraries=KPIS)
    module_kext_guest.load(bundle)
    with module_kext_guest.session() as session:
        listener.caller = session  # the socket outlives the host session
        # `finch events` reads its socket this way
        heard = next(events_cli.stream(listener, end=time.monotonic() + 10.0))
        ctl_id = lookup(session, "com.example.kctlleak")
        listener.close()

    assert heard.name == "KEV_CTL_REGISTERED"
    assert struct.unpack("<II", heard.data) == (ctl_id, 0)  # struct ctl_event_data

    with pytest.raises(UnloadRefused) as refused:
        module_kext_guest.unload("com.example.kctlleak")
    assert "kernel control 'com.example.kctlleak' (ctl_connect 0x" in str(refused.value)
    assert "still registered: stop must call ctl_deregister" in str(refused.value)


def test_close_all_closes_the_sockets_a_dead_tool_left_open(
    module_kext_guest: KextGuest, kctltest: LoadResult
) -> None:
    with module_kext_guest.session() as session:
        KernelControl.connect(session, NAME)  # never closed: as if the tool died
    assert "1 of 16 host sockets open" in module_kext_guest.monitor("hostsock")

    status = kctl_cli.main(["--rundir", str(module_kext_guest.rundir), "--close-all"])

    assert status == 0
    assert "0 of 16 host sockets open" in module_kext_guest.monitor("hostsock")
    assert f"'{NAME}' (com.example.kctltest): dgram; send 2048, recv 8192 bytes; 0 clients" in (
        module_kext_guest.monitor("kctl")
    )
