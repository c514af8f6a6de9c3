"""Rendered rulesets against the real kernel, inside throwaway namespaces (never the host's).

Each ruleset is checked with `nft -c -f`, loaded with `nft -f`, and `nft list table` must show
what was meant: the sets with their addresses, the helper object, the counters."""
import json
import os

import pytest

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
    check_policy_file)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (
    TABLE_NAME, render_policy)
from render_fixtures import grant, policy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "policies")
OTHER_TABLE = """
table inet site_firewall {
    counter seen_forward {
        packets 42 bytes 4200
    }
    set blocked {
        type ipv4_addr
        elements = { 192.0.2.66 }
    }
    chain forward {
        type filter hook forward priority filter + 10; policy accept;
        ip saddr @blocked counter packets 3 bytes 180 drop
        counter name "seen_forward"
    }
}
"""


def example(name):
    result = check_policy_file(os.path.join(EXAMPLES, name))
    assert result.policy is not None, [f.message for f in result.findings]
    return result.policy


def interfaces(pol):
    names = pol["router"]["lan"]["interfaces"] + pol["router"]["wan"]["interfaces"]
    return [n for n in names if not n.endswith("*")]


def load(ns, text):
    ns.nft("-c", "-f", "-", input=text)
    ns.nft("-f", "-", input=text)


def listing(ns, table="inet " + TABLE_NAME):
    return ns.nft("list", "table", *table.split()).stdout


def json_objects(ns, kind):
    data = json.loads(ns.nft("-j", "list", "table", "inet", TABLE_NAME).stdout)
    return [item[kind] for item in data["nftables"] if kind in item]


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(EXAMPLES) if n.endswith(".yml")))
def test_example_policy_checks_and_loads(netns, name):
    pol = example(name)
    netns.add_links(*interfaces(pol))
    text = render_policy(pol)["nftables.nft"]
    load(netns, text)
    shown = listing(netns)
    for g in pol["grants"]:
        assert "counter grant_%s {" % g["name"] in shown
    loaded = dict((m["name"], len(m.get("elem", []))) for m in json_objects(netns, "map"))
    rendered = {}
    for block in text.split("\n\tmap ")[1:]:
        body = block.split("\n\t}")[0]
        rendered[block.split()[0]] = body.count(' : "grant_')
    assert loaded == rendered
    assert sum(loaded.values()) > 0


def test_branch_office_listing_shows_sets_helper_and_counters(netns):
    pol = example("branch-office.yml")
    netns.add_links("lan0", "wan0")
    load(netns, render_policy(pol)["nftables.nft"])
    shown = listing(netns)
    assert 'ct helper pptp {\n\t\ttype "pptp" protocol tcp\n\t\tl3proto ip\n\t}' in shown
    assert "192.168.77.11 . 198.51.100.10 : \"grant_legacy-pptp\"" in shown
    assert "192.168.77.0/24 . 198.51.100.10 : \"grant_hq-ipsec\"" in shown
    assert "2001:db8:77::/64 . 2001:db8:100::10 : \"grant_hq-ipsec-v6\"" in shown
    assert 'iifname "lan0" tcp dport 1723 ct state new ip saddr . ip daddr @pptp_hosts_v4 ' \
           'ct helper set "pptp"' in shown
    assert 'ct state related ct helper "pptp" accept' in shown
    counters = dict((c["name"], c) for c in json_objects(netns, "counter"))
    assert counters["grant_legacy-pptp"]["comment"] == \
        "legacy-pptp, owner accounting-it@example.com, ticket SEC-311, expires 2027-12-31"
    assert set(counters) == {"grant_hq-ipsec", "grant_hq-ipsec-v6", "grant_legacy-pptp",
                             "denied_passthrough"}


@pytest.mark.parametrize("case", ["ipv6-only", "snat", "nat-none", "servers-any", "limits",
                                  "output-helpers", "overlaps", "wildcard-interfaces"])
