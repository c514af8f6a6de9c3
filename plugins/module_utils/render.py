# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a normalised passthrough policy into nftables, sysctl and modules-load files.

Controller side only (needs Jinja2). The shape of the input is documented in
docs/architecture.md; what every rendered line is for is in docs/rendering.md.

Per-packet cost must not grow with the policy: every grant lands in a few named maps keyed by
client (and server) that point at the grant's counter, so one map lookup both allows the flow and
counts it, and the number of rules depends only on which protocol features are used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

try:
    import jinja2
except ImportError:  # only the controller renders; the router never imports this module
    jinja2 = None

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render_sets import (
    Elements, Spans, element, is_v6, resolve_1d, resolve_pairs, union)

TABLE_NAME = "netpolicy_vpn_passthrough"
TABLE_FAMILY = "inet"
OUTPUT_FILES = ("nftables.nft", "sysctl.conf", "modules-load.conf")
DENIED_COUNTER = "denied_passthrough"
COMMENT_MAX = 128  # the kernel keeps at most 128 bytes of an object comment

# Traffic classes in the order the passthrough chain tests them. Each becomes up to four maps
# (client . server pairs and clients of `servers: any`, per address family).
_CLASSES = (
    ("pptp", "PPTP control connection (TCP 1723); its GRE is accepted as RELATED via the helper",
     "tcp dport 1723"),
    ("ipsec", "IKE (UDP 500) and IPsec NAT-T (UDP 4500)", "udp dport { 500, 4500 }"),
    ("esp", "raw ESP (IP protocol 50), grants with ipsec.esp", "meta l4proto esp"),
    # In IPv6 the kernel treats AH as an extension header and `meta l4proto` looks past it,
    # so AH is matched as the IPv6 header's next header there.
    ("ah", "AH (IP protocol 51), grants with ipsec.ah",
     {"v4": "meta l4proto ah", "v6": "ip6 nexthdr ah"}),
    ("l2tp", "plain L2TP (UDP 1701), grants with l2tp.over_ipsec false", "udp dport 1701"),
)
_FAMILIES = (("v4", "ip", "ipv4_addr"), ("v6", "ip6", "ipv6_addr"))

_ENV = None


class RenderError(Exception):
    """The policy cannot be rendered (it should have been rejected by validation)."""


def _environment():
    global _ENV
    if _ENV is None:
        if jinja2 is None:
            raise RenderError("rendering needs the Python package jinja2 on the controller")
        here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(here), undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            autoescape=False)
        _ENV.filters["q"] = quote
    return _ENV


def quote(value):
    """A double-quoted nft string. The schema already restricts the character set; refusing
    here too means a bypassed validation can never inject nft syntax."""
    text = str(value)
    # '#' is allowed: tickets may hold it, and inside quotes nft does not read it as a comment.
    if any(c in text for c in '"\\\n\r;{}$') or not text.isprintable():
        raise RenderError("unsafe character in value for nftables: %r" % text)
    return '"%s"' % text


def _counter_name(grant):
    return "grant_" + grant["name"]


def _grant_summary(grant):
    parts = [grant["name"], "owner " + (grant["owner"] or "-")]
    if grant["ticket"]:
        parts.append("ticket " + grant["ticket"])
    parts.append("expires " + (grant["expires"] or "never"))
    return ", ".join(parts)


def _truncate(text, limit=COMMENT_MAX):
    return text if len(text.encode("utf-8")) <= limit else text[:limit - 3] + "..."


def _class_members(grant):
    """Traffic classes a grant opens."""
    protocols = grant["protocols"]
    out = []
    if "pptp" in protocols:
        out.append("pptp")
    if "ipsec" in protocols:
        out.append("ipsec")
        if grant["ipsec"]["esp"]:
            out.append("esp")
        if grant["ipsec"]["ah"]:
            out.append("ah")
    if "l2tp" in protocols and not grant["l2tp"]["over_ipsec"]:
        out.append("l2tp")
    return out


