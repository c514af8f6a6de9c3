# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find other tables that would silently break VPN passthrough (from `nft -j list ruleset`).

In nftables every base chain on a hook sees the packet and a drop anywhere wins, so an accept
in our table cannot override another table's drop. Reported:
  - a forward/prerouting filter base chain of another table with policy drop;
  - a drop/reject rule in such a chain (or a chain it jumps to) that is unconditional or
    matches VPN traffic (TCP 1723, UDP 500/4500/1701, GRE/ESP/AH).
Drops that match something else (e.g. `ct state invalid drop`) are not reported.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.nft_table import (
    TABLE_FAMILY, TABLE_NAME)

HOOKS = ("forward", "prerouting")
VPN_PORTS = {"tcp": {1723: "PPTP control (TCP 1723)"},
             "udp": {500: "IKE (UDP 500)", 4500: "NAT-T (UDP 4500)", 1701: "L2TP (UDP 1701)"}}
VPN_PROTOCOLS = {"gre": "GRE", 47: "GRE", "esp": "ESP", 50: "ESP", "ah": "AH", 51: "AH"}
_PROTO_KEYS = (("meta", "l4proto"), ("meta", "protocol"))


def _values(right):
    """Flatten a match's right-hand side into scalars and (low, high) ranges."""
    if isinstance(right, dict) and "set" in right:
        items = right["set"]
        items = items if isinstance(items, list) else [items]
        out = []
        for item in items:
            out.extend(_values(item))
        return out
    if isinstance(right, dict) and "range" in right:
        return [tuple(right["range"])]
    return [right]


def _hits(values, wanted):
    """Names of the wanted VPN values that `values` covers."""
    hits = []
    for value in values:
        for key, label in wanted.items():
            if isinstance(value, tuple):
                low, high = value
                if isinstance(key, int) and isinstance(low, int) and low <= key <= high:
                    hits.append(label)
            elif value == key:
                hits.append(label)
    return hits


def vpn_match(expr):
    """The VPN traffic a positive match expression selects: list of labels ([] = none)."""
    match = expr.get("match")
    if not isinstance(match, dict) or match.get("op", "==") not in ("==", "in"):
        return []
    left, values = match.get("left") or {}, _values(match.get("right"))
    payload = left.get("payload") if isinstance(left, dict) else None
    if isinstance(payload, dict):
        if payload.get("field") == "dport" and payload.get("protocol") in VPN_PORTS:
            return _hits(values, VPN_PORTS[payload["protocol"]])
        field = (payload.get("protocol"), payload.get("field"))
        if field in (("ip", "protocol"), ("ip6", "nexthdr")):
            return _hits(values, VPN_PROTOCOLS)
    meta = left.get("meta") if isinstance(left, dict) else None
    if isinstance(meta, dict) and meta.get("key") == "l4proto":
        return _hits(values, VPN_PROTOCOLS)
    return []


def _verdict(rule_exprs):
    for expr in rule_exprs:
        for key in ("drop", "reject", "jump", "goto", "accept"):
            if key in expr:
                return key, (expr[key] or {}).get("target") if key in ("jump", "goto") else None
    return None, None


def find_conflicts(ruleset):
    """ruleset: the list under "nftables" in `nft -j list ruleset`. Returns sorted conflicts:
    {"kind": "policy-drop"|"drops-vpn-traffic", "family", "table", "chain", "hook",
     "handle", "detail"}."""
    chains = {}
    rules = {}
    for item in ruleset:
        if "chain" in item:
            chain = item["chain"]
            chains[(chain["family"], chain["table"], chain["name"])] = chain
        elif "rule" in item:
            rule = item["rule"]
            rules.setdefault((rule["family"], rule["table"], rule["chain"]), []).append(rule)
    conflicts = []
    for key, chain in sorted(chains.items()):
        family, table, _name = key
        if (family, table) == (TABLE_FAMILY, TABLE_NAME) or chain.get("hook") not in HOOKS:
            continue
        if chain.get("type", "filter") != "filter":
            continue
        base = {"family": family, "table": table, "hook": chain["hook"]}
        if chain.get("policy") == "drop":
            conflicts.append(dict(base, kind="policy-drop", chain=chain["name"], handle=None,
                                  detail="base chain policy drop: VPN traffic that this chain "
                                         "does not accept itself is dropped"))
        seen = set()
        pending = [chain["name"]]
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            for rule in rules.get((family, table, name), []):
                exprs = rule.get("expr", [])
                verdict, target = _verdict(exprs)
                if verdict in ("jump", "goto") and target:
                    pending.append(target)
                    continue
                if verdict not in ("drop", "reject"):
                    continue
                matches = [e for e in exprs if "match" in e]
                labels = sorted(set(label for e in matches for label in vpn_match(e)))
                if not matches or labels:
                    detail = ("%s %s" % ("unconditional" if not matches else "matches " +
                                         ", ".join(labels), verdict))
                    conflicts.append(dict(base, kind="drops-vpn-traffic", chain=name,
                                          handle=rule.get("handle"), detail=detail))
    return conflicts