def test_feature_policies_load(netns, case):
    v6 = grant("v6", protocols=["ipsec", "l2tp", "pptp"], clients=["2001:db8:77::/64"],
               servers=["2001:db8:100::10/128", "2001:db8:200::/48"], esp=True, ah=True,
               over_ipsec=False)
    v6_lan = {"router.lan.networks": ["2001:db8:77::/64"]}
    pols = {
        "ipv6-only": policy(v6, **v6_lan),
        "snat": policy(grant("a"), **{"router.wan.nat": {
            "mode": "snat", "address": "203.0.113.1"}}),
        "nat-none": policy(grant("a"), **{"router.wan.nat": {"mode": "none", "address": None}}),
        "servers-any": policy(grant("a", protocols=["ipsec", "pptp"], servers="any"),
                              grant("b", clients=["10.0.2.0/24"], servers="any")),
        "limits": policy(*[grant("p%d" % i, protocols=["pptp"], clients=["10.0.%d.0/24" % i],
                                 max_calls=1 + i % 3) for i in range(6)]),
        "output-helpers": policy(grant("p", protocols=["pptp"], ticket="INC#4711"),
                                 **{"router.output_helpers": True}),
        "overlaps": policy(grant("host", clients=["10.0.1.4/32"]),
                           grant("wide", clients=["10.0.0.0/16"],
                                 servers=["198.51.100.0/24"]),
                           grant("mid", clients=["10.0.1.0/24"], servers=["198.51.100.0/28"])),
        "wildcard-interfaces": policy(grant("a"), **{"router.lan.interfaces": ["lan*", "br0"],
                                                     "router.wan.interfaces": ["wan0"]}),
    }
    pol = pols[case]
    netns.add_links(*interfaces(pol))
    load(netns, render_policy(pol)["nftables.nft"])
    assert "table inet %s" % TABLE_NAME in netns.nft("list", "tables").stdout


def test_ipv6_grant_elements_listed(netns):
    pol = policy(grant("v6", clients=["2001:db8:77::/64"], servers=["2001:db8:100::10/128"]),
                 **{"router.lan.networks": ["10.0.0.0/16", "2001:db8:77::/64"]})
    netns.add_links("lan0", "wan0")
    load(netns, render_policy(pol)["nftables.nft"])
    shown = listing(netns)
    assert "2001:db8:77::/64 . 2001:db8:100::10 : \"grant_v6\"" in shown
    assert "ip6 saddr @lan_networks_v6 masquerade" in shown


def test_reload_replaces_own_table_and_leaves_other_table_byte_identical(netns):
    netns.add_links("lan0", "wan0")
    netns.nft("-f", "-", input=OTHER_TABLE)
    other_before = listing(netns, "inet site_firewall")
    assert "packets 42 bytes 4200" in other_before  # a table with state, not just rules

    first = policy(grant("old-grant", protocols=["pptp"]))
    load(netns, render_policy(first)["nftables.nft"])
    assert "counter grant_old-grant" in listing(netns)

    second = policy(grant("new-grant", clients=["10.0.9.0/24"]),
                    **{"router.wan.nat": {"mode": "none", "address": None}})
    load(netns, render_policy(second)["nftables.nft"])
    ours = listing(netns)
    assert "counter grant_new-grant" in ours and "10.0.9.0/24 . 198.51.100.10" in ours
    assert "old-grant" not in ours and "ct helper pptp" not in ours and "postrouting" not in ours

    tables = netns.nft("list", "tables").stdout.splitlines()
    assert sorted(tables) == ["table inet %s" % TABLE_NAME, "table inet site_firewall"]
    assert listing(netns, "inet site_firewall") == other_before


def test_first_load_into_empty_kernel_and_repeated_loads_are_idempotent(netns):
    netns.add_links("lan0", "wan0")
    text = render_policy(example("branch-office.yml"))["nftables.nft"]
    assert netns.nft("list", "tables").stdout == ""
    load(netns, text)
    once = listing(netns)
    load(netns, text)
    assert listing(netns) == once
    assert netns.nft("list", "tables").stdout.count(TABLE_NAME) == 1


def test_nft_check_rejects_a_broken_ruleset(netns):
    """Negative control: the check above is real (a ruleset naming a missing set fails)."""
    netns.add_links("lan0", "wan0")
    text = render_policy(policy(grant("a")))["nftables.nft"]
    broken = text.replace("map @ipsec_pairs_v4", "map @no_such_map")
    proc = netns.nft("-c", "-f", "-", input=broken, check=False)
    assert proc.returncode != 0 and "no_such_map" in proc.stderr


def test_generated_2000_grant_policy_loads_with_every_element(netns):
    """Scale for real (not only nft -c): 2,000 grants / 20,000 addresses, every element in."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "gen_policy", os.path.join(ROOT, "tools", "gen_policy.py"))
    gen_policy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_policy)
    from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
        check_policy_text)
    result = check_policy_text(gen_policy.generate(2000, 20000, seed=7))
    assert result.valid
    netns.add_links("lan0", "wan0")
    text = render_policy(result.policy)["nftables.nft"]
    load(netns, text)
    loaded = sum(len(m.get("elem", [])) for m in json_objects(netns, "map"))
    assert loaded == text.count(' : "grant_') > 30000
    assert len(json_objects(netns, "counter")) == 2000 + 1
