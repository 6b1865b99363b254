"""Kexts on the host: build them, load them into the running guest, and
remember where they went.

    bundle        bundles, what is loaded, load order, kextstat's format
    build         a source bundle in, a Darwin bundle with one ELF object out
    load          kextload's pipeline: link at the kernel's address, copy, start
    unload        kextunload's: stop and free, or say why the kernel refused
    records       what the host remembers of each loaded kext (its symbols)
    guest         a booted guest with the kext tools pointed at it (tests, bench)
    bench         the kext rows of `finch bench`

docs/kexts.md tells the whole story; the commands are in finch/cli.
"""
