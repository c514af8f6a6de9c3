"""The router's guard and listing normalisation (plugins/module_utils/nft_table.py), as data."""
import pytest

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    REPLACE_PREFIX, RulesetRejected, guard_ruleset, normalise_listing, replace_transaction)

T = "inet netpolicy_vpn_passthrough"

ACCEPTED = [
    "table %s {\n\tchain c {\n\t}\n}\n" % T,
    "table %s\ndelete table %s\ntable %s {\n}\n" % (T, T, T),
    "# comment with flush ruleset and table ip x\ntable %s {\n}\n" % T,
    "define lan = { 10.0.0.0/8 }\ntable %s {\n}\n" % T,
    "add rule %s forward counter\n" % T,
    "flush table %s\n" % T,
    "flush chain %s forward\n" % T,
    "add ct helper %s pptp { type \"pptp\" protocol tcp; }\n" % T,
    "table %s {\n\tcomment \"table ip other { }\"\n}\n" % T,
]

REJECTED = [
    ("", "empty"),
    ("flush ruleset\n", "flush ruleset"),
    ("include \"/etc/nftables.conf\"\n", "include"),
    ("table inet other {\n}\n", "inet other"),
    ("table netpolicy_vpn_passthrough {\n}\n", "ip netpolicy_vpn_passthrough"),
    ("table %s {\n}\ndelete table ip nat\n" % T, "ip nat"),
    ("add rule ip filter forward drop\n", "does not address"),
    ("add ct helper ip filter h { type \"pptp\" protocol tcp; }\n", "does not address"),
    ("list ruleset\n", "unexpected top-level statement"),
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_guard_accepts_statements_on_our_table_only(text):
    guard_ruleset(text)


@pytest.mark.parametrize("text, reason", REJECTED)
def test_guard_rejects_anything_else(text, reason):
    with pytest.raises(RulesetRejected) as err:
        guard_ruleset(text)
    assert reason in str(err.value)


def test_replace_transaction_declares_then_deletes_then_defines():
    text = replace_transaction("table %s {\n}\n\n" % T)
    assert text.startswith(REPLACE_PREFIX) and text.endswith("{\n}\n")


NORMALISE = [
    ("counters are zeroed",
     "\t\tudp dport 500 counter packets 12 bytes 3400 accept\n",
     "\t\tudp dport 500 counter packets 0 bytes 0 accept\n"),
    ("named counter objects are zeroed",
     "\tcounter grant_a {\n\t\tpackets 9 bytes 81\n\t}\n",
     "\tcounter grant_a {\n\t\tpackets 0 bytes 0\n\t}\n"),
    ("quota usage is dropped",
     "\t\tquota over 10 mbytes used 5 kbytes drop\n",
     "\t\tquota over 10 mbytes drop\n"),
    ("elements of dynamic sets are dropped (one line)",
     "\tset calls {\n\t\ttype ipv4_addr\n\t\tflags dynamic\n\t\telements = { 10.0.0.1 ct count over 2 }\n\t}\n",
     "\tset calls {\n\t\ttype ipv4_addr\n\t\tflags dynamic\n\t}\n"),
    ("elements of dynamic sets are dropped (several lines)",
     "\tset calls {\n\t\tflags dynamic\n\t\telements = { 10.0.0.1,\n\t\t\t10.0.0.2 }\n\t}\n\tset s {\n"
     "\t\telements = { 1.1.1.1 }\n\t}\n",
     "\tset calls {\n\t\tflags dynamic\n\t}\n\tset s {\n\t\telements = { 1.1.1.1 }\n\t}\n"),
    ("elements of static sets stay",
     "\tset s {\n\t\tflags interval\n\t\telements = { 10.0.0.0/8 }\n\t}\n",
     "\tset s {\n\t\tflags interval\n\t\telements = { 10.0.0.0/8 }\n\t}\n"),
    ("timers are dropped",
     "\t\telements = { 10.0.0.1 expires 3m2s }\n",
     "\t\telements = { 10.0.0.1 }\n"),
    ("trailing blank lines are dropped", "table x {\n}\n\n\n", "table x {\n}\n"),
]


@pytest.mark.parametrize("what, live, expected", NORMALISE, ids=[c[0] for c in NORMALISE])
def test_normalise_listing(what, live, expected):
    assert normalise_listing(live) == expected, what


def test_normalise_absent_table_is_none():
    assert normalise_listing(None) is None
