"""Kext source written for Mac OS X 10.4 builds against Finch unchanged:
Darwin's headers and include chains, Xcode's compiler habits (pragmas it
ignored, globals defined in headers), Xcode's build settings (Finch.toml),
Info.plists as Xcode left them, the older com.apple.kernel.* ids, and
`finch kextbuild` for a kext folder anywhere on disk.

The Tiger-style kexts in tests/guest/data/tigerkexts are built here with
the command a user types; tests/guest/test_tiger_kexts.py loads them.
"""

from __future__ import annotations

import plistlib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from finch.build import Tree
from finch.cli import main as finch_main
from finch.exports import load_exports
from finch.kext.build import KextBuildError, build_kext
from finch.kext.bundle import open_bundle, open_source_bundle
from finch.kext.dependencies import namespace_for, resolve_load_order
from finch.kext.settings import SettingsError
from finch.kext.xcodeproj import XcodeProjectError, parse_openstep, read_project
from finch.link import LinkError, link_kext
from finch.plist import PlistError

REPO = Path(__file__).resolve().parents[2]
TREE = Tree(REPO)
TIGER_KEXTS = REPO / "tests" / "guest" / "data" / "tigerkexts"
LOAD = 0xC000_0000

# What Tiger NKE sources include, Darwin's private headers among them
# (Finch's hold only the KPI they stood beside).
TIGER_HEADERS = """
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/param.h>
#include <sys/types.h>
#include <sys/mbuf.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/syslog.h>
#include <sys/proc.h>
#include <sys/kauth.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <sys/kpi_socket.h>
#include <sys/kern_control.h>
#include <sys/kern_event.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/debug.h>
#include <kern/assert.h>
#include <kern/thread.h>
#include <kern/thread_call.h>
#include <mach/vm_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>
#include <libkern/OSMalloc.h>
#include <libkern/OSAtomic.h>
#include <libkern/OSByteOrder.h>
#include <libkern/OSTypes.h>
#include <netinet/in.h>
#include <netinet/in_systm.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <netinet/ip_icmp.h>
#include <netinet/if_ether.h>
#include <netinet6/in6.h>
#include <net/if.h>
#include <net/if_types.h>
#include <net/ethernet.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <net/kpi_protocol.h>
#include <limits.h>
#include <string.h>
#include <sys/kpi_socketfilter.h>
#include <netinet/kpi_ipfilter.h>
#include <netinet/tcp.h>
#include <sys/malloc.h>
#include <IOKit/IOLib.h>
#include <libkern/OSByteOrder.h>
#include <sys/socketvar.h>
#include <sys/protosw.h>
#include <sys/domain.h>
#include <net/if_var.h>
#include <netinet/ip_var.h>
#include <netinet/in_pcb.h>
#include <netinet/tcp_var.h>
#include <mach/boolean.h>
#include <mach/vm_param.h>
#include <sys/uio.h>
"""

# Functions a Tiger NKE calls, each in the KPI bundle a Tiger kext would
# have declared for it.
TIGER_CALLS = {
    "com.apple.kpi.bsd": [
        "proc_selfpid",
        "proc_selfppid",
        "proc_selfname",
        "proc_name",
        "proc_self",
        "proc_find",
        "proc_rele",
        "proc_pid",
        "proc_ppid",
        "proc_suser",
        "proc_ucred",
        "proc_is64bit",
        "proc_exiting",
        "current_proc",
        "kauth_getuid",
        "kauth_getgid",
        "kauth_cred_get",
        "kauth_cred_getuid",
        "kauth_cred_proc_ref",
        "kauth_cred_unref",
        "kauth_cred_rele",
        "microtime",
        "nanotime",
        "microuptime",
        "nanouptime",
        "timevaladd",
        "timevalsub",
        "bsd_timeout",
        "bsd_untimeout",
        "timeout",
        "untimeout",
        "msleep",
        "wakeup",
        "ctl_register",
        "ctl_enqueuedata",
        "iflt_attach",
        "sock_socket",
        "mbuf_gethdr",
    ],
    "com.apple.kpi.libkern": [
        "printf",
        "snprintf",
        "strlcpy",
        "strlcat",
        "strncpy",
        "bcopy",
        "bzero",
        "inet_ntop",
        "Assert",
        "OSMalloc_Tagalloc",
        "OSMalloc",
        "OSFree",
        "OSIncrementAtomic",
        "OSAddAtomic",
        "OSCompareAndSwap",
        "OSBitOrAtomic",
        "lck_grp_attr_alloc_init",
        "lck_grp_alloc_init",
        "lck_mtx_alloc_init",
        "lck_rw_alloc_init",
        "lck_mtx_lock",
    ],
    "com.apple.kpi.mach": [
        "clock_get_uptime",
        "clock_get_system_microtime",
        "clock_get_calendar_microtime",
        "absolutetime_to_nanoseconds",
        "nanoseconds_to_absolutetime",
        "clock_interval_to_deadline",
        "clock_interval_to_absolutetime_interval",
        "thread_call_allocate",
        "kernel_thread_start",
        "mach_absolute_time",
    ],
    "com.apple.kpi.unsupported": ["log", "panic", "kauth_cred_issuser"],
    "com.apple.kpi.iokit": ["IOLog", "IOSleep", "IODelay", "IOMalloc", "IOFree"],
}


