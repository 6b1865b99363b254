"""The Linux reference guest without booting it: the cpio writer, what
goes into the initramfs and /init, the cache (a second run does nothing),
reading apt's answers, the QEMU command line, the boot steps on the
console, and the guest's echo server (built with gcc -m32 and run here,
on loopback)."""

from __future__ import annotations

import contextlib
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from finch import cpio
from finch.debfetch import (
    FetchError,
    apt_errors,
    kernel_image_of,
    parse_candidate,
    parse_depends,
)
from finch.linuxguest import (
    CMDLINE,
    DISCARD_SCRIPT,
    ECHO_SERVER_FILE,
    MANIFEST,
    LinuxGuestError,
    Manifest,
    boot_options,
    build_echo_server,
    ensure_images,
    init_script,
    initramfs_members,
    parse_steps,
    release_of,
)
from finch.qemu_args import ConsoleMode, RunPaths, qemu_argv
from finch.tcpbench import user_network


def read_newc(archive: bytes) -> list[tuple[str, int, bytes, tuple[int, int]]]:
    """(name, mode, data, rdev) of each member, as a kernel would read them."""
    members, at = [], 0
    while True:
        assert archive[at : at + 6] == b"070701"
        fields = [int(archive[at + 6 + 8 * i : at + 14 + 8 * i], 16) for i in range(13)]
        mode, size, rdev, namesize = fields[1], fields[6], (fields[9], fields[10]), fields[11]
        name_at = at + 110
        name = archive[name_at : name_at + namesize - 1].decode()
        assert archive[name_at + namesize - 1] == 0
        data_at = name_at + namesize + (-(110 + namesize) % 4)
        if name == "TRAILER!!!":
            assert len(archive) == data_at
            return members
        members.append((name, mode, archive[data_at : data_at + size], rdev))
        at = data_at + size + (-size % 4)


def test_a_newc_archive_reads_back_as_written_with_every_member_aligned():
    members = [
        cpio.directory("bin"),
        cpio.regular("bin/tool", b"abcde", 0o755),
        cpio.symlink("bin/sh", "tool"),
        cpio.char_device("console", 5, 1),
    ]

    got = read_newc(cpio.newc_archive(members))

    assert [(n, stat.filemode(m), d, r) for n, m, d, r in got] == [
        ("bin", "drwxr-xr-x", b"", (0, 0)),
        ("bin/tool", "-rwxr-xr-x", b"abcde", (0, 0)),
        ("bin/sh", "lrwxrwxrwx", b"tool", (0, 0)),
        ("console", "crw-------", b"", (5, 1)),
    ]


def test_the_same_members_always_make_the_same_bytes():
    members = [cpio.regular("init", b"#!/bin/sh\n", 0o755)]
    assert cpio.newc_archive(members) == cpio.newc_archive(members)


@pytest.mark.parametrize("name", ["/init", "", "init"])
def test_an_absolute_empty_or_repeated_name_is_refused(name):
    with pytest.raises(ValueError, match="absolute, empty or repeated"):
        cpio.newc_archive([cpio.regular("init", b""), cpio.regular(name, b"")])


def test_the_initramfs_holds_busybox_the_driver_the_services_and_init():
    init = init_script()
    members = initramfs_members(b"BUSYBOX", b"E1000", b"ECHO", init)

    got = {name: (stat.filemode(mode), data) for name, mode, data, _ in read_newc(
        cpio.newc_archive(members))}  # fmt: skip

    assert got["init"] == ("-rwxr-xr-x", init.encode())
    assert got["bin/busybox"] == ("-rwxr-xr-x", b"BUSYBOX")
    assert got["bin/sh"] == ("lrwxrwxrwx", b"busybox")
    assert got["bin/echoserver"] == ("-rwxr-xr-x", b"ECHO")
    assert got["lib/modules/e1000.ko"][1] == b"E1000"
    assert got["dev/console"][0] == "crw-------"
    assert {"bin/discard-count", "bin/zero-source", "proc", "sys", "tmp"} <= got.keys()


def test_init_loads_e1000_configures_the_address_and_starts_the_services_before_ready():
    lines = init_script(address="10.0.2.15", gateway="10.0.2.2").splitlines()

    order = [
        "insmod /lib/modules/e1000.ko",
        "ip addr add 10.0.2.15/24 dev eth0",
        "ip route add default via 10.0.2.2",
        "nc -ll -p 9 -e /bin/discard-count &",
        "nc -ll -p 19 -e /bin/zero-source &",
        "echoserver 7 &",
        "nc -ll -p 1007 -e cat &",
        "say ready",
        "exec setsid cttyhack sh",
    ]
    positions = [next(i for i, line in enumerate(lines) if line.startswith(want)) for want in order]
    assert positions == sorted(positions)
    assert lines[0] == "#!/bin/sh"


def test_the_discard_script_answers_the_byte_count_from_dds_record_counts(tmp_path: Path):
    script = tmp_path / "discard-count"
    script.write_text(DISCARD_SCRIPT)
    for size, reply in ((3 * 65536, "196608"), (1000, "0 B and a partial block")):
        out = subprocess.run(
            ["sh", str(script)], input=bytes(size), capture_output=True, check=True
        ).stdout.decode()
        assert out.startswith(reply)


