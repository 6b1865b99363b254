"""`finch new-kext NAME --id ID`: a source bundle that builds and links as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from finch.build import Tree
from finch.exports import load_exports
from finch.kext.build import build_kext
from finch.kext.dependencies import namespace_for
from finch.link import link_kext
from finch.newkext import (
    NewKextError,
    available_templates,
    filter_handle,
    interface_name,
    new_kext,
)
from finch.plist import load_info_plist

REPO = Path(__file__).resolve().parents[2]


def test_the_generic_template_renders_info_plist_source_and_readme(tmp_path: Path) -> None:
    made = new_kext("packet_counter", "com.example.packetcounter", tmp_path)

    assert made.path == tmp_path / "packet_counter"
    assert sorted(p.name for p in made.path.iterdir()) == [
        "Info.plist",
        "README.md",
        "packet_counter.c",
    ]
    info = load_info_plist(made.path / "Info.plist")
    assert info.identifier == "com.example.packetcounter"
    assert info.executable == "packet_counter"
    assert (info.module_start, info.module_stop) == ("packet_counter_start", "packet_counter_stop")
    assert "com.apple.kpi.libkern" in info.libraries
    source = (made.path / "packet_counter.c").read_text()
    assert "packet_counter_start(kmod_info_t *ki, void *data)" in source
    assert "printf(" in source
    readme = (made.path / "README.md").read_text()
    assert "kextload -v build/kexts/packet_counter.kext" in readme
    assert "com_example_packetcounter_counter" in readme


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hello.c").write_text("/* mine */\n")

    with pytest.raises(NewKextError, match="already exists: refusing to overwrite"):
        new_kext("hello", "com.example.hello", tmp_path)

    assert (tmp_path / "hello" / "hello.c").read_text() == "/* mine */\n"
    assert sorted(p.name for p in (tmp_path / "hello").iterdir()) == ["hello.c"]


@pytest.mark.parametrize(
    ("name", "bundle_id", "expected"),
    [
        ("hello", "hello", "reverse-DNS"),
        ("hello", "com.example.he llo", "reverse-DNS"),
        ("hello", "com.apple.hello", "belong to the kernel"),
        ("2hello", "com.example.hello", "C identifier"),
        ("hel-lo", "com.example.hello", "C identifier"),
    ],
)
def test_bad_names_and_ids_are_refused(
    tmp_path: Path, name: str, bundle_id: str, expected: str
) -> None:
    with pytest.raises(NewKextError, match=expected):
        new_kext(name, bundle_id, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_an_unknown_template_is_refused_listing_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(NewKextError, match="choose one of generic"):
        new_kext("hello", "com.example.hello", tmp_path, template="nke")

    assert "generic" in available_templates()


def test_a_new_kext_builds_and_links_against_the_kpi_it_declares(tmp_path: Path) -> None:
    made = new_kext("hello", "com.example.hello", tmp_path / "kexts")
    built = build_kext(made.path, tree=Tree(REPO), out_dir=tmp_path / "build", echo=lambda s: None)
    kpis = load_exports()
    kernel = {s: 0x100000 + 16 * i for i, s in enumerate(sorted(kpis.all_symbols()))}
    ns = namespace_for(built.bundle.info, kpis=kpis, kernel_symbols=kernel)

    linked = link_kext(built.bundle.executable, 0xC0000000, ns, bundle_id="com.example.hello")

    assert set(linked.symbols) == {"hello_start", "hello_stop"}


def test_there_is_a_template_per_kpi_and_the_shared_pieces_are_not_one() -> None:
    assert {"generic", "kctl", "ifnet", "plumber", "iflt", "ipf", "sflt"} <= set(
        available_templates()
    )
    assert "_shared" not in available_templates()


@pytest.mark.parametrize("template", [t for t in available_templates() if t != "generic"])
def test_each_kpi_template_builds_links_and_shows_the_safe_stop_order(
    tmp_path: Path, template: str
) -> None:
    made = new_kext("mine", "com.example.mine", tmp_path / "kexts", template)
    built = build_kext(made.path, tree=Tree(REPO), out_dir=tmp_path / "build", echo=lambda s: None)
    kpis = load_exports()
    kernel = {s: 0x100000 + 16 * i for i, s in enumerate(sorted(kpis.all_symbols()))}
    ns = namespace_for(built.bundle.info, kpis=kpis, kernel_symbols=kernel)

    linked = link_kext(built.bundle.executable, 0xC0000000, ns, bundle_id="com.example.mine")

    assert set(linked.symbols) == {"mine_start", "mine_stop"}
    source = (made.path / "mine.c").read_text()
    steps = ["1. The timer.", "2. The ", "3. Nothing calls us any more"]
    positions = [source.index(step, source.index("mine_stop(kmod_info_t")) for step in steps]
    assert positions == sorted(positions)
    assert "thread_call_cancel_wait(summary_timer)" in source
    readme = (made.path / "README.md").read_text()
    assert f"--template {template}" in readme
    assert "## Stopping safely" in readme


def test_an_interface_name_fits_ifnamsiz_with_its_unit() -> None:
    assert interface_name("packet_counter") == "packetco"
    assert interface_name("x2") == "x"
    assert interface_name("__9") == "kext"


def test_a_socket_filter_handle_is_never_0_and_differs_between_bundle_ids() -> None:
    handles = {filter_handle(f"com.example.k{i}") for i in range(200)}

    assert len(handles) == 200
    assert all(int(h, 16) != 0 for h in handles)
