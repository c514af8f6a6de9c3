# Set-up and entry points. `make lab` runs the main job on the embedded default,
# `make test` runs every test. Both install what they need and are safe to re-run.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
PY := $(abspath $(VENV))/bin/python
BIN := $(abspath $(VENV))/bin
POLICY ?= examples/policies/branch-office.yml
COLL_LINK := build/collections/ansible_collections/netpolicy/vpn_passthrough
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
export PATH := $(BIN):$(PATH)

.PHONY: setup lab check render test unit integration lint sanity build clean docs bench-validate

setup: build/.apt.stamp $(VENV)/.stamp $(COLL_LINK)

build/.apt.stamp: $(wildcard requirements/apt-*.txt) tools/install-apt.sh
	@mkdir -p build
	tools/install-apt.sh $(wildcard requirements/apt-*.txt)
	@touch $@

$(VENV)/.stamp: requirements.txt build/.apt.stamp
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

# ansible-playbook finds the collection (FQCNs) through ansible.cfg's collections_path.
$(COLL_LINK):
	@mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

check: setup
	ansible-playbook playbooks/check.yml -e policy_file=$(abspath $(POLICY)) -e report_dir=$(abspath build/check)

render: setup
	ansible-playbook playbooks/render.yml -e policy_file=$(abspath $(POLICY)) -e output_dir=$(abspath build/render)

# Area makefiles (mk/*.mk) add targets and extend these lists; each area owns its own file.
TEST_TARGETS := pytest lint sanity
LAB_TARGETS := check render
-include mk/*.mk

lab: $(LAB_TARGETS)

unit: setup
	$(PY) -m pytest -q tests/unit

integration: setup
	$(PY) -m pytest -q tests/integration

lint: setup
	$(BIN)/ansible-lint

sanity: setup
	tools/ansible-test-sanity.sh

build: setup
	@mkdir -p build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist .

pytest: setup
	$(PY) -m pytest -q tests/unit tests/integration

test: setup
	$(MAKE) -k --no-print-directory $(TEST_TARGETS)

# Regenerate docs/rules.md and docs/policy-reference.md from the rules and the schema.
docs: setup
	$(PY) tools/gen_docs.py

# Validation time and memory at 10 / 1,000 / 10,000 grants; writes benchmarks/validate/results.*
bench-validate: setup
	$(PY) benchmarks/validate/run.py

clean:
	rm -rf build $(VENV)
