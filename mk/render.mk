# Renderer area: golden files and the on-demand render benchmark (not part of `make test`).
.PHONY: golden bench-render

# Regenerate tests/golden/ from examples/policies/ after a deliberate template change.
golden: setup
	$(PY) tools/regen-golden.py

# Render + nft -c timings and the Aerleon comparison; writes benchmarks/render/results.{json,md}.
bench-render: setup
	$(PY) benchmarks/render/run.py
