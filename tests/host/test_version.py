"""Darwin `vers` versions: parsing, ordering and the library compatibility rule."""

from __future__ import annotations

import itertools

import pytest

from finch.version import (
    VersionError,
    compatibility_problem,
    is_compatible,
    is_version,
    parse_version,
)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("1", (1, 0, 0, "", 0)),
        ("1.2", (1, 2, 0, "", 0)),
        ("1.2.3", (1, 2, 3, "", 0)),
        ("1.0.0d1", (1, 0, 0, "d", 1)),
        ("8.0.0b1", (8, 0, 0, "b", 1)),
        ("8.0.0d0", (8, 0, 0, "d", 0)),
        ("2.1fc3", (2, 1, 0, "fc", 3)),
        ("3a255", (3, 0, 0, "a", 255)),
        ("9999.99.99", (9999, 99, 99, "", 0)),
    ],
)
def test_valid_versions_parse_into_their_fields(text: str, fields: tuple) -> None:
    v = parse_version(text)

    assert (v.major, v.minor, v.bugfix, v.stage, v.level) == fields
    assert str(v) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "v1.0",
        "1.0.0.0",  # four parts
        "12345",  # major has at most 4 digits
        "1.123",  # minor has at most 2
        "1.0.100",  # bugfix has at most 2
        "1.0.0x1",  # unknown stage
        "1.0.0d",  # a stage needs its number
        "1.0.0d256",  # stage number above 255
        "1.0.0fc0",  # a final candidate starts at 1
        "1.0.0 ",
        "1..0",
    ],
)
def test_malformed_versions_are_refused_with_the_expected_format(text: str) -> None:
    with pytest.raises(VersionError, match="Darwin version"):
        parse_version(text)
    assert not is_version(text)


def test_stages_order_development_alpha_beta_candidate_release() -> None:
    chain = ["1.0.0d1", "1.0.0d2", "1.0.0a1", "1.0.0b1", "1.0.0b10", "1.0.0fc1", "1.0.0", "1.0.1"]

    versions = [parse_version(t) for t in chain]

    assert versions == sorted(versions)
    assert all(a < b for a, b in itertools.pairwise(versions))


def test_parts_compare_as_numbers_not_strings() -> None:
    assert parse_version("1.10") > parse_version("1.9")
    assert parse_version("10.0") > parse_version("9.99.99")


def test_omitted_parts_are_zero() -> None:
    assert parse_version("1") == parse_version("1.0.0")
    assert parse_version("1.0") == parse_version("1.0.0")
    assert hash(parse_version("1")) == hash(parse_version("1.0.0"))


def test_a_library_serves_requests_between_its_compatible_and_current_versions() -> None:
    version, compatible = parse_version("8.0.0"), parse_version("8.0.0b1")

    assert is_compatible(parse_version("8.0.0b1"), version, compatible)
    assert is_compatible(parse_version("8.0.0b2"), version, compatible)
    assert is_compatible(parse_version("8.0.0"), version, compatible)


def test_a_request_newer_than_the_library_says_it_is_too_old() -> None:
    problem = compatibility_problem(
        "com.example.lib", parse_version("2.0"), parse_version("1.5"), parse_version("1.0")
    )

    assert problem is not None
    assert "com.example.lib is 1.5, older than the 2.0 requested" in problem


def test_a_request_older_than_the_compatible_version_is_incompatible() -> None:
    problem = compatibility_problem(
        "com.example.lib", parse_version("1.0"), parse_version("2.0"), parse_version("2.0")
    )

    assert problem is not None
    assert "compatible only back to 2.0" in problem


def test_a_library_without_compatible_version_cannot_be_linked_against() -> None:
    problem = compatibility_problem(
        "com.example.lib", parse_version("1.0"), parse_version("1.0"), None
    )

    assert problem is not None
    assert "no OSBundleCompatibleVersion" in problem
    assert not is_compatible(parse_version("1.0"), parse_version("1.0"), None)
