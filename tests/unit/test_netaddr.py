"""The fast address parser accepts exactly what the ipaddress module accepts (strict mode)."""
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.netaddr import (
    AddressError, parse_net)

octets = st.sampled_from(["0", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255",
                          "256", "300", "01", "00", "-1", "", "1a"])
prefixes = st.sampled_from(["", "/0", "/1", "/8", "/16", "/24", "/31", "/32", "/33", "/05",
                            "/", "/x", "/000032"])


def reference(text):
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        return None


def ours(text):
    try:
        return parse_net(text).text
    except AddressError:
        return None


@settings(max_examples=2000, deadline=None)
@given(st.lists(octets, min_size=3, max_size=5), prefixes)
def test_ipv4_matches_ipaddress(parts, prefix):
    text = ".".join(parts) + prefix
    assert ours(text) == reference(text)


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses(), st.integers(0, 128))
def test_any_address_with_prefix_matches_ipaddress(addr, plen):
    text = "%s/%d" % (addr, plen)
    assert ours(text) == reference(text)


def test_scope_ids_and_spaces_are_rejected():
    for text in ("fe80::1%eth0", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1\n"):
        assert ours(text) is None


def test_within():
    assert parse_net("10.1.2.0/24").within(parse_net("10.0.0.0/8"))
    assert not parse_net("10.0.0.0/8").within(parse_net("10.1.2.0/24"))
    assert not parse_net("2001:db8::/64").within(parse_net("10.0.0.0/8"))
