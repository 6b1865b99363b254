"""Build the Finch kernel: the one place that knows the compiler flags, the
source tree's layout and where the outputs go.

    kernel/**/*.c, *.S  --gcc-->  build/kernel/**/*.o  (in parallel, incremental)
    build/kernel/gen/kmod_components.c (from kernel/exports, when they change)
    build/kernel/gen/version.c (new build id for every link)
    ld -T kernel/i386/kernel.ld  -->  build/kernel/finch.pass1.elf
    its function symbols  -->  build/kernel/gen/ksyms.S (finch.ksyms)
    ld -T kernel/i386/kernel.ld, with ksyms.o  -->  images/finch.elf

The kernel links twice, as Linux does for kallsyms: the first link gives
every function its address, the second adds the table of their names
(kern/ksyms.c reads it) in the .ksyms section, which kernel.ld places
last so that no function moves.  The build checks that none did and
fails if one did.

A source is recompiled when it, or a header its .d file lists, is newer than
its object, or when the flags changed (build/kernel/.flags).  The kernel is
relinked only when an object changed or the ELF is missing, so the build id
changes with every build that links.  Kexts compile with kext_cflags() and
the benchmark floor kernel with build_floor().
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from finch import __version__, ksyms
from finch.elf32 import Elf32Error, read_sections
from finch.errors import BuildError
from finch.exports import kmod_components_source, load_exports
from finch.symbolize import read_build_identity

GCC = "gcc"
LD = "ld"

# Every translation unit, kernel or kext, gets these.
_TARGET_FLAGS: tuple[str, ...] = (
    "-m32",
    "-march=i686",
    "-O2",
    "-g",
    "-ffreestanding",
    "-fno-pic",
    "-fno-pie",
    "-fno-stack-protector",
    "-fno-omit-frame-pointer",
    "-fno-delete-null-pointer-checks",
    "-fno-strict-aliasing",
    "-fno-optimize-sibling-calls",  # tail calls would hide frames from backtraces
    "-mgeneral-regs-only",
    "-mno-red-zone",
    "-nostdinc",
)
_WARNING_FLAGS: tuple[str, ...] = ("-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter")
# What Xcode's kext targets compiled with besides: KERNEL defined (a kext
# shares headers with its user-space tool, which tests it), a global
# defined in a header merged across files (-fcommon: gcc 10 made that a
# link error), __private_extern__ (a keyword of Apple's compiler, so
# headers use it before including anything) meaning a global kept inside
# the kext, and the pragmas only Apple's compiler knew (#pragma mark,
# #pragma unused) ignored rather than warned about.
_KEXT_FLAGS: tuple[str, ...] = (
    "-DKERNEL",
    "-DAPPLE",
    "-DNeXT",
    '-D__private_extern__=__attribute__((__visibility__("hidden")))',
    "-fcommon",
    "-Wno-unknown-pragmas",
)
# Mac OS X 10.4's NKE sources fill struct sflt_filter positionally with
# its eighteen members; later releases appended sf_ext, which such an
# initializer leaves zero -- as C says, and as the KPI wants.  Xcode never
# turned on the warning -Wextra gives for that, and a kext must build
# unmodified, so kexts (Finch's own samples too) go without it.  After
# the warning flags: it overrides -Wextra.
_KEXT_WARNING_EXCEPTIONS: tuple[str, ...] = ("-Wno-missing-field-initializers",)
_C_STANDARD = "-std=gnu11"
_DEPENDENCY_FLAGS: tuple[str, ...] = ("-MMD", "-MP")
_LINK_FLAGS: tuple[str, ...] = ("-m", "elf_i386", "-z", "noexecstack", "-nostdlib")

# Kernel sources live everywhere under kernel/ except in these folders.
_NOT_SOURCES: tuple[str, ...] = ("include", "exports")
_SOURCE_SUFFIXES: tuple[str, ...] = (".c", ".S")

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Tree:
    """Where everything is, relative to the repository root."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Tree:
        """The Finch checkout that contains `start` (default: the current
        directory), else the one this package was installed from."""
        here = (start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if _is_finch_root(candidate):
                return cls(candidate)
        installed = Path(__file__).resolve().parents[2]
        if _is_finch_root(installed):
            return cls(installed)
        raise BuildError(
            f"{here} is not inside a Finch checkout (no kernel/ and tools/finch/ found "
            "in it or above it): run this command from your Finch clone"
        )

    @property
    def kernel_dir(self) -> Path:
        return self.root / "kernel"

    @property
    def include_dir(self) -> Path:
        """The public KPI headers: all that a kext may include."""
        return self.kernel_dir / "include"

    @property
    def linker_script(self) -> Path:
        return self.kernel_dir / "i386" / "kernel.ld"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def object_dir(self) -> Path:
        return self.build_dir / "kernel"

    @property
    def generated_dir(self) -> Path:
        return self.object_dir / "gen"

    @property
    def first_link_elf(self) -> Path:
        """The kernel as linked without its symbol table (see _link)."""
        return self.object_dir / "finch.pass1.elf"

    @property
    def image_dir(self) -> Path:
        return self.root / "images"

    @property
    def kernel_elf(self) -> Path:
        return self.image_dir / "finch.elf"

    @property
    def bench_dir(self) -> Path:
        return self.build_dir / "bench"

    @property
    def floor_elf(self) -> Path:
        return self.bench_dir / "floor.elf"

    @property
    def run_dir(self) -> Path:
        """Where `finch run` keeps machine.json and the console log."""
        return self.build_dir / "run"

    @property
    def test_log_dir(self) -> Path:
        return self.build_dir / "test-logs"

    def relative(self, path: Path) -> str:
        """`path` as the user would type it from the repository root."""
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def _is_finch_root(path: Path) -> bool:
    return (path / "kernel").is_dir() and (path / "tools" / "finch").is_dir()


# --------------------------------------------------------------------------
# Flags


def gcc_include_dir(gcc: str = GCC) -> str:
    """gcc's own freestanding headers (stddef.h, stdarg.h, stdint.h)."""
    try:
        out = subprocess.run(
            [gcc, "-print-file-name=include"], capture_output=True, text=True, check=True
        )
    except FileNotFoundError as e:
        raise BuildError(
            f"{gcc} was not found: Finch compiles with the host's gcc; "
            "install it with `apt-get install gcc gcc-multilib`"
        ) from e
    return out.stdout.strip()


def kernel_cflags(include_dir: str) -> list[str]:
    """Flags for kernel C sources, with paths relative to the repo root
    (the compiler runs there, so DWARF names read kernel/kern/foo.c)."""
    return [
        _C_STANDARD,
        *_TARGET_FLAGS,
        "-isystem",
        include_dir,
        *_WARNING_FLAGS,
        "-I",
        "kernel/include",
        "-I",
        "kernel",
        *_DEPENDENCY_FLAGS,
    ]


def asm_flags(cflags: Sequence[str]) -> list[str]:
    """The same flags for .S files: no C standard, __ASSEMBLY__ defined."""
    return [f for f in cflags if f != _C_STANDARD] + ["-D__ASSEMBLY__"]


def kext_cflags(
    tree: Tree, include_dir: str | None = None, *, warnings_as_errors: bool = True
) -> list[str]:
    """Flags for a kext's C sources: the kernel's, but only the public KPI
    headers on the include path, and Xcode's habits (_KEXT_FLAGS).
    Warnings are errors, as in the kernel, unless warnings_as_errors is
    False (Xcode's default, for sources written elsewhere: then -Wall
    only, about Xcode's -Wmost).  Compile each
    source with `gcc <flags> -c foo.c -o foo.o` to a relocatable object."""
    # Sources written elsewhere get about what Xcode's -Wmost showed:
    # -Wextra would bury the useful warnings of old code under its own.
    lenient = ("-Werror", "-Wextra")
    warnings = [f for f in _WARNING_FLAGS if warnings_as_errors or f not in lenient]
    return [
        _C_STANDARD,
        *_TARGET_FLAGS,
        *_KEXT_FLAGS,
        "-isystem",
        include_dir or gcc_include_dir(),
        *warnings,
        *_KEXT_WARNING_EXCEPTIONS,
        "-I",
        str(tree.include_dir),
    ]


def kext_compile_command(
    tree: Tree, source: Path, output: Path, include_dir: str | None = None
) -> list[str]:
    """The gcc command that compiles one kext source to a relocatable .o."""
    flags = kext_cflags(tree, include_dir)
    if source.suffix == ".S":
        flags = asm_flags(flags)
    return [GCC, *flags, "-c", str(source), "-o", str(output)]


# --------------------------------------------------------------------------
# Sources, objects and staleness


@dataclass(frozen=True)
class Unit:
    """One source file and what it compiles to."""

    source: Path  # relative to the repo root: kernel/kern/panic.c
    object: Path  # relative to the repo root: build/kernel/kern/panic.o

    @property
    def depfile(self) -> Path:
        return self.object.with_suffix(".d")


def kernel_units(tree: Tree) -> list[Unit]:
    """Every kernel source, in a stable order, with its object path."""
    units: list[Unit] = []
    by_object: dict[Path, Path] = {}
    for path in sorted(tree.kernel_dir.rglob("*")):
        if path.suffix not in _SOURCE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(tree.kernel_dir)
        if rel.parts[0] in _NOT_SOURCES:
            continue
        source = Path("kernel") / rel
        obj = Path("build") / "kernel" / rel.with_suffix(".o")
        if obj in by_object:
            raise BuildError(
                f"{by_object[obj]} and {source} would both compile to {obj}: rename one of them"
            )
        by_object[obj] = source
        units.append(Unit(source, obj))
    return units


def read_depfile(depfile: Path) -> list[Path]:
    """The prerequisites of the first rule in a gcc -MMD dependency file."""
    text = depfile.read_text().replace("\\\n", " ")
    first_rule = text.split("\n", 1)[0]
    _, _, prerequisites = first_rule.partition(":")
    return [Path(p) for p in prerequisites.split()]


def is_stale(root: Path, unit: Unit) -> bool:
    """True when the object is missing or older than its source or any
    header it was compiled with (a header that disappeared counts too)."""
    obj = root / unit.object
    dep = root / unit.depfile
    if not obj.exists() or not dep.exists():
        return True
    built = obj.stat().st_mtime_ns
    for prerequisite in [unit.source, *read_depfile(dep)]:
        try:
            if (root / prerequisite).stat().st_mtime_ns > built:
                return True
        except FileNotFoundError:
            return True
    return False


# --------------------------------------------------------------------------
# The build


@dataclass
class BuildResult:
    elf: Path
    compiled: list[Path] = field(default_factory=list)  # sources that were recompiled
    linked: bool = False
    build_id: str | None = None  # set when this build linked


@dataclass(frozen=True)
class _Compiled:
    unit: Unit
    command: list[str]
    returncode: int
    output: str


def build_kernel(
    tree: Tree,
    *,
    verbose: bool = False,
    echo: Echo = print,
    jobs: int | None = None,
) -> BuildResult:
    """Compile what changed, then link images/finch.elf if anything did."""
    units = kernel_units(tree)
    if not units:
        raise BuildError(f"no kernel sources (*.c, *.S) found under {tree.kernel_dir}")
    units += generate_sources(tree)
    if not tree.linker_script.exists():
        raise BuildError(
            f"{tree.relative(tree.linker_script)} is missing: the kernel's linker script "
            "must exist before the kernel can link"
        )
    cflags = kernel_cflags(gcc_include_dir())
    flags_stamp = tree.object_dir / ".flags"
    flags_text = shlex.join([GCC, *cflags]) + "\n"
    flags_changed = not flags_stamp.exists() or flags_stamp.read_text() != flags_text

    stale = [u for u in units if flags_changed or is_stale(tree.root, u)]
    result = BuildResult(elf=tree.kernel_elf)
    if stale:
        _compile_all(tree, stale, cflags, verbose=verbose, echo=echo, jobs=jobs)
        result.compiled = [u.source for u in stale]
    flags_stamp.parent.mkdir(parents=True, exist_ok=True)
    flags_stamp.write_text(flags_text)

    objects = [u.object for u in units]
    if _needs_link(tree, objects):
        result.build_id = _link(tree, objects, cflags, verbose=verbose, echo=echo)
        result.linked = True
        _check_exports(tree)
    else:
        echo(f"{tree.relative(tree.kernel_elf)} is up to date ({len(objects)} objects)")
    return result


def _compile_all(
    tree: Tree,
    units: Sequence[Unit],
    cflags: Sequence[str],
    *,
    verbose: bool,
    echo: Echo,
    jobs: int | None,
) -> None:
    for unit in units:
        (tree.root / unit.object).parent.mkdir(parents=True, exist_ok=True)
    commands = [_compile_command(u, cflags) for u in units]
    failures: list[_Compiled] = []
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        for done in pool.map(
            lambda uc: _run_compile(tree.root, *uc), zip(units, commands, strict=False)
        ):
            echo(shlex.join(done.command) if verbose else f"  CC      {done.unit.source}")
            if done.output:
                echo(done.output.rstrip("\n"))
            if done.returncode != 0:
                failures.append(done)
    if failures:
        names = ", ".join(str(f.unit.source) for f in failures)
        raise BuildError(
            f"compiling {names} failed (gcc's messages are above); "
            "fix the code and run `make build` again"
        )


def _compile_command(unit: Unit, cflags: Sequence[str]) -> list[str]:
    flags = asm_flags(cflags) if unit.source.suffix == ".S" else list(cflags)
    return [GCC, *flags, "-c", str(unit.source), "-o", str(unit.object)]


def _run_compile(root: Path, unit: Unit, command: list[str]) -> _Compiled:
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True)
    return _Compiled(unit, command, proc.returncode, proc.stdout + proc.stderr)


