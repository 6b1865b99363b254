#!/usr/bin/env bash
# Installs what Finch needs on a Debian machine, and nothing twice:
#   1. Debian packages: QEMU, gcc's 32-bit support, Python's venv module;
#   2. a virtual environment .venv holding the `finch` package and the
#      test tools, reinstalled whenever pyproject.toml changes.
# Every make target runs this first.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --- 1. Debian packages -------------------------------------------------
missing=()
command -v qemu-system-i386 >/dev/null || missing+=(qemu-system-x86)

echo 'int finch_probe(void) { return 0; }' >"$scratch/probe.c"
if ! gcc -m32 -ffreestanding -c "$scratch/probe.c" -o "$scratch/probe.o" 2>/dev/null; then
	missing+=(gcc-multilib)
fi

if [ ! -x .venv/bin/python ] && ! "$python" -m venv "$scratch/venv" >/dev/null 2>&1; then
	missing+=(python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "Finch needs these Debian packages: ${missing[*]}" >&2
		echo "Install them, then run make again:" >&2
		echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "bootstrap: installing ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# --- 2. The virtual environment -----------------------------------------
stamp=.venv/.finch-installed
if [ ! -x .venv/bin/python ]; then
	echo "bootstrap: creating .venv"
	"$python" -m venv .venv
	rm -f "$stamp"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
	echo "bootstrap: installing the finch package into .venv"
	.venv/bin/python -m pip install --quiet --upgrade pip
	.venv/bin/python -m pip install --quiet -e '.[test]'
	touch "$stamp"
fi
