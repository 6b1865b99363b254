"""pytest fixtures for testing Finch under QEMU (registered as the pytest11
plugin `finch`, so every test under the repository can use them).

    kernel_image     session: builds images/finch.elf once, returns a copy
    guest            a freshly booted Machine at the `finch> ` prompt
    module_guest     one booted Machine shared by a module's tests: only for
                     tests that read state and leave the guest as it was
    machine_factory  makes unlaunched Machines with custom QemuOptions (and
                     optionally another kernel); it shuts them all down
    module_machine_factory
                     the same for a whole module: its Machines are shared
                     by the module's tests, shut down after the last one
    built_kexts      session: every sample kext under kexts/, built once into
                     a temporary folder (<dir>/<Name>.kext)
    kext_guest       a KextGuest: a fresh guest with the host link on COM2
                     and RAM shared with the host, and kextload, kextstat,
                     kextunload and `mem` pointed at it
    module_kext_guest  one KextGuest shared by a module's tests: for tests
                     whose kexts have names of their own and that unload
                     what they load (or leave it for the module's end)

Every test that boots gets build/test-logs/<test id>/ with console.log and
qemu.log.  When the test fails the directory is kept, its path and the end
of the console are added to the report; when it passes it is deleted
(`--finch-keep-logs` keeps it anyway).  Tests using these fixtures are
marked `guest`, so `pytest -m "not guest"` runs only host tests.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import shutil
import signal
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from finch.build import Tree, build_kernel
from finch.errors import FinchError, MachineError
from finch.kext.build import build_all_kexts
from finch.kext.guest import KextGuest, kext_options
from finch.machine import Machine
from finch.preflight import QemuInfo, preflight
from finch.qemu_args import QemuOptions

GUEST_FIXTURES = frozenset(
    {
        "guest",
        "module_guest",
        "machine_factory",
        "kernel_image",
        "kext_guest",
        "module_kext_guest",
        "module_machine_factory",
    }
)

_MODULE_FIXTURES = frozenset({"module_guest", "module_kext_guest", "module_machine_factory"})

_failed_key = pytest.StashKey[bool]()
_log_dir_key = pytest.StashKey[Path]()
_machines_key = pytest.StashKey[list[Machine]]()
_sigterm_key = pytest.StashKey[Any]()

MachineFactory = Callable[..., Machine]


# --------------------------------------------------------------------------
# Hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("finch")
    group.addoption(
        "--finch-keep-logs",
        action="store_true",
        help="keep build/test-logs/<test>/ for passing tests too",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "guest: boots Finch under QEMU (deselect with -m 'not guest')"
    )
    # A SIGTERM (CI stopping the run) unwinds like Ctrl-C, so the fixtures
    # shut every QEMU down instead of leaving them running.
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        config.stash[_sigterm_key] = signal.signal(signal.SIGTERM, _interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _sigterm_key in config.stash:
        signal.signal(signal.SIGTERM, config.stash[_sigterm_key])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if GUEST_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.guest)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if not report.failed:
        return report
    item.stash[_failed_key] = True
    module = item.getparent(pytest.Module)
    if module is not None and _MODULE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        module.stash[_failed_key] = True
    for node in (item, module):
        if node is None:
            continue
        if _log_dir_key in node.stash:
            report.sections.append(
                ("finch logs", f"console.log and qemu.log kept in {node.stash[_log_dir_key]}")
            )
        # A MachineError already carries the end of the console.
        already_shown = call.excinfo is not None and call.excinfo.errisinstance(MachineError)
        for machine in node.stash.get(_machines_key, []):
            if already_shown or not machine.captures_console:
                continue
            tail = machine.console_text()[-2000:]
            report.sections.append((f"finch console of {machine.paths.rundir.name}", tail))
    return report


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def finch_tree(pytestconfig: pytest.Config) -> Tree:
    """The Finch checkout under test."""
    try:
        return Tree.find(pytestconfig.rootpath)
    except FinchError as e:
        pytest.fail(str(e), pytrace=False)


@contextlib.contextmanager
def _build_lock(tree: Tree) -> Iterator[None]:
    """Held while a session builds: `make test` runs pytest-xdist workers,
    each a session of its own, and two builds of one tree at once would
    write the same object files."""
    tree.build_dir.mkdir(parents=True, exist_ok=True)
    with open(tree.build_dir / ".test-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def kernel_image(finch_tree: Tree, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """images/finch.elf, built (if needed) once per session and copied
    aside: a `make` in another terminal that rebuilds images/finch.elf
    while the tests run cannot change the kernel under them (kextload
    would see another build id than the guest runs)."""
    try:
        with _build_lock(finch_tree):
            elf = build_kernel(finch_tree, echo=lambda line: None).elf
            copy = tmp_path_factory.mktemp("kernel") / elf.name
            shutil.copy2(elf, copy)
    except (FinchError, OSError) as e:
        pytest.fail(f"the kernel did not build:\n{e}", pytrace=False)
    return copy


@pytest.fixture(scope="session")
def finch_preflight() -> QemuInfo:
    """QEMU is here and good enough; else every guest test fails saying why."""
    try:
        return preflight()
    except FinchError as e:
        pytest.fail(str(e), pytrace=False)


def _sanitize(nodeid: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_")
    return name[-120:]


def _log_dir(tree: Tree, node: pytest.Item | pytest.Collector, keep: bool) -> Iterator[Path]:
    path = tree.test_log_dir / _sanitize(node.nodeid)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    node.stash[_log_dir_key] = path
    yield path
    if not node.stash.get(_failed_key, False) and not keep:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def finch_log_dir(request: pytest.FixtureRequest, finch_tree: Tree) -> Iterator[Path]:
    """build/test-logs/<test id>/: kept when the test fails."""
    keep = request.config.getoption("--finch-keep-logs")
    yield from _log_dir(finch_tree, request.node, keep)


def _factory(
    node: pytest.Item | pytest.Collector, log_dir: Path, kernel: Path
) -> tuple[MachineFactory, list[Machine]]:
    """A function making Machines for `node`, and the list it fills."""
    machines: list[Machine] = node.stash.setdefault(_machines_key, [])

    def make(
        options: QemuOptions | None = None, *, kernel_path: Path | None = None, name: str = ""
    ) -> Machine:
        """An unlaunched Machine logging into the test's directory (a
        subdirectory `name` for the second and later ones)."""
        rundir = log_dir / (name or f"machine{len(machines) + 1}") if machines else log_dir
        machine = Machine(kernel_path or kernel, rundir, options)
        machines.append(machine)
        return machine

    return make, machines


@pytest.fixture
def machine_factory(
    request: pytest.FixtureRequest,
    kernel_image: Path,
    finch_preflight: QemuInfo,
    finch_log_dir: Path,
) -> Iterator[MachineFactory]:
    """machine_factory(options=None, *, kernel_path=None, name="") -> Machine,
    not yet launched: `with machine_factory(opts) as m: m.boot()`."""
    make, machines = _factory(request.node, finch_log_dir, kernel_image)
    try:
        yield make
    finally:
        for machine in machines:
            machine.shutdown()


@pytest.fixture
def guest(machine_factory: MachineFactory) -> Machine:
    """A Finch guest booted to its `finch> ` prompt, for this test alone."""
    machine = machine_factory()
    machine.boot()
    return machine


@contextlib.contextmanager
def _module_machine(
    request: pytest.FixtureRequest,
    finch_tree: Tree,
    kernel_image: Path,
    options: QemuOptions | None = None,
) -> Iterator[Machine]:
    """One booted Machine for a module, logging into the module's directory."""
    module = request.node
    keep = request.config.getoption("--finch-keep-logs")
    logs = _log_dir(finch_tree, module, keep)
    log_dir = next(logs)
    make, machines = _factory(module, log_dir, kernel_image)
    try:
        machine = make(options)
        machine.boot()
        yield machine
    finally:
        for m in machines:
            m.shutdown()
        next(logs, None)


