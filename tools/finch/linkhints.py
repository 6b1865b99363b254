"""Why an object asks for what the kext linker cannot give, and the fix.

A kext object built some other way than `make build` does (gcc -m32
-ffreestanding -fno-pic -fno-stack-protector, ld -r) still compiles, but
it reaches for things a kext does not have: a global offset table
(position-independent code), thread-local storage, the stack protector's
guard, the C++ runtime.  The linker (finch.link) meets them as relocation
types it does not apply or as undefined symbols nobody exports; these
functions turn each into what happened and how to build the kext instead,
so that the student is not told to "check the spelling" of
_GLOBAL_OFFSET_TABLE_.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from elftools.elf.enums import ENUM_RELOC_TYPE_i386

GLOBAL_OFFSET_TABLE = "_GLOBAL_OFFSET_TABLE_"

# The relocations gcc -m32 -fno-pic emits; the linker applies these.
R_386_NONE = 0
R_386_32 = 1
R_386_PC32 = 2
R_386_PLT32 = 4  # a call; without a PLT it is a direct call, S + A - P
APPLIED = frozenset({R_386_NONE, R_386_32, R_386_PC32, R_386_PLT32})

_GOT = {3, 9, 10, 43}  # R_386_GOT32, GOTOFF, GOTPC, GOT32X
_TLS = {14, 15, 16, 17, 18, 19, *range(24, 38), 39, 40, 41}  # R_386_TLS_*
_DYNAMIC = {5, 6, 7, 8, 42}  # COPY, GLOB_DAT, JUMP_SLOT, RELATIVE, IRELATIVE
_NARROW = {20, 21, 22, 23}  # R_386_16, PC16, 8, PC8

PIC = (
    "the object was built as position-independent code (-fPIC, -fpic or -fPIE), which "
    "reaches its data through a global offset table that a kext does not have: build "
    "without -fPIC, with -fno-pic -fno-pie, as `make build` does"
)
TLS = (
    "the kext uses thread-local variables (__thread), and the kernel has no thread-local "
    "storage: use a global protected by a lock"
)
STACK_PROTECTOR = (
    "the object was built with the stack protector (-fstack-protector), whose guard and "
    "__stack_chk_fail the kernel does not have: build with -fno-stack-protector, as "
    "`make build` does"
)
PROFILING = "the object was built for profiling (-pg): build without -pg, as `make build` does"
CXX_RUNTIME = (
    "it is part of the C++ runtime (exceptions, RTTI, pure virtual calls), which the "
    "kernel does not have: write the kext in C, as the KPI is"
)

_EXTRA_NAMES = {38: "R_386_SIZE32", 43: "R_386_GOT32X"}


def relocation_name(rtype: int) -> str:
    """R_386_* name of a relocation type number."""
    for name, value in ENUM_RELOC_TYPE_i386.items():
        if value == rtype and name.startswith("R_386_"):
            return name
    return _EXTRA_NAMES.get(rtype, f"type {rtype}")


def relocation_hint(rtype: int, symbol: str) -> str | None:
    """Why the linker does not apply a relocation of type `rtype` against
    `symbol`, and the fix; None when it does apply it."""
    if rtype in _GOT or (symbol == GLOBAL_OFFSET_TABLE and rtype != R_386_NONE):
        return PIC
    if rtype in APPLIED:
        return None
    if rtype in _TLS:
        return TLS
    if rtype in _DYNAMIC:
        return (
            "only linked executables and shared libraries hold this relocation: the object "
            "is damaged or was not made with ld -r; rebuild the kext (`make build`)"
        )
    if rtype in _NARROW:
        return (
            "it stores an address in 16 or 8 bits (assembler .word or .byte), but a kext's "
            "addresses need 32: use .long"
        )
    if relocation_name(rtype).startswith("R_386_"):
        return "the kext linker handles R_386_32, R_386_PC32 and R_386_PLT32 only"
    return "it is not an i386 relocation type: the object is damaged; rebuild the kext"


def symbol_hint(name: str, exported: Callable[[str], bool]) -> str | None:
    """Why `name`, which nothing defines, is something the compiler asked
    for rather than a misspelling, and the fix; None when it is not.
    `exported(plain)` says whether a C name is exported by some bundle."""
    if name == GLOBAL_OFFSET_TABLE or name.startswith("__x86.get_pc_thunk."):
        return PIC
    if name.startswith("__stack_chk_"):
        return STACK_PROTECTOR
    if name in ("__tls_get_addr", "___tls_get_addr"):
        return TLS
    if name in ("mcount", "_mcount", "__fentry__"):
        return PROFILING
    if name.startswith(("__cxa_", "__gxx_personality", "_Unwind_", "__dynamic_cast", "_ZTV")):
        return CXX_RUNTIME
    if name.startswith("_Z"):
        plain = _function_name(name)
        if plain is not None and exported(plain):
            return (
                f"it is the C++ (mangled) name of {plain}: the kext was compiled as C++, so "
                "its calls to the C KPI are mangled: wrap the KPI headers in "
                'extern "C" { ... }, or write the kext in C'
            )
        return (
            "it is a C++ (mangled) name, and the kernel and the KPI export only C "
            "functions: write the kext in C"
        )
    return None


def _function_name(mangled: str) -> str | None:
    """printf from _Z6printfPKcz: the name of a mangled plain function."""
    m = re.match(r"_Z(\d+)", mangled)
    if m is None:
        return None
    length, start = int(m.group(1)), m.end()
    name = mangled[start : start + length]
    return name if len(name) == length else None
