"""The KPI reference: the header reader (finch.cheader), the pages it makes
(finch.kpidoc), and the repository's own docs/kpi and header comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from finch.cheader import HeaderError, declaration_of, parse_header
from finch.kpidoc import (
    CONTRACT_HINT,
    INDEX,
    REGENERATE,
    load_reference,
    render_pages,
    stale_pages,
    write_pages,
)

REPO = Path(__file__).resolve().parents[2]


def contracts(text: str) -> dict[str, str]:
    """name -> contract of every declaration in a header snippet."""
    header = parse_header(text)
    return {d.name: g.contract(d) for g, d in header.declarations()}


# ---------------------------------------------------------------------------
# Reading headers


def test_a_prototype_on_several_lines_is_read_as_one_line() -> None:
    header = parse_header(
        "errno_t\tmbuf_pulldown(mbuf_t src, size_t *offset,\n\t    size_t length,\n"
        "\t    mbuf_t *location);\n"
    )

    [(_, declaration)] = header.declarations()

    assert declaration.name == "mbuf_pulldown"
    assert declaration.text == (
        "errno_t mbuf_pulldown(mbuf_t src, size_t *offset, size_t length, mbuf_t *location);"
    )
    assert declaration.line == 1


def test_a_comment_above_declarations_covers_them_up_to_a_blank_line() -> None:
    found = contracts(
        "/* Wake the sleepers\n * on chan. */\n"
        "void wakeup(void *chan);\n"
        "void wakeup_one(void *c);\n"
        "\n"
        "void untold(void);\n"
    )

    assert found == {
        "wakeup": "Wake the sleepers\non chan.",
        "wakeup_one": "Wake the sleepers\non chan.",
        "untold": "",
    }


def test_a_new_comment_starts_a_new_group() -> None:
    found = contracts("/* A. */\nvoid a(void);\n/* B. */\nvoid b(void);\n")

    assert found == {"a": "A.", "b": "B."}


def test_a_comment_after_a_declaration_belongs_to_that_line_only() -> None:
    found = contracts(
        "size_t mbuf_len(mbuf_t m);\t/* bytes in this mbuf */\nsize_t mbuf_maxlen(mbuf_t m);\n"
    )

    assert found == {"mbuf_len": "bytes in this mbuf", "mbuf_maxlen": ""}


def test_group_comment_and_own_comment_are_both_the_contract() -> None:
    found = contracts("/* Sizes. */\nsize_t mbuf_len(mbuf_t m);\t/* this mbuf */\n")

    assert found == {"mbuf_len": "Sizes.\n\nthis mbuf"}


def test_types_and_definitions_are_not_declarations() -> None:
    header = parse_header(
        "typedef errno_t (*iff_input_func)(void *cookie, mbuf_t *data);\n"
        "typedef void timeout_fcn_t(void *);\n"
        "struct kev_msg;\n"
        "struct iff_filter {\n\tvoid *iff_cookie;\n\tiff_input_func iff_input;\n};\n"
        "enum { MBUF_EXT = 0x0001 };\n"
        "void (*hook)(int);\n"
        "static inline u_int\nmin(u_int a, u_int b)\n{\n\treturn (a < b ? a : b);\n}\n"
        "int real(void);\n"
    )

    assert [d.name for _, d in header.declarations()] == ["real"]


def test_an_extern_variable_is_a_declaration() -> None:
    [(_, hz)] = parse_header("/* Ticks per second. */\nextern int hz;\n").declarations()

    assert (hz.name, hz.kind, hz.text) == ("hz", "variable", "extern int hz;")


def test_macros_and_declaration_brackets_are_skipped() -> None:
    header = parse_header(
        "#define KMOD_DECL(name, version)\t\\\n\tstatic int name ## _start(void);\t\\\n"
        "\tint f(void)\n"
        "#define LLADDR(s)\t((caddr_t)((s)->sdl_data))\n"
        "__BEGIN_DECLS\n"
        "/* The one. */\n"
        "errno_t\nthe_one(void);\n"
        "__END_DECLS\n"
    )

    assert [(d.name, g.comment) for g, d in header.declarations()] == [("the_one", "The one.")]


def test_attributes_do_not_hide_the_name() -> None:
    declaration = declaration_of(
        "int sprintf(char *buf, const char *fmt, ...) __printflike(2, 3)\n"
        '    __attribute__((__deprecated__("use snprintf; really")));'
    )

    assert declaration is not None
    assert declaration.name == "sprintf"


def test_a_comment_followed_by_a_blank_line_opens_a_section() -> None:
    header = parse_header(
        "/*\n * <sys/x.h> -- what the header is for.\n */\n#ifndef X\n\n"
        "/* --- Data --- */\n\nvoid *mbuf_data(mbuf_t m);\n\n"
        "/* --- Chains --- */\n\n/* Trim. */\nvoid mbuf_adj(mbuf_t m, int len);\n"
    )

    assert header.description == "<sys/x.h> -- what the header is for."
    assert [(s.heading, [d.name for g in s.groups for d in g.declarations])
            for s in header.sections] == [
        ("--- Data ---", ["mbuf_data"]),
        ("--- Chains ---", ["mbuf_adj"]),
    ]  # fmt: skip


def test_a_comment_over_defines_is_not_a_section() -> None:
    header = parse_header(
        "/* Event codes. */\n#define KEV_A 1\n#define KEV_B 2\n\n/* Post. */\nint post(void);\n"
    )

    [section] = header.sections
    assert section.heading == ""


def test_comment_text_keeps_indentation_relative_to_the_comment() -> None:
    found = contracts(
        "/*\n * Data path.\n * ifnet_output: filters,\n *   the driver.\n */\n"
        "int ifnet_output(void);\n"
    )

    assert found["ifnet_output"] == "Data path.\nifnet_output: filters,\n  the driver."


def test_an_unterminated_comment_is_reported_with_its_line() -> None:
    with pytest.raises(HeaderError, match=r"x\.h:2: a comment is never closed"):
        parse_header("int a(void);\n/* oops\nint b(void);\n", "x.h")


def test_an_unfinished_declaration_is_reported_with_its_line() -> None:
    with pytest.raises(HeaderError, match=r"x\.h:1: a declaration is never finished"):
        parse_header("int a(void)\n", "x.h")


# ---------------------------------------------------------------------------
# Pages


def make_tree(root: Path, headers: dict[str, str], exports: dict[str, list[str]]) -> Path:
    """A repository with just kernel/include and kernel/exports."""
    for include, text in headers.items():
        path = root / "kernel" / "include" / include
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    exports_dir = root / "kernel" / "exports"
    exports_dir.mkdir(parents=True)
    for bundle, symbols in exports.items():
        lines = ["bundle-version 8.0.0", "compatible-version 8.0.0", *symbols, ""]
        (exports_dir / f"{bundle}.exports").write_text("\n".join(lines))
    return root


MBUF_H = """/*
 * <sys/kpi_mbuf.h> -- packets.
 */

