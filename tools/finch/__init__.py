"""The Finch host toolkit: build the kernel, boot and steer it under QEMU,
symbolize its panics, and drive the tests.

Modules, each named after what it does:

    build         compiler flags, paths and outputs: the one place that knows them
    preflight     is QEMU (and gcc) good enough to run Finch here?
    qemu_args     the QEMU command line for a machine
    machine       one running guest: console, QMP, exit status, shutdown
    console       the reader thread that captures COM1
    runinfo       machine.json: how other host tools find a running guest
    exitstatus    QEMU's exit code turned back into the guest's halt status
    panic         find and parse the kernel's panic report
    symbolize     addresses to function+offset and file:line
    bench         boot-time and test-time benchmarks
    pytest_plugin the `guest` fixtures
    cli           the `finch` command
"""

__version__ = "0.1.0"
