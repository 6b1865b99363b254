"""The public KPI headers have Mac OS X's layouts and values, checked by
the compiler: each fact is a _Static_assert in a kext-sized source,
compiled with the flags `finch kextbuild` gives a kext (i386, warnings
as errors).  A binary NKE and its user-space tool agree with the kernel
only if sizes, offsets and ioctl numbers are exactly Darwin's; source
written for 10.4 builds only if the names are where it looks for them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from finch.build import Tree, kext_cflags


def compile_source(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "layout.c"
    path.write_text(source)
    return subprocess.run(
        ["gcc", *kext_cflags(Tree.find()), "-fsyntax-only", str(path)],
        capture_output=True,
        text=True,
    )


def assert_compiles(tmp_path: Path, source: str) -> None:
    result = compile_source(tmp_path, source)
    assert result.returncode == 0, result.stderr


LAYOUT = r"""
#include <stddef.h>
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/kernel_types.h>
#include <sys/socket.h>
#include <sys/kpi_socketfilter.h>
#include <sys/kern_control.h>
#include <sys/kern_event.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <net/kext_net.h>
#include <net/kpi_interface.h>
#include <netinet/kpi_ipfilter.h>
#include <netinet/in_var.h>

#define FACT(e)	_Static_assert(e, #e)

/* struct sflt_filter: 10.4's eighteen members, then sf_ext. */
FACT(offsetof(struct sflt_filter, sf_handle) == 0);
FACT(offsetof(struct sflt_filter, sf_name) == 8);
FACT(offsetof(struct sflt_filter, sf_ioctl) == 68);
FACT(offsetof(struct sflt_filter, sf_ext) == 72);
FACT(sizeof(struct sflt_filter_ext) == 28);
FACT(offsetof(struct sflt_filter, sf_len) == 72);
FACT(offsetof(struct sflt_filter, sf_accept) == 76);
FACT(sizeof(struct sflt_filter) == 100);
FACT(SFLT_GLOBAL == 1 && SFLT_PROG == 2 && SFLT_EXTENDED == 4);
FACT(sock_evt_closing == 9 && sock_data_filt_flag_record == 2);
FACT(SO_NKE == 0x1021 && sizeof(struct so_nke) == 28);

/* Kernel control and events: the client's structures and ioctls. */
FACT(sizeof(struct sockaddr_ctl) == 32);
FACT(sizeof(struct ctl_info) == 100);
FACT(CTLIOCGINFO == 0xc0644e03);
FACT(offsetof(struct kern_ctl_reg, ctl_id) == 96);
FACT(sizeof(struct kern_ctl_reg) == 136);
FACT(KEV_MSG_HEADER_SIZE == 24);
FACT(sizeof(struct kev_msg) == 16 + 8 * N_KEV_VECTORS && N_KEV_VECTORS == 5);
FACT(sizeof(struct kev_vendor_code) == 204);
FACT(SIOCSKEVFILT == 0x800c6502 && SIOCGKEVFILT == 0x400c6503);
FACT(SIOCGKEVVENDOR == 0xc0cc6504 && SIOCGKEVID == 0x40046501);
FACT(sizeof(struct net_event_data) == 24);
FACT(sizeof(struct kev_in_data) == 52 && offsetof(struct kev_in_collision, hw_len) == 28);

/* kmod_info (#pragma pack 4) as kextload and kextstat read it. */
FACT(offsetof(kmod_info_t, name) == 12);
FACT(offsetof(kmod_info_t, reference_count) == 140);
FACT(offsetof(kmod_info_t, start) == 160);
FACT(sizeof(kmod_info_t) == 168);
FACT(KERN_SUCCESS == 0 && KERN_INVALID_ARGUMENT == 4 && KERN_FAILURE == 5);
FACT(KERN_NOT_SUPPORTED == 46 && KERN_OPERATION_TIMED_OUT == 49);

/* Interfaces and IP filters. */
FACT(sizeof(struct ifnet_init_params) == 76);
FACT(offsetof(struct ifnet_init_params, output) == 24);
FACT(sizeof(struct ifnet_demux_desc) == 12);
FACT(sizeof(struct ifnet_attach_proto_param) == 36);
FACT(sizeof(struct ifnet_stat_increment_param) == 32);
FACT(sizeof(struct ipf_filter) == 20 && sizeof(struct ipf_pktopts) == 16);
FACT(IFNET_FAMILY_BOND == 14 && DLIL_DESC_SNAP == 6);

/* mbufs: 10.4's mbuf_stat counts in u_long (later releases: u_int32_t). */
FACT(_Generic(((struct mbuf_stat *)0)->mbufs, unsigned long: 1, default: 0));
FACT(sizeof(struct mbuf_stat) == 576 && MBUF_COPYALL == 1000000000);
FACT(MBUF_TYPE_OOBDATA == 15 && MBUF_HASFCS == 0x4000);

/* errno: Darwin's numbers, the kernel-only ones negative. */
FACT(ENOTSUP == 45 && EOPNOTSUPP == 102 && EWOULDBLOCK == 35);
FACT(ENOTTY == 25 && EOVERFLOW == 84 && ECANCELED == 89 && ELAST == 102);
FACT(ERESTART == -1 && EJUSTRETURN == -2);
"""


def test_structures_ioctls_and_values_are_darwins(tmp_path: Path) -> None:
    assert_compiles(tmp_path, LAYOUT)


def test_kernel_types_alone_declares_every_opaque_handle(tmp_path: Path) -> None:
    # What an NKE's own header includes to declare its functions.
    assert_compiles(
        tmp_path,
        """
#include <sys/kernel_types.h>
errno_t my_input(mbuf_t *m, socket_t so, sockopt_t opt, ifnet_t ifp,
    ifaddr_t ifa, ifmultiaddr_t ifma, interface_filter_t ref, route_t rt,
    proc_t p);
""",
    )


# 10.4's sources fill struct sflt_filter positionally with eighteen
# members; newer ones set sf_ext through the sf_len and sf_accept macros.
@pytest.mark.parametrize(
    "init",
    [
        'static struct sflt_filter f = { 1, SFLT_GLOBAL, "x", NULL, at, de,'
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };",
        "static struct sflt_filter f;\n"
        "void set(void) { f.sf_flags = SFLT_EXTENDED; f.sf_len = sizeof(f.sf_ext);"
        " f.sf_accept = ac; }",
    ],
    ids=["tiger-positional", "extended"],
)
def test_a_socket_filter_builds_with_warnings_as_errors(tmp_path: Path, init: str) -> None:
    assert_compiles(
        tmp_path,
        f"""
#include <sys/kpi_socketfilter.h>
static errno_t at(void **c, socket_t so) {{ return 0; }}
static void de(void *c, socket_t so) {{ }}
static errno_t __attribute__((unused)) ac(void *c, socket_t l, socket_t so,
    const struct sockaddr *local, const struct sockaddr *remote) {{ return 0; }}
{init}
void *use(void) {{ return &f; }}
""",
    )


def test_a_drivers_packet_queue_builds_with_the_mbuf_macros(tmp_path: Path) -> None:
    assert_compiles(
        tmp_path,
        """
#include <sys/kpi_mbuf.h>
#include <net/if_var.h>
static struct ifqueue q = { NULL, NULL, 0, 50, 0 };
mbuf_t requeue(mbuf_t m, mbuf_t urgent)
{
	mbuf_t first;

	IF_ENQUEUE_MBUF(&q, m);
	IF_PREPEND_MBUF(&q, urgent);
	IF_DEQUEUE_MBUF(&q, first);
	return first;
}
""",
    )
