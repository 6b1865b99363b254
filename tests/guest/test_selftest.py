"""The kernel's own unit tests (`selftest`) all pass in the real guest."""

from __future__ import annotations

import re

from finch.machine import Machine


def test_every_kernel_selftest_passes(guest: Machine) -> None:
    out = guest.command("selftest", timeout=120)
    total = re.search(r"^selftest: (\d+) passed, (\d+) failed", out, re.M)
    assert total, out
    failed = [line for line in out.splitlines() if line.endswith("FAILED")]
    assert failed == [], "\n".join(failed) + "\n" + out
    assert int(total.group(2)) == 0
    # allocator, scheduler, sleep/wakeup, each lock kind, timers, atomics,
    # printf, and the subsystems built on them (host link, events, DLIL,
    # sockets, kernel controls)
    for name in (
        "kalloc",
        "vm_page",
        "sched_preemption",
        "msleep_wakeup",
        "msleep_pingpong",
        "lck_mtx",
        "lck_spin",
        "lck_rw",
        "timeout",
        "thread_call",
        "clock_approximate",
        "delay_interrupts_off",
        "atomic_add",
        "printf_flags",
        "crc32",
        "hostlink_bad_crc",
        "kev_msg_post",
        "dlil_input_demux",
        "socket_sockbuf_records",
        "socket_loopback_datagrams",
        "inpcb_bind_rules",
        "inpcb_ioctl_args",
        "kctl_kernel_client",
        "kctl_event_socket_filter",
        "sflt_order_and_detach",
        "sflt_unregister_from_own_callback",
        "ipf_order_and_remove",
        "ipf_remove_from_own_callback",
        "netinet_ifdetach_purges",
        "inet_ntop_v6",
        "proc_self",
        "kauth_root",
        "timeval_arithmetic",
    ):
        assert re.search(rf"^selftest: {name} \.\.\. ok$", out, re.M), f"{name} did not run"


def test_selftest_prefix_runs_only_matching_tests(module_guest: Machine) -> None:
    out = module_guest.command("selftest lck_")
    names = re.findall(r"^selftest: (\S+) \.\.\. ok$", out, re.M)
    assert names
    assert all(n.startswith("lck_") for n in names)
    assert "no test name starts with" in module_guest.command("selftest zzz")
