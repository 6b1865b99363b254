"""One Finch guest under QEMU: launch it, read and type on its console,
talk QMP, learn how it ended, and always shut it down.

    with Machine(Path("images/finch.elf"), Path("build/run")) as m:
        m.boot()                          # banner, then the "finch> " prompt
        print(m.command("uptime"))
        m.sendline("halt 3")
        assert m.wait_exit(5) == 3

With QemuOptions(shared_ram=True) guest RAM is a file under /dev/shm
(`shared_ram`), named in machine.json and removed at shutdown.

QEMU runs in its own process group.  shutdown() (QMP `quit`, then SIGTERM,
then SIGKILL, always reaping) runs on __exit__, at interpreter exit, and
from the pytest fixtures, so no QEMU outlives its owner.  A panic on the
console while expect() or wait_exit() waits raises GuestPanic, with the
report symbolized by finch.panic against the kernel ELF and the kexts
loaded from this run directory.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from qemu.qmp import ConnectError, ExecuteError, QMPClient, QMPError

from finch.console import ConsoleCapture
from finch.errors import (
    ExpectTimeout,
    FinchError,
    GuestPanic,
    MachineError,
    QemuExited,
    QmpError,
)
from finch.exitstatus import QemuExit
from finch.panic import PANIC_COLLECT_SECONDS, find_panic, run_symbolizer, symbolize_panics
from finch.qemu_args import ConsoleMode, QemuOptions, RunPaths, qemu_argv, serial_socket_paths
from finch.runinfo import RunInfo
from finch.symbolize import Symbolizer

PROMPT = "finch> "
BANNER = "Finch "
BOOT_TIMEOUT = 15.0
EXPECT_TIMEOUT = 10.0
QMP_CONNECT_TIMEOUT = 10.0
QMP_COMMAND_TIMEOUT = 10.0
CONSOLE_TAIL = 2000
ECHO_MATCH = 64  # command() recognises its echo by this many leading characters
LOG_TAIL = 2000

Pattern = str | re.Pattern[str]


class Machine:
    def __init__(
        self,
        kernel: Path,
        rundir: Path,
        options: QemuOptions | None = None,
        *,
        console: ConsoleMode = ConsoleMode.PIPE,
    ) -> None:
        self.kernel = kernel.resolve()
        self.options = options or QemuOptions()
        self.console_mode = console
        self.paths = RunPaths.create(rundir)
        self.argv = qemu_argv(self.options, self.kernel, self.paths, console)
        self.launched_at: float | None = None  # time.monotonic() just before Popen
        self._proc: subprocess.Popen[bytes] | None = None
        self._console: ConsoleCapture | None = None
        self._cursor = 0  # expect() searches console text from here
        self._loop: asyncio.AbstractEventLoop | None = None
        self._qmp: QMPClient | None = None
        self._exit: QemuExit | None = None
        self._shut_down = False

    # ------------------------------------------------------------------
    # Life cycle

    def __enter__(self) -> Machine:
        if self._proc is None:
            self.launch()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def launch(self, *, connect_qmp: bool | None = None) -> None:
        """Start QEMU.  With connect_qmp, wait until its QMP socket answers
        (unless QEMU exits first: expect() and wait_exit() report that).
        By default a captured machine connects now; a terminal one leaves
        the socket free for other host tools and connects only if asked."""
        if connect_qmp is None:
            connect_qmp = self.console_mode is ConsoleMode.PIPE
        if not self.kernel.is_file():
            raise MachineError(f"the kernel {self.kernel} does not exist: run `make build` first")
        if self._proc is not None:
            raise MachineError(f"this machine (run directory {self.paths.rundir}) was launched")
        self.paths.qmp_socket.unlink(missing_ok=True)
        self.paths.console_log.write_bytes(b"")
        if self.shared_ram is not None:
            self.shared_ram.unlink(missing_ok=True)  # QEMU makes it anew, the right size
        pipe = self.console_mode is ConsoleMode.PIPE
        with self.paths.qemu_log.open("wb") as qemu_log:
            self.launched_at = time.monotonic()
            try:
                self._proc = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.PIPE if pipe else None,
                    stdout=subprocess.PIPE if pipe else None,
                    stderr=qemu_log,
                    # Tests: own process group, so a Ctrl-C meant for pytest
                    # reaches QEMU only through shutdown().  The terminal
                    # console must stay in the foreground group.
                    process_group=0 if pipe else None,
                )
            except FileNotFoundError as e:
                raise MachineError(
                    f"{self.argv[0]} was not found: install QEMU with "
                    "`apt-get install qemu-system-x86`, or run `make run`, which installs it"
                ) from e
        atexit.register(self.shutdown)
        if pipe:
            assert self._proc.stdout is not None
            self._console = ConsoleCapture(self._proc.stdout, self.paths.console_log)
            self._console.start()
        try:
            self._write_run_info()
            if connect_qmp:
                self._connect_qmp()
        except BaseException:
            self.shutdown()
            raise

    def boot(self, timeout: float = BOOT_TIMEOUT) -> str:
        """Launch if needed and wait for the banner and the first prompt;
        returns the console output up to the prompt."""
        if self._proc is None:
            self.launch()
        start = self._cursor
        self.expect(re.escape(BANNER), timeout)
        self.expect(re.escape(PROMPT), timeout)
        return self.console_text()[start : self._cursor]

    def shutdown(self) -> None:
        """Stop QEMU for good and reap it: QMP `quit`, then SIGTERM, then
        SIGKILL.  Safe to call any number of times."""
        if self._shut_down:
            return
        self._shut_down = True
        atexit.unregister(self.shutdown)
        proc = self._proc
        try:
            asked_to_quit = False
            if proc is not None and proc.poll() is None and self._qmp is not None:
                with contextlib.suppress(QMPError, EOFError, OSError, TimeoutError, MachineError):
                    self._run(self._qmp.execute("quit"), timeout=2.0)
                    asked_to_quit = True
            if proc is not None:
                self._stop_process(proc, grace=2.0 if asked_to_quit else 0.0)
        finally:
            self._close_qmp()
            if proc is not None and proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            if self._console is not None:
                self._console.join(timeout=2.0)
            if proc is not None and proc.stdout is not None:
                proc.stdout.close()
            self.paths.machine_json.unlink(missing_ok=True)
            if self.shared_ram is not None:
                self.shared_ram.unlink(missing_ok=True)
            self.paths.release()

    def _stop_process(self, proc: subprocess.Popen[bytes], grace: float) -> None:
        """Give QEMU `grace` seconds to end by itself, then signal it."""
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass
        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 10.0)):
            self._signal(proc, sig)
            try:
                proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue
        proc.wait()

    def _signal(self, proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            if self.console_mode is ConsoleMode.PIPE:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def _write_run_info(self) -> None:
        assert self._proc is not None
        serial2 = serial_socket_paths(self.options, self.paths).get(2)
        RunInfo(
            pid=self._proc.pid,
            qmp_socket=str(self.paths.qmp_socket),
            kernel=str(self.kernel),
            console_log=str(self.paths.console_log),
            qemu_log=str(self.paths.qemu_log),
            serial2=str(serial2) if serial2 else None,
            argv=self.argv,
            started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            shared_ram=str(self.shared_ram) if self.shared_ram else None,
        ).write(self.paths.machine_json)

    # ------------------------------------------------------------------
    # State

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def exit(self) -> QemuExit | None:
        """How QEMU ended, once it has."""
        if self._exit is None and self._proc is not None:
            code = self._proc.poll()
            if code is not None:
                self._exit = QemuExit(code, self._qemu_log())
        return self._exit

    @property
    def captures_console(self) -> bool:
        """True when COM1 is on pipes that this object reads (not the terminal)."""
        return self._console is not None

    def console_text(self) -> str:
        """All console output so far (pipe mode)."""
        return self._require_console().text

    @property
    def shared_ram(self) -> Path | None:
        """The file backing guest RAM (offset == guest-physical address),
        or None unless QemuOptions.shared_ram."""
        return self.paths.shared_ram if self.options.shared_ram else None

    def serial_socket(self, number: int) -> Path:
        """The unix socket of COM`number`, given as a SerialSocket."""
        sockets = serial_socket_paths(self.options, self.paths)
        if number not in sockets:
            raise MachineError(f"COM{number} of this machine is not a SerialSocket")
        return sockets[number]

    # ------------------------------------------------------------------
    # Console

    def expect(self, pattern: Pattern, timeout: float = EXPECT_TIMEOUT) -> re.Match[str]:
        """Wait for `pattern` in the console output not yet consumed and
        consume up to the end of the match.  Raises GuestPanic if a panic
        report comes first, QemuExited if QEMU ends, ExpectTimeout on
        timeout."""
        console = self._require_console()
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            eof = console.eof  # read first: text read after it is then complete
            text = console.text
            unread = text[self._cursor :]
            match = regex.search(unread)
            panic = find_panic(unread)
            if panic is not None and (match is None or match.end() > panic[0]):
                self._raise_panic(self._cursor + panic[0])
            if match is not None:
                self._cursor += match.end()
                return match
            if eof:
                self._raise_exited(f"while waiting for {regex.pattern!r} on the console")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExpectTimeout(
                    f"{regex.pattern!r} did not appear on the console within {timeout:g} s.\n"
                    f"{self._diagnostics()}"
                )
            console.wait(len(text), remaining)

    def console_since(self, start: int, needle: str, timeout: float = EXPECT_TIMEOUT) -> str:
        """The console from offset `start` (a len(console_text()) taken
        earlier) on, once it holds `needle`; consumes nothing.  For what a
        kext prints before it answers over the host link: the answer comes
        on COM2 and may be read before the kext's last COM1 line.  Raises
        ExpectTimeout if `needle` has not come within `timeout` seconds."""
        console = self._require_console()
        deadline = time.monotonic() + timeout
        while True:
            eof = console.eof
            text = console.text
            if needle in text[start:]:
                return text[start:]
            if eof:
                self._raise_exited(f"while waiting for {needle!r} on the console")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExpectTimeout(
                    f"{needle!r} did not appear on the console within {timeout:g} s.\n"
                    f"{self._diagnostics()}"
                )
            console.wait(len(text), remaining)

    def send(self, data: bytes) -> None:
        """Type raw bytes on COM1."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise MachineError("the machine's console is not on a pipe (launch it first)")
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            self._raise_exited("while typing on the console")

    def sendline(self, line: str) -> None:
        self.send(line.encode() + b"\n")

    def command(self, line: str, timeout: float = EXPECT_TIMEOUT) -> str:
        """Run one monitor command at the prompt and return what it printed
        (between the echo of the line and the next prompt), with "\\r\\n"
        turned into "\\n" and no final newline."""
        self.sendline(line)
        # The echo: the line's start, then the rest of that console line (a
        # monitor may stop echoing an over-long line part way).
        self.expect(re.escape(line[:ECHO_MATCH]) + r"[^\n]*\n", timeout)
        output = self.expect(re.compile(r"(.*?)" + re.escape(PROMPT), re.DOTALL), timeout)
        return output.group(1).replace("\r\n", "\n").replace("\r", "").rstrip("\n")

    def wait_exit(self, timeout: float | None = EXPECT_TIMEOUT) -> int:
        """Wait for QEMU to exit and return the guest's halt status.  Raises
        GuestPanic on a panic, QemuExited when QEMU ended another way,
        ExpectTimeout when it is still running after `timeout` seconds
        (None: wait for ever)."""
        proc = self._require_proc()
        deadline = None if timeout is None else time.monotonic() + timeout
        console = self._console
        while proc.poll() is None:
            if console is not None:
                text = console.text
                panic = find_panic(text[self._cursor :])
                if panic is not None:
                    self._raise_panic(self._cursor + panic[0])
                wait = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
                console.wait(len(text), max(wait, 0.0))
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=None if deadline is None else 0.05)
            if deadline is not None and time.monotonic() >= deadline and proc.poll() is None:
                raise ExpectTimeout(
                    f"QEMU was still running {timeout:g} s later.\n{self._diagnostics()}"
                )
        if console is not None:
            console.join(timeout=2.0)
            panic = find_panic(console.text[self._cursor :])
            if panic is not None:
                self._raise_panic(self._cursor + panic[0])
        qemu_exit = self.exit
        assert qemu_exit is not None
        if qemu_exit.guest_status is None:
            raise QemuExited(
                f"{qemu_exit.describe()}; the guest did not halt.\n{self._diagnostics()}",
                qemu_exit,
            )
        return qemu_exit.guest_status

    def wait(self, timeout: float | None = None) -> QemuExit:
        """Wait for QEMU to exit, however it ends, and say how."""
        proc = self._require_proc()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ExpectTimeout(
                f"QEMU was still running {timeout:g} s later.\n{self._diagnostics()}"
            ) from None
        if self._console is not None:
            self._console.join(timeout=2.0)
        qemu_exit = self.exit
        assert qemu_exit is not None
        return qemu_exit

    # ------------------------------------------------------------------
    # QMP

    def qmp(self, cmd: str, arguments: Mapping[str, object] | None = None, /, **kwargs: Any) -> Any:
        """Run a QMP command and return its result.  Arguments whose names
        are not Python identifiers go in the `arguments` mapping."""
        self._require_proc()
        if self._qmp is None:
            self._connect_qmp()
        if self._qmp is None:
            self._raise_exited(f"before QMP command {cmd!r}")
        args = {**(arguments or {}), **kwargs}
        try:
            return self._run(self._qmp.execute(cmd, args or None), timeout=QMP_COMMAND_TIMEOUT)
        except ExecuteError as e:
            raise QmpError(
                f"QMP command {cmd!r} {args} failed: {e.error_class}: {e}", e.error_class
            ) from e
        except (QMPError, EOFError, OSError) as e:
            if not self.running:
                self._raise_exited(f"during QMP command {cmd!r}")
            raise QmpError(f"QMP command {cmd!r} failed: {e!r}") from e

    def _connect_qmp(self) -> None:
        proc = self._require_proc()
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        client = QMPClient(f"finch-{proc.pid}")
        socket = self.paths.qmp_socket

        async def connect() -> bool:
            deadline = time.monotonic() + QMP_CONNECT_TIMEOUT
            while proc.poll() is None:
                if socket.exists():
                    try:
                        await client.connect(str(socket))
                        return True
                    except ConnectError:
                        pass
                if time.monotonic() > deadline:
                    raise MachineError(
                        f"QEMU did not answer on its QMP socket {socket} within "
                        f"{QMP_CONNECT_TIMEOUT:g} s.\n{self._diagnostics()}"
                    )
                await asyncio.sleep(0.005)
            return False

        if self._run(connect()):
            self._qmp = client

    def _close_qmp(self) -> None:
        if self._loop is None:
            return
        if self._qmp is not None:
            # After `quit`, QEMU hangs up first: disconnect() may raise EOFError.
            with contextlib.suppress(QMPError, EOFError, OSError, TimeoutError, MachineError):
                self._run(self._qmp.disconnect(), timeout=2.0)
            self._qmp = None
        self._loop.close()
        self._loop = None

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        assert self._loop is not None
        if timeout is not None:
            coro = asyncio.wait_for(coro, timeout)
        return self._loop.run_until_complete(coro)

    # ------------------------------------------------------------------
    # Errors

    def _require_proc(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise MachineError("the machine has not been launched: call launch() or boot() first")
        return self._proc

    def _require_console(self) -> ConsoleCapture:
        self._require_proc()
        if self._console is None:
            raise MachineError(
                "this machine's console is on the terminal, not captured: "
                "use ConsoleMode.PIPE to read it"
            )
        return self._console

    def _qemu_log(self) -> str:
        try:
            return self.paths.qemu_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _diagnostics(self) -> str:
        parts = []
        if self._console is not None:
            parts.append(
                f"--- last {CONSOLE_TAIL} characters of the console ---\n"
                f"{self._console.tail(CONSOLE_TAIL)}\n--- end of console ---"
            )
        log = self._qemu_log()[-LOG_TAIL:]
        if log.strip():
            parts.append(f"--- qemu.log ---\n{log.rstrip()}\n--- end of qemu.log ---")
        parts.append(
            f"logs: {self.paths.console_log} and {self.paths.qemu_log}\n"
            f"command: {' '.join(self.argv)}"
        )
        return "\n".join(parts)

    def _raise_exited(self, doing: str) -> NoReturn:
        proc = self._require_proc()
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            raise MachineError(
                f"QEMU closed the console {doing} but did not exit.\n{self._diagnostics()}"
            ) from None
        if self._console is not None:
            self._console.join(timeout=2.0)
            panic = find_panic(self._console.text[self._cursor :])
            if panic is not None:
                self._raise_panic(self._cursor + panic[0])
        qemu_exit = self.exit
        assert qemu_exit is not None
        raise QemuExited(
            f"QEMU exited {doing}: {qemu_exit.describe()}.\n{self._diagnostics()}", qemu_exit
        )

    def _panic_symbols(self) -> Symbolizer:
        """The kernel's and the kexts' symbols of this run, as far as they
        can be read: a panic is reported even without them."""
        try:
            return run_symbolizer(self.kernel, self.paths.rundir)
        except FinchError:
            return Symbolizer()  # addresses stay unnamed

    def _raise_panic(self, start: int) -> NoReturn:
        """Collect the report that starts at console offset `start` (until
        its end marker, QEMU's exit, or PANIC_COLLECT_SECONDS), consume
        it, and raise GuestPanic."""
        console = self._require_console()
        deadline = time.monotonic() + PANIC_COLLECT_SECONDS
        while True:
            eof = console.eof
            text = console.text
            found = find_panic(text[start:])
            assert found is not None
            end = None if found[1] is None else start + found[1]
            if end is not None or eof or time.monotonic() >= deadline:
                break
            console.wait(len(text), deadline - time.monotonic())
        end = end if end is not None else len(text)
        self._cursor = max(self._cursor, end)
        [panic] = symbolize_panics(text[start:end], self._panic_symbols)
        raise GuestPanic(
            f"the kernel panicked:\n{panic.format()}"
            f"logs: {self.paths.console_log} and {self.paths.qemu_log}",
            raw=panic.report.text,
            symbolized=panic.format(),
            panic=panic,
        )
