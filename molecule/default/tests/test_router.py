"""The lab router's state after the role applied examples/policies/lab.yml (pytest-testinfra).

Run by verify.yml with the fast podman backend: pytest molecule/default/tests
--hosts=podman://np-lab-router. Expected values come from the lab policy itself, so a change
to the policy changes what is checked. status.json is the status module's report, written by
verify.yml after the final re-apply.
"""
import json
import os

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TABLE = "inet netpolicy_vpn_passthrough"
LAB_OUT = os.environ.get("LAB_OUT", os.path.join(ROOT, "build", "lab"))

with open(os.path.join(ROOT, "examples", "policies", "lab.yml"), encoding="utf-8") as _fh:
    POLICY = yaml.safe_load(_fh)


@pytest.fixture(scope="module")
def table(host):
    return host.check_output("nft list table %s" % TABLE)


def test_exactly_one_table_owned_by_the_collection(host):
    tables = host.check_output("nft list tables").splitlines()
    assert tables.count("table %s" % TABLE) == 1


def test_pptp_helper_object_defined(table):
    assert "ct helper pptp {" in table
    assert 'type "pptp" protocol tcp' in table


def test_pptp_helper_assigned_in_prerouting_only_for_lan_control(table):
    chain = table.split("chain prerouting {", 1)[1].split("}", 1)[0]
    lan = POLICY["router"]["lan"]["interfaces"][0]
    assert 'iifname "%s" tcp dport 1723' % lan in chain
    assert 'ct helper set "pptp"' in chain


def test_related_gre_accepted_only_through_the_helper(table):
    assert 'ct state related ct helper "pptp" accept' in table
    assert "meta l4proto gre accept" not in table


def test_nat_t_accepted_and_no_leftover_drop_from_the_negative_controls(table):
    assert "udp dport { 500, 4500 }" in table
    forward = table.split("chain forward {", 1)[1].split("}", 1)[0]
    assert "4500" not in forward


def test_masquerade_on_the_wan(table):
    wan = POLICY["router"]["wan"]["interfaces"][0]
    assert "masquerade" in table
    assert 'oifname "%s"' % wan in table


@pytest.mark.parametrize("grant", [g["name"] for g in POLICY["grants"]])
def test_counter_per_grant(table, grant):
    assert "counter grant_%s {" % grant in table


def test_denied_counter_and_rate_limited_log(table):
    assert "counter denied_passthrough" in table
    assert "limit rate %s" % POLICY["logging"]["rate"] in table
    assert 'log prefix "%s ' % POLICY["logging"]["prefix"] in table


@pytest.mark.parametrize("key,value", [
    ("net.ipv4.ip_forward", 1),
    ("net.netfilter.nf_conntrack_gre_timeout", POLICY["conntrack"]["gre_timeout"]),
    ("net.netfilter.nf_conntrack_gre_timeout_stream", POLICY["conntrack"]["gre_timeout_stream"]),
])
def test_sysctl_values(host, key, value):
    assert host.sysctl(key) == value


def test_no_automatic_helper_assignment(host):
    # Removed in Linux 6.0; the role must never try to bring it back.
    assert not host.file("/proc/sys/net/netfilter/nf_conntrack_helper").exists


def test_status_in_sync_after_reapply():
    with open(os.path.join(LAB_OUT, "status.json"), encoding="utf-8") as handle:
        status = json.load(handle)
    assert status.get("in_sync") is True, status.get("summary") or status
    assert status["table"]["present"] is True
    assert status["conflicts"] == []
    assert status["helpers"].get("pptp") is True