def _needs_link(tree: Tree, objects: Sequence[Path]) -> bool:
    elf = tree.kernel_elf
    stamp = tree.object_dir / ".link"
    listing = "\n".join(str(o) for o in objects) + "\n"
    if not elf.exists() or not stamp.exists() or stamp.read_text() != listing:
        return True
    linked = elf.stat().st_mtime_ns
    inputs = [tree.root / o for o in objects] + [tree.linker_script]
    return any(p.stat().st_mtime_ns > linked for p in inputs)


def version_source(build_id: str, build_date: str, version: str = __version__) -> str:
    """build/kernel/gen/version.c: the definitions behind kern/version.h."""
    return (
        "/* Generated by tools/finch/build.py for every link: do not edit. */\n"
        f'const char finch_version[] = "{version}";\n'
        f'const char finch_build_id[] = "{build_id}";\n'
        f'const char finch_build_date[] = "{build_date}";\n'
    )


def read_build_id(elf: Path) -> str:
    """The build id linked into a kernel ELF (what `version` prints)."""
    build_id = read_build_identity(elf).get("finch_build_id")
    if build_id is None:
        raise BuildError(f"{elf} defines no finch_build_id: it was not linked by `finch build`")
    return build_id


def new_build_id() -> str:
    """16 random lowercase hex digits."""
    return secrets.token_hex(8)


