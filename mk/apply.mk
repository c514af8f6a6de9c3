# Apply/status area: its tests on their own (they also run in `make pytest`).
.PHONY: test-apply

test-apply: setup
	$(PY) -m pytest -q tests/unit/test_apply_*.py tests/unit/test_status_*.py \
		tests/integration/test_apply_*.py tests/integration/test_status_*.py
