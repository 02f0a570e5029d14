# Developer and CI entry points for the multicloud.secgroup collection.
# The repository root is the collection root.  See docs/development.md.
#
#   make test                 the whole gate (what .ci/run does)
#   make sanity [T=pylint] [PY=3.11]
#   make units | integration [TARGET=name] | lint | docs | build | importer | ee | runner | pytest
#   make newest               sanity + units on the newest ansible-core (.venv-newest)
#   make docs-site | docs-check   HTML documentation site, and its headless-Chromium check (not in `make test`)
#   make emulator | demo | bench [BENCH_QUICK=1] | bench-smoke | bench-roles | fuzz (the full argument fuzzer)
#   make secrets-scan         the test credentials' secrets searched in every kept output (tests/output)
#   make live [LIVE_ARGS=--dry-run]   live conformance: the emulator, or real clouds with MULTICLOUD_SECGROUP_LIVE=1 (docs/live.md)
#   make chaos [CHAOS_RUNS=500]   the chaos campaign (docs/reliability.md; not in `make test`)
#   make eda                  the Event-Driven Ansible rulebook against the emulator (.venv-eda: ansible-rulebook)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

REPO := $(CURDIR)
NS := multicloud
NAME := secgroup

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo /root/.pyenv)
# Real interpreters, never the pyenv shims (they exit 127 for non-global versions).
PYTHON311 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.11*/bin/python3.11))),$(shell command -v python3.11))
PYTHON_NEWEST ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.1[23]*/bin/python3.1[23]))),$(shell command -v python3.13 || command -v python3.12))

VENV ?= $(REPO)/.venv
VENV_NEWEST ?= $(REPO)/.venv-newest
# The documentation site's tools (docs/requirements.txt), kept apart from the gate's .venv.
VENV_DOCS ?= $(REPO)/.venv-docs
# The benchmark's plot (matplotlib only), kept apart from the gate's .venv.
VENV_BENCH ?= $(REPO)/.venv-bench
# ansible-rulebook (.ci/requirements-eda.txt) for `make eda`, kept apart from the gate's .venv.
VENV_EDA ?= $(REPO)/.venv-eda
# `make demo` needs only ansible-core, requests and PyYAML (.ci/requirements-demo.txt), on any Python that
# ansible-core 2.19 supports as a controller: 3.11, else 3.12 or 3.13, else python3 (checked when the venv is made).
VENV_DEMO ?= $(REPO)/.venv-demo
PYTHON_DEMO ?= $(or $(PYTHON311),$(PYTHON_NEWEST),$(shell command -v python3))
# galaxy-importer (.ci/requirements-importer.txt) for `make importer`, kept apart from the gate's .venv.
VENV_IMPORTER ?= $(REPO)/.venv-importer
DOCS_OUT ?= $(REPO)/docs/_build
SDK_REQUIREMENTS := $(wildcard tests/requirements-sdk.txt)

# Optional knobs: T= one sanity test, PY= one Python for sanity, TARGET= one integration target.
T ?=
PY ?=
TARGET ?=

# Test runs never go through a proxy: the emulator is on loopback and two
# cloud SDKs mishandle NO_PROXY for 127.0.0.1.
# Every test run's output is kept under tests/output (logs/ for what only went to the terminal), where
# `make secrets-scan` looks for the test credentials.
LOGS := $(REPO)/tests/output/logs

NOPROXY := env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u NO_PROXY -u no_proxy -u ALL_PROXY -u all_proxy

# --- shell snippets shared by the recipes ------------------------------------

