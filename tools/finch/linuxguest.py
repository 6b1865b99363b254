"""The Linux reference guest of the TCP benchmark: Debian's i386 kernel
(linux-image-686) and busybox-static, fetched once with apt, cached under
build/linux-guest/, and booted on the same QEMU command line as Finch
(finch.qemu_args: TCG, `-machine pc`, the same memory, an e1000).

    images = ensure_images(tree.build_dir / "linux-guest")   # fetches only once
    with LinuxGuest(images, rundir, user_network()) as guest:
        times = guest.boot()                                   # until its echo answers
        guest.network.client.send(64 << 20)                    # finch.tcpbench

The cache holds the kernel (vmlinuz), e1000.ko (a module in Debian's
kernel; there is no modules.dep, /init insmods it), busybox, the
initramfs and manifest.json (the package versions); the .debs and their
unpacked trees are deleted once those are copied out.  A second run reads
the manifest and fetches nothing.  Delete the folder to fetch anew.

The initramfs is a newc cpio (finch.cpio, uncompressed: nothing to
inflate under TCG): busybox with /bin/sh, /dev/console, and /init, which
mounts /proc, /sys and /dev, loads e1000.ko, gives eth0 10.0.2.15/24 with
10.0.2.2 as gateway (QEMU's user networking; the tap namespace uses the
same two addresses), starts the services of finch.tcpbench, says so on
the console (`finch-linux: STEP at UPTIME s` for each step), and leaves
a shell there (LinuxGuest.shell runs commands in it):

    discard  9    busybox `nc -ll -e /bin/discard-count`: `dd bs=64k
                  iflag=fullblock` until end of file, then echo the byte
                  count (busybox dd counts records, not bytes: a partial
                  last record is reported as such)
    source  19    busybox `nc -ll -e /bin/zero-source`: `dd if=/dev/zero
                  bs=64k`, 64 KiB writes into the socket (nc fed from a pipe
                  writes 1 KiB at a time)
    echo     7    /bin/echoserver (tools/finch/data/echoserver.c, built here
                  with the host's gcc -m32, no libc): one process polling
                  every connection, no fork
    echo  1007    busybox `nc -ll -e cat`: a fork and an exec of cat per
                  connection, to show what that costs (FORKING_ECHO_PORT)

`nc -ll` forks once per transfer for discard and source too, which is
nothing next to 64 MiB.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from types import TracebackType

from finch import cpio
from finch.debfetch import Apt, FetchError, Package, unpack
from finch.errors import FinchError
from finch.machine import Machine
from finch.qemu_args import QemuOptions
from finch.tcpbench import DISCARD_PORT, ECHO_PORT, SOURCE_PORT, GuestNetwork, TcpBenchError

KERNEL_METAPACKAGE = "linux-image-686"
BUSYBOX_PACKAGE = "busybox-static"
ARCH = "i386"
E1000_MODULE = "kernel/drivers/net/ethernet/intel/e1000/e1000.ko"  # under lib/modules/<release>

GUEST_ADDRESS = "10.0.2.15"
GATEWAY = "10.0.2.2"
PREFIX_LEN = 24
INTERFACE = "eth0"
CMDLINE = "console=ttyS0 panic=-1 quiet"
BLOCK = 65536  # the services' dd block size
FORKING_ECHO_PORT = 1007  # busybox nc -ll -e cat

MARK = "finch-linux:"  # /init's console lines start with this
READY = "ready"
BOOT_TIMEOUT = 120.0  # QEMU start to services up; ~9 s on an idle machine
SHELL_TIMEOUT = 20.0
CONSOLE_TAIL = 1500  # characters of console shown when the network does not come up

MANIFEST = "manifest.json"
KERNEL_FILE = "vmlinuz"
E1000_FILE = "e1000.ko"
BUSYBOX_FILE = "busybox"
INITRAMFS_FILE = "initramfs.cpio"
ECHO_SERVER_FILE = "echoserver"

ECHO_SERVER_CFLAGS = [
    "-m32", "-Os", "-Wall", "-Wextra", "-Werror", "-ffreestanding", "-fno-pic",
    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib", "-static", "-no-pie",
]  # fmt: skip

Echo = Callable[[str], None]


class LinuxGuestError(FinchError):
    """The Linux reference guest could not be fetched, built or booted."""


# --------------------------------------------------------------------------
# What goes into the initramfs (pure)


DISCARD_SCRIPT = f"""\
#!/bin/sh
# discard and count: read until end of file, then answer the byte count
set -- $(dd of=/dev/null bs={BLOCK} iflag=fullblock 2>&1)
full=${{1%+*}}
part=${{1#*+}}
if [ "$part" = 0 ]; then
	echo "$((full * {BLOCK}))"
else
	echo "$((full * {BLOCK})) B and a partial block of under {BLOCK} B"
fi
"""

SOURCE_SCRIPT = f"""\
#!/bin/sh
# source: zeros in {BLOCK}-byte writes until the client closes
exec dd if=/dev/zero bs={BLOCK} 2>/dev/null
"""


def init_script(
    address: str = GUEST_ADDRESS,
    gateway: str = GATEWAY,
    prefix_len: int = PREFIX_LEN,
    interface: str = INTERFACE,
) -> str:
    """/init: mounts, e1000, addresses, the three services, a console
    shell.  Each step prints `finch-linux: STEP at UPTIME s`."""
    return f"""\
#!/bin/sh
# /init of Finch's Linux reference guest (written by finch.linuxguest)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() {{ read up idle </proc/uptime; echo "{MARK} $* at $up s"; }}
say init
insmod /lib/modules/{E1000_FILE} || say "insmod {E1000_FILE} failed"
say e1000
ip link set lo up
ip addr add {address}/{prefix_len} dev {interface}
ip link set {interface} up
ip route add default via {gateway}
nc -ll -p {DISCARD_PORT} -e /bin/discard-count &
nc -ll -p {SOURCE_PORT} -e /bin/zero-source &
echoserver {ECHO_PORT} &
nc -ll -p {FORKING_ECHO_PORT} -e cat &
# Announce ourselves: QEMU's user networking learns where the guest is
# from its first packet, and forwarded connections stall until then.
arping -f -c 20 -w 10 -I {interface} {gateway} >/dev/null || say "no ARP reply from {gateway}"
say {READY}
exec setsid cttyhack sh
"""


def initramfs_members(
    busybox: bytes, e1000: bytes, echo_server: bytes, init: str
) -> list[cpio.Member]:
    """The initramfs, directories first."""
    return [
        *(cpio.directory(name) for name in ("bin", "dev", "lib", "lib/modules", "proc", "sys")),
        cpio.directory("tmp", 0o1777),
        cpio.char_device("dev/console", 5, 1),
        cpio.regular("bin/busybox", busybox, 0o755),
        cpio.symlink("bin/sh", "busybox"),
        cpio.regular("bin/discard-count", DISCARD_SCRIPT.encode(), 0o755),
        cpio.regular("bin/zero-source", SOURCE_SCRIPT.encode(), 0o755),
        cpio.regular(f"bin/{ECHO_SERVER_FILE}", echo_server, 0o755),
        cpio.regular(f"lib/modules/{E1000_FILE}", e1000),
        cpio.regular("init", init.encode(), 0o755),
    ]


def boot_options(options: QemuOptions, initramfs: Path) -> QemuOptions:
    """Finch's QEMU options for the guest, plus the initramfs and the
    kernel command line."""
    return replace(
        options, extra_args=[*options.extra_args, "-initrd", str(initramfs), "-append", CMDLINE]
    )


# --------------------------------------------------------------------------
# The cache


@dataclass(frozen=True)
class Manifest:
    """What the cache holds: the packages its files came from."""

    kernel_package: str
    kernel_version: str
    release: str  # "6.1.0-57-686": uname -r, the modules folder
    busybox_version: str

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest at `path`, or None if it is missing or unreadable
        (the cache is then fetched anew)."""
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)


@dataclass(frozen=True)
class LinuxImages:
    """The cached files QEMU boots."""

    cache: Path
    manifest: Manifest
    fetched: bool  # this call downloaded the packages
    initramfs_written: bool  # this call (re)wrote the initramfs

    @property
    def kernel(self) -> Path:
        return self.cache / KERNEL_FILE

    @property
    def initramfs(self) -> Path:
        return self.cache / INITRAMFS_FILE

    def cache_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.cache.rglob("*") if p.is_file())


