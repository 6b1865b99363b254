"""Build a kext: a source bundle in, a Darwin bundle with one ELF object out.

    kexts/hello/Info.plist, *.c, *.S  (Finch.toml: which sources, -I, -D, ...)
      --gcc (kext flags)-->  build/kexts/obj/hello/*.o
      + kmod_info.c rendered from templates/kmod_info.c.j2 (unless a source
        already defines kmod_info with KMOD_EXPLICIT_DECL)
      --ld -m elf_i386 -r-->  build/kexts/hello.kext/Contents/MacOS/hello
    Info.plist                build/kexts/hello.kext/Contents/Info.plist

The bundle is named after CFBundleExecutable, as Xcode named both after the
product.  The executable stays relocatable: kextload links it on the host at
the address the kernel hands out (finch.link).

The folder may be anywhere (`finch kextbuild FOLDER`).  Warnings are
printed, not fatal, as Xcode left them, unless Finch.toml sets
GCC_TREAT_WARNINGS_AS_ERRORS; `finch build` holds the samples in kexts/ to
warnings-as-errors, as it does the kernel.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from finch.build import GCC, LD, Tree, asm_flags, gcc_include_dir, kext_cflags
from finch.errors import BuildError
from finch.kext.bundle import KextBundle, SourceBundle, open_bundle, open_source_bundle
from finch.kext.settings import KextSettings
from finch.kextobject import (
    KMOD_INFO_SYMBOL,
    KMOD_NAME_OFFSET,
    KMOD_STRING_SIZE,
    KMOD_VERSION_OFFSET,
    kmod_string,
)
from finch.link import LinkError, plan
from finch.plist import KextInfo

Echo = Callable[[str], None]


class KextBuildError(BuildError):
    """A kext did not build; the message says which file and why."""


@dataclass(frozen=True)
class BuiltKext:
    bundle: KextBundle
    objects: tuple[Path, ...]
    kmod_info_source: Path | None  # the generated kmod_info.c; None with KMOD_EXPLICIT_DECL


def templates_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "templates"


def c_string(text: str) -> str:
    """`text` escaped for the inside of a C string literal."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8"))
    return "".join(out)


def template_environment() -> jinja2.Environment:
    """The jinja2 environment for Finch's C and plist templates."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["c_string"] = c_string
    return env


def render_kmod_info(info: KextInfo) -> str:
    """The C source of the kext's kmod_info, as Xcode generated it."""
    return (
        template_environment()
        .get_template("kmod_info.c.j2")
        .render(
            identifier=info.identifier,
            version=str(info.version),
            plist=f"{info.path.parent.name}/{info.path.name}",
            start=info.module_start,
            stop=info.module_stop,
        )
    )


def compile_command(
    tree: Tree,
    source: Path,
    output: Path,
    include_dirs: Sequence[Path] = (),
    *,
    settings: KextSettings | None = None,
    warnings_as_errors: bool = True,
) -> list[str]:
    """gcc with the kext flags of build.py, plus the bundle's own folder and
    any extra include dirs after the KPI headers, then the settings'
    HEADER_SEARCH_PATHS, definitions and OTHER_CFLAGS."""
    flags = kext_cflags(tree, gcc_include_dir(), warnings_as_errors=warnings_as_errors)
    if source.suffix == ".S":
        flags = asm_flags(flags)
    dirs = [*include_dirs, *(settings.header_search_paths if settings else ())]
    extra = [arg for d in dirs for arg in ("-I", tree.relative(d.resolve()))]
    if settings is not None:
        extra += [f"-D{d}" for d in settings.definitions] + list(settings.other_cflags)
    # Paths relative to the repository root, where gcc runs: DWARF then
    # names kexts/hello/hello.c, as the kernel's objects name their sources.
    src, out = tree.relative(source.resolve()), tree.relative(output.resolve())
    return [GCC, *flags, *extra, "-c", src, "-o", out]


def build_kext(
    source: Path | str,
    *,
    tree: Tree | None = None,
    out_dir: Path | None = None,
    include_dirs: Sequence[Path] = (),
    warnings_as_errors: bool = False,
    verbose: bool = False,
    echo: Echo = print,
) -> BuiltKext:
    """Compile one source bundle into out_dir/<CFBundleExecutable>.kext
    (default out_dir: build/kexts).  Warnings are errors if Finch.toml's
    GCC_TREAT_WARNINGS_AS_ERRORS says so, else if warnings_as_errors."""
    tree = tree or Tree.find()
    sb = open_source_bundle(source)
    out_dir = out_dir or tree.build_dir / "kexts"
    obj_dir = out_dir / "obj" / sb.bundle_name
    obj_dir.mkdir(parents=True, exist_ok=True)
    includes = [sb.path, *include_dirs]
    strict = sb.settings.warnings_as_errors
    if strict is None:
        strict = warnings_as_errors

    def compile_one(src: Path, obj: Path, what: str) -> None:
        command = compile_command(
            tree, src, obj, includes, settings=sb.settings, warnings_as_errors=strict
        )
        _run(tree, command, what, verbose, echo)

    objects = []
    for src in sb.sources:
        obj = obj_dir / src.relative_to(sb.path).with_suffix(".o")
        obj.parent.mkdir(parents=True, exist_ok=True)
        compile_one(src, obj, f"compiling {src}")
        objects.append(obj)

    explicit = _explicit_kmod_info(objects)
    generated: Path | None = None
    if explicit is not None:
        _check_explicit(sb, *explicit)
    else:
        _check_routines(sb, objects)
        generated = obj_dir / "kmod_info.c"
        generated.write_text(render_kmod_info(sb.info))
        obj = generated.with_suffix(".o")
        compile_one(generated, obj, f"compiling the generated {generated}")
        objects.append(obj)

    bundle_dir = out_dir / f"{sb.bundle_name}.kext"
    if bundle_dir.exists():
        shutil.rmtree(bundle_dir)
    macos = bundle_dir / "Contents" / "MacOS"
    macos.mkdir(parents=True)
    executable = macos / sb.info.executable
    _run(
        tree,
        [LD, "-m", "elf_i386", "-r", "-d", "-o", str(executable), *map(str, objects)],
        f"linking {executable}",
        verbose,
        echo,
    )
    if sb.info_plist is not None:  # made from the Xcode project
        (bundle_dir / "Contents" / "Info.plist").write_bytes(sb.info_plist)
    else:
        shutil.copyfile(sb.info.path, bundle_dir / "Contents" / "Info.plist")
    try:
        plan(executable)
    except LinkError as e:
        raise KextBuildError(f"{executable} cannot be loaded as built:\n{e}") from None
    if not verbose:
        echo(f"  KEXT    {tree.relative(bundle_dir)}")
    return BuiltKext(open_bundle(bundle_dir), tuple(objects), generated)