# install_pip_shim <venv>: offline stand-in for ansible-test's get-pip download
# (tooling.md 1.4); the pip version is read from the installed ansible-test.
define SH_FUNCTIONS
install_pip_shim() {
  local venv=$$1 reqs pipver cache
  reqs=$$("$$venv/bin/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
  pipver=$$(sed -nE "s/.*pip='([0-9.]+)'.*/\1/p" "$$reqs" | head -n 1)
  [ -n "$$pipver" ] || { echo "cannot find ansible-test's pip version in $$reqs" >&2; return 1; }
  cache=$$HOME/.ansible/test/cache
  mkdir -p "$$cache"
  cp .ci/get_pip_shim.py "$$cache/get_pip_$${pipver//./_}.py"
  [ -f "$$cache/pip-$$pipver-py3-none-any.whl" ] || \
    "$$venv/bin/pip" download -q --disable-pip-version-check --no-deps "pip==$$pipver" -d "$$cache"
}
# stage: copy tracked + untracked non-ignored files into a fresh
# $$WORK/ansible_collections/NS/NAME (ansible-test refuses symlinks), sets COLL.
stage() {
  WORK=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-stage.XXXXXX")
  trap 'rm -rf "$$WORK" "$${PYBIN:-}"' EXIT
  COLL=$$WORK/ansible_collections/$(NS)/$(NAME)
  rm -rf "$$COLL"; mkdir -p "$$COLL"
  git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$$COLL"
}
# symlink_tree: $$TREE/ansible_collections/NS/NAME -> repo (fine for everything but ansible-test).
symlink_tree() {
  TREE=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-tree.XXXXXX")
  trap 'rm -rf "$$TREE"' EXIT
  mkdir -p "$$TREE/ansible_collections/$(NS)"
  ln -s "$(REPO)" "$$TREE/ansible_collections/$(NS)/$(NAME)"
}
# python_dir: real pythonX.Y symlinks for every pyenv 3.x, so ansible-test finds them all.
python_dir() {
  PYBIN=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-pybin.XXXXXX")
  local p v
  for p in "$(PYENV_ROOT)"/versions/3.*/bin/python3.*; do
    case $$p in *-config|*m|*-gdb.py) continue;; esac
    [ -x "$$p" ] || continue
    v=$$(basename "$$p"); [ -e "$$PYBIN/$$v" ] || ln -s "$$p" "$$PYBIN/$$v"
  done
}
# keep_output: copy ansible-test's junit/bot output back for inspection.
keep_output() {
  if [ -d "$$COLL/tests/output" ]; then mkdir -p "$(REPO)/tests/output"; cp -a "$$COLL/tests/output/." "$(REPO)/tests/output/" || true; fi
}
banner() { printf '\n===== %s (%s) =====\n' "$$1" "$$(date +%T)"; }
# integration_run <target or alias group>: ansible-test integration on a staged copy of its own.
integration_run() {
  (
    stage; cd "$$COLL"
    { echo '---'
      echo "multicloud_secgroup_collection_root: $$COLL"
      echo "multicloud_secgroup_emulator_dir: $$COLL/tests/emulator"
      echo "multicloud_secgroup_python: $(VENV)/bin/python"
    } > tests/integration/integration_config.yml
    rc=0; start=$$(date +%s)
    $(NOPROXY) ansible-test integration --local --python 3.11 --color no "$$1" || rc=$$?
    echo "integration $$1: rc=$$rc in $$(( $$(date +%s) - start )) s"
    keep_output; exit $$rc
  )
}
endef
export SH_FUNCTIONS
PRELUDE = eval "$$SH_FUNCTIONS"

.PHONY: help venv venv-newest venvs venv-docs venv-bench sanity units integration lint docs docs-site docs-check build ee runner pytest newest test emulator demo bench bench-smoke bench-roles fuzz clean chaos secrets-scan venv-eda eda venv-demo venv-importer importer live

help:
	@sed -n '2,13p' Makefile | sed 's/^# \{0,1\}//'

# --- virtual environments ----------------------------------------------------

$(VENV)/.installed: .ci/requirements.txt $(SDK_REQUIREMENTS)
	[ -n "$(PYTHON311)" ] || { echo "python3.11 not found (looked in $(PYENV_ROOT)/versions)" >&2; exit 1; }
	[ -x "$(VENV)/bin/python" ] || "$(PYTHON311)" -m venv "$(VENV)"
	"$(VENV)/bin/pip" install -q --disable-pip-version-check -r .ci/requirements.txt $(addprefix -r ,$(SDK_REQUIREMENTS))
	touch "$@"

venv: $(VENV)/.installed
	@$(PRELUDE)
	install_pip_shim "$(VENV)"

$(VENV_NEWEST)/.installed: .ci/requirements-newest.txt $(SDK_REQUIREMENTS)
	[ -n "$(PYTHON_NEWEST)" ] || { echo "python3.13/3.12 not found (looked in $(PYENV_ROOT)/versions)" >&2; exit 1; }
	[ -x "$(VENV_NEWEST)/bin/python" ] || "$(PYTHON_NEWEST)" -m venv "$(VENV_NEWEST)"
	"$(VENV_NEWEST)/bin/pip" install -q --disable-pip-version-check -r .ci/requirements-newest.txt $(addprefix -r ,$(SDK_REQUIREMENTS))
	touch "$@"

