"""Bad input of every kind gets one clear NP001 finding, never a traceback or a hang."""
import pytest

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils import policy_source
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
    check_policy_file, check_policy_text)

BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    + ["a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)) for i in range(1, 9)])


@pytest.mark.parametrize("data, message", [
    ("", "the document is empty"),
    ("   \n# only a comment\n", "the document is empty"),
    (b"\x00\x01\x02binary", "binary data"),
    (b"\xff\xfe\xfa", "not UTF-8"),
    ("a: [1, 2", "not valid YAML"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: 1\n---\nb: 2\n", "expected one YAML document, found several"),
    ("!!python/object/apply:os.system ['true']", "unsupported YAML tag"),
    ("a: !!python/name:os.system x", "unsupported YAML tag"),
    ("<<: {a: 1}", "merge keys"),
    ("? [a, b]\n: 1\n", "mapping keys must be plain strings"),
    (BOMB, "alias bomb"),
    ("[" * 200 + "]" * 200, "nested more than"),
    ("[" * 5000 + "]" * 5000, "not valid YAML"),
    ("- " * 100 + "x", "nested more than"),
    ("a: *nothing", "unknown or unfinished anchor"),
])
def test_unreadable_input_is_one_clear_finding(data, message):
    result = check_policy_text(data)
    assert not result.valid
    assert [f.id for f in result.findings] == ["NP001"]
    assert message in result.findings[0].message


@pytest.mark.parametrize("doc, kind", [
    ("just a string", "a string"), ("- a\n- b\n", "a list"), ("42", "an integer"),
    ("true", "a boolean"),
])
def test_wrong_top_level_type(doc, kind):
    result = check_policy_text(doc)
    assert [f.id for f in result.findings] == ["NP002"]
    assert "must be a mapping" in result.findings[0].message and kind in result.findings[0].message


def test_size_limit_is_enforced_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(policy_source, "MAX_BYTES", 1000)
    path = tmp_path / "huge.yml"
    path.write_text("a: " + "x" * 5000)
    result = check_policy_file(str(path))
    assert [f.id for f in result.findings] == ["NP001"]
    assert "limit is" in result.findings[0].message


def test_missing_file_is_a_finding_not_a_traceback(tmp_path):
    result = check_policy_file(str(tmp_path / "nope.yml"))
    assert [f.id for f in result.findings] == ["NP001"]
    assert "cannot read policy file" in result.findings[0].message


def test_lines_point_at_keys_and_items():
    text = "a:\n  b:\n    - x\n    - y\nc: [1, 2]\n"
    data, lines = policy_source.load_policy_text(text)
    assert data == {"a": {"b": ["x", "y"]}, "c": [1, 2]}
    assert lines.line(("a", "b")) == 2
    assert lines.line(("a", "b", 1)) == 4
    assert lines.line(("a", "b", 1, "deeper")) == 4
    assert lines.line(("c",)) == 5
    assert lines.line(("c", 1)) == 5
    assert lines.line(("nope",)) == 1


def test_yaml_11_scalars_resolve_like_pyyaml():
    import yaml
    text = ("a: yes\nb: 'yes'\nc: 0x1f\nd: 2027-01-31\ne: 2027-13-01\nf: ~\ng: 1.5\n"
            "h: 10.0.0.1\ni: 2001:db8::1\nj: 1:20\n")
    data, dummy = policy_source.load_policy_text(text)
    expected = yaml.safe_load(text.replace("e: 2027-13-01\n", ""))
    expected["e"] = "2027-13-01"  # not a date: kept as text for the schema to report
    assert data == expected


def test_aliases_within_budget_are_expanded():
    data, dummy = policy_source.load_policy_text("a: &n [10.0.0.1]\nb: *n\n")
    assert data == {"a": ["10.0.0.1"], "b": ["10.0.0.1"]}