def build_all_kexts(
    tree: Tree | None = None,
    *,
    kexts_dir: Path | None = None,
    out_dir: Path | None = None,
    verbose: bool = False,
    echo: Echo = print,
) -> list[BuiltKext]:
    """Build every source bundle under kexts/ (each folder with an Info.plist).
    They are Finch's own samples: warnings are errors, as in the kernel,
    unless a folder's Finch.toml says otherwise."""
    tree = tree or Tree.find()
    kexts_dir = kexts_dir or tree.root / "kexts"
    return [
        build_kext(
            p.parent,
            tree=tree,
            out_dir=out_dir,
            warnings_as_errors=True,
            verbose=verbose,
            echo=echo,
        )
        for p in sorted(kexts_dir.glob("*/Info.plist"))
    ]


def _run(tree: Tree, command: list[str], what: str, verbose: bool, echo: Echo) -> None:
    if verbose:
        echo(" ".join(command))
    proc = subprocess.run(command, cwd=tree.root, capture_output=True, text=True)
    output = (proc.stdout + proc.stderr).rstrip()
    if proc.returncode != 0:
        raise KextBuildError(f"{what} failed:\n{output}")
    if output:  # warnings: shown, as Xcode showed them
        echo(output)


def _global_definitions(obj: Path) -> dict[str, tuple[str, int, int, bytes]]:
    """name -> (type, section index, value, section bytes) for each global
    the object defines."""
    try:
        with open(obj, "rb") as f:
            elf = ELFFile(f)
            symtab = elf.get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                return {}
            result = {}
            for sym in symtab.iter_symbols():
                shndx = sym["st_shndx"]
                if sym["st_info"]["bind"] not in ("STB_GLOBAL", "STB_WEAK"):
                    continue
                if not isinstance(shndx, int):
                    continue
                section = elf.get_section(shndx)
                data = b"" if section["sh_type"] == "SHT_NOBITS" else section.data()
                result[sym.name] = (sym["st_info"]["type"], shndx, sym["st_value"], data)
            return result
    except ELFError as e:
        raise KextBuildError(f"{obj}: not an ELF object ({e})") from None


def _explicit_kmod_info(objects: Sequence[Path]) -> tuple[Path, bytes] | None:
    """(object, kmod_info bytes) when a source defines kmod_info itself."""
    for obj in objects:
        found = _global_definitions(obj).get(KMOD_INFO_SYMBOL)
        if found is not None:
            _type, _shndx, value, data = found
            return obj, data[value : value + KMOD_VERSION_OFFSET + KMOD_STRING_SIZE]
    return None


def _check_explicit(sb: SourceBundle, obj: Path, raw: bytes) -> None:
    """A KMOD_EXPLICIT_DECL must name the same kext as Info.plist."""
    name, version = kmod_string(raw, KMOD_NAME_OFFSET), kmod_string(raw, KMOD_VERSION_OFFSET)
    problems = []
    if name != sb.info.identifier:
        problems.append(f"its name is {name!r} but CFBundleIdentifier is {sb.info.identifier!r}")
    if version != str(sb.info.version):
        problems.append(f"its version is {version!r} but CFBundleVersion is {sb.info.version!r}")
    if problems:
        raise KextBuildError(
            f"{obj}: the kext declares its own kmod_info (KMOD_EXPLICIT_DECL), but "
            + "; ".join(problems)
            + f": make them agree with {sb.info.path}"
        )


def _check_routines(sb: SourceBundle, objects: Sequence[Path]) -> None:
    """The start and stop routines Info.plist names must be global functions."""
    defined: dict[str, str] = {}
    for obj in objects:
        defined.update({n: d[0] for n, d in _global_definitions(obj).items()})
    problems = []
    for key, setting, routine, what in (
        ("FinchModuleStart", sb.settings.module_start, sb.info.module_start, "start"),
        ("FinchModuleStop", sb.settings.module_stop, sb.info.module_stop, "stop"),
    ):
        if defined.get(routine) == "STT_FUNC":
            continue
        if setting is not None:
            origin = f"{sb.settings.path}'s MODULE_{what.upper()}"
        elif key in sb.info.raw:
            origin = f"Info.plist's {key}"
        else:
            origin = (
                f"the default for CFBundleExecutable {sb.info.executable!r} "
                f"(set {key} in Info.plist, or MODULE_{what.upper()} in Finch.toml, "
                "to name another)"
            )
        problems.append(
            f"the {what} routine is {routine} ({origin}), but no source defines it as a "
            f"global function: write `kern_return_t {routine}(kmod_info_t *ki, void *data)`, "
            "not static"
        )
    if problems:
        raise KextBuildError(f"{sb.path}: " + "\n".join(problems))
