"""The profiler (`prof`, kernel/kern/prof.c): it samples the code the
clock interrupts and names the functions, with the callers they were
reached from."""

from __future__ import annotations

import re

from finch.machine import Machine


def test_prof_names_the_functions_that_ran_and_their_callers(module_guest: Machine) -> None:
    assert module_guest.command("prof start") == "prof: on, sampling 100 times a second"
    module_guest.command("selftest mbuf", timeout=60)  # some work to sample
    report = module_guest.command("prof stop")
    header = re.match(r"prof: off, (\d+) samples at 100 Hz\n", report)
    assert header, report
    rows = re.findall(r"^\s*(\d+)\s+(\d+)%  (\S+)", report, re.M)
    assert rows, report
    assert sum(int(samples) for samples, _, _ in rows) <= int(header.group(1))
    assert all(name != "(no" for _, _, name in rows), report
    assert ", from " in report


def test_prof_refuses_what_it_does_not_know_and_the_guest_goes_on(module_guest: Machine) -> None:
    assert "give start, stop or how many functions to list" in module_guest.command("prof x")
    assert "give start, stop" in module_guest.command("prof 0")
    assert "usage: prof [start | stop | N]" in module_guest.command("prof 1 2")
    assert module_guest.command("prof 3").startswith("prof: off")
