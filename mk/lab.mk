# The Molecule lab (issue 5, docs/lab.md): `make lab` runs the full scenario with the bundled lab
# policy and prints the client x protocol matrix; `make test` runs it too.
LAB_TARGETS := lab-run
TEST_TARGETS += lab-unit lab-test
# Project-local podman settings (runtime runc, ulimits): /etc is never touched.
export CONTAINERS_CONF := $(abspath tools/lab/containers.conf)

.PHONY: lab-run lab-test lab-unit lab-image lab-destroy

# The lab's own helpers without containers: PPP stand-in framing and echo, report shape.
lab-unit: setup
	$(PY) -m pytest -q tools/lab/tests

# Runs destroy -> create -> prepare -> check -> converge -> idempotence -> verify -> destroy
# (destroy also runs when a step fails), then prints the matrix from build/lab/report.json.
lab-run: setup
	@rm -rf build/lab; start=$$(date +%s); rc=0; \
	$(BIN)/molecule test --scenario-name default || rc=$$?; \
	echo; $(PY) tools/lab/report.py --out-dir build/lab || { [ $$rc -ne 0 ] || rc=1; }; \
	echo "lab wall time: $$(( $$(date +%s) - start )) s"; exit $$rc

lab-test: lab-run

lab-image: setup
	tools/lab/build-image.sh

lab-destroy: setup
	$(BIN)/molecule destroy --scenario-name default
