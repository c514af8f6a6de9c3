"""Golden files: every example policy renders exactly as committed under tests/golden/.

On a deliberate template change run `make golden` and review `git diff tests/golden`."""
import difflib
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("regen_golden",
                                               os.path.join(ROOT, "tools", "regen-golden.py"))
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)


@pytest.mark.parametrize("name", regen.example_policies())
def test_example_renders_as_golden(name):
    stem = os.path.splitext(name)[0]
    for filename, text in sorted(regen.rendered(name).items()):
        path = os.path.join(regen.GOLDEN, stem, filename)
        assert os.path.exists(path), "missing %s: run `make golden`" % os.path.relpath(path, ROOT)
        with open(path) as handle:
            golden = handle.read()
        if text != golden:
            diff = "".join(difflib.unified_diff(
                golden.splitlines(True), text.splitlines(True),
                "tests/golden/%s/%s" % (stem, filename), "rendered now", n=2))
            pytest.fail("rendered output differs from the golden file; if intended, run "
                        "`make golden` (tools/regen-golden.py) and review the diff:\n" + diff)


def test_docs_embed_the_current_example_output():
    with open(regen.DOCS) as handle:
        docs = handle.read()
    expected = regen.docs_with_example(docs, regen.DOCS_EXAMPLE,
                                       regen.rendered(regen.DOCS_EXAMPLE + ".yml"))
    assert docs == expected, "docs/rendering.md is out of date: run `make golden`"


def test_no_stale_golden_directories():
    stems = set(os.path.splitext(n)[0] for n in regen.example_policies())
    assert sorted(set(os.listdir(regen.GOLDEN)) - stems) == []


def test_golden_test_can_fail(tmp_path, monkeypatch):
    """The comparison above is live: a one-byte change is caught."""
    name = regen.example_policies()[0]
    stem = os.path.splitext(name)[0]
    fake = tmp_path / stem
    fake.mkdir()
    for filename, text in regen.rendered(name).items():
        (fake / filename).write_text(text + ("#" if filename == "nftables.nft" else ""))
    monkeypatch.setattr(regen, "GOLDEN", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="make golden"):
        test_example_renders_as_golden(name)
