"""Random and mutated documents never crash the validator: every outcome is a result with
findings, never an exception."""
import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
    check_policy_data, check_policy_text)
from policy_factory import BASE, TODAY

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.dates(),
                    st.sampled_from(["any", "masquerade", "10.0.0.1", "2001:db8::/64", "ipsec",
                                     "pptp", "NP101", "2027-01-01", "a;b", "x\ny"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def assert_result(result):
    assert isinstance(result.valid, bool)
    for finding in result.findings:
        assert finding.id.startswith("NP") and finding.message
    result.to_dict()


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    assert_result(check_policy_text(data, today=TODAY))


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text):
    assert_result(check_policy_text(text, today=TODAY))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


ALL_PATHS = [p for p in _paths(BASE) if p]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), values,
                          st.sampled_from(["replace", "delete", "add"])), max_size=4))
def test_mutated_valid_documents(mutations):
    doc = copy.deepcopy(BASE)
    for path, value, how in mutations:
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if how == "replace":
                parent[path[-1]] = value
            elif how == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent["extra"] = value
            else:
                parent.append(value)
        except (KeyError, IndexError, TypeError, AttributeError):  # path gone: skip it
            continue
    assert_result(check_policy_data(doc, today=TODAY))
    # And the same document through the YAML path, when it can be dumped.
    try:
        text = yaml.safe_dump(doc)
    except yaml.YAMLError:
        return
    assert_result(check_policy_text(text, today=TODAY))
