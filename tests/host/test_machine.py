"""The Machine class against real QEMU, booting the floor kernel and the
stand-in test kernel (tests/host/data/testkernel.c)."""

import json
import os
from pathlib import Path

import pytest

from finch.errors import ExpectTimeout, GuestPanic, MachineError, QemuExited
from finch.machine import Machine
from finch.qemu_args import QemuOptions, SerialSocket

TEST_KERNEL_SOURCE = Path(__file__).parent / "data" / "testkernel.c"


def is_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def machine(test_kernel, tmp_path):
    with Machine(test_kernel, tmp_path / "run") as m:
        yield m


def test_the_floor_kernel_halts_with_status_0_and_leaves_no_qemu(floor_kernel, tmp_path):
    with Machine(floor_kernel, tmp_path) as m:
        status = m.wait_exit(timeout=10)
        pid = m.pid
    assert status == 0
    assert is_gone(pid)


def test_boot_waits_for_the_banner_and_the_prompt(test_kernel, tmp_path):
    with Machine(test_kernel, tmp_path) as m:
        shown = m.boot()
    assert shown == "Finch test kernel\r\nfinch> "


def test_a_command_returns_what_it_printed(machine):
    machine.boot()
    assert machine.command("hello") == "hello, world"
    assert machine.command("nonsense") == "unknown command"


def test_a_command_whose_echo_is_cut_short_still_returns_its_output(machine):
    machine.boot()
    assert machine.command("x" * 200) == "unknown command"  # the kernel echoes 79


def test_halt_3_is_guest_status_3(machine):
    machine.boot()
    machine.sendline("halt 3")
    assert machine.wait_exit(timeout=10) == 3
    assert machine.exit.returncode == 7


def test_a_reset_under_no_reboot_is_reported_as_not_a_halt(machine):
    machine.boot()
    machine.sendline("reset")
    with pytest.raises(QemuExited, match="without a guest halt") as excinfo:
        machine.wait_exit(timeout=10)
    assert excinfo.value.exit.returncode == 0


def test_a_panic_is_raised_with_the_caller_symbolized(machine, test_kernel, line_of):
    machine.boot()
    machine.sendline("panic")
    with pytest.raises(GuestPanic) as excinfo:
        machine.expect("finch> ", timeout=10)
    panic = excinfo.value.panic
    assert panic.caller.function == "crash_here"
    assert panic.caller.file.endswith("testkernel.c")
    assert panic.caller.line == line_of(TEST_KERNEL_SOURCE, "report_panic();\t/*")
    assert panic.frames[0].function == "crash_here"
    assert excinfo.value.raw.startswith("panic(cpu 0 caller 0x")
    assert "#0 0x" in excinfo.value.symbolized
    assert "crash_here+0x" in str(excinfo.value)
    assert str(machine.paths.console_log) in str(excinfo.value)


def test_a_panic_while_waiting_for_exit_is_raised_too(machine):
    machine.boot()
    machine.sendline("panic")
    with pytest.raises(GuestPanic):
        machine.wait_exit(timeout=10)


def test_an_expect_timeout_shows_the_console_and_the_log_paths(machine):
    machine.boot()
    with pytest.raises(ExpectTimeout) as excinfo:
        machine.expect("never printed", timeout=0.3)
    message = str(excinfo.value)
    assert "'never printed' did not appear on the console within 0.3 s" in message
    assert "Finch test kernel" in message
    assert str(machine.paths.console_log) in message
    assert str(machine.paths.qemu_log) in message


def test_expect_after_qemu_exited_says_how_it_ended(machine):
    machine.boot()
    machine.sendline("halt 5")
    with pytest.raises(QemuExited, match="the guest halted with status 5"):
        machine.expect("finch> ", timeout=10)


def test_every_console_byte_is_in_console_log(machine):
    machine.boot()
    machine.command("hello")
    machine.sendline("halt 0")
    machine.wait_exit(timeout=10)
    log = machine.paths.console_log.read_bytes()
    assert log == b"Finch test kernel\r\nfinch> hello\r\nhello, world\r\nfinch> halt 0\r\n"


def test_qmp_commands_return_their_result(machine):
    assert machine.qmp("query-status")["running"] is True
    assert machine.qmp("query-version")["qemu"]["major"] >= 7


def test_a_failing_qmp_command_names_the_command_and_the_error(machine):
    with pytest.raises(MachineError, match=r"QMP command 'set_link' .* DeviceNotFound"):
        machine.qmp("set_link", name="en9", up=False)


def test_machine_json_describes_the_running_machine(test_kernel, tmp_path):
    options = QemuOptions(serial=[SerialSocket("serial2.sock")])
    with Machine(test_kernel, tmp_path, options) as m:
        info = json.loads((tmp_path / "machine.json").read_text())
        assert info["pid"] == m.pid
        assert info["qmp_socket"] == str(m.paths.qmp_socket)
        assert info["kernel"] == str(test_kernel)
        assert info["console_log"] == str(tmp_path / "console.log")
        assert info["serial2"] == str(m.paths.sockdir / "serial2.sock")
        assert os.path.exists(info["serial2"])
    assert not (tmp_path / "machine.json").exists()


def test_shared_ram_is_a_file_holding_guest_memory_at_its_physical_address(test_kernel, tmp_path):
    options = QemuOptions(memory_mb=32, shared_ram=True)
    with Machine(test_kernel, tmp_path, options) as m:
        m.boot()
        info = json.loads((tmp_path / "machine.json").read_text())
        ram = Path(info["shared_ram"])
        assert ram == m.shared_ram
        assert ram.stat().st_size == 32 << 20
        with ram.open("rb") as f:  # the kernel is loaded at 1 MiB
            f.seek(0x100000)
            assert b"Finch test kernel" in f.read(0x100000)
    assert not ram.exists()


def test_shutdown_kills_a_running_guest_and_can_be_repeated(machine):
    machine.boot()
    pid = machine.pid
    machine.shutdown()
    machine.shutdown()
    assert is_gone(pid)


def test_shutdown_without_qmp_still_stops_qemu(test_kernel, tmp_path):
    m = Machine(test_kernel, tmp_path)
    m.launch(connect_qmp=False)
    m.boot()
    m.shutdown()
    assert is_gone(m.pid)


def test_a_deep_run_directory_gets_its_sockets_elsewhere(test_kernel, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    with Machine(test_kernel, deep) as m:
        assert len(str(m.paths.qmp_socket)) < 108
        assert m.qmp("query-status")["running"]
        sockdir = m.paths.sockdir
    assert not sockdir.exists()


def test_a_bad_qemu_option_is_reported_with_qemus_message(test_kernel, tmp_path):
    m = Machine(test_kernel, tmp_path, QemuOptions(extra_args=("-no-such-option",)))
    with m, pytest.raises(QemuExited, match="QEMU failed with exit code 1") as excinfo:
        m.expect("finch> ", timeout=10)
    assert "-no-such-option" in str(excinfo.value)


def test_a_missing_kernel_is_reported_before_qemu_starts(tmp_path):
    with pytest.raises(MachineError, match="does not exist: run `make build` first"):
        Machine(tmp_path / "nothing.elf", tmp_path).launch()
