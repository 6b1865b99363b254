"""Every kext kextload must refuse, refused with a message that names the
kext, the reason and the fix; after each refusal the guest keeps running,
kextstat is unchanged and the kernel holds no more memory than before."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.errors import FinchError
from finch.exports import load_exports
from finch.kext.bundle import open_bundle
from finch.kext.guest import KextGuest
from finch.kext.load import KextLoader, LoadError
from finch.session import GuestSession

MakeKext = Callable[..., Path]
MakeBundle = Callable[[str, bytes], Path]

COUNTERLIB = "com.finch.sample.counterlib"


def kext_source(name: str, body: str = "", start: str = "") -> str:
    """A C source with start and stop routines; `body` goes before them and
    `start` inside the start routine."""
    return f"""\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>

kern_return_t {name}_start(kmod_info_t *ki, void *data);
kern_return_t {name}_stop(kmod_info_t *ki, void *data);
{body}
kern_return_t
{name}_start(kmod_info_t *ki, void *data)
{{
{start}
	return KERN_SUCCESS;
}}

kern_return_t
{name}_stop(kmod_info_t *ki, void *data)
{{
	return KERN_SUCCESS;
}}
"""


def load_refused(guest: KextGuest, bundle: Path, **options: list[Path]) -> str:
    """Load `bundle`, expecting a refusal; check the guest is as it was and
    still answers; return the refusal's message."""
    kexts, heap = guest.kextstat(), guest.heap()

    with pytest.raises(FinchError) as refused:
        guest.load(bundle, **options)

    assert guest.kextstat() == kexts
    assert heap.differences(guest.heap()) == []
    assert guest.monitor("version").startswith("Finch ")
    return str(refused.value)


# -- symbols -------------------------------------------------------------


