"""Function names for the kext addresses in the kernel's words.

When the kernel keeps a kext pinned (kextunload's refusal, kextstat's
state line) it names one address of the kext that something still
calls, printed as 0x%08x.  Only the host knows what is there: kextload
left each kext's symbol file in the run directory (finch.kext.records).

    names = KextNames(session.records, session.list_kexts())
    names.annotate("iff_input 0x0019c010 ...")
    # 'iff_input 0x0019c010 (leaky_input) ...'

An address in no kext whose symbol file is known stays as it is, and so
does one the kernel named itself (kern/ksyms.c prints "0x0019c010
leaky_input" wherever the kext's own symbol table is intact).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from finch.errors import FinchError
from finch.kext.loaded import LoadedKext
from finch.kext.records import KextRecords
from finch.symbolize import Symbolizer

ADDRESS = re.compile(r"\b0x[0-9a-f]{8}\b")


@dataclass
class KextNames:
    """The symbol files of the loaded kexts the host has records of."""

    records: KextRecords
    kexts: Sequence[LoadedKext]
    _symbolizer: Symbolizer | None = field(default=None, init=False, repr=False)

    def _symbols(self) -> Symbolizer:
        """Read on first use: most text names no address."""
        if self._symbolizer is None:
            self._symbolizer = Symbolizer()
            for kext in self.kexts:
                if kext.kernel_component or self.records.for_loaded(kext) is None:
                    continue  # no record, or one of another load: its symbols are elsewhere
                path = self.records.symbol_file(kext.identifier)
                try:
                    self._symbolizer.add_image(path, name=kext.identifier)
                except FinchError:
                    continue  # unreadable: the address stays unnamed
        return self._symbolizer

    def function_at(self, address: int) -> str | None:
        """'leaky_input', 'leaky_input+0x1c', or None outside every known kext."""
        location = self._symbols().lookup(address)
        if location.function is None:
            return None
        if location.offset == 0:
            return location.function
        return f"{location.function}+{location.offset:#x}"

    def annotate(self, text: str) -> str:
        """`text` with the function's name after each kext address in it."""

        def name(match: re.Match[str]) -> str:
            function = self.function_at(int(match.group(0), 16))
            if function is None or _named_already(text, match.end(), function):
                return match.group(0)
            return f"{match.group(0)} ({function})"

        return ADDRESS.sub(name, text)


def _named_already(text: str, end: int, function: str) -> bool:
    """Does the address that ends at `end` have `function`'s name after it?"""
    plain = function.split("+", 1)[0]
    return re.match(rf" {re.escape(plain)}(?![\w.])", text[end:]) is not None