def _collect(grants):
    """Per (class, family): ordered client/server pairs and clients of `servers: any`."""
    pairs, anys = {}, {}
    for grant in grants:
        counter = _counter_name(grant)
        clients = {"v4": [c for c in grant["clients"] if not is_v6(c)],
                   "v6": [c for c in grant["clients"] if is_v6(c)]}
        servers = grant["servers"]
        for cls in _class_members(grant):
            for fam, _proto, _type in _FAMILIES:
                if servers == "any":
                    anys.setdefault((cls, fam), []).extend((c, counter) for c in clients[fam])
                    continue
                fam_servers = [s for s in servers if is_v6(s) == (fam == "v6")]
                pairs.setdefault((cls, fam), []).extend(
                    (c, s, counter) for c in clients[fam] for s in fam_servers)
    return pairs, anys


def _join(lines):
    return (",\n\t\t\t").join(lines)


def _maps(pairs, anys, spans):
    """Map declarations and, per class, the lookups that use them."""
    maps, lookups, shown = [], {}, Elements()
    for cls, _title, _match in _CLASSES:
        for fam, proto, addr_type in _FAMILIES:
            items = pairs.get((cls, fam))
            if items:
                host_suffix = "/128" if fam == "v6" else "/32"
                hosts, nets = [], []
                for element_pair in resolve_pairs(items, spans):
                    both_hosts = element_pair[0].endswith(host_suffix) and \
                        element_pair[1].endswith(host_suffix)
                    (hosts if both_hosts else nets).append(element_pair)
                # Exact host pairs go to a hash map: a hash lookup costs the same for any
                # size, while the concatenated-interval (pipapo) lookup scans bitmaps that
                # grow with the element count (benchmarks/render/flows.md). Both maps exist
                # even when one is empty, so the rules depend only on the classes in use.
                for kind, members, interval in (("hosts", hosts, False), ("pairs", nets, True)):
                    name = "%s_%s_%s" % (cls, kind, fam)
                    maps.append({
                        "name": name, "interval": interval,
                        "type": "%s . %s : counter" % (addr_type, addr_type),
                        "elements": _join('%s . %s : "%s"' % (shown[c], shown[s], v)
                                          for c, s, v in members),
                        "size": len(members),
                        "doc": "%s %s -> grant counter" % (
                            cls, "client host . server host (hash)" if kind == "hosts"
                            else "client . server with a network on a side (intervals)")})
                    lookups.setdefault(cls, []).append({
                        "family": fam, "map": name,
                        "key": "%s saddr . %s daddr" % (proto, proto)})
            items = anys.get((cls, fam))
            if items:
                resolved = resolve_1d(items, spans)
                maps.append({
                    "name": "%s_any_%s" % (cls, fam), "interval": True,
                    "type": "%s : counter" % addr_type,
                    "elements": _join('%s : "%s"' % (shown[c], v) for c, v in resolved),
                    "size": len(resolved),
                    "doc": "%s client of a servers: any grant -> grant counter" % cls})
                lookups.setdefault(cls, []).append({
                    "family": fam, "map": "%s_any_%s" % (cls, fam), "key": "%s saddr" % proto})
    return maps, lookups


def _interval_set(name, addr_type, texts, spans):
    members = union(texts, spans)
    return {"name": name, "type": addr_type, "elements": _join(element(t) for t in members),
            "size": len(members)}


def _pptp_limits(grants, spans):
    """One client set and one connection-count set per distinct max_calls_per_client value, so
    the number of rules depends on the distinct limits, not on the number of grants."""
    by_limit = {}
    for grant in grants:
        limit = grant["pptp"]["max_calls_per_client"]
        if "pptp" in grant["protocols"] and limit:
            by_limit.setdefault(limit, []).extend(grant["clients"])
    sets, rules = [], []
    for limit in sorted(by_limit):
        for fam, proto, addr_type in _FAMILIES:
            clients = [c for c in by_limit[limit] if is_v6(c) == (fam == "v6")]
            if not clients:
                continue
            base = "pptp_limit%d_%s" % (limit, fam)
            sets.append(_interval_set(base + "_clients", addr_type, clients, spans))
            rules.append({"limit": limit, "proto": proto, "addr_type": addr_type,
                          "clients": base + "_clients", "calls": base + "_calls"})
    return sets, rules