def _link(
    tree: Tree, objects: Sequence[Path], cflags: Sequence[str], *, verbose: bool, echo: Echo
) -> str:
    """Link the kernel twice: without, then with its symbol table.  The
    build id is the same in both."""
    build_id = new_build_id()
    build_date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tree.generated_dir.mkdir(parents=True, exist_ok=True)
    gen_source = tree.generated_dir / "version.c"
    gen_source.write_text(version_source(build_id, build_date))
    gen_unit = _compile_generated(tree, gen_source, cflags, verbose=verbose, echo=echo)

    tree.image_dir.mkdir(parents=True, exist_ok=True)
    inputs = [*objects, gen_unit.object]
    first = Path(tree.relative(tree.first_link_elf))
    _ld(tree, first, inputs, verbose=verbose, echo=echo, note="without symbols")
    functions = ksyms.kernel_functions(tree.first_link_elf.read_bytes())
    table = ksyms.section(functions)
    ksyms_unit = _write_ksyms(tree, table, len(functions), cflags, verbose=verbose, echo=echo)
    echo(f"  KSYMS   {ksyms_unit.source} ({len(functions)} functions, {len(table)} bytes)")

    elf = Path(tree.relative(tree.kernel_elf))
    _ld(
        tree,
        elf,
        [*inputs, ksyms_unit.object],
        verbose=verbose,
        echo=echo,
        note=f"build {build_id}",
    )
    _check_second_link(tree, functions, table)
    (tree.object_dir / ".link").write_text("\n".join(str(o) for o in objects) + "\n")
    return build_id


