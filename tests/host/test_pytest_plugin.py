"""The pytest plugin's fixtures and reports, exercised in a nested pytest
run that boots the stand-in test kernel instead of Finch's."""

import pytest

CONFTEST = """
import pytest
from pathlib import Path
from finch.build import Tree

@pytest.fixture(scope="session")
def finch_tree():
    return Tree(Path(__file__).parent)

@pytest.fixture(scope="session")
def kernel_image():
    return Path({kernel!r})
"""

TESTS = """
def test_passes(guest):
    assert guest.command("hello") == "hello, world"

def test_fails(guest):
    assert guest.command("hello") == "goodbye"

def test_shares_a_guest(module_guest):
    assert module_guest.command("hello") == "hello, world"

def test_shares_the_same_guest(module_guest):
    assert module_guest.pid is not None

def test_boots_with_options(machine_factory):
    from finch.qemu_args import QemuOptions
    with machine_factory(QemuOptions(memory_mb=64)) as m:
        m.boot()
        assert "-m" in m.argv and "64M" in m.argv

def test_host_only():
    pass
"""


@pytest.fixture
def nested(pytester, test_kernel):
    pytester.makeconftest(CONFTEST.format(kernel=str(test_kernel)))
    pytester.makepyfile(test_sample=TESTS)
    (pytester.path / "kernel").mkdir()
    return pytester


def test_guest_fixtures_boot_to_the_prompt_and_report_failures(nested):
    result = nested.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1)


def test_a_failed_tests_logs_are_kept_and_their_path_printed(nested):
    result = nested.runpytest_subprocess()
    kept = nested.path / "build/test-logs/test_sample.py_test_fails"
    assert (kept / "console.log").read_bytes().startswith(b"Finch test kernel")
    assert (kept / "qemu.log").exists()
    result.stdout.fnmatch_lines(["*finch logs*", f"*kept in {kept}*"])
    result.stdout.fnmatch_lines(["*finch console of test_sample.py_test_fails*"])


def test_a_passing_tests_logs_are_deleted(nested):
    nested.runpytest_subprocess()
    logs = nested.path / "build/test-logs"
    assert not (logs / "test_sample.py_test_passes").exists()
    assert not (logs / "test_sample.py").exists()  # module_guest's, all passed


def test_keep_logs_keeps_them_for_passing_tests_too(nested):
    nested.runpytest_subprocess("--finch-keep-logs")
    assert (nested.path / "build/test-logs/test_sample.py_test_passes/console.log").exists()


def test_guest_tests_are_marked_so_host_tests_can_run_alone(nested):
    result = nested.runpytest_subprocess("-m", "not guest")
    result.assert_outcomes(passed=1)