def test_a_symbol_of_a_kpi_bundle_the_kext_does_not_declare_is_named_with_the_fix(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    source = kext_source(
        "ticker", body="static void tick(void *arg) { }\n", start="\ttimeout(tick, NULL, 1);"
    )
    bundle = make_kext("ticker", source)  # declares com.apple.kpi.libkern only

    message = load_refused(kext_guest, bundle)

    assert "com.example.ticker" in message
    assert (
        "undefined symbol timeout: exported by com.apple.kpi.bsd, which the kext does not "
        "declare: add com.apple.kpi.bsd to OSBundleLibraries in Info.plist" in message
    )


def test_a_kernel_private_symbol_is_named_as_exported_by_no_kpi_bundle(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    source = kext_source(
        "sneaky", body="void kmod_free_orphans(void);\n", start="\tkmod_free_orphans();"
    )

    message = load_refused(kext_guest, make_kext("sneaky", source))

    assert (
        "undefined symbol kmod_free_orphans: private to the kernel, exported by no KPI bundle"
        in message
    )


def test_a_global_that_collides_with_the_kernels_suggests_a_reverse_dns_prefix(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    source = kext_source("clash", body="int kmod_init = 1;\n", start="\tkmod_init++;")

    message = load_refused(kext_guest, make_kext("clash", source))

    assert "global symbol kmod_init collides with a global of the same name" in message
    assert "the kernel's (kernel-private)" in message
    assert "give it the kext's reverse-DNS prefix (com_example_clash_kmod_init)" in message


def test_a_global_that_collides_with_a_loaded_kexts_names_that_kext(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    kext_guest.load(kext_guest.bundle("hello"))
    source = kext_source("copycat", body="int hello_start;\n", start="\thello_start = 1;")

    message = load_refused(kext_guest, make_kext("copycat", source))

    assert "global symbol hello_start collides" in message
    assert "the loaded kext com.finch.sample.hello's" in message
    assert "com_example_copycat_hello_start" in message


def test_an_unsupported_relocation_is_named_with_its_place(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    pic = """\
	.text
	.globl	gotoff_peek
gotoff_peek:
	movl	gotoff_value@GOTOFF(%ebx), %eax
	ret
	.data
gotoff_value:
	.long	1
"""
    bundle = make_kext("gotoff", kext_source("gotoff"), files={"peek.S": pic})

    message = load_refused(kext_guest, bundle)

    assert "unsupported relocation R_386_GOTOFF at .text+0x" in message
    assert "build without -fPIC" in message


# -- the object ------------------------------------------------------------


def test_an_executable_that_is_not_an_elf_object_is_refused(
    kext_guest: KextGuest, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle("notelf", b"#!/bin/sh\necho I am not an object\n")

    message = load_refused(kext_guest, bundle)

    assert "not an ELF file" in message
    assert "notelf" in message


def test_an_x86_64_object_is_refused_saying_to_build_for_i386(
    kext_guest: KextGuest, make_bundle: MakeBundle, tmp_path: Path
) -> None:
    source = tmp_path / "wide.c"
    source.write_text("int wide_start(void) { return 0; }\n")
    subprocess.run(
        ["gcc", "-m64", "-ffreestanding", "-c", str(source), "-o", str(tmp_path / "wide.o")],
        check=True,
    )
    bundle = make_bundle("wide", (tmp_path / "wide.o").read_bytes())

    message = load_refused(kext_guest, bundle)

    assert "64-bit ELF object (ELFCLASS64, probably x86_64)" in message
    assert "gcc -m32" in message


def test_an_image_over_the_kernels_limit_is_refused_before_memory_is_asked_for(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    source = kext_source(
        "huge",
        body="char com_example_huge_table[5 << 20];\n",
        start="\tcom_example_huge_table[0]++;",
    )

    message = load_refused(kext_guest, make_kext("huge", source))

    assert "more than the limit of 4194304" in message
    assert "make the kext smaller" in message


# -- dependencies ----------------------------------------------------------


def test_a_missing_library_is_named_with_where_it_was_looked_for(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    libraries = {"com.apple.kpi.libkern": "8.0.0", "com.example.nosuchlib": "1.0.0"}
    bundle = make_kext("lonely", kext_source("lonely"), libraries=libraries)

    message = load_refused(kext_guest, bundle, search_dirs=[kext_guest.kexts_dir])

    assert "OSBundleLibraries.com.example.nosuchlib" in message
    assert "is not loaded and not among the bundles searched" in message
    assert "name its bundle with -d, or the folder that holds it with -r" in message


def test_a_library_older_than_requested_is_refused(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    libraries = {"com.apple.kpi.libkern": "8.0.0", COUNTERLIB: "2.0.0"}
    bundle = make_kext("greedy", kext_source("greedy"), libraries=libraries)

    message = load_refused(kext_guest, bundle, search_dirs=[kext_guest.kexts_dir])

    assert f"{COUNTERLIB} is 1.2.0, older than the 2.0.0 requested" in message


def test_a_loaded_library_no_longer_compatible_with_the_request_is_refused(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    kext_guest.load(kext_guest.bundle("counterlib"))
    libraries = {"com.apple.kpi.libkern": "8.0.0", COUNTERLIB: "0.9.0"}
    bundle = make_kext("oldtimer", kext_source("oldtimer"), libraries=libraries)

    message = load_refused(kext_guest, bundle)

    assert f"{COUNTERLIB} 1.2.0 is compatible only back to 1.0.0" in message
    assert "newer than the 0.9.0 requested" in message


def test_a_kext_already_loaded_is_refused_with_how_to_unload_it(
    kext_guest: KextGuest,
) -> None:
    [first] = kext_guest.load(kext_guest.bundle("hello"))

    message = load_refused(kext_guest, kext_guest.bundle("hello"))

    assert f"com.finch.sample.hello is already loaded (index {first.kmod_id}" in message
    assert "kextunload -b com.finch.sample.hello" in message


# -- the link --------------------------------------------------------------


def test_a_link_dropped_after_alloc_leaks_nothing_and_the_next_load_works(
    kext_guest: KextGuest,
) -> None:
    kexts, heap = kext_guest.kextstat(), kext_guest.heap()
    session = GuestSession.open(kext_guest.rundir)
    alloc = session.alloc

    def alloc_then_drop(size: int):  # the block is handed out, then the link goes
        block = alloc(size)
        session.link._sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        return block

    session.alloc = alloc_then_drop  # type: ignore[method-assign]
    with pytest.raises(LoadError) as refused:
        KextLoader(session, load_exports()).load(open_bundle(kext_guest.bundle("hello")))
    session.close()

    assert "the guest's end of the link closed" in str(refused.value)
    assert "freed by the kernel when the next host tool says HELLO" in str(refused.value)
    assert kext_guest.kextstat() == kexts  # this session's HELLO freed the block
    assert heap.differences(kext_guest.heap()) == []
    kext_guest.load(kext_guest.bundle("hello"))
    kext_guest.machine.expect("hello: hello from com.finch.sample.hello")
