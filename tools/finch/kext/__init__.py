"""Kexts on the host: build them, load them into the running guest, and
remember where they went.

    bundle        source bundles, built bundles, and the search for library kexts
    build         a source bundle in, a Darwin bundle with one ELF object out
    dependencies  kextload's dependency step: load order and link namespace
    loaded        a row of the kernel's kmod table, and kextstat's format of it
    load          kextload's pipeline: link at the kernel's address, copy, start
    unload        kextunload's: stop and free, or say why the kernel refused
    records       what the host remembers of each loaded kext (its symbols)
    guest         a booted guest with the kext tools pointed at it (tests, bench)
    bench         the kext rows of `finch bench`

docs/kexts.md tells the whole story; the commands are in finch/cli.
"""