venv-newest: $(VENV_NEWEST)/.installed
	@$(PRELUDE)
	install_pip_shim "$(VENV_NEWEST)"

# The venvs at once (pip is mostly waiting on downloads), to shorten a cold `make test`.
venvs:
	@log=$$(mktemp); log2=$$(mktemp); log3=$$(mktemp); rc=0
	$(MAKE) venv-newest > "$$log" 2>&1 & pid=$$!
	$(MAKE) venv-eda > "$$log2" 2>&1 & pid2=$$!
	$(MAKE) venv-importer > "$$log3" 2>&1 & pid3=$$!
	$(MAKE) venv || rc=$$?
	wait $$pid || rc=$$?
	wait $$pid2 || rc=$$?
	wait $$pid3 || rc=$$?
	cat "$$log" "$$log2" "$$log3"; rm -f "$$log" "$$log2" "$$log3"; exit $$rc

# --- ansible-test on a staged copy -------------------------------------------

sanity: venv
	@$(PRELUDE); banner "sanity (ansible-core $$("$(VENV)/bin/python" -c 'import ansible; print(ansible.__version__)'))"
	python_dir
	export PATH="$(VENV)/bin:$$PYBIN:$$PATH"
	stage; cd "$$COLL"; rc=0
	ansible-test sanity --local --color no $(if $(PY),--python $(PY)) $(if $(T),--test $(T)) || rc=$$?
	keep_output; exit $$rc

units: venv
	@$(PRELUDE); banner units
	export PATH="$(VENV)/bin:$$PATH"
	stage; cd "$$COLL"; rc=0; mkdir -p "$(LOGS)"
	$(NOPROXY) ansible-test units --local --python 3.11 --color no 2>&1 | tee "$(LOGS)/units.log" || rc=$$?
	keep_output; exit $$rc

