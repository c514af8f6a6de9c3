"""Build small valid policies for the engine's tests and run checks on them."""
import copy
import datetime

import yaml

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
    check_policy_data, check_policy_text)

TODAY = datetime.date(2026, 12, 2)

BASE = {
    "apiVersion": "netpolicy.vpn_passthrough/v1",
    "kind": "PassthroughPolicy",
    "metadata": {"name": "test", "owner": "netops"},
    "router": {
        "lan": {"interfaces": ["lan0"], "networks": ["192.168.1.0/24", "2001:db8:1::/64"]},
        "wan": {"interfaces": ["wan0"], "nat": "masquerade"},
    },
    "grants": [{"name": "ipsec", "protocols": ["ipsec"], "clients": ["192.168.1.0/24"],
                "servers": ["203.0.113.5"]}],
}


def policy(**top):
    """A deep copy of BASE with top-level keys replaced."""
    doc = copy.deepcopy(BASE)
    doc.update(copy.deepcopy(top))
    return doc


def with_grant(**grant):
    """BASE with its single grant updated by the given keys."""
    doc = policy()
    doc["grants"][0].update(copy.deepcopy(grant))
    return doc


def check(doc, strict=False, today=TODAY):
    return check_policy_data(doc, source="test", today=today, strict=strict)


def check_yaml(doc_or_text, **kw):
    text = doc_or_text if isinstance(doc_or_text, (str, bytes)) else yaml.safe_dump(doc_or_text)
    return check_policy_text(text, source="test", today=kw.pop("today", TODAY), **kw)


def ids(result, severity=None):
    return sorted(f.id for f in result.findings if severity in (None, f.severity))


def only(result, rule_id):
    found = [f for f in result.findings if f.id == rule_id]
    assert found, "no %s finding in %r" % (rule_id, result.findings)
    return found
