# Probes area: scale figures of the protocol probes (not part of `make test`; the probe
# integration tests run in `make pytest`). Writes benchmarks/probes/results.{json,md}.
.PHONY: bench-probes

bench-probes: setup
	$(PY) benchmarks/probes/run.py
