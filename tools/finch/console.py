"""COM1 as it arrives: a reader thread appends every byte QEMU writes to
the guest's console to console.log and to an in-memory text that
Machine.expect() searches.  Waiters sleep on a condition that the thread
signals for every chunk and at end of file (QEMU exited).
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from pathlib import Path
from typing import IO


class ConsoleCapture:
    def __init__(self, stream: IO[bytes], log_path: Path) -> None:
        self._stream = stream
        self._log_path = log_path
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._chunks: list[str] = []
        self._text = ""
        self._eof = False
        self.changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="finch-console", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        fd = self._stream.fileno()
        with self._log_path.open("ab", buffering=0) as log:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if data:
                    log.write(data)
                text = self._decoder.decode(data, final=not data)
                with self.changed:
                    if text:
                        self._chunks.append(text)
                    if not data:
                        self._eof = True
                    self.changed.notify_all()
                if not data:
                    return

    @property
    def text(self) -> str:
        """Everything received so far."""
        with self.changed:
            if self._chunks:
                self._text += "".join(self._chunks)
                self._chunks.clear()
            return self._text

    @property
    def eof(self) -> bool:
        """QEMU closed the console: it has exited."""
        with self.changed:
            return self._eof

    def wait(self, seen: int, timeout: float) -> None:
        """Sleep until more than `seen` characters have arrived, end of
        file, or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not self._eof and len(self._text) + sum(map(len, self._chunks)) <= seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self.changed.wait(remaining)

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def tail(self, count: int = 2000) -> str:
        return self.text[-count:]