def plist(identifier: str = "com.example.tigerish", **extra: Any) -> bytes:
    info = {
        "CFBundleExecutable": identifier.rsplit(".", 1)[-1],
        "CFBundleIdentifier": identifier,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundlePackageType": "KEXT",
        "CFBundleVersion": "1.0.0d1",
        "OSBundleLibraries": {"com.apple.kpi.libkern": "8.0.0"},
    }
    info.update(extra)
    return plistlib.dumps({k: v for k, v in info.items() if v is not None})


def kext_folder(tmp_path: Path, files: dict[str, str], **info: Any) -> Path:
    folder = tmp_path / "MyProject"
    folder.mkdir()
    (folder / "Info.plist").write_bytes(plist(**info))
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


START_STOP = """
#include <mach/mach_types.h>
kern_return_t tigerish_start(kmod_info_t *ki, void *d) { return KERN_SUCCESS; }
kern_return_t tigerish_stop(kmod_info_t *ki, void *d) { return KERN_SUCCESS; }
"""


def fake_kernel_symbols() -> dict[str, int]:
    """An address for every exported symbol, as a kernel would give them."""
    return {s: 0x10_0000 + 16 * i for i, s in enumerate(sorted(load_exports().all_symbols()))}


def link(bundle_path: Path) -> None:
    """Link a built bundle as kextload would, against fake kernel addresses."""
    bundle = open_bundle(bundle_path)
    kpis = load_exports()
    resolve_load_order(bundle, kpis=kpis, warn=lambda _: None)
    ns = namespace_for(bundle.info, kpis=kpis, kernel_symbols=fake_kernel_symbols())
    link_kext(bundle.executable, LOAD, ns, bundle_id=bundle.identifier)


# -- the Tiger-style kexts, built as a user would -------------------------


@pytest.mark.parametrize("name", ["enetlog", "oldstyle", "tcplog", "ipfilter"])
def test_a_tiger_kext_folder_builds_with_one_command_and_links(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / name
    shutil.copytree(TIGER_KEXTS / name, folder)  # a folder outside the checkout

    assert finch_main(["kextbuild", str(folder), "-o", str(tmp_path / "out")]) == 0

    bundle = tmp_path / "out" / f"{name}.kext"
    assert f"built {bundle}" in capsys.readouterr().out
    link(bundle)


def test_the_user_space_tool_beside_the_kext_is_left_out(tmp_path: Path) -> None:
    built = build_kext(TIGER_KEXTS / "enetlog", tree=TREE, out_dir=tmp_path, echo=print)

    compiled = sorted(o.name for o in built.objects)
    assert compiled == ["enetlog.o", "enetlog_filter.o", "kmod_info.o"]  # not enetlogctl.o


def test_module_start_and_stop_name_the_routines_as_in_xcode(tmp_path: Path) -> None:
    built = build_kext(TIGER_KEXTS / "enetlog", tree=TREE, out_dir=tmp_path, echo=print)

    assert built.kmod_info_source is not None
    generated = built.kmod_info_source.read_text()
    assert ".start = com_example_tiger_enetlog_start," in generated
    assert ".stop = com_example_tiger_enetlog_stop," in generated


def test_every_tiger_header_compiles_with_warnings_as_errors(tmp_path: Path) -> None:
    source = TIGER_HEADERS + START_STOP.replace("#include <mach/mach_types.h>", "")
    folder = kext_folder(
        tmp_path, {"tigerish.c": source, "Finch.toml": "GCC_TREAT_WARNINGS_AS_ERRORS = true\n"}
    )

    build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)


