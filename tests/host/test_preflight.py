"""Pre-flight: clear messages when QEMU or gcc cannot run Finch."""

import stat

import pytest

from finch.errors import PreflightError
from finch.preflight import check_gcc, check_qemu

NETDEVS = "Available netdev backend types:\nsocket\nstream\ndgram\nhubport\ntap\nuser\n"


def fake_qemu(tmp_path, version="7.2.22", netdevs=NETDEVS):
    """A qemu-system-i386 stand-in that answers --version and -netdev help."""
    script = tmp_path / "qemu-system-i386"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --version ]; then echo "QEMU emulator version {version} (Debian)"; '
        "exit 0; fi\n"
        f"printf '{netdevs}'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_the_installed_qemu_passes():
    info = check_qemu()
    assert info.version >= (7, 2, 0)
    assert "user" in info.netdevs


def test_a_missing_qemu_says_which_package_to_install(tmp_path):
    with pytest.raises(PreflightError) as excinfo:
        check_qemu(str(tmp_path / "qemu-system-i386"))
    message = str(excinfo.value)
    assert "not installed" in message
    assert "apt-get install qemu-system-x86" in message
    assert "make run" in message


def test_qemu_older_than_7_2_is_refused(tmp_path):
    with pytest.raises(PreflightError, match=r"QEMU 6\.2\.0, but Finch needs QEMU 7\.2"):
        check_qemu(fake_qemu(tmp_path, version="6.2.0"))


def test_qemu_without_user_networking_is_refused(tmp_path):
    without_user = NETDEVS.replace("user\\n", "").replace("user\n", "")
    with pytest.raises(PreflightError, match="without user networking"):
        check_qemu(fake_qemu(tmp_path, netdevs=without_user))


def test_a_recent_qemu_with_user_networking_passes(tmp_path):
    info = check_qemu(fake_qemu(tmp_path, version="8.1.0"))
    assert info.version == (8, 1, 0)


def test_a_gcc_that_cannot_build_32_bit_code_suggests_gcc_multilib(tmp_path):
    broken = tmp_path / "gcc"
    broken.write_text("#!/bin/sh\necho 'fatal error: bits/libc-header-start.h' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(PreflightError, match="gcc-multilib"):
        check_gcc(str(broken))


def test_the_installed_gcc_builds_32_bit_freestanding_code():
    check_gcc()
