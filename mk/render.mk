# Renderer area: golden files and the on-demand render benchmarks (not part of `make test`).
.PHONY: golden bench-render

# Regenerate tests/golden/ (and the example in docs/rendering.md) after a template change.
golden: setup
	$(PY) tools/regen-golden.py

# Render time/memory/rules/nft -c with Aerleon side by side (results.{json,md}), then new
# flows per second through a namespace router (flows.{json,md}). Needs root; ~15 minutes.
bench-render: setup
	$(PY) benchmarks/render/run.py
	$(PY) benchmarks/render/flows.py