def _compile_generated(
    tree: Tree, source: Path, cflags: Sequence[str], *, verbose: bool, echo: Echo
) -> Unit:
    """Compile a file the build wrote under build/kernel/gen/."""
    unit = Unit(Path(tree.relative(source)), Path(tree.relative(source.with_suffix(".o"))))
    done = _run_compile(tree.root, unit, _compile_command(unit, cflags))
    if verbose:
        echo(shlex.join(done.command))
    if done.returncode != 0:
        raise BuildError(f"compiling the generated {unit.source} failed:\n{done.output}")
    return unit


def _ld(
    tree: Tree, elf: Path, inputs: Sequence[Path], *, verbose: bool, echo: Echo, note: str
) -> None:
    """ld the objects into `elf` (both relative to the repository root)."""
    command = [
        LD,
        *_LINK_FLAGS[:2],
        "-T",
        str(Path(tree.relative(tree.linker_script))),
        *_LINK_FLAGS[2:],
        "-o",
        str(elf),
        *(str(o) for o in inputs),
    ]
    echo(shlex.join(command) if verbose else f"  LD      {elf} ({note})")
    proc = subprocess.run(command, cwd=tree.root, capture_output=True, text=True)
    if proc.returncode != 0:
        (tree.root / elf).unlink(missing_ok=True)
        raise BuildError(
            f"linking {elf} failed:\n{(proc.stdout + proc.stderr).rstrip()}\n"
            "Fix the undefined or duplicate symbols above and run `make build` again."
        )


