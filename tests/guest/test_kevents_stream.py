"""The host link streams kernel events to a host that asks for them:
pulling the e1000's cable (QMP set_link) reaches the host as
KEV_DL_LINK_OFF, plugging it back as KEV_DL_LINK_ON.  `finch events`
hears them through a PF_SYSTEM event socket in the guest."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from finch.cli import main as finch_main
from finch.hostlink.client import HostLink
from finch.hostlink.messages import EVENT_KEV, HELLO_EVENTS
from finch.kevents import KernelEvent
from finch.kext.guest import kext_options
from finch.machine import Machine
from finch.qemu_args import QemuOptions


def wait_for_event(link: HostLink, name: str, timeout: float = 10.0) -> list[str]:
    """Every event received until one named `name`, in order."""
    seen: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for event in link.wait_events(0.5):
            if event.kind == EVENT_KEV:
                seen.append(str(KernelEvent.decode(event.data)))
        if any(line.startswith(name) for line in seen):
            return seen
    raise AssertionError(f"no {name} within {timeout} s; received {seen}")


@pytest.fixture
def net_guest(machine_factory: Callable[..., Machine]) -> Machine:
    """A guest with an e1000 (en0) on user networking and its host link."""
    options = kext_options(QemuOptions(netdevs=["user,id=net0"], devices=["e1000,netdev=net0"]))
    machine = machine_factory(options)
    machine.boot()
    return machine


def test_link_down_and_up_reach_the_host_as_kernel_events(net_guest: Machine) -> None:
    machine = net_guest
    with HostLink(machine.serial_socket(2)).connect() as link:
        link.wait_ready(flags=HELLO_EVENTS)

        machine.qmp("set_link", name="net0", up=False)
        assert "KEV_DL_LINK_OFF en0" in wait_for_event(link, "KEV_DL_LINK_OFF")

        machine.qmp("set_link", name="net0", up=True)
        assert "KEV_DL_LINK_ON en0" in wait_for_event(link, "KEV_DL_LINK_ON")


def test_a_host_that_did_not_ask_gets_no_events(net_guest: Machine) -> None:
    machine = net_guest
    with HostLink(machine.serial_socket(2)).connect() as link:
        link.wait_ready()  # no HELLO_EVENTS
        machine.qmp("set_link", name="net0", up=False)
        time.sleep(1.0)
        assert link.wait_events(0.5) == []
        assert "KEV_DL_LINK_OFF" in machine.command("kevents")  # it did happen


def test_finch_events_reads_an_event_socket_filtered_to_link_events(
    net_guest: Machine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = net_guest
    argv = ["events", "--rundir", str(machine.paths.rundir), "-c", "1", "-t", "30"]
    argv += ["--vendor", "apple", "--class", "network", "--subclass", "dl"]
    status: list[int] = []
    watcher = threading.Thread(target=lambda: status.append(finch_main(argv)))
    watcher.start()
    end = time.monotonic() + 15
    while "1 of 16 host sockets open" not in machine.command("hostsock"):
        assert time.monotonic() < end, "finch events never opened its event socket"
        time.sleep(0.1)

    machine.qmp("set_link", name="net0", up=False)
    watcher.join(timeout=30)

    assert status == [0]
    assert capsys.readouterr().out == "KEV_DL_LINK_OFF en0\n"
    assert "0 of 16 host sockets open" in machine.command("hostsock")  # it closed it
