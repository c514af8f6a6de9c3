"""Disjoint set/map elements: nftables rejects overlapping concatenated intervals, so the
renderer must cover exactly the granted pairs with disjoint elements, first grant winning."""
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render_sets import (
    element, resolve_1d, resolve_pairs, union)

CLIENT_SPACE = ipaddress.ip_network("10.0.0.0/28")
SERVER_SPACE = ipaddress.ip_network("192.0.2.0/29")


def subnets(space):
    return [str(n) for plen in range(space.prefixlen, space.max_prefixlen + 1)
            for n in space.subnets(new_prefix=plen)]


def owner(points_pairs, c, s):
    for client, server, value in points_pairs:
        if c in ipaddress.ip_network(client) and s in ipaddress.ip_network(server):
            return value
    return None


def covering(elements, c, s):
    return [v for client, server, v in elements
            if c in ipaddress.ip_network(client) and s in ipaddress.ip_network(server)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(subnets(CLIENT_SPACE)),
                          st.sampled_from(subnets(SERVER_SPACE)),
                          st.sampled_from(["a", "b", "c"])), min_size=1, max_size=8))
def test_pairs_become_disjoint_and_cover_exactly_with_first_winner(pairs):
    out = resolve_pairs(pairs)
    for c in CLIENT_SPACE:
        for s in SERVER_SPACE:
            found = covering(out, c, s)
            expected = owner(pairs, c, s)
            assert found == ([] if expected is None else [expected]), (str(c), str(s), out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(subnets(CLIENT_SPACE)), st.sampled_from("ab")),
                min_size=1, max_size=8))
def test_one_dimension_disjoint_first_winner(items):
    out = resolve_1d(items)
    for c in CLIENT_SPACE:
        found = [v for n, v in out if c in ipaddress.ip_network(n)]
        expected = next((v for n, v in items if c in ipaddress.ip_network(n)), None)
        assert found == ([] if expected is None else [expected])


def test_without_overlap_elements_stay_as_written_first_duplicate_wins():
    pairs = [("10.0.1.0/24", "198.51.100.10/32", "x"), ("10.0.0.5/32", "198.51.100.10/32", "y"),
             ("10.0.1.0/24", "198.51.100.11/32", "y"), ("10.0.1.0/24", "198.51.100.10/32", "z")]
    assert resolve_pairs(pairs) == pairs[:3]


def test_families_never_overlap():
    pairs = [("::/0", "::/0", "v6"), ("0.0.0.0/0", "0.0.0.0/0", "v4")]
    assert resolve_pairs(pairs) == pairs


def test_union_collapses_only_overlaps():
    assert union(["10.0.0.0/24", "10.0.1.0/24"]) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert union(["10.0.0.0/24", "10.0.0.7/32", "10.0.0.0/24"]) == ["10.0.0.0/24"]


def test_element_drops_host_prefix_like_nft_list():
    assert element("10.0.0.1/32") == "10.0.0.1"
    assert element("2001:db8::1/128") == "2001:db8::1"
    assert element("2001:db8::/32") == "2001:db8::/32"
    assert element("10.0.0.0/24") == "10.0.0.0/24"