def ksyms_source(table: Path, count: int, size: int) -> str:
    """build/kernel/gen/ksyms.S: the table (finch.ksyms) in section .ksyms."""
    return (
        "/* Generated by tools/finch/build.py for every link: do not edit.\n"
        f" * The kernel's {count} function names, {size} bytes (kern/ksyms.h):\n"
        " * kernel.ld places .ksyms last, so that adding it moves no function. */\n"
        '\t.section .ksyms, "a"\n'
        f"\t.balign {ksyms.ALIGNMENT}\n"
        f'\t.incbin "{table}"\n'
    )


def _write_ksyms(
    tree: Tree, table: bytes, count: int, cflags: Sequence[str], *, verbose: bool, echo: Echo
) -> Unit:
    """Write the table and the assembly that holds it; compile that."""
    binary = tree.generated_dir / "ksyms.bin"
    binary.write_bytes(table)
    source = tree.generated_dir / "ksyms.S"
    source.write_text(ksyms_source(Path(tree.relative(binary)), count, len(table)))
    return _compile_generated(tree, source, cflags, verbose=verbose, echo=echo)


def _check_second_link(tree: Tree, functions: Sequence[ksyms.Function], table: bytes) -> None:
    """The table names the functions of the first link: each must be where
    it was, and the table in .ksyms.  Otherwise the ELF goes, loudly."""
    elf = tree.kernel_elf
    data = elf.read_bytes()
    problems = []
    try:
        now = ksyms.kernel_functions(data)
        section = next((s for s in read_sections(data) if s.name == ".ksyms"), None)
    except Elf32Error as e:
        now, section = [], None
        problems.append(f"it cannot be read back ({e})")
    if now != list(functions):
        moved = [
            f"{b.name} {b.address:#010x} -> {a.name} {a.address:#010x}"
            for b, a in zip(functions, now, strict=False)
            if a != b
        ]
        if len(now) != len(functions):
            moved.append(f"{len(functions)} functions in the first, {len(now)} in the second")
        problems.append(
            f"the functions differ between the two links: {', '.join(moved[:3])}"
            + (f" (and {len(moved) - 3} more)" if len(moved) > 3 else "")
        )
    if section is None or data[section.offset : section.offset + section.size] != table:
        problems.append("its .ksyms section does not hold the table generated for it")
    if problems:
        elf.unlink(missing_ok=True)
        raise BuildError(
            f"the kernel's symbol table does not fit {tree.relative(elf)}: "
            + "; ".join(problems)
            + f".  {tree.relative(tree.linker_script)} must place .ksyms after every other "
            "section (before _kernel_end), so that the table's size moves no function"
        )


