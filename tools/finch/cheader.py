"""Read the declarations of a C header together with the comments above them.

This is not a C parser.  It reads headers written the way Finch's public
headers are (kernel/include), which is the way BSD and XNU write theirs:

    /* A comment just above some declarations is their contract. */
    errno_t mbuf_pullup(mbuf_t *mbuf, size_t len);
    errno_t mbuf_pulldown(mbuf_t src, size_t *offset, size_t length,
            mbuf_t *location);
    size_t  mbuf_len(mbuf_t mbuf);          /* a comment after one is its own */

The rules, in the order the reader applies them:

- Preprocessor lines (with their continuation lines) and lines that hold
  nothing but an upper-case macro name (__BEGIN_DECLS) are skipped.  No
  #if is evaluated: what an #if 0 hides is read like the rest.
- A statement ends at a ";" outside parentheses and braces, or at the "}"
  that closes a function body.  Statements with a body (struct, enum,
  inline functions) and typedefs (function-pointer types included) are not
  declarations; a statement with a "(" is a function prototype, one that
  starts with "extern" a variable.
- A comment that starts a line applies to every declaration after it, up
  to the next blank line or the next such comment: a group.  A comment
  after code on the same line belongs to that line's declaration only.
- A comment followed by a blank line introduces a section: the groups up
  to the next such comment.  The comment on the first line, followed by
  the include guard or a blank line, describes the whole header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from finch.errors import FinchError


class HeaderError(FinchError):
    """A header the reader cannot follow (an unterminated comment, ...)."""


@dataclass(frozen=True)
class Declaration:
    """One function prototype or extern variable."""

    name: str
    kind: str  # "function" or "variable"
    text: str  # the declaration on one line, comments removed
    line: int  # where it starts, from 1
    note: str  # the comment after it on its own line, "" if none


@dataclass(frozen=True)
class Group:
    """Declarations that share the comment written above them."""

    comment: str  # "" if nothing is written above them
    declarations: tuple[Declaration, ...]

    def contract(self, declaration: Declaration) -> str:
        """What the header says about `declaration`: the group's comment
        and the declaration's own note."""
        return "\n\n".join(text for text in (self.comment, declaration.note) if text)


@dataclass(frozen=True)
class Section:
    """A free-standing comment and the groups after it."""

    heading: str  # "" for the groups before the first section comment
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Header:
    path: Path
    description: str  # the comment at the top of the file
    sections: tuple[Section, ...]

    def groups(self) -> list[Group]:
        return [g for s in self.sections for g in s.groups]

    def declarations(self) -> list[tuple[Group, Declaration]]:
        return [(g, d) for g in self.groups() for d in g.declarations]


# ---------------------------------------------------------------------------
# Scanning: the text becomes comments, statements and blank lines.


@dataclass(frozen=True)
class _Comment:
    text: str
    line: int
    trailing: bool  # written after code on its first line


@dataclass(frozen=True)
class _Statement:
    text: str
    line: int
    end_line: int


@dataclass(frozen=True)
class _Directive:
    line: int


@dataclass(frozen=True)
class _Blank:
    line: int


_Item = _Comment | _Statement | _Directive | _Blank