def release_of(vmlinuz_name: str) -> str:
    """The release in a kernel image's name: vmlinuz-6.1.0-57-686 -> 6.1.0-57-686."""
    match = re.fullmatch(r"vmlinuz-(.+)", vmlinuz_name)
    if match is None:
        raise LinuxGuestError(f"{vmlinuz_name!r} is not a kernel image name (vmlinuz-<release>)")
    return match.group(1)


def _one(pattern: str, under: Path, what: str) -> Path:
    found = sorted(under.glob(pattern))
    if len(found) != 1:
        raise LinuxGuestError(
            f"expected one {what} ({pattern}) in the unpacked package under {under}, "
            f"found {len(found)}: {', '.join(p.name for p in found) or 'none'}"
        )
    return found[0]


def fetch(cache: Path, apt: Apt, echo: Echo) -> Manifest:
    """Download and unpack both packages, copy out what the guest needs,
    delete the rest, and write the manifest last."""
    apt.ensure_architecture(ARCH)
    kernel_package = apt.resolve(KERNEL_METAPACKAGE, ARCH)
    busybox_package = apt.candidate(BUSYBOX_PACKAGE, ARCH)
    scratch = cache / "fetch"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        trees: dict[str, Path] = {}
        for package in (kernel_package, busybox_package):
            echo(f"fetching {package.spec} with apt-get download ...")
            deb = apt.download(package, scratch / "debs")
            trees[package.name] = unpack(deb, scratch / package.name)
        kernel_tree = trees[kernel_package.name]
        vmlinuz = _one("boot/vmlinuz-*", kernel_tree, "kernel image")
        release = release_of(vmlinuz.name)
        e1000 = kernel_tree / "lib" / "modules" / release / E1000_MODULE
        if not e1000.is_file():
            raise LinuxGuestError(
                f"{kernel_package.spec} has no {E1000_MODULE} (is it compressed, .ko.xz?): "
                "the guest needs the e1000 driver as a plain module"
            )
        busybox = _one("bin/busybox", trees[busybox_package.name], "busybox binary")
        for source, name in ((vmlinuz, KERNEL_FILE), (e1000, E1000_FILE), (busybox, BUSYBOX_FILE)):
            shutil.copyfile(source, cache / name)
        manifest = _manifest(kernel_package, release, busybox_package)
        manifest.write(cache / MANIFEST)
        return manifest
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _manifest(kernel: Package, release: str, busybox: Package) -> Manifest:
    return Manifest(kernel.name, kernel.version, release, busybox.version)


