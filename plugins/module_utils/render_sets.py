# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set and map elements for the rendered nftables table.

nftables rejects overlapping elements in interval sets that use concatenations ("File exists"),
and a map can give a key only one value. The policy may well overlap (a /24 in one grant, a host
of it in another), so this module turns the grants' client/server pairs into DISJOINT elements
that cover exactly the same addresses, the first grant in policy order winning where two overlap.
Policies without overlaps (the usual case) take a fast path that keeps their elements as written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket

_V6_BASE = 1 << 128


def is_v6(text):
    return ":" in text


def element(text):
    """How an address appears in the file: hosts without /32 or /128, as `nft list` shows them."""
    if text.endswith("/32") and ":" not in text:
        return text[:-3]
    if text.endswith("/128"):
        return text[:-4]
    return text


class Elements(dict):
    """element() of each text, cached for one render (big policies repeat addresses)."""

    def __missing__(self, text):
        shown = self[text] = element(text)
        return shown


class Spans(dict):
    """Canonical CIDR text -> (first, last) address as integers, cached for one render.

    inet_pton is an order of magnitude faster than ipaddress for the 100,000-address policies
    the renderer must handle; IPv6 spans are offset by 2**128 so families never overlap."""

    def __missing__(self, text):
        addr, _slash, plen = text.partition("/")
        if ":" in addr:
            bits, base, family = 128, _V6_BASE, socket.AF_INET6
        else:
            bits, base, family = 32, 0, socket.AF_INET
        try:
            host_bits = bits - int(plen if plen else bits)
            first = base + int.from_bytes(socket.inet_pton(family, addr), "big")
        except (OSError, ValueError):
            raise ValueError("not a canonical address or network: %r" % text)
        if not 0 <= host_bits <= bits:
            raise ValueError("not a canonical address or network: %r" % text)
        span = self[text] = (first, first + (1 << host_bits) - 1)
        return span


def net(text):
    return ipaddress.ip_network(text)


def _disjoint(texts, spans):
    """True when no two of the (distinct) networks overlap."""
    ordered = sorted(spans[t] for t in texts)
    return all(ordered[i][0] > ordered[i - 1][1] for i in range(1, len(ordered)))


def _few_disjoint(span_list):
    """_disjoint for the handful of servers a client usually has, without sorting."""
    if len(span_list) > 8:
        ordered = sorted(span_list)
        return all(ordered[i][0] > ordered[i - 1][1] for i in range(1, len(ordered)))
    for i, (start, end) in enumerate(span_list):
        for other_start, other_end in span_list[i + 1:]:
            if start <= other_end and other_start <= end:
                return False
    return True


def _subtract(network, others):
    """network minus the union of others, as sorted disjoint CIDRs."""
    pieces = [network]
    for other in others:
        out = []
        for piece in pieces:
            if not piece.overlaps(other):
                out.append(piece)
            elif not piece.subnet_of(other):
                out.extend(piece.address_exclude(other))
        pieces = out
    return sorted(pieces)


def resolve_1d(items, spans=None):
    """Disjoint (network text, value) list covering the union of items [(text, value)], which
    are in priority order: where networks overlap, the earlier item keeps the addresses."""
    seen, ordered = set(), []
    for text, value in items:
        if text not in seen:
            seen.add(text)
            ordered.append((text, value))
    if _disjoint([text for text, _value in ordered], spans if spans is not None else Spans()):
        return ordered
    placed, out = [], []
    for text, value in ordered:
        network = net(text)
        pieces = _subtract(network, [p for p in placed if p.overlaps(network)])
        placed.append(network)
        out.extend((str(p), value) for p in pieces)
    return out


def _forest(texts, spans):
    """Parent (nearest enclosing network among texts, or None) of each distinct network."""
    order = sorted(texts, key=lambda t: (spans[t][0], -spans[t][1]))
    parent, stack = {}, []
    for text in order:
        start = spans[text][0]
        while stack and spans[stack[-1]][1] < start:
            stack.pop()
        parent[text] = stack[-1] if stack else None
        stack.append(text)
    return parent


def _ancestors(client, parent, by_client):
    out, up = [], parent[client]
    while up is not None:
        out.extend(by_client[up])
        up = parent[up]
    return out


def _drop_shadowed(by_client, parent, spans):
    """Remove pairs that an earlier pair of an enclosing client network already covers
    entirely (they would never win an address), so they do not split that network."""
    kept = {}
    for client, servers in by_client.items():
        if parent[client] is None:
            kept[client] = servers
            continue
        above = [(spans[s], i) for s, _value, i in _ancestors(client, parent, by_client)]
        own = [(s, v, i) for s, v, i in servers
               if not any(j < i and a[0] <= spans[s][0] and spans[s][1] <= a[1]
                          for a, j in above)]
        if own:
            kept[client] = own
    return kept, _forest(list(kept), spans)


def resolve_pairs(pairs, spans=None):
    """Disjoint (client, server, value) elements covering the union of pairs
    [(client text, server text, value)] given in priority order (first wins on overlap).

    A point (c, s) belongs to the deepest listed client network containing c; the servers that
    apply there are those paired with that network or any enclosing one. So each client network
    emits (its own addresses minus nested client networks) x (those servers, made disjoint).
    """
    spans = spans if spans is not None else Spans()
    first = {}
    for client, server, value in pairs:
        if (client, server) not in first:
            first[(client, server)] = value
    clients = set(c for c, _server in first)
    if _disjoint(clients, spans) and _disjoint(set(s for _client, s in first), spans):
        # Distinct CIDRs either nest or are disjoint: with no client network inside another
        # and no server network inside another nothing can overlap (the usual policy), so the
        # pairs stay as written.
        return [(c, s, v) for (c, s), v in first.items()]
    by_client = {}
    for index, ((client, server), value) in enumerate(first.items()):
        by_client.setdefault(client, []).append((server, value, index))
    parent = _forest(list(by_client), spans)
    nested = any(up is not None for up in parent.values())
    if nested:
        by_client, parent = _drop_shadowed(by_client, parent, spans)
    children = {}
    for client, up in parent.items():
        if up is not None:
            children.setdefault(up, []).append(client)
    out = []
    for client, servers in by_client.items():
        if parent[client] is None and client not in children:
            if len(servers) == 1:  # the common case: nothing can overlap
                out.append((client, servers[0][0], servers[0][1]))
                continue
            if _few_disjoint([spans[s] for s, _value, _rank in servers]):
                out.extend((client, s, v) for s, v, _rank in servers)
                continue
            resolved = resolve_1d([(s, v) for s, v, _rank in servers], spans)
            out.extend((client, s, v) for s, v in resolved)
            continue
        applicable = list(servers) + _ancestors(client, parent, by_client)
        applicable.sort(key=lambda item: item[2])
        resolved = resolve_1d([(s, v) for s, v, _rank in applicable], spans)
        own = _subtract(net(client), [net(c) for c in children.get(client, [])])
        for piece in own:
            piece_text = str(piece)
            out.extend((piece_text, s, v) for s, v in resolved)
    return out


def union(texts, spans=None):
    """Distinct networks as disjoint CIDR texts (collapsed only when some overlap)."""
    distinct = list(dict.fromkeys(texts))
    if _disjoint(distinct, spans if spans is not None else Spans()):
        return distinct
    return [str(n) for n in ipaddress.collapse_addresses(net(t) for t in distinct)]