_TOKEN_RE = re.compile(
    r"""
      (?P<comment>/\*.*?\*/)
    | (?P<line_comment>//[^\n]*)
    | (?P<directive>^[ \t]*\#(?:\\\n|/\*.*?\*/|[^\n])*)
    | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
    | (?P<newline>\n)
    | (?P<space>[ \t\f\r\v]+)
    | (?P<word>[A-Za-z_0-9]+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
_MACRO_LINE_RE = re.compile(r"_*[A-Z][A-Z0-9_]*")


def _scan(text: str, where: str) -> list[_Item]:
    items: list[_Item] = []
    line = 1
    code_on_line = False  # a statement, or part of one, is on this line
    content_on_line = False  # anything but white space is on this line
    tokens: list[str] = []  # the open statement
    start = 0  # its first line
    depth = 0  # parentheses and braces open in it

    def close(end_line: int) -> None:
        nonlocal tokens, depth
        items.append(_Statement("".join(tokens).strip(), start, end_line))
        tokens, depth = [], 0

    for match in _TOKEN_RE.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "newline":
            if not content_on_line and not tokens:
                items.append(_Blank(line))
            if _MACRO_LINE_RE.fullmatch("".join(tokens).strip()):
                tokens = []  # __BEGIN_DECLS and friends
            elif tokens:
                tokens.append(" ")
            line += 1
            code_on_line = content_on_line = False
            continue
        if kind == "space":
            if tokens:
                tokens.append(" ")
            continue
        if kind == "other" and value == "/" and text.startswith("/*", match.start()):
            raise HeaderError(f"{where}:{line}: a comment is never closed: add the missing */")
        content_on_line = True
        if kind in ("comment", "line_comment"):
            if tokens:
                tokens.append(" ")
            else:
                items.append(_Comment(_comment_text(value), line, trailing=code_on_line))
        elif kind == "directive":
            items.append(_Directive(line))
        else:
            if not tokens:
                start = line
            tokens.append(value)
            code_on_line = True
            if value in "({":
                depth += 1
            elif value in ")}":
                depth -= 1
                if value == "}" and depth == 0 and _is_function_body(tokens):
                    close(line)
            elif value == ";" and depth == 0:
                close(line)
        line += value.count("\n")
    if tokens:
        raise HeaderError(
            f"{where}:{start}: a declaration is never finished: add the missing ';' or '}}'"
        )
    return items


def _is_function_body(tokens: list[str]) -> bool:
    """Whether a statement that just closed its braces is a function
    definition, "f(...) { ... }", rather than "struct s { ... }"."""
    before = "".join(tokens[: tokens.index("{")]).strip()
    return before.endswith(")")


def _comment_text(comment: str) -> str:
    """The words of a comment without its /* */ and the * at each line's
    start; lines keep their indentation relative to the comment."""
    if comment.startswith("//"):
        return comment[2:].strip()
    lines = comment[2:-2].split("\n")
    cleaned = [lines[0]] + [re.sub(r"^[ \t]*\*(?!/)", "", ln) for ln in lines[1:]]
    cleaned = [ln.rstrip().expandtabs(8) for ln in cleaned]
    while cleaned and not cleaned[0]:
        cleaned.pop(0)
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    cut = min((len(ln) - len(ln.lstrip()) for ln in cleaned if ln), default=0)
    return "\n".join(ln[cut:] for ln in cleaned)


# ---------------------------------------------------------------------------
# Declarations: which statements declare a function or a variable.

_ATTRIBUTE_RE = re.compile(r"__attribute__\s*\(")
_NAME_BEFORE_PAREN_RE = re.compile(r"([A-Za-z_]\w*)\s*$")
_NAME_AT_END_RE = re.compile(r"([A-Za-z_]\w*)\s*(\[[^\]]*\]\s*)*;$")


def declaration_of(statement: str, line: int = 0, note: str = "") -> Declaration | None:
    """The function or variable a statement declares, or None (a type, a
    definition, a forward declaration)."""
    text = _one_line(statement)
    if "{" in text or re.match(r"typedef\b", text):
        return None
    bare = _without_attributes(text)
    paren = bare.find("(")
    if paren >= 0:
        name = _NAME_BEFORE_PAREN_RE.search(bare[:paren])
        if name is None or bare[paren + 1 :].lstrip().startswith("*"):
            return None  # a pointer to a function, or something stranger
        return Declaration(name.group(1), "function", text, line, note)
    if re.match(r"extern\b", bare):
        name = _NAME_AT_END_RE.search(bare)
        if name is not None:
            return Declaration(name.group(1), "variable", text, line, note)
    return None


def _one_line(statement: str) -> str:
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\(\s+", "(", text)
    return re.sub(r"\s+([),;])", r"\1", text)


def _without_attributes(text: str) -> str:
    """text without its __attribute__((...)) clauses."""
    while (found := _ATTRIBUTE_RE.search(text)) is not None:
        depth, end = 0, found.end() - 1
        for end in range(found.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        text = text[: found.start()] + text[end + 1 :]
    return text


# ---------------------------------------------------------------------------
# Grouping: which comment belongs to which declarations.


def parse_header(text: str, path: Path | str = "<header>") -> Header:
    """Read a header's declarations, grouped under their comments."""
    path = Path(path)
    items = _scan(text, str(path))
    description = ""
    if _opens_the_file(items):
        description = items.pop(0).text

    sections: list[Section] = []
    heading = ""
    groups: list[Group] = []
    comment = ""  # the comment over the current group
    members: list[Declaration] = []
    comment_alone = False  # nothing but the comment since it started

    def end_group() -> None:
        nonlocal members
        if members:
            groups.append(Group(comment, tuple(members)))
        members = []

    def end_section(new_heading: str) -> None:
        nonlocal heading, groups
        end_group()
        if groups:
            sections.append(Section(heading, tuple(groups)))
        heading, groups = new_heading, []

    for index, item in enumerate(items):
        if isinstance(item, _Blank):
            if comment_alone:
                end_section(comment)
            end_group()
            comment, comment_alone = "", False
        elif isinstance(item, _Comment) and not item.trailing:
            end_group()
            comment, comment_alone = item.text, True
        elif isinstance(item, _Directive):
            comment_alone = False
        elif isinstance(item, _Statement):
            comment_alone = False
            following = items[index + 1] if index + 1 < len(items) else None
            note = ""
            if isinstance(following, _Comment) and following.trailing:
                note = following.text if following.line == item.end_line else ""
            declaration = declaration_of(item.text, item.line, note)
            if declaration is not None:
                members.append(declaration)
    end_section("")
    return Header(path, description, tuple(sections))


def _opens_the_file(items: list[_Item]) -> bool:
    """Whether the header starts with a comment about the whole file: on
    line 1, and followed by the include guard or a blank line."""
    if len(items) < 2 or not isinstance(items[0], _Comment) or items[0].line != 1:
        return False
    return isinstance(items[1], _Directive | _Blank)


def read_header(path: Path) -> Header:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise HeaderError(f"{path}: cannot be read ({e})") from None
    return parse_header(text, path)
