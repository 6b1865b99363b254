"""The QEMU command line for a Finch machine.

QemuOptions says what a test or a user wants (memory, extra serial ports,
netdevs, devices, RAM shared with the host, anything else); RunPaths says
where the machine's files go; qemu_argv() turns both into argv.  COM1 is
always the console: on pipes for tests and automation, on the terminal for
`finch run`.

With shared_ram, guest RAM is a file the host can write too (QEMU's
memory-backend-file with share=on): file offset == guest-physical address,
so kextload copies a kext image into the guest with one os.pwrite()
instead of pushing it through COM2.
"""

from __future__ import annotations

import enum
import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

QEMU = "qemu-system-i386"
DEFAULT_MEMORY_MB = 128
HOSTLINK_SOCKET = "serial2.sock"  # COM2, the host link, in `finch run` and the kext fixtures

# Shared guest RAM lives in tmpfs when there is one: page cache, no disk.
SHARED_RAM_DIR = Path("/dev/shm")
SHARED_RAM_BACKEND_ID = "ram"

# AF_UNIX paths hold at most 107 bytes; a run directory deeper than this
# gets its sockets in a short directory under /tmp instead.
_MAX_SOCKET_DIR = 80


class ConsoleMode(enum.Enum):
    PIPE = "pipe"  # COM1 on QEMU's stdin/stdout pipes, captured by Machine
    TERMINAL = "terminal"  # COM1 and QEMU's monitor multiplexed on the user's terminal


@dataclass(frozen=True)
class SerialSocket:
    """A serial port on a unix socket that QEMU listens on, created in the
    machine's socket directory under `name` (e.g. "serial2.sock")."""

    name: str


@dataclass(frozen=True)
class QemuOptions:
    """What varies between machines.  Serial ports after COM1 come in order
    (COM2, COM3, ...), each a SerialSocket or a raw -chardev backend
    ("file,path=/tmp/com2.log"); netdevs and devices are the values of
    -netdev and -device; machine_props are appended to `-machine pc`
    ("usb=off"); shared_ram backs guest RAM with a file the host can write
    (RunPaths.shared_ram); extra_args go last, verbatim."""

    memory_mb: int = DEFAULT_MEMORY_MB
    shared_ram: bool = False
    serial: Sequence[SerialSocket | str] = ()
    netdevs: Sequence[str] = ()
    devices: Sequence[str] = ()
    machine_props: Sequence[str] = ()
    extra_args: Sequence[str] = ()
    no_reboot: bool = True  # a guest reset ends QEMU (exit code 0)
    qemu: str = QEMU


@dataclass
class RunPaths:
    """A machine's files: console.log, qemu.log and machine.json in the run
    directory; sockets in the socket directory, which is the run directory
    unless that is too deep for a unix socket path."""

    rundir: Path
    sockdir: Path
    owns_sockdir: bool = field(default=False)

    @classmethod
    def create(cls, rundir: Path) -> RunPaths:
        rundir = rundir.resolve()
        rundir.mkdir(parents=True, exist_ok=True)
        if len(str(rundir)) <= _MAX_SOCKET_DIR:
            return cls(rundir, rundir)
        return cls(rundir, Path(tempfile.mkdtemp(prefix="finch-")), owns_sockdir=True)

    def release(self) -> None:
        """Remove the private socket directory, if there is one."""
        if self.owns_sockdir:
            shutil.rmtree(self.sockdir, ignore_errors=True)

    @property
    def shared_ram(self) -> Path:
        """The guest RAM file when QemuOptions.shared_ram is set: one per run
        directory (named after a hash of its path), under /dev/shm."""
        base = SHARED_RAM_DIR if SHARED_RAM_DIR.is_dir() else Path(tempfile.gettempdir())
        digest = hashlib.sha1(str(self.rundir).encode()).hexdigest()[:12]
        return base / f"finch-{digest}.ram"

    @property
    def qmp_socket(self) -> Path:
        return self.sockdir / "qmp.sock"

    @property
    def console_log(self) -> Path:
        return self.rundir / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.rundir / "qemu.log"

    @property
    def machine_json(self) -> Path:
        return self.rundir / "machine.json"


def serial_socket_paths(options: QemuOptions, paths: RunPaths) -> dict[int, Path]:
    """COM port number -> unix socket path, for the ports given as SerialSocket."""
    return {
        number: paths.sockdir / port.name
        for number, port in enumerate(options.serial, start=2)
        if isinstance(port, SerialSocket)
    }


def qemu_argv(
    options: QemuOptions, kernel: Path, paths: RunPaths, console: ConsoleMode
) -> list[str]:
    props = list(options.machine_props)
    if options.shared_ram:
        props.append(f"memory-backend={SHARED_RAM_BACKEND_ID}")
    machine = ",".join(["pc", *props])
    argv = [
        options.qemu,
        "-accel", "tcg",
        "-machine", machine,
        "-m", f"{options.memory_mb}M",
        "-nodefaults",
        "-no-user-config",
        "-display", "none",
        "-kernel", str(kernel),
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-qmp", f"unix:{paths.qmp_socket},server=on,wait=off",
    ]  # fmt: skip
    if console is ConsoleMode.PIPE:
        argv += ["-chardev", "stdio,id=com1,signal=off", "-serial", "chardev:com1"]
    else:
        argv += [
            "-chardev", f"stdio,id=com1,mux=on,signal=off,logfile={paths.console_log}",
            "-serial", "chardev:com1",
            "-mon", "chardev=com1",
        ]  # fmt: skip
    if options.shared_ram:
        argv += [
            "-object",
            f"memory-backend-file,id={SHARED_RAM_BACKEND_ID},size={options.memory_mb}M,"
            f"mem-path={paths.shared_ram},share=on",
        ]
    if options.no_reboot:
        argv.append("-no-reboot")
    sockets = serial_socket_paths(options, paths)
    for number, port in enumerate(options.serial, start=2):
        if isinstance(port, SerialSocket):
            backend = f"socket,path={sockets[number]},server=on,wait=off"
        else:
            backend = port
        argv += ["-chardev", f"{backend},id=com{number}", "-serial", f"chardev:com{number}"]
    for netdev in options.netdevs:
        argv += ["-netdev", netdev]
    for device in options.devices:
        argv += ["-device", device]
    argv += list(options.extra_args)
    return argv