def test_boot_steps_are_read_from_the_consoles_marked_lines():
    console = "[ 1.0] mce: ...\r\nfinch-linux: init at 3.06 s\r\nfinch-linux: ready at 6.69 s\r\n"

    assert parse_steps(console) == {"init": 3.06, "ready": 6.69}


def test_the_guest_boots_on_finchs_command_line_with_its_initramfs(tmp_path: Path):
    network = user_network([5009, 5019, 5007])
    options = boot_options(network.qemu_options(), tmp_path / "initramfs.cpio")

    argv = qemu_argv(options, tmp_path / "vmlinuz", RunPaths.create(tmp_path), ConsoleMode.PIPE)

    joined = " ".join(argv)
    assert argv[:3] == ["qemu-system-i386", "-accel", "tcg"]
    assert "-machine pc -m 128M" in joined
    assert f"-kernel {tmp_path / 'vmlinuz'}" in joined
    assert f"-initrd {tmp_path / 'initramfs.cpio'} -append {CMDLINE}" in joined
    assert "-device e1000,netdev=net0" in joined
    assert "hostfwd=tcp:127.0.0.1:5007-:7" in joined
    assert "console=ttyS0" in CMDLINE


def test_apts_answers_name_the_kernel_image_and_its_version():
    depends = "linux-image-686:i386\n  Depends: linux-image-6.1.0-57-686:i386\n"
    policy = "busybox-static:i386:\n  Installed: (none)\n  Candidate: 1:1.35.0-4+deb12u1+b1\n"

    assert kernel_image_of("linux-image-686", parse_depends(depends)) == "linux-image-6.1.0-57-686"
    assert parse_candidate(policy) == "1:1.35.0-4+deb12u1+b1"
    assert parse_candidate("foo:\n  Installed: (none)\n  Candidate: (none)\n") is None
    assert release_of("vmlinuz-6.1.0-57-686") == "6.1.0-57-686"


def test_an_apt_failure_is_told_by_its_error_lines_without_the_warnings():
    output = (
        "W: Download is performed unsandboxed as root\n"
        "E: Failed to fetch http://mirror/x.deb  Could not connect\n"
    )

    assert apt_errors(output) == "E: Failed to fetch http://mirror/x.deb  Could not connect"
    assert apt_errors("dpkg: error: unknown option\n") == "dpkg: error: unknown option"


def test_a_metapackage_without_one_kernel_image_says_what_it_depends_on():
    with pytest.raises(FetchError, match="depends on linux-base, initramfs-tools"):
        kernel_image_of("linux-image-686", ["linux-base", "initramfs-tools"])


def _cached(cache: Path) -> None:
    cache.mkdir(parents=True)
    for name, data in (("vmlinuz", b"K"), ("e1000.ko", b"E"), ("busybox", b"B")):
        (cache / name).write_bytes(data)
    Manifest("linux-image-6.1.0-57-686", "6.1.192-3", "6.1.0-57-686", "1:1.35.0").write(
        cache / MANIFEST
    )


class NoApt:
    def __getattr__(self, name: str):
        raise AssertionError(f"apt was used ({name}) although the cache was complete")


def test_a_complete_cache_is_not_fetched_again_and_its_initramfs_written_once(tmp_path: Path):
    cache = tmp_path / "linux-guest"
    _cached(cache)

    first = ensure_images(cache, apt=NoApt())
    second = ensure_images(cache, apt=NoApt())

    assert (first.fetched, first.initramfs_written) == (False, True)
    assert (second.fetched, second.initramfs_written) == (False, False)
    assert second.manifest.kernel_version == "6.1.192-3"
    names = [name for name, *_ in read_newc(second.initramfs.read_bytes())]
    assert "bin/echoserver" in names


def test_an_incomplete_cache_is_fetched_and_a_failure_says_where(tmp_path: Path):
    class BrokenApt:
        def ensure_architecture(self, arch: str) -> None:
            raise FetchError("apt-get update failed: could not resolve the mirror")

    with pytest.raises(LinuxGuestError, match=r"into .*linux-guest: apt-get update failed"):
        ensure_images(tmp_path / "linux-guest", apt=BrokenApt())


def _connect_when_listening(port: int, proc: subprocess.Popen[bytes]) -> socket.socket:
    deadline = time.monotonic() + 5
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except ConnectionRefusedError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def test_the_guests_echo_server_echoes_every_connection_from_one_process(tmp_path: Path):
    server = build_echo_server(tmp_path / ECHO_SERVER_FILE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        proc = subprocess.Popen([str(server), str(port)])
    except OSError as e:  # a kernel without 32-bit support
        pytest.skip(f"cannot run an i386 binary here: {e}")
    with contextlib.ExitStack() as stack:
        stack.callback(proc.wait)
        stack.callback(proc.kill)
        socks = [stack.enter_context(_connect_when_listening(port, proc)) for _ in range(50)]
        for i, sock in enumerate(socks):
            sock.sendall(b"%d" % i)
        assert [sock.recv(16) for sock in socks] == [b"%d" % i for i in range(50)]


def test_the_echo_server_is_rebuilt_only_when_its_source_is_newer(tmp_path: Path):
    output = build_echo_server(tmp_path / ECHO_SERVER_FILE)
    built = output.stat().st_mtime_ns

    build_echo_server(output)

    assert output.stat().st_mtime_ns == built