@pytest.fixture(scope="module")
def module_machine_factory(
    request: pytest.FixtureRequest,
    finch_tree: Tree,
    kernel_image: Path,
    finch_preflight: QemuInfo,
) -> Iterator[MachineFactory]:
    """machine_factory for a whole module: the Machines it makes serve
    every test of the module that asks, and are shut down after the last
    one.  Only for tests that leave a guest fit for the next."""
    module = request.node
    keep = request.config.getoption("--finch-keep-logs")
    logs = _log_dir(finch_tree, module, keep)
    log_dir = next(logs)
    make, machines = _factory(module, log_dir, kernel_image)
    try:
        yield make
    finally:
        for m in machines:
            m.shutdown()
        next(logs, None)


@pytest.fixture(scope="module")
def module_guest(
    request: pytest.FixtureRequest,
    finch_tree: Tree,
    kernel_image: Path,
    finch_preflight: QemuInfo,
) -> Iterator[Machine]:
    """One Finch guest at its prompt for every test in the module that
    asks for it.  Only for tests that leave it as they found it."""
    with _module_machine(request, finch_tree, kernel_image) as machine:
        yield machine


@pytest.fixture(scope="session")
def built_kexts(finch_tree: Tree, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample kexts of kexts/, built once per session: <dir>/<Name>.kext."""
    out = tmp_path_factory.mktemp("kexts")
    try:
        with _build_lock(finch_tree):
            build_all_kexts(finch_tree, out_dir=out, echo=lambda line: None)
    except FinchError as e:
        pytest.fail(f"the sample kexts did not build:\n{e}", pytrace=False)
    return out


@pytest.fixture
def kext_guest(machine_factory: MachineFactory, built_kexts: Path) -> KextGuest:
    """A fresh guest at its prompt whose host link answers, ready for kexts."""
    machine = machine_factory(kext_options())
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    return guest


@pytest.fixture(scope="module")
def module_kext_guest(
    request: pytest.FixtureRequest,
    finch_tree: Tree,
    kernel_image: Path,
    finch_preflight: QemuInfo,
    built_kexts: Path,
) -> Iterator[KextGuest]:
    """kext_guest, shared by every test in the module that asks for it.
    Only for tests whose kexts do not collide with the other tests' (own
    bundle ids) and that do not compare the whole heap across tests."""
    with _module_machine(request, finch_tree, kernel_image, kext_options()) as machine:
        guest = KextGuest(machine, built_kexts)
        guest.wait_ready()
        yield guest
