# Finch's front door.  Every target installs what is missing first
# (tools/bootstrap.sh: Debian packages and the .venv), then asks the
# `finch` command to do the work.
#
#   make run     build the kernel and kexts and boot; COM1 is your terminal
#   make test    lint, build, and run the whole pytest suite
#   make bench   boot times, kextload times and leaks, network echo rates
#                against the NIC's ceiling, and the wall time of `make test`
#   make build   build images/finch.elf and build/kexts/<Name>.kext
#   make lint    ruff check and ruff format --check
#   make clean   remove build/ and images/ (keeps .venv)

BIN := .venv/bin

.PHONY: all run test bench build lint clean distclean bootstrap

all: build

bootstrap:
	@tools/bootstrap.sh

build: bootstrap
	$(BIN)/finch build

run: bootstrap
	$(BIN)/finch run

# Guests spend most of their time waiting on a serial line, so a test
# file per CPU (pytest-xdist; pyproject keeps a file on one worker) halves the
# wall time even on two cores.
test: lint
	$(BIN)/finch build
	$(BIN)/pytest -n auto

bench: bootstrap
	$(BIN)/finch bench

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf build images

distclean: clean
	rm -rf .venv
