"""Schema (NP002): every error at once, exact paths, lines, readable messages, no injection."""
import pytest

from policy_factory import BASE, check, check_yaml, policy, with_grant


def schema_findings(result):
    return dict((f.path, f.message) for f in result.findings if f.id == "NP002")


def test_base_policy_is_valid():
    assert check(policy()).valid


def test_all_errors_reported_at_once_with_paths_and_lines():
    text = """apiVersion: netpolicy.vpn_passthrough/v1
kind: PassthroughPolicy
metadata: {name: ok, owner: me}
router:
  lan: {interfaces: [lan0], networks: [10.0.0.0/8]}
  wan: {interfaces: [wan0], nat: masquerade}
grants:
  - name: a
    protocols: [ipsec]
    clients: [10.0.0.1]
    servers: [203.0.113.300]
  - name: b
    protocol: [ipsec]
    clients: [10.0.0.2]
    servers: [203.0.113.1]
"""
    result = check_yaml(text)
    found = dict((f.path, (f.line, f.message)) for f in result.findings)
    assert found["grants[0].servers[0]"] == (
        11, "'203.0.113.300' is not an IPv4/IPv6 address or network")
    assert found["grants[1].protocol"][0] == 13
    assert "did you mean 'protocols'?" in found["grants[1].protocol"][1]
    assert found["grants[1].protocols"] == (12, "required field is missing")
    assert len(result.findings) == 3


@pytest.mark.parametrize("doc, path, message", [
    (policy(apiVersion="v2"), "apiVersion", "is not one of"),
    (policy(kind="Policy"), "kind", "is not one of: PassthroughPolicy"),
    (policy(metadata={"name": "x"}), "metadata.owner", "required field is missing"),
    (policy(metadata={"name": "UPPER", "owner": "x"}), "metadata.name", "lowercase letters"),
    (policy(metadata={"name": "a" * 64, "owner": "x"}), "metadata.name", "at most 63"),
    (policy(metadata={"name": "x", "owner": "x", "tickets": "T-1"}), "metadata.tickets",
     "did you mean 'ticket'?"),
    (policy(grants="none"), "grants", "must be a list, not a string"),
    (policy(grants=[5]), "grants[0]", "must be a mapping, not an integer"),
    (with_grant(protocols=["ipsec", "gre"]), "grants[0].protocols[1]", "'gre' is not one of"),
    (with_grant(protocols=[]), "grants[0].protocols", "at least 1 item"),
    (with_grant(clients=["10.0.0.0/33"]), "grants[0].clients[0]", "is not an IPv4/IPv6"),
    (with_grant(clients=["192.168.1.1/24"]), "grants[0].clients[0]",
     "host bits set; the network is '192.168.1.0/24'"),
    (with_grant(clients=[17]), "grants[0].clients[0]", "as a string, not an integer"),
    (with_grant(clients=["fe80::1%eth0"]), "grants[0].clients[0]", "is not an IPv4/IPv6"),
    (with_grant(clients=["010.0.0.1"]), "grants[0].clients[0]", "is not an IPv4/IPv6"),
    (with_grant(servers="all"), "grants[0].servers", "the word 'any'"),
    (with_grant(expires="31.12.2027"), "grants[0].expires", "YYYY-MM-DD"),
    (with_grant(ipsec={"nat_traversal": "sometimes"}), "grants[0].ipsec.nat_traversal",
     "is not one of: required, allowed"),
    (with_grant(ipsec={"esp": "yes please"}), "grants[0].ipsec.esp", "true or false"),
    (with_grant(pptp={"max_calls_per_client": 0}), "grants[0].pptp.max_calls_per_client",
     "below the minimum 1"),
    (with_grant(pptp={"max_calls_per_client": True}), "grants[0].pptp.max_calls_per_client",
     "must be an integer, not a boolean"),
    (policy(router={"lan": BASE["router"]["lan"], "wan": {"interfaces": ["wan0"],
                                                          "nat": "masq"}}),
     "router.wan.nat", "did you mean 'masquerade'?"),
    (policy(router={"lan": BASE["router"]["lan"], "wan": {"interfaces": ["wan0"],
                                                          "nat": {"snat": "198.51.100.0/24"}}}),
     "router.wan.nat.snat", "must be a single address"),
    (policy(router={"lan": BASE["router"]["lan"], "wan": {"interfaces": ["wan0"],
                                                          "nat": {"dnat": "1.2.3.4"}}}),
     "router.wan.nat", "only 'snat'"),
    (policy(conntrack={"max": 10}), "conntrack.max", "below the minimum 1024"),
    (policy(logging={"rate": "fast"}), "logging.rate", "10/minute"),
    (policy(waivers=[{"rule": "NP101", "grant": "ipsec", "reason": "short"}]),
     "waivers[0].expires", "required field is missing"),
    (policy(waivers=[{"rule": "NP101", "grant": "ipsec", "reason": "short",
                      "expires": "2027-01-01"}]), "waivers[0].reason", "at least 10"),
])
def test_schema_errors_name_the_field(doc, path, message):
    found = schema_findings(check(doc))
    assert path in found, found
    assert message in found[path]


INJECTIONS = ['a"b', "a'b", "a;b", "a\nb", "a{b", "a}b", "a$b", "a#b", "a\\b", "a`b", "name\n"]


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("where", [
    ("metadata", "name"), ("metadata", "owner"), ("metadata", "ticket"),
    ("metadata", "description"), ("grants", 0, "name"), ("grants", 0, "owner"),
    ("grants", 0, "ticket"), ("grants", 0, "description"), ("router", "lan", "interfaces", 0),
    ("router", "wan", "interfaces", 0), ("logging", "prefix"),
])
def test_values_that_could_inject_nft_syntax_are_rejected(where, bad):
    doc = policy(logging={"denied": True})
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = bad
    result = check(doc)
    path = ".".join(str(p) for p in where).replace(".0", "[0]")
    assert not result.valid
    assert path in schema_findings(result), result.findings


def test_normalised_policy_fills_defaults_and_canonicalises():
    doc = with_grant(clients=["192.168.1.10", "192.168.1.10", "2001:DB8:1::5"],
                     expires="2027-01-31")
    doc["router"]["wan"]["nat"] = {"snat": "198.51.100.7"}
    norm = check(doc).policy
    grant = norm["grants"][0]
    assert grant["clients"] == ["192.168.1.10/32", "2001:db8:1::5/128"]
    assert grant["ipsec"] == {"nat_traversal": "required", "esp": False, "ah": False}
    assert grant["l2tp"] == {"over_ipsec": True}
    assert grant["pptp"] == {"max_calls_per_client": None}
    assert grant["owner"] == "netops" and grant["expires"] == "2027-01-31"
    assert norm["router"]["wan"]["nat"] == {"mode": "snat", "address": "198.51.100.7"}
    assert norm["router"]["output_helpers"] is False
    assert norm["logging"] == {"denied": False, "rate": "10/minute", "prefix": "vpn-denied"}
    assert norm["conntrack"] == {"max": None, "gre_timeout": None, "gre_timeout_stream": None}
    assert norm["waivers"] == []


def test_yaml_dates_and_strings_normalise_alike():
    import datetime
    text = check_yaml(with_grant(expires="2027-02-01")).policy["grants"][0]["expires"]
    native = check(with_grant(expires=datetime.date(2027, 2, 1))).policy["grants"][0]["expires"]
    assert text == native == "2027-02-01"
