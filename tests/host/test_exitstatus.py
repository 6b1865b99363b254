"""How QEMU's exit code is read back as the guest's halt status."""

import pytest

from finch.exitstatus import QemuExit, exit_code_for_status


@pytest.mark.parametrize("status", [0, 1, 3, 127])
def test_halt_status_round_trips_through_isa_debug_exit(status):
    assert QemuExit(exit_code_for_status(status)).guest_status == status


def test_halt_status_3_is_exit_code_7():
    assert exit_code_for_status(3) == 7


def test_halt_status_outside_0_to_127_is_refused():
    with pytest.raises(ValueError, match=r"outside 0\.\.127"):
        exit_code_for_status(128)


def test_exit_code_0_is_a_reset_not_a_halt():
    qemu_exit = QemuExit(0)
    assert qemu_exit.guest_status is None
    assert "without a guest halt" in qemu_exit.describe()
    assert "reset" in qemu_exit.describe()


def test_a_signal_is_named():
    qemu_exit = QemuExit(-9)
    assert qemu_exit.guest_status is None
    assert qemu_exit.describe() == "QEMU was killed by SIGKILL"


def test_qemu_failing_to_start_is_not_halt_0():
    log = "qemu-system-i386: -foo: invalid option\n"
    qemu_exit = QemuExit(1, log)
    assert qemu_exit.guest_status is None
    assert qemu_exit.describe() == "QEMU failed with exit code 1"


def test_a_qemu_warning_does_not_hide_halt_0():
    log = "qemu-system-i386: warning: TCG doesn't support requested feature\n"
    assert QemuExit(1, log).guest_status == 0