@pytest.mark.parametrize(("bundle", "symbols"), list(TIGER_CALLS.items()))
def test_the_functions_tiger_nkes_call_are_exported_where_tiger_had_them(
    bundle: str, symbols: list[str]
) -> None:
    exports = load_exports()

    assert {s: exports.bundle_for(s) for s in symbols} == dict.fromkeys(symbols, bundle)


def test_mach_types_brings_kmod_info_and_sys_param_the_everyday_macros(tmp_path: Path) -> None:
    source = """
#include <mach/mach_types.h>
#include <sys/param.h>
static kmod_info_t *me;
static char path[MAXPATHLEN];
int tigerish_size(void) { return MIN(sizeof(path), PAGE_SIZE) + howmany(10, NBBY); }
kern_return_t tigerish_start(kmod_info_t *ki, void *d) { me = ki; return KERN_SUCCESS; }
kern_return_t tigerish_stop(kmod_info_t *ki, void *d) { return me == ki ? 0 : 5; }
"""
    folder = kext_folder(
        tmp_path, {"tigerish.c": source, "Finch.toml": "GCC_TREAT_WARNINGS_AS_ERRORS = true\n"}
    )

    build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)


# -- Xcode's compiler habits ----------------------------------------------


def test_apple_pragmas_and_globals_defined_in_a_header_build(tmp_path: Path) -> None:
    header = "__private_extern__ int gShared;\n"
    files = {
        "shared.h": header,
        "a.c": '#include "shared.h"\n#pragma mark -\nint bump(int n) {\n'
        "#pragma unused(n)\n\treturn ++gShared; }\n" + START_STOP,
        "b.c": '#include <sys/cdefs.h>\n#include "shared.h"\nint peek(void) { return gShared; }\n',
        "Finch.toml": "GCC_TREAT_WARNINGS_AS_ERRORS = true\n",
    }
    folder = kext_folder(tmp_path, files)

    built = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)

    link(built.bundle.path)


def test_kernel_is_defined_for_headers_shared_with_a_tool(tmp_path: Path) -> None:
    source = "#ifndef KERNEL\n#error built as user space\n#endif\n" + START_STOP
    folder = kext_folder(tmp_path, {"tigerish.c": source})

    build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)


def test_warnings_are_shown_not_fatal_unless_the_settings_say_so(tmp_path: Path) -> None:
    source = START_STOP + "int f(void) { int unused_here; return 0; }\n"
    folder = kext_folder(tmp_path, {"tigerish.c": source})
    lines: list[str] = []

    build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=lines.append)

    assert any("unused_here" in line and "warning" in line for line in lines)
    (folder / "Finch.toml").write_text("GCC_TREAT_WARNINGS_AS_ERRORS = true\n")
    with pytest.raises(KextBuildError, match="unused_here"):
        build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)


# -- Finch.toml -------------------------------------------------------------


def test_excluded_sources_and_header_search_paths_come_from_the_settings(tmp_path: Path) -> None:
    files = {
        "tigerish.c": '#include "common.h"\n' + START_STOP,
        "shared/common.h": "#define COMMON 1\n",
        "tool/main.c": "#include <stdio.h>\nint main(void) { return 0; }\n",
        "cli.c": "#include <unistd.h>\n",
        "Finch.toml": 'EXCLUDED_SOURCE_FILE_NAMES = ["tool/*", "cli.c"]\n'
        'HEADER_SEARCH_PATHS = ["shared"]\n',
    }
    folder = kext_folder(tmp_path, files)

    assert [p.name for p in open_source_bundle(folder).sources] == ["tigerish.c"]
    build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)


