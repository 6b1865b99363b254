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


def exercise(guest: KextGuest, template: str, kext: Generated) -> None:
    """What the template's README says to type, and what it must show."""
    machine = guest.machine
    if template == "kctl":
        with guest.session() as session, KernelControl.connect(session, kext.bundle_id) as ctl:
            ctl.send(b"hello, template")
            assert ctl.recv(timeout=5.0) == b"HELLO, TEMPLATE"
            ctl.setsockopt(1, 42)
            assert ctl.getsockopt_int(1) == 42
    elif template == "ifnet":
        ifname = interface_name(kext.name) + "0"
        assert machine.command(f"ifconfig {ifname} inet 10.99.0.1/24") == ""
        machine.command("ping -c 1 10.99.0.2", timeout=20)
        assert re.search(r"output: [1-9]\d* packets", machine.command(f"ifconfig {ifname}"))
    elif template in ("iflt", "ipf"):
        assert "1 packets received" in machine.command("ping -c 1 10.0.2.2", timeout=20)


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_generated_kext_loads_works_and_unloads_cleanly(
    guest: KextGuest, generated: dict[str, Generated], template: str
) -> None:
    kext = generated[template]
    console = len(guest.machine.console_text())

    guest.load(kext.bundle)
    exercise(guest, template, kext)
    guest.unload(kext.bundle_id)

    log = guest.machine.console_text()[console:]
    assert f"{kext.name}: start" in log
    if template != "generic":
        assert f"{kext.name}: stopped; 0 summaries printed" in log
    assert kext.bundle_id not in guest.machine.command("kextstat")