def _output_helper(policy, lookups, spans):
    """Servers for helper assignment on router-originated PPTP (router.output_helpers)."""
    if not policy["router"]["output_helpers"]:
        return None
    v4_pptp = [g for g in policy["grants"]
               if "pptp" in g["protocols"] and any(not is_v6(c) for c in g["clients"])]
    if not v4_pptp or not any(lk["family"] == "v4" for lk in lookups.get("pptp", [])):
        return None
    if any(g["servers"] == "any" for g in v4_pptp):
        return {"servers_set": None}
    servers = [s for g in v4_pptp for s in g["servers"] if not is_v6(s)]
    return {"servers_set": _interval_set("pptp_servers_v4", "ipv4_addr", servers, spans)}


def _nat(policy, lan_sets):
    nat = policy["router"]["wan"]["nat"]
    if nat["mode"] == "none":
        return []
    rules = []
    for fam, proto, _type in _FAMILIES:
        if ("lan_networks_" + fam) not in lan_sets:
            continue
        if nat["mode"] == "masquerade":
            rules.append({"proto": proto, "set": "lan_networks_" + fam, "action": "masquerade"})
        elif is_v6(nat["address"]) == (fam == "v6"):
            rules.append({"proto": proto, "set": "lan_networks_" + fam,
                          "action": "snat %s to %s" % (proto, nat["address"])})
    return rules


def _uses_v6(policy):
    addresses = list(policy["router"]["lan"]["networks"])
    for grant in policy["grants"]:
        addresses.extend(grant["clients"])
        if grant["servers"] != "any":
            addresses.extend(grant["servers"])
    return any(is_v6(a) for a in addresses)


def _context(policy):
    grants = policy["grants"]
    pairs, anys = _collect(grants)
    spans = Spans()
    maps, lookups = _maps(pairs, anys, spans)
    lan_sets = {}
    for fam, _proto, addr_type in _FAMILIES:
        nets = [n for n in policy["router"]["lan"]["networks"] if is_v6(n) == (fam == "v6")]
        if nets:
            lan_sets["lan_networks_" + fam] = _interval_set("lan_networks_" + fam, addr_type,
                                                            nets, spans)
    limit_sets, limit_rules = _pptp_limits(grants, spans)
    output = _output_helper(policy, lookups, spans)
    pptp_v4 = [lk for lk in lookups.get("pptp", []) if lk["family"] == "v4"]
    pptp_v6 = [lk for lk in lookups.get("pptp", []) if lk["family"] == "v6"]
    classes = [{"name": name, "title": title, "lookups": [
        dict(lk, match=match[lk["family"]] if isinstance(match, dict) else match)
        for lk in lookups[name]]} for name, title, match in _CLASSES if name in lookups]
    return {
        "table": TABLE_NAME, "family": TABLE_FAMILY, "policy": policy,
        "table_comment": _truncate("policy %s, owner %s" % (
            policy["metadata"]["name"], policy["metadata"]["owner"])),
        "counters": [{"name": _counter_name(g), "summary": _grant_summary(g),
                      "comment": _truncate(_grant_summary(g))} for g in grants],
        "denied_counter": DENIED_COUNTER,
        "lan_sets": [lan_sets[k] for k in sorted(lan_sets)],
        "maps": maps, "limit_sets": limit_sets, "limit_rules": limit_rules,
        "classes": classes, "pptp_helper": bool(pptp_v4), "pptp_prerouting": pptp_v4,
        "pptp_gre_v6": pptp_v6, "output": output,
        "lan_ifs": _ifset(policy["router"]["lan"]["interfaces"]),
        "wan_ifs": _ifset(policy["router"]["wan"]["interfaces"]),
        "nat_rules": _nat(policy, lan_sets),
        "uses_v6": _uses_v6(policy),
        "pptp_granted": any("pptp" in g["protocols"] for g in grants),
    }


def _ifset(names):
    quoted = [quote(n) for n in names]
    return quoted[0] if len(quoted) == 1 else "{ %s }" % ", ".join(quoted)


def render_policy(policy):
    """Rendered files of a normalised policy: {'nftables.nft': text, 'sysctl.conf': text,
    'modules-load.conf': text}. Same policy, byte-identical output."""
    try:
        context = _context(policy)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise RenderError("policy is not in normalised form (%s: %s)"
                          % (type(exc).__name__, exc))
    env = _environment()
    return dict((name, env.get_template(name + ".j2").render(context))
                for name in OUTPUT_FILES)
