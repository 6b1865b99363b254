"""Shared pytest set-up for all of Finch's tests.

The fixtures that boot Finch (kernel_image, guest, module_guest,
machine_factory) come from the `finch` pytest plugin, tools/finch/pytest_plugin.py,
which the package registers.  tests/host/ tests the toolkit without the
kernel; the guest tests boot the real kernel under QEMU.
"""

pytest_plugins = ["pytester"]
