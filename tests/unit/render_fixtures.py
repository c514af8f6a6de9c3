"""Normalised policies built by hand for renderer tests (the shape of docs/architecture.md)."""
import copy

BASE = {
    "apiVersion": "netpolicy.vpn_passthrough/v1", "kind": "PassthroughPolicy",
    "metadata": {"name": "unit", "owner": "netops@example.com", "ticket": "NET-1",
                 "description": None},
    "router": {
        "lan": {"interfaces": ["lan0"], "networks": ["10.0.0.0/16"]},
        "wan": {"interfaces": ["wan0"], "nat": {"mode": "masquerade", "address": None}},
        "output_helpers": False,
    },
    "grants": [],
    "waivers": [],
    "conntrack": {"max": None, "gre_timeout": None, "gre_timeout_stream": None},
    "logging": {"denied": False, "rate": "10/minute", "prefix": "vpn-denied"},
}


def grant(name, protocols=("ipsec",), clients=("10.0.1.0/24",), servers=("198.51.100.10/32",),
          esp=False, ah=False, over_ipsec=True, max_calls=None, owner="netops@example.com",
          ticket=None, expires=None):
    return {
        "name": name, "description": None, "owner": owner, "ticket": ticket, "expires": expires,
        "protocols": sorted(protocols), "clients": list(clients),
        "servers": servers if servers == "any" else list(servers),
        "ipsec": {"nat_traversal": "allowed" if esp else "required", "esp": esp, "ah": ah},
        "pptp": {"max_calls_per_client": max_calls},
        "l2tp": {"over_ipsec": over_ipsec},
    }


def policy(*grants, **changes):
    """A normalised policy with the given grants; changes are dotted paths, e.g.
    policy(g, **{"router.wan.nat": {...}})."""
    doc = copy.deepcopy(BASE)
    doc["grants"] = [copy.deepcopy(g) for g in grants]
    for dotted, value in changes.items():
        node = doc
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return doc