def test_xcodes_own_output_in_the_folder_is_not_taken_for_sources(tmp_path: Path) -> None:
    derived = "build/tigerish.build/DerivedSources/tigerish_info.c"
    files = {"tigerish.c": START_STOP, derived: "int kmod_info;\n", "x.xcodeproj/a.c": "x"}
    folder = kext_folder(tmp_path, files)

    assert [p.name for p in open_source_bundle(folder).sources] == ["tigerish.c"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("MODULE_STRAT = 'x'\n", "MODULE_STRAT: not a setting Finch knows"),
        ("MODULE_START = 'my-start'\n", "MODULE_START: 'my-start' is not a C identifier"),
        ("HEADER_SEARCH_PATHS = ['nowhere']\n", "'nowhere' is not a folder"),
        ("OTHER_CFLAGS = 3\n", "OTHER_CFLAGS: expected a list of strings"),
        ("GCC_TREAT_WARNINGS_AS_ERRORS = 'YES'\n", "expected true or false"),
        ("MODULE_START = \n", "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_naming_the_file_and_the_key(
    tmp_path: Path, settings: str, expected: str
) -> None:
    folder = kext_folder(tmp_path, {"tigerish.c": START_STOP, "Finch.toml": settings})

    with pytest.raises(SettingsError) as excinfo:
        open_source_bundle(folder)

    assert str(excinfo.value).startswith(str(folder / "Finch.toml"))
    assert expected in str(excinfo.value)


def test_module_name_must_agree_with_the_info_plist(tmp_path: Path) -> None:
    settings = 'MODULE_NAME = "com.example.other"\n'
    folder = kext_folder(tmp_path, {"tigerish.c": START_STOP, "Finch.toml": settings})

    with pytest.raises(PlistError, match=re.escape("MODULE_NAME is 'com.example.other'")):
        open_source_bundle(folder)


# -- Info.plists as Xcode left them ----------------------------------------


def test_an_xcode_info_plist_without_a_name_asking_for_newer_kpis_loads_with_a_warning(
    tmp_path: Path,
) -> None:
    libraries = {"com.apple.kpi.bsd": "9.0", "com.apple.kpi.libkern": "13.0"}
    folder = kext_folder(
        tmp_path, {"tigerish.c": START_STOP}, CFBundleName=None, OSBundleLibraries=libraries
    )
    bundle = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print).bundle
    warnings: list[str] = []

    resolve_load_order(bundle, kpis=load_exports(), warn=warnings.append)

    assert bundle.info.name == "tigerish"
    assert [w.split(",")[0] for w in warnings] == [
        "com.example.tigerish asks for com.apple.kpi.bsd 9.0",
        "com.example.tigerish asks for com.apple.kpi.libkern 13.0",
    ]


def test_the_older_kernel_ids_link_against_the_kpi(tmp_path: Path) -> None:
    source = (
        "#include <sys/systm.h>\n#include <sys/proc.h>\n"
        'void go(void) { log(LOG_INFO, "pid %d", proc_selfpid()); timeout(0, 0, 1); }\n'
        + START_STOP
    )
    libraries = {"com.apple.kernel.bsd": "6.0", "com.apple.kernel.libkern": "1.1"}
    folder = kext_folder(tmp_path, {"tigerish.c": source}, OSBundleLibraries=libraries)

    built = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)

    link(built.bundle.path)


def test_an_iokit_function_finch_lacks_is_refused_when_linking_by_name(tmp_path: Path) -> None:
    source = (
        "#include <IOKit/IOLib.h>\nextern void *IOLockAlloc(void);\n"
        'void hi(void) { IOLog("hi"); IOLockAlloc(); }\n'
    )
    libraries = {"com.apple.kpi.iokit": "8.0.0", "com.apple.kpi.libkern": "8.0.0"}
    folder = kext_folder(tmp_path, {"tigerish.c": source + START_STOP}, OSBundleLibraries=libraries)
    built = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)

    with pytest.raises(LinkError) as excinfo:
        link(built.bundle.path)

    message = str(excinfo.value)
    assert "undefined symbol IOLockAlloc: an IOKit function, and Finch has no IOKit" in message
    assert "Call lck_mtx_alloc_init instead" in message
    assert "undefined symbol IOLog" not in message  # IOLog itself links


# -- Xcode projects -----------------------------------------------------------


def test_an_old_style_property_list_reads_with_comments_quotes_and_lists() -> None:
    text = """// !$*UTF8*$!
{
	a = 1; /* a comment */
	"b c" = "say \\"hi\\"\\n";
	list = ( x, "y z", );
	nested = { isa = PBXGroup; children = ( ); };
	"$(VAR)-name" = <0a0b>;
}"""

    assert parse_openstep(text) == {
        "a": "1",
        "b c": 'say "hi"\n',
        "list": ["x", "y z"],
        "nested": {"isa": "PBXGroup", "children": []},
        "$(VAR)-name": b"\x0a\x0b",
    }


def test_a_broken_project_file_is_refused_with_its_line() -> None:
    with pytest.raises(XcodeProjectError, match=r"project.pbxproj:3: expected '='"):
        parse_openstep("{\n a = 1;\n b ;\n}", "project.pbxproj")