/* Make the first len bytes contiguous.  On failure *mbuf is FREED
 * (see <sys/kpi_mbuf.h>, __private_names). */
errno_t\tmbuf_pullup(mbuf_t *mbuf, size_t len);

/*
 * Data path.
 * first: this;
 *   then that.
 */
void\tmbuf_path(void);

int\tkernel_private(void);
void\tmbuf_silent(void);
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(
        tmp_path,
        {"sys/kpi_mbuf.h": MBUF_H, "sys/types.h": "typedef int errno_t;\n"},
        {"com.apple.kpi.bsd": ["mbuf_pullup", "mbuf_path", "mbuf_silent", "kalloc"]},
    )


def test_each_header_with_declarations_gets_a_page_and_the_index_links_them(
    tree: Path,
) -> None:
    pages = render_pages(load_reference(tree))

    assert sorted(pages) == [INDEX, "sys/kpi_mbuf.md"]
    assert "[`mbuf_pullup`](sys/kpi_mbuf.md#mbuf_pullup)" in pages[INDEX]
    assert "`<sys/types.h>`" in pages[INDEX]  # types only: no page


def test_a_page_shows_the_include_the_prototype_the_contract_and_the_bundle(tree: Path) -> None:
    page = render_pages(load_reference(tree))["sys/kpi_mbuf.md"]

    assert "#include <sys/kpi_mbuf.h>" in page
    assert '<a id="mbuf_pullup"></a>' in page
    assert "errno_t mbuf_pullup(mbuf_t *mbuf, size_t len);" in page
    assert "`com.apple.kpi.bsd`" in page
    assert "kernel only" in page  # kernel_private


def test_comment_text_is_escaped_for_markdown(tree: Path) -> None:
    page = render_pages(load_reference(tree))["sys/kpi_mbuf.md"]

    assert "On failure \\*mbuf is FREED" in page
    assert "(see \\<sys/kpi_mbuf.h>, \\_\\_private_names)" in page


def test_a_comment_with_indented_lines_stays_as_written(tree: Path) -> None:
    page = render_pages(load_reference(tree))["sys/kpi_mbuf.md"]

    assert "```text\nData path.\nfirst: this;\n  then that.\n```" in page


def test_an_exported_function_without_a_comment_is_named_with_its_header(tree: Path) -> None:
    missing = load_reference(tree).missing_contracts()

    assert missing == [
        "kernel/include/sys/kpi_mbuf.h:17: mbuf_silent (exported by com.apple.kpi.bsd) "
        "has no contract comment"
    ]


def test_an_exported_symbol_no_header_declares_is_listed(tree: Path) -> None:
    reference = load_reference(tree)

    assert reference.undeclared_exports() == {"kalloc": "com.apple.kpi.bsd"}
    assert "- `kalloc`: `com.apple.kpi.bsd`" in render_pages(reference)[INDEX]


def test_the_pages_do_not_change_between_runs(tree: Path) -> None:
    assert render_pages(load_reference(tree)) == render_pages(load_reference(tree))


def test_stale_missing_and_left_over_pages_are_found_and_mended(tree: Path, tmp_path: Path) -> None:
    pages = render_pages(load_reference(tree))
    out = tmp_path / "docs" / "kpi"
    write_pages(pages, out)
    (out / "sys" / "kpi_mbuf.md").write_text("edited by hand\n")
    (out / INDEX).unlink()
    (out / "net").mkdir()
    (out / "net" / "gone.md").write_text("a header that was removed\n")

    assert stale_pages(pages, out) == [INDEX, "net/gone.md", "sys/kpi_mbuf.md"]
    assert write_pages(pages, out) == [INDEX, "net/gone.md", "sys/kpi_mbuf.md"]
    assert stale_pages(pages, out) == []


# ---------------------------------------------------------------------------
# The repository


def test_docs_kpi_is_what_the_headers_say() -> None:
    pages = render_pages(load_reference(REPO))

    stale = stale_pages(pages, REPO / "docs" / "kpi")

    assert not stale, f"docs/kpi is stale ({', '.join(stale)}): run `{REGENERATE}` and commit"


def test_every_exported_function_has_a_contract_comment() -> None:
    missing = load_reference(REPO).missing_contracts()

    assert not missing, "\n".join([*missing, f"for each: {CONTRACT_HINT}"])
