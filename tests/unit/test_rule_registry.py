"""Every rule has a unique stable ID, a test, and an entry in docs/rules.md."""
import os
import re

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.rules import (
    ALL_RULES, RULES)

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")


def test_ids_are_unique_and_well_formed():
    assert len(RULES) == len(ALL_RULES)
    for rule in ALL_RULES:
        assert re.match(r"NP[0-9]{3}$", rule.id)
        assert rule.severity in ("error", "warning")
        assert rule.title and rule.rationale


def test_every_checked_rule_has_a_test():
    tests = ""
    for name in os.listdir(os.path.join(HERE, "rules")):
        with open(os.path.join(HERE, "rules", name)) as handle:
            tests += name + handle.read()
    missing = [r.id for r in ALL_RULES if r.check and r.id.lower() not in tests.lower()
               and r.id not in tests]
    assert not missing


def test_generated_docs_are_current():
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import gen_docs
    for name, text in (("rules.md", gen_docs.rules_markdown()),
                       ("policy-reference.md", gen_docs.policy_reference_markdown())):
        with open(os.path.join(ROOT, "docs", name)) as handle:
            assert handle.read() == text, "docs/%s is stale: run make docs" % name
