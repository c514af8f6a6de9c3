"""The same grants as an Aerleon policy, in Aerleon's own format (policy + definitions).

Aerleon's nftables generator has no conntrack helpers, named counters, maps or NAT, so the
equivalent is the closest it can say: per grant and protocol feature one term from the grant's
client network object to its server network object (GRE instead of the PPTP helper), the owner,
ticket and expiry as comment and expiration, then terms that drop the remaining VPN traffic;
the filters are `inet|inet6 forward ACCEPT` so that other traffic passes, as in our table."""

SERVICES = {
    "IKE": [{"port": 500, "protocol": "udp"}],
    "NATT": [{"port": 4500, "protocol": "udp"}],
    "L2TP": [{"port": 1701, "protocol": "udp"}],
    "PPTP": [{"port": 1723, "protocol": "tcp"}],
}


def _features(grant):
    out = []
    if "ipsec" in grant["protocols"]:
        out.append(("ike", {"protocol": "udp", "destination-port": "IKE NATT"}))
        if grant["ipsec"]["esp"]:
            out.append(("esp", {"protocol": "esp"}))
        if grant["ipsec"]["ah"]:
            out.append(("ah", {"protocol": "ah"}))
    if "l2tp" in grant["protocols"] and not grant["l2tp"]["over_ipsec"]:
        out.append(("l2tp", {"protocol": "udp", "destination-port": "L2TP"}))
    if "pptp" in grant["protocols"]:
        out.append(("pptp", {"protocol": "tcp", "destination-port": "PPTP"}))
        out.append(("gre", {"protocol": "gre"}))
    return out


def aerleon_policy(policy):
    """(policy dict, definitions dict) exactly as Aerleon's YAML files would hold them."""
    networks, terms = {}, []
    lan = policy["router"]["lan"]["interfaces"][0]
    wan = policy["router"]["wan"]["interfaces"][0]
    for index, grant in enumerate(policy["grants"]):
        clients = "GRANT_%d_CLIENTS" % index
        networks[clients] = {"values": [{"address": c} for c in grant["clients"]]}
        servers = None
        if grant["servers"] != "any":
            servers = "GRANT_%d_SERVERS" % index
            networks[servers] = {"values": [{"address": s} for s in grant["servers"]]}
        comment = "owner %s ticket %s" % (grant["owner"], grant["ticket"] or "-")
        for suffix, match in _features(grant):
            term = {"name": "%s-%s" % (grant["name"], suffix), "source-address": clients,
                    "source-interface": lan, "destination-interface": wan,
                    "comment": comment, "action": "accept"}
            if servers:
                term["destination-address"] = servers
            if grant["expires"]:
                term["expiration"] = grant["expires"]
            term.update(match)
            terms.append(term)
    terms += [
        {"name": "deny-vpn-udp", "protocol": "udp", "destination-port": "IKE NATT L2TP",
         "source-interface": lan, "destination-interface": wan, "action": "deny"},
        {"name": "deny-vpn-tcp", "protocol": "tcp", "destination-port": "PPTP",
         "source-interface": lan, "destination-interface": wan, "action": "deny"},
        {"name": "deny-vpn-proto", "protocol": "gre esp ah",
         "source-interface": lan, "destination-interface": wan, "action": "deny"},
    ]
    # One filter per address family: Aerleon's `mixed` family emits every IPv4 rule twice.
    pol = {"filename": policy["metadata"]["name"], "filters": [
        {"header": {"targets": {"nftables": "%s forward ACCEPT" % family},
                    "comment": "VPN passthrough %s" % policy["metadata"]["name"]},
         "terms": terms} for family in ("inet", "inet6")]}
    return pol, {"networks": networks, "services": SERVICES}