def test_the_xcode_project_says_which_sources_settings_and_info_plist(tmp_path: Path) -> None:
    kext = read_project(TIGER_KEXTS / "tcplog" / "tcplog.xcodeproj")

    assert kext.target == "KEXT"
    assert [p.name for p in kext.sources] == ["tcplognke.c"]  # not the tool's tcplogctl.c
    assert kext.settings["MODULE_START"] == "com_example_tiger_tcplog_start"
    assert kext.words("GCC_PREPROCESSOR_DEFINITIONS") == [
        "MODULE_START=com_example_tiger_tcplog_start",
        "MODULE_STOP=com_example_tiger_tcplog_stop",
    ]


def test_a_kext_folder_with_an_xcode_project_builds_as_xcode_built_it(tmp_path: Path) -> None:
    built = build_kext(TIGER_KEXTS / "tcplog", tree=TREE, out_dir=tmp_path, echo=print)

    assert sorted(o.name for o in built.objects) == ["kmod_info.o", "tcplognke.o"]
    info = plistlib.loads((built.bundle.path / "Contents" / "Info.plist").read_bytes())
    # Preprocessed (KEXT_BUNDLE_ID, KEXT_VERSION) and expanded (${EXECUTABLE_NAME}).
    assert (info["CFBundleIdentifier"], info["CFBundleVersion"]) == (
        "com.example.tiger.tcplog",
        "1.3",
    )
    assert info["CFBundleExecutable"] == "tcplog"
    assert built.kmod_info_source is not None
    assert ".start = com_example_tiger_tcplog_start," in built.kmod_info_source.read_text()


def test_a_project_without_a_kext_target_says_to_write_finch_toml(tmp_path: Path) -> None:
    folder = kext_folder(tmp_path, {"tigerish.c": START_STOP})
    (folder / "app.xcodeproj").mkdir()
    (folder / "app.xcodeproj" / "project.pbxproj").write_text(
        "{ objects = { P = { isa = PBXProject; targets = ( T ); }; "
        "T = { isa = PBXNativeTarget; name = App; "
        'productType = "com.apple.product-type.tool"; }; }; '
        "rootObject = P; }"
    )

    with pytest.raises(XcodeProjectError, match="no target builds a kernel extension"):
        open_source_bundle(folder)


def test_a_legacy_target_carries_its_info_plist_in_the_project(tmp_path: Path) -> None:
    xml = plist(CFBundleExecutable="legacy", CFBundleIdentifier="com.example.legacy").decode()
    escaped = xml.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    folder = kext_folder(tmp_path, {"legacy.c": START_STOP.replace("tigerish", "legacy")})
    (folder / "Info.plist").unlink()
    (folder / "Legacy.pbproj").mkdir()
    (folder / "Legacy.pbproj" / "project.pbxproj").write_text(
        "{ objects = { P = { isa = PBXProject; targets = ( T ); }; "
        f'T = {{ isa = PBXBundleTarget; name = Legacy; productSettingsXML = "{escaped}"; '
        "buildSettings = { WRAPPER_EXTENSION = kext; PRODUCT_NAME = legacy; }; }; }; "
        "rootObject = P; }"
    )

    built = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)

    assert built.bundle.identifier == "com.example.legacy"


def test_a_project_missing_its_info_plist_uses_the_one_xcode_built(tmp_path: Path) -> None:
    folder = tmp_path / "tcplog"
    shutil.copytree(TIGER_KEXTS / "tcplog", folder)
    built_first = build_kext(folder, tree=TREE, out_dir=tmp_path / "first", echo=print)
    (folder / "Info.plist").unlink()  # as in projects shipped with their build/ only
    shipped = folder / "build" / "Development" / "tcplog.kext" / "Contents"
    shipped.mkdir(parents=True)
    shutil.copyfile(built_first.bundle.path / "Contents" / "Info.plist", shipped / "Info.plist")

    built = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)

    assert (built.bundle.identifier, str(built.bundle.version)) == (
        "com.example.tiger.tcplog",
        "1.3",
    )


def test_an_info_plist_of_xcode_variables_is_filled_in_from_the_settings(tmp_path: Path) -> None:
    folder = kext_folder(
        tmp_path,
        {"tigerish.c": START_STOP, "Finch.toml": 'PRODUCT_NAME = "tigerish"\n'},
        CFBundleExecutable="${EXECUTABLE_NAME}",
        CFBundleIdentifier="com.example.${PRODUCT_NAME:rfc1034identifier}",
    )

    built = build_kext(folder, tree=TREE, out_dir=tmp_path / "out", echo=print)

    assert (built.bundle.identifier, built.bundle.info.executable) == (
        "com.example.tigerish",
        "tigerish",
    )