def generate_sources(tree: Tree) -> list[Unit]:
    """Sources the build writes under build/kernel/gen/ before compiling:
    kmod_components.c, the kernel and its KPI bundles as kextstat lists
    them, from kernel/exports.  A file is rewritten only when its text
    changes, so it recompiles only then.  (version.c is written at link.)"""
    exports_dir = tree.kernel_dir / "exports"
    if not any(exports_dir.glob("*.exports")):
        return []
    source = tree.generated_dir / "kmod_components.c"
    text = kmod_components_source(load_exports(exports_dir))
    if not source.exists() or source.read_text() != text:
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text)
    return [Unit(Path(tree.relative(source)), Path(tree.relative(source.with_suffix(".o"))))]


def _check_exports(tree: Tree) -> None:
    """Every symbol kernel/exports/*.exports lists must be a kernel global
    (see exports.py); otherwise the ELF is removed and the build fails."""
    exports_dir = tree.kernel_dir / "exports"
    if not any(exports_dir.glob("*.exports")):
        return
    exports = load_exports(exports_dir)
    missing = exports.check_missing(tree.kernel_elf)
    if missing:
        message = exports.describe_missing(missing, tree.relative(tree.kernel_elf))
        tree.kernel_elf.unlink(missing_ok=True)
        raise BuildError(f"the kernel does not define every exported KPI symbol:\n{message}")


# --------------------------------------------------------------------------
# The benchmark floor: a Multiboot kernel that exits at once


def floor_source() -> Path:
    """tools/finch/data/floor.S, wherever the package is installed."""
    return Path(str(resources.files("finch") / "data" / "floor.S"))


def build_floor(tree: Tree, *, verbose: bool = False, echo: Echo = print) -> Path:
    """build/bench/floor.elf: the smallest kernel QEMU can boot (it writes
    to isa-debug-exit at once), the floor for boot time."""
    source = floor_source()
    elf = tree.floor_elf
    if elf.exists() and elf.stat().st_mtime_ns >= source.stat().st_mtime_ns:
        return elf
    elf.parent.mkdir(parents=True, exist_ok=True)
    obj = elf.with_suffix(".o")
    commands = [
        [GCC, "-m32", "-ffreestanding", "-nostdinc", "-c", str(source), "-o", str(obj)],
        [LD, "-m", "elf_i386", "-z", "noexecstack", "-nostdlib", "-Ttext=0x100000",
         "-e", "start", "-o", str(elf), str(obj)],
    ]  # fmt: skip
    for command in commands:
        if verbose:
            echo(shlex.join(command))
        try:
            proc = subprocess.run(command, capture_output=True, text=True)
        except FileNotFoundError as e:
            raise BuildError(f"{command[0]} was not found: install gcc and binutils") from e
        if proc.returncode != 0:
            elf.unlink(missing_ok=True)
            raise BuildError(
                f"building {elf} from {source} failed:\n{(proc.stdout + proc.stderr).rstrip()}"
            )
    echo(f"  LD      {tree.relative(elf)}")
    return elf