# ansible-test filters the environment, so values for targets go into
# tests/integration/integration_config.yml of the staged copy (passed as -e @...).
integration: venv
	@$(PRELUDE); banner integration
	export PATH="$(VENV)/bin:$$PATH"
	mkdir -p "$(LOGS)"
	if [ -n "$(TARGET)" ]; then rc=0; integration_run "$(TARGET)" 2>&1 | tee "$(LOGS)/integration-$(subst /,_,$(TARGET)).log" || rc=$$?; exit $$rc; fi
	groups=$$(cat tests/integration/targets/*/aliases | sed -n 's|^\(shippable/posix/group[0-9]*\)$$|\1/|p' | sort -u)
	[ -n "$$groups" ] || { echo "integration: no runnable targets in tests/integration/targets yet; nothing to run"; exit 0; }
	# The alias groups run at once, each on its own staged copy and emulator (2 cores: 2 groups).
	# ansible-test makes ~/.ansible/test/id_rsa on first use; two first uses at once collide, so make it here.
	key=$$HOME/.ansible/test/id_rsa; mkdir -p "$$(dirname "$$key")"
	[ -f "$$key" ] && [ -f "$$key.pub" ] || { rm -f "$$key" "$$key.pub"; ssh-keygen -m PEM -q -t rsa -N '' -f "$$key"; }
	logs="$(LOGS)"; pids=(); rc=0
	for g in $$groups; do integration_run "$$g" > "$$logs/integration-$${g//\//_}.log" 2>&1 & pids+=($$!); done
	for pid in "$${pids[@]}"; do wait "$$pid" || rc=$$?; done
	for g in $$groups; do banner "integration $$g"; cat "$$logs/integration-$${g//\//_}.log"; done
	exit $$rc

# --- checks from the repository root -----------------------------------------

lint: venv
	@$(PRELUDE); banner ansible-lint
	export PATH="$(VENV)/bin:$$PATH"
	symlink_tree
	ANSIBLE_COLLECTIONS_PATH="$$TREE" ansible-lint --offline --nocolor

docs: venv
	@$(PRELUDE); banner docs
	export PATH="$(VENV)/bin:$$PATH"
	antsibull-docs lint-collection-docs --plugin-docs .
	symlink_tree; n=0
	for f in plugins/modules/*.py; do
	  [ -f "$$f" ] || continue
	  m=$$(basename "$$f" .py); [ "$$m" != __init__ ] || continue
	  ANSIBLE_COLLECTIONS_PATH="$$TREE" ansible-doc --json -t module "$(NS).$(NAME).$$m" \
	    | python -c 'import json, sys; d = json.load(sys.stdin); assert d and all(v.get("doc") for v in d.values()), "empty ansible-doc output for " + sys.argv[1]' "$$m"
	  n=$$((n + 1))
	done
	echo "ansible-doc: $$n module(s) documented"

build: venv
	@$(PRELUDE); banner "galaxy build"
	OUT=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-build.XXXXXX"); trap 'rm -rf "$$OUT"' EXIT
	export PATH="$(VENV)/bin:$$PATH"
	ansible-galaxy collection build --force --output-path "$$OUT/dist" .
	ansible-galaxy collection install --force -p "$$OUT/installed" "$$OUT"/dist/$(NS)-$(NAME)-*.tar.gz 2>&1 | grep -v 'is not part of the configured Ansible collections paths' || true
	[ -f "$$OUT/installed/ansible_collections/$(NS)/$(NAME)/MANIFEST.json" ] || { echo "build: install failed" >&2; exit 1; }
	ANSIBLE_COLLECTIONS_PATH="$$OUT/installed" ansible-galaxy collection verify --offline "$(NS).$(NAME)"
	# The tarball's content both ways, its Markdown links, its playbooks' syntax once installed (tests/artifact).
	$(NOPROXY) "$(VENV)/bin/python" -m pytest -q tests/artifact

# galaxy-importer, the checks Galaxy runs on an uploaded tarball (metadata, ansible-doc, ansible-lint with the
# production profile, changelog), on a freshly built tarball, without a container engine (.ci/galaxy-importer.cfg).
# Any WARNING, ERROR or CRITICAL line fails the target, as does a missing importer_result.json.
$(VENV_IMPORTER)/.installed: .ci/requirements-importer.txt
	[ -n "$(PYTHON311)" ] || { echo "python3.11 not found (looked in $(PYENV_ROOT)/versions)" >&2; exit 1; }
	[ -x "$(VENV_IMPORTER)/bin/python" ] || "$(PYTHON311)" -m venv "$(VENV_IMPORTER)"
	"$(VENV_IMPORTER)/bin/pip" install -q --disable-pip-version-check -r .ci/requirements-importer.txt
	touch "$@"

venv-importer: $(VENV_IMPORTER)/.installed

importer: venv-importer
	@$(PRELUDE); banner "galaxy-importer $$("$(VENV_IMPORTER)/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))')"
	OUT=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-importer.XXXXXX"); trap 'rm -rf "$$OUT"' EXIT
	export PATH="$(VENV_IMPORTER)/bin:$$PATH"
	ansible-galaxy collection build --output-path "$$OUT" . > /dev/null
	mkdir -p "$(LOGS)"; log="$(LOGS)/importer.log"; rc=0; start=$$(date +%s)
	(cd "$$OUT" && $(NOPROXY) GALAXY_IMPORTER_CONFIG="$(REPO)/.ci/galaxy-importer.cfg" \
	  python -m galaxy_importer.main "$$OUT"/$(NS)-$(NAME)-*.tar.gz) > "$$log" 2>&1 || rc=$$?
	cat "$$log"
	[ -s "$$OUT/importer_result.json" ] || { echo "importer: no importer_result.json" >&2; rc=1; }
	if grep -E '^(WARNING|ERROR|CRITICAL)' "$$log" > /dev/null; then
	  echo "importer: $$(grep -cE '^(WARNING|ERROR|CRITICAL)' "$$log") warning/error line(s) above" >&2; rc=1
	fi
	echo "importer: rc=$$rc in $$(( $$(date +%s) - start )) s"; exit $$rc

# Plain pytest from the repository root (pytest.ini's testpaths) on two workers, without tests/unit: `make units`
# runs those with the same Python and ansible-core (and `make newest` on the newest); `pytest` alone runs everything.
# Exit code 5 (no tests collected) is a failure.
PYTEST_WORKERS ?= 2
pytest: venv
	@$(PRELUDE); banner pytest
	rc=0; mkdir -p "$(LOGS)"; start=$$(date +%s)
	# pytest.ini's testpaths but tests/unit (--ignore does not apply to the paths pytest starts from).
	paths=$$("$(VENV)/bin/python" -c 'import configparser; c = configparser.ConfigParser(); c.read("pytest.ini"); print(" ".join(p for p in c["pytest"]["testpaths"].split() if p != "tests/unit"))')
	$(NOPROXY) "$(VENV)/bin/python" -m pytest -n $(PYTEST_WORKERS) --durations=10 $$paths 2>&1 | tee "$(LOGS)/pytest.log" || rc=$$?
	echo "pytest: rc=$$rc in $$(( $$(date +%s) - start )) s"
	[ $$rc -ne 5 ] || echo "pytest: no tests were collected (exit 5), treated as a failure" >&2
	exit $$rc

# The argument fuzzer at full strength: 1000 argument sets per module (the gate runs 200).
fuzz: venv
	@$(PRELUDE); banner fuzz
	FUZZ_PROFILE=full $(NOPROXY) "$(VENV)/bin/python" -m pytest tests/unit/plugins/modules/test_fuzz_arguments.py --hypothesis-show-statistics -q

# The chaos campaign: CHAOS_RUNS seeded runs per provider (seeds 0..CHAOS_RUNS-1; the gate's pytest runs
# seeds 0..49), every invariant checked; the summary goes to tests/output/chaos/summary.json.
CHAOS_RUNS ?= 500
chaos: venv
	@$(PRELUDE); banner "chaos ($(CHAOS_RUNS) runs per provider)"
	$(NOPROXY) "$(VENV)/bin/python" tests/chaos/chaos.py --provider all --runs $(CHAOS_RUNS) --summary tests/output/chaos/summary.json

# --- AWX / AAP (docs/awx.md) ---------------------------------------------------

# The example execution environment: `ansible-builder create` on it (no container engine needed; the build
# itself needs podman or docker, which CI lacks), then the collection's Python requirements found in the context
# by the builder's own introspection, offline.
ee: venv
	@$(PRELUDE); banner "execution environment (ansible-builder create)"
	export PATH="$(VENV)/bin:$$PATH"
	OUT=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-ee.XXXXXX"); trap 'rm -rf "$$OUT"' EXIT
	start=$$(date +%s%N); mkdir -p "$$OUT/ee"
	ansible-galaxy collection build --force --output-path "$$OUT/ee/dist" . > /dev/null
	mv "$$OUT"/ee/dist/$(NS)-$(NAME)-*.tar.gz "$$OUT/ee/dist/$(NS)-$(NAME).tar.gz"
	cp extensions/awx/execution-environment.yml extensions/awx/requirements.yml "$$OUT/ee/"
	ansible-builder create -f "$$OUT/ee/execution-environment.yml" --context "$$OUT/context" --output-filename Containerfile
	build=$$OUT/context/_build
	for f in "$$OUT/context/Containerfile" "$$build/requirements.yml" "$$build/dist/$(NS)-$(NAME).tar.gz" "$$build/scripts/introspect.py"; do
	  [ -f "$$f" ] || { echo "ee: $${f#$$OUT/} missing from the build context" >&2; exit 1; }
	done
	# What the builder stage would pip-install: the collection as the galaxy stage installs it, then introspect.py.
	(cd "$$build" && ANSIBLE_COLLECTIONS_PATH="$$OUT/installed" ansible-galaxy collection install -r requirements.yml -p "$$OUT/installed" > /dev/null)
	python "$$build/scripts/introspect.py" introspect "$$OUT/installed" | tee "$$OUT/introspect.yml"
	grep -q "requests.*# from collection $(NS).$(NAME)" "$$OUT/introspect.yml" || { echo "ee: requests not among the context's Python requirements" >&2; exit 1; }
	echo "ee: context ok in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"

# The job-template playbooks run the way AWX runs a job (ansible-runner, our credential types' injectors) against
# the emulator; the credential-type play; the audit queries.
runner: venv
	@$(PRELUDE); banner "AWX jobs through ansible-runner"
	rc=0; start=$$(date +%s); mkdir -p "$(LOGS)"
	$(NOPROXY) "$(VENV)/bin/python" -m pytest -q tests/awx 2>&1 | tee "$(LOGS)/runner.log" || rc=$$?
	[ $$rc -ne 5 ] || echo "runner: no tests were collected (exit 5), treated as a failure" >&2
	echo "runner: rc=$$rc in $$(( $$(date +%s) - start )) s"; exit $$rc

# --- Event-Driven Ansible (docs/eda.md; in `make test`: 32-48 s warm) ------------

# ansible-rulebook needs Java 17: Debian's openjdk-17-jre-headless, installed with apt-get when missing.
$(VENV_EDA)/.installed: .ci/requirements-eda.txt
	[ -n "$(PYTHON311)" ] || { echo "python3.11 not found (looked in $(PYENV_ROOT)/versions)" >&2; exit 1; }
	if ! command -v java > /dev/null; then
	  echo "eda: installing Debian's openjdk-17-jre-headless (ansible-rulebook needs Java 17)"
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless > /dev/null
	fi
	[ -x "$(VENV_EDA)/bin/python" ] || "$(PYTHON311)" -m venv "$(VENV_EDA)"
	"$(VENV_EDA)/bin/pip" install -q --disable-pip-version-check -r .ci/requirements-eda.txt
	touch "$@"

venv-eda: $(VENV_EDA)/.installed

# extensions/eda/rulebooks/sg_quarantine.yml run by ansible-rulebook against the emulator (tests/eda): an event
# isolates its instance, a duplicate within the window and a malformed event run nothing. Required: no skip.
eda: venv-eda
	@$(PRELUDE); banner "eda (ansible-rulebook $$("$(VENV_EDA)/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible-rulebook"))'))"
	rc=0; start=$$(date +%s); mkdir -p "$(LOGS)"
	MULTICLOUD_SECGROUP_EDA_REQUIRED=1 $(NOPROXY) "$(VENV_EDA)/bin/python" -m pytest -q -rs tests/eda 2>&1 | tee "$(LOGS)/eda.log" || rc=$$?
	[ $$rc -ne 5 ] || echo "eda: no tests were collected (exit 5), treated as a failure" >&2
	echo "eda: rc=$$rc in $$(( $$(date +%s) - start )) s"; exit $$rc

# --- documentation site (docs/development.md; not part of `make test`) ---------

$(VENV_DOCS)/.installed: docs/requirements.txt
	[ -n "$(PYTHON311)" ] || { echo "python3.11 not found (looked in $(PYENV_ROOT)/versions)" >&2; exit 1; }
	[ -x "$(VENV_DOCS)/bin/python" ] || "$(PYTHON311)" -m venv "$(VENV_DOCS)"
	"$(VENV_DOCS)/bin/pip" install -q --disable-pip-version-check -r docs/requirements.txt
	touch "$@"

venv-docs: $(VENV_DOCS)/.installed

# antsibull-docs sphinx-init + collection, the guides, the changelog, Sphinx with -W, then the offline link check.
docs-site: venv-docs
	@$(PRELUDE); banner "docs site"
	export PATH="$(VENV_DOCS)/bin:$$PATH"
	bash docs/site/build.sh "$(DOCS_OUT)"

# Headless Chromium (Debian's package, installed with apt-get when missing) on the built site.
docs-check: venv-docs
	@$(PRELUDE); banner "docs site in a browser"
	[ -f "$(DOCS_OUT)/html/index.html" ] || $(MAKE) docs-site
	chrome=$$(command -v chromium || true)
	if [ -z "$$chrome" ]; then
	  echo "docs-check: installing Debian's chromium"
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
	  chrome=$$(command -v chromium)
	fi
	$(NOPROXY) "$(VENV_DOCS)/bin/python" docs/site/browser_check.py --chromium "$$chrome" "$(DOCS_OUT)"

# --- newest ansible-core (needs Python >= 3.12) ------------------------------

newest: venv-newest
	@$(PRELUDE)
	export PATH="$(VENV_NEWEST)/bin:$$PATH"
	pyver=$$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	banner "newest: sanity + units on ansible-core $$(python -c 'import ansible; print(ansible.__version__)'), Python $$pyver"
	stage; cd "$$COLL"; rc=0; urc=0
	ansible-test sanity --local --color no --python "$$pyver" $(if $(T),--test $(T)) || rc=$$?
	$(if $(T),,$(NOPROXY) ansible-test units --local --python "$$pyver" --color no || urc=$$?)
	[ $$rc -ne 0 ] || rc=$$urc
	exit $$rc

# --- the gate ----------------------------------------------------------------

# Ends with plain pytest (its "N passed" is the last test line), then the secret scan of every kept output.
test: venvs sanity units integration lint docs build importer ee runner newest bench-smoke eda live pytest secrets-scan
# The gate's live run is the emulator's, even with MULTICLOUD_SECGROUP_LIVE=1 in the environment (prerequisites inherit it).
test: LIVE_ARGS = --emulator

# The live conformance run (tests/live/live.py, docs/live.md): without MULTICLOUD_SECGROUP_LIVE=1 against the emulator
# (all four clouds; in `make test`), with it against the real clouds its variables name. The report goes to
# tests/output/live/report-<time>.json, then the secret scan of that directory. Proxies are kept for real clouds (the
# driver drops them for the emulator). LIVE_ARGS: --dry-run (prints the steps, sends nothing), --clouds a,b, --emulator.
LIVE_ARGS ?=
live: venv
	@$(PRELUDE); banner "live conformance"
	rc=0; start=$$(date +%s); mkdir -p "$(LOGS)"
	"$(VENV)/bin/python" tests/live/live.py $(LIVE_ARGS) 2>&1 | tee "$(LOGS)/live.log" || rc=$$?
	echo "live: rc=$$rc in $$(( $$(date +%s) - start )) s"
	[ $$rc -ne 0 ] || case " $(LIVE_ARGS) " in *" --dry-run "*) ;; *) "$(VENV)/bin/python" scripts/scan_secrets.py --require tests/output/live;; esac
	exit $$rc

# The test credentials' secret values (collected from tests/ and benchmarks/) searched in everything the test runs
# kept: ansible-test output, the logs above, ansible-runner artifacts (tests/output/runner), the ansible-playbook
# runs of tests/secrets and tests/concurrency (tests/output/playbooks), chaos logs (tests/output/chaos).
secrets-scan:
	@$(PRELUDE); banner "secrets scan"
	"$(or $(wildcard $(VENV)/bin/python),python3)" scripts/scan_secrets.py --require tests/output

# --- emulator and demo -------------------------------------------------------

emulator: venv
	$(NOPROXY) "$(VENV)/bin/python" tests/emulator --endpoints-file .emulator-endpoints.json

$(VENV_DEMO)/.installed: .ci/requirements-demo.txt
	[ -n "$(PYTHON_DEMO)" ] || { echo "demo: no python3 found (ansible-core 2.19 needs Python 3.11 to 3.13)" >&2; exit 1; }
	"$(PYTHON_DEMO)" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' || {
	  echo "demo: $(PYTHON_DEMO) is Python $$("$(PYTHON_DEMO)" -c 'import platform; print(platform.python_version())'); ansible-core 2.19 needs 3.11 to 3.13 (set PYTHON_DEMO=/path/to/python3.x)" >&2; exit 1; }
	[ -x "$(VENV_DEMO)/bin/python" ] || "$(PYTHON_DEMO)" -m venv "$(VENV_DEMO)"
	"$(VENV_DEMO)/bin/pip" install -q --disable-pip-version-check -r .ci/requirements-demo.txt
	touch "$@"

venv-demo: $(VENV_DEMO)/.installed

demo: venv-demo
	$(NOPROXY) VENV="$(VENV_DEMO)" bash scripts/demo.sh

# The performance harness (docs/performance.md): every provider against the minimum calls, the bound and
# two SDK baselines, on the emulator with LATENCY_MS of latency and rate limits enforced; writes
# benchmarks/results/<date>.json, then docs/performance.md and docs/performance.png (.venv-bench: matplotlib).
# Not part of `make test` (bench-smoke is). Knobs: BENCH_PROVIDERS=tencentcloud,baiducloud BENCH_SIZES=1,100
# BENCH_TENCENT_EXTRA=10000 BENCH_BASELINE_SIZES=1,10,100 BENCH_BASELINE_BIND_SIZES=1000 BENCH_MEMORY_SIZES=1000
# BENCH_QUICK=1 (N = 1, 10). Task start-up (benchmarks/bench_startup.py): BENCH_STARTUP_MODULES=sg_binding,...
# BENCH_STARTUP_BEFORE=<git ref> (also measured at that commit: the figures before a change; default the commit
# before the start-up work of issue 26).
LATENCY_MS ?= 50
BENCH_PROVIDERS ?=
BENCH_SIZES ?=
BENCH_TENCENT_EXTRA ?=
BENCH_BASELINE_SIZES ?=
BENCH_BASELINE_BIND_SIZES ?=
BENCH_MEMORY_SIZES ?=
BENCH_QUICK ?=
BENCH_STARTUP_MODULES ?=
BENCH_STARTUP_BEFORE ?= 9c2d75e
BENCH_ARGS = --latency-ms $(LATENCY_MS) $(if $(BENCH_QUICK),--quick) $(if $(BENCH_PROVIDERS),--providers $(BENCH_PROVIDERS)) \
  $(if $(BENCH_SIZES),--sizes $(BENCH_SIZES)) $(if $(BENCH_TENCENT_EXTRA),--tencent-extra $(BENCH_TENCENT_EXTRA)) \
  $(if $(BENCH_BASELINE_SIZES),--baseline-sizes $(BENCH_BASELINE_SIZES)) \
  $(if $(BENCH_BASELINE_BIND_SIZES),--baseline-bind-sizes $(BENCH_BASELINE_BIND_SIZES)) \
  $(if $(BENCH_MEMORY_SIZES),--memory-sizes $(BENCH_MEMORY_SIZES)) \
  $(if $(BENCH_STARTUP_MODULES),--startup-modules $(BENCH_STARTUP_MODULES)) $(if $(BENCH_STARTUP_BEFORE),--startup-before $(BENCH_STARTUP_BEFORE))

$(VENV_BENCH)/.installed: benchmarks/requirements.txt
	[ -n "$(PYTHON311)" ] || { echo "python3.11 not found (looked in $(PYENV_ROOT)/versions)" >&2; exit 1; }
	[ -x "$(VENV_BENCH)/bin/python" ] || "$(PYTHON311)" -m venv "$(VENV_BENCH)"
	"$(VENV_BENCH)/bin/pip" install -q --disable-pip-version-check -r benchmarks/requirements.txt
	touch "$@"

venv-bench: $(VENV_BENCH)/.installed

bench: venv venv-bench
	@$(PRELUDE); banner bench
	start=$$(date +%s); out=benchmarks/results/$$(date -u +%F).json
	$(NOPROXY) "$(VENV)/bin/python" benchmarks/bench.py $(BENCH_ARGS) --out "$$out"
	"$(VENV_BENCH)/bin/python" benchmarks/bench_report.py "$$out"
	echo "bench: $$out, docs/performance.md, docs/performance.png in $$(( $$(date +%s) - start )) s"

# The harness once (Tencent Cloud, N = 1, every scenario, both baselines, overhead, task start-up, memory) and the page
# generator without the plot, into a temporary directory: keeps them from rotting. Asserts no time.
bench-smoke: venv
	@$(PRELUDE); banner bench-smoke
	OUT=$$(mktemp -d "$${TMPDIR:-/tmp}/$(NS)-$(NAME)-bench.XXXXXX"); trap 'rm -rf "$$OUT"' EXIT
	start=$$(date +%s)
	$(NOPROXY) "$(VENV)/bin/python" benchmarks/bench.py --smoke --out "$$OUT/smoke.json"
	"$(VENV)/bin/python" benchmarks/bench_report.py "$$OUT/smoke.json" --doc "$$OUT/performance.md" --no-plot
	grep -q '^| 1 | purge |' "$$OUT/performance.md" || { echo "bench-smoke: no result table in the page" >&2; exit 1; }
	grep -q '^| tencentcloud_sg_binding | [0-9]' "$$OUT/performance.md" || { echo "bench-smoke: no task start-up table in the page" >&2; exit 1; }
	echo "bench-smoke: ok in $$(( $$(date +%s) - start )) s"

# The sg_bindings role against a task per host, 200 hosts on two clouds.
bench-roles: venv
	$(NOPROXY) "$(VENV)/bin/python" benchmarks/bench_roles.py --hosts 200 --latency-ms $(LATENCY_MS)

clean:
	rm -rf tests/output dist .ansible .emulator-endpoints.json docs/_build