def ensure_images(
    cache: Path, apt: Apt | None = None, echo: Echo = lambda line: None
) -> LinuxImages:
    """The cached guest, fetched first if the cache is incomplete; the
    initramfs is rewritten only when its contents changed."""
    cache = cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.read(cache / MANIFEST)
    needed = (KERNEL_FILE, E1000_FILE, BUSYBOX_FILE)
    fetched = False
    if manifest is None or not all((cache / name).is_file() for name in needed):
        (cache / MANIFEST).unlink(missing_ok=True)
        try:
            manifest = fetch(cache, apt or Apt(), echo)
        except FetchError as e:
            raise LinuxGuestError(
                f"could not fetch the Linux reference guest into {cache}: {e}\n"
                f"Check that `apt-get download {BUSYBOX_PACKAGE}:{ARCH}` works on this machine "
                "(it needs Debian's mirror), then run again."
            ) from e
        fetched = True
    echo_server = build_echo_server(cache / ECHO_SERVER_FILE)
    archive = cpio.newc_archive(
        initramfs_members(
            (cache / BUSYBOX_FILE).read_bytes(),
            (cache / E1000_FILE).read_bytes(),
            echo_server.read_bytes(),
            init_script(),
        )
    )
    initramfs = cache / INITRAMFS_FILE
    written = not initramfs.is_file() or initramfs.read_bytes() != archive
    if written:
        tmp = initramfs.with_suffix(".tmp")
        tmp.write_bytes(archive)
        tmp.replace(initramfs)
    return LinuxImages(cache, manifest, fetched, written)


