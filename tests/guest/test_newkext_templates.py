"""`finch new-kext --template T`: each template's kext, as generated, builds,
loads, does what its README says on real traffic, and unloads cleanly --
its stop routine takes the timer, the registration and the locks down,
and nothing is left pinned.

One guest (with en0 on QEMU's user networking) serves every template; the
kexts are generated and built once, in the module's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from finch.build import Tree
from finch.kctl import KernelControl
from finch.kext.build import build_kext
from finch.kext.guest import KextGuest, kext_options
from finch.newkext import available_templates, interface_name, new_kext
from finch.pytest_plugin import MachineFactory
from finch.qemu_args import QemuOptions

TEMPLATES = available_templates()


@dataclass(frozen=True)
class Generated:
    name: str
    bundle_id: str
    bundle: Path  # the built .kext


@pytest.fixture(scope="module")
def generated(finch_tree: Tree, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Generated]:
    root = tmp_path_factory.mktemp("newkext")
    out: dict[str, Generated] = {}
    for template in TEMPLATES:
        name, bundle_id = f"my{template}", f"com.example.my{template}"
        made = new_kext(name, bundle_id, root / "src", template)
        built = build_kext(made.path, tree=finch_tree, out_dir=root / "kexts", echo=lambda _: None)
        out[template] = Generated(name, bundle_id, built.bundle.path)
    return out


@pytest.fixture(scope="module")
def guest(module_machine_factory: MachineFactory, built_kexts: Path) -> KextGuest:
    options = kext_options(QemuOptions(netdevs=["user,id=net0"], devices=["e1000,netdev=net0"]))
    machine = module_machine_factory(options)
    machine.boot()
    kexts = KextGuest(machine, built_kexts)
    kexts.wait_ready()
    return kexts


def exercise(guest: KextGuest, template: str, kext: Generated) -> str:
    """Do what the template's README says to type; return the last
    summary its stop routine must print (a regular expression)."""
    machine = guest.machine
    if template == "kctl":
        with guest.session() as session, KernelControl.connect(session, kext.bundle_id) as ctl:
            ctl.send(b"hello, template")
            assert ctl.recv(timeout=5.0) == b"HELLO, TEMPLATE"
            ctl.setsockopt(1, 42)
            assert ctl.getsockopt_int(1) == 42
        return r"0 clients; 1 records, 15 bytes sent back"
    if template == "ifnet":
        ifname = interface_name(kext.name) + "0"
        assert machine.command(f"ifconfig {ifname} inet 10.99.0.1/24") == ""
        machine.command("ping -c 1 10.99.0.2", timeout=20)
        return rf"{ifname} discarded 1 packets, 84 bytes"
    if template == "iflt":
        assert "1 packets received" in machine.command("ping -c 1 10.0.2.2", timeout=20)
        return r"en0 in [1-9]\d* frames \d+ bytes, out [1-9]\d* frames"
    if template == "ipf":
        assert "1 packets received" in machine.command("ping -c 1 10.0.2.2", timeout=20)
        return r"in [1-9]\d* ICMP, \d+ UDP, \d+ TCP, \d+ other; out [1-9]"
    if template == "sflt":
        assert kext.name in guest.monitor("sflt")
        out = machine.command("udp send 127.0.0.1 7 hello")
        assert "5 bytes from 127.0.0.1.7: hello" in out
        return r"0 UDP sockets; in 1 datagrams 5 bytes, out 1 datagrams 5 bytes"
    if template == "plumber":
        return r"0 frames of type 0x88b6 on en0, 0 bytes"
    return ""


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_generated_kext_loads_works_and_unloads_cleanly(
    guest: KextGuest, generated: dict[str, Generated], template: str
) -> None:
    kext = generated[template]
    console = len(guest.machine.console_text())

    guest.load(kext.bundle)
    last_summary = exercise(guest, template, kext)
    unloaded = guest.unload(kext.bundle_id)

    # The stop routine's last lines travel on COM1, the reply to the
    # unload on COM2: the reply may be first.
    needle = f"{kext.name}: start" if template == "generic" else f"{kext.name}: stopped"
    log = guest.machine.console_since(console, needle, timeout=5)
    assert f"{kext.name}: start" in log
    if template != "generic":
        assert re.search(rf"{kext.name}: summary \d+: {last_summary}", log), log
        assert f"{kext.name}: stopped" in log
    assert unloaded.leaks == ""
    assert kext.bundle_id not in guest.machine.command("kextstat")
