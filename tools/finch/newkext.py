"""`finch new-kext NAME --id com.example.name`: render a new source bundle.

Each folder of templates/newkext/ is one template: generic, and one per
network KPI (kctl, ifnet, plumber, iflt, ipf, sflt).  Every *.j2 file in
it is rendered with the kext's name, bundle id and symbol prefix, the
template's name, an interface name made from the kext's name and a
socket-filter handle made from its bundle id; "__NAME__" in a file name
becomes the kext's name.  What the templates share -- Info.plist, the
README, and the C skeleton of locks, summary timer and the safe stop
order -- is in templates/newkext/_shared/, which the files extend with
jinja2 blocks.  The result builds and loads as it is.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from finch.errors import FinchError
from finch.kext.build import template_environment, templates_dir
from finch.plist import BUNDLE_ID_HELP, C_IDENTIFIER_RE, is_bundle_id, load_info_plist

NAME_PLACEHOLDER = "__NAME__"
MAX_NAME = 48


class NewKextError(FinchError):
    """The kext cannot be created: bad name or id, unknown template, or the
    folder already exists."""


@dataclass(frozen=True)
class NewKext:
    path: Path
    files: tuple[Path, ...]


def newkext_templates_dir() -> Path:
    return templates_dir() / "newkext"


def available_templates() -> list[str]:
    """The templates' names (a folder starting with "_" holds shared pieces)."""
    return sorted(
        p.name for p in newkext_templates_dir().iterdir() if p.is_dir() and p.name[0] != "_"
    )


def filter_handle(bundle_id: str) -> str:
    """A socket filter's sf_handle for this kext, as C: unique per bundle
    id (two filters may not share one), never 0."""
    return f"0x{(zlib.crc32(bundle_id.encode()) & 0x7FFFFFFF) | 0x1000000:08x}"


def interface_name(name: str) -> str:
    """The name an interface of this kext gets (the unit is added to it):
    the kext's letters, at most 8, so that "name" + unit fits IFNAMSIZ."""
    letters = re.sub(r"[^a-z]", "", name.lower())[:8]
    return letters or "kext"


def check_name(name: str) -> None:
    if not C_IDENTIFIER_RE.fullmatch(name) or len(name) > MAX_NAME:
        raise NewKextError(
            f"{name!r} cannot name a kext: the name becomes CFBundleExecutable and the "
            f"prefix of the start and stop routines, so it must be a C identifier "
            f"(letters, digits, '_'; not starting with a digit; at most {MAX_NAME} characters)"
        )


def check_bundle_id(bundle_id: str) -> None:
    if not is_bundle_id(bundle_id):
        raise NewKextError(f"--id {bundle_id!r}: expected {BUNDLE_ID_HELP}")
    if bundle_id.split(".")[:2] == ["com", "apple"]:
        raise NewKextError(
            f"--id {bundle_id}: com.apple.* ids belong to the kernel's own bundles; use "
            "your own reverse-DNS domain, e.g. com.example.name or edu.school.name"
        )


def new_kext(name: str, bundle_id: str, dest: Path | str, template: str = "generic") -> NewKext:
    """Render templates/newkext/<template> into dest/<name>/.

    Refuses to touch an existing dest/<name>."""
    check_name(name)
    check_bundle_id(bundle_id)
    if template not in available_templates():
        raise NewKextError(
            f"--template {template!r}: no such template; choose one of "
            + ", ".join(available_templates())
        )
    target = Path(dest) / name
    if target.exists():
        raise NewKextError(
            f"{target} already exists: refusing to overwrite it; choose another name "
            "or remove the folder first"
        )
    env = template_environment()
    source_dir = newkext_templates_dir() / template
    context = {
        "name": name,
        "bundle_id": bundle_id,
        "prefix": bundle_id.replace(".", "_").replace("-", "_") + "_",
        "template": template,
        "ifname": interface_name(name),
        "handle": filter_handle(bundle_id),
    }
    rendered: list[tuple[Path, str]] = []
    for tpl in sorted(source_dir.rglob("*.j2")):
        relative = tpl.relative_to(source_dir)
        out_name = str(relative.with_suffix("")).replace(NAME_PLACEHOLDER, name)
        template_file = env.get_template(tpl.relative_to(templates_dir()).as_posix())
        rendered.append((target / out_name, template_file.render(**context)))

    target.mkdir(parents=True)
    for path, text in rendered:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    load_info_plist(target / "Info.plist")  # the template must produce a valid one
    return NewKext(target, tuple(p for p, _ in rendered))