def echo_server_source() -> Path:
    """tools/finch/data/echoserver.c, wherever the package is installed."""
    return Path(str(resources.files("finch") / "data" / "echoserver.c"))


def build_echo_server(output: Path, gcc: str = "gcc") -> Path:
    """Compile the guest's echo server unless `output` is newer than its source."""
    source = echo_server_source()
    if output.is_file() and output.stat().st_mtime >= source.stat().st_mtime:
        return output
    tmp = output.with_suffix(".tmp")
    command = [gcc, *ECHO_SERVER_CFLAGS, "-o", str(tmp), str(source)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise LinuxGuestError(f"{gcc} was not found: install gcc and gcc-multilib") from e
    if proc.returncode != 0:
        raise LinuxGuestError(
            f"building the guest's echo server failed:\n$ {' '.join(command)}\n{proc.stderr}"
        )
    tmp.replace(output)
    return output


# --------------------------------------------------------------------------
# Booting it


@dataclass(frozen=True)
class BootTimes:
    """Seconds from QEMU's launch, as the host saw each step (the guest's
    own uptime for each is in `guest`)."""

    init: float  # /init started
    e1000: float  # e1000.ko loaded
    ready: float  # addresses set, services listening, ARP answered
    network: float  # the first short connection through the guest's network worked
    guest: dict[str, float]  # step -> the guest's uptime when it printed it


_STEP = re.compile(re.escape(MARK) + r" (\S+) at ([0-9.]+) s")


def parse_steps(console: str) -> dict[str, float]:
    """The guest's `finch-linux: STEP at UPTIME s` lines: step -> uptime."""
    return {m.group(1): float(m.group(2)) for m in _STEP.finditer(console)}


class LinuxGuest:
    """One Linux guest under QEMU on `network`; always shut down on exit."""

    def __init__(
        self,
        images: LinuxImages,
        rundir: Path,
        network: GuestNetwork,
        base: QemuOptions | None = None,
    ) -> None:
        self.images = images
        self.network = network
        options = boot_options(network.qemu_options(base), images.initramfs)
        self.machine = Machine(images.kernel, rundir, options)
        self._shell_count = 0

    def __enter__(self) -> LinuxGuest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.machine.shutdown()

    def boot(self, timeout: float = BOOT_TIMEOUT) -> BootTimes:
        """Launch QEMU and wait until a short connection from the client
        gets its echo back."""
        m = self.machine
        m.launch()
        assert m.launched_at is not None
        deadline = m.launched_at + timeout
        seen: dict[str, float] = {}
        for step in ("init", "e1000", READY):
            left = max(deadline - time.monotonic(), 0.1)
            m.expect(re.escape(MARK) + rf" {step} at [0-9.]+ s", left)
            seen[step] = time.monotonic() - m.launched_at
        try:
            self.network.client.wait_ready(max(deadline - time.monotonic(), 1.0))
        except TcpBenchError as e:
            raise LinuxGuestError(
                f"the Linux guest started its services but its network did not answer: {e}\n"
                f"--- the end of its console ---\n{m.console_text()[-CONSOLE_TAIL:]}\n"
                f"--- logs in {m.paths.rundir} ---"
            ) from e
        network = time.monotonic() - m.launched_at
        return BootTimes(
            seen["init"], seen["e1000"], seen[READY], network, parse_steps(m.console_text())
        )

    def shell(self, command: str, timeout: float = SHELL_TIMEOUT) -> str:
        """Run `command` in the console's shell; what it printed.  The
        output is found between two markers that the shell prints but
        that its echo of the typed line (wrapped at 80 columns) cannot
        contain: the typed words have quotes in them."""
        self._shell_count += 1
        start, end = (f"__finch_{word}_{self._shell_count}__" for word in ("start", "end"))
        typed = [marker.replace("finch", "fi''nch") for marker in (start, end)]
        self.machine.sendline(f"echo {typed[0]}; {command}; echo {typed[1]}")
        out = self.machine.expect(
            re.compile(rf"{re.escape(start)}\r?\n(.*?){re.escape(end)}", re.DOTALL), timeout
        )
        return out.group(1).replace("\r", "")
