# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy document's schema (cerberus), its translation into readable findings, and the
normalised form the renderer receives. Every field carries a `meta.doc` so that
docs/policy-reference.md is generated from this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib
import re
try:
    from cerberus import Validator, errors
    from cerberus.utils import TypeDefinition
except ImportError:  # only the controller validates; check_task names what is missing
    HAS_CERBERUS = False
    Validator = object
else:
    HAS_CERBERUS = True

from .netaddr import AddressError, parse_net

API_VERSION = "netpolicy.vpn_passthrough/v1"
KIND = "PassthroughPolicy"
PROTOCOLS = ("ipsec", "l2tp", "pptp")
SCHEMA_RULE = "NP002"

# Character sets for everything that reaches the nftables file. None of them admits a quote,
# ';', braces, '$', '#' or a newline, so no value can inject nft syntax.
PATTERNS = {
    "name": (r"[a-z0-9][a-z0-9_-]{0,62}",
             "lowercase letters, digits, '-' and '_', starting with a letter or digit, "
             "at most 63 characters"),
    "ifname": (r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\*?",
               "an interface name: letters, digits, '_', '.', '-', at most 15 characters, "
               "optionally ending in '*' as a wildcard"),
    "text": (r"[A-Za-z0-9][A-Za-z0-9 _.,:/@+=()-]{0,127}",
             "letters, digits, spaces and _ . , : / @ + = ( ) -, at most 128 characters "
             "(no quotes, ';', braces or newlines)"),
    "ticket": (r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}",
               "letters, digits and _ . : / -, at most 64 characters"),
    "rule": (r"NP[0-9]{3}", "a rule ID such as NP101"),
    "rate": (r"[1-9][0-9]{0,6}/(second|minute|hour|day)",
             "N/second, N/minute, N/hour or N/day, such as 10/minute"),
    "prefix": (r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,27}",
               "letters, digits and _ . : -, at most 28 characters"),
}
# cerberus matches with re.match + '$', and '$' also matches before a trailing newline: the
# explicit end-of-string anchor keeps "name\n" out.
PATTERNS = dict((key, (regex + r"\Z", hint)) for key, (regex, hint) in PATTERNS.items())
_PATTERN_HINT = dict((regex, hint) for regex, hint in PATTERNS.values())

_TYPE_WORDS = {
    "dict": "a mapping", "list": "a list", "string": "a string", "boolean": "true or false",
    "count": "an integer", "date_or_string": "a date (YYYY-MM-DD)",
}


def _field(doc, **rules):
    rules["meta"] = {"doc": doc}
    return rules


def _text(doc, kind="text", required=False):
    return _field(doc, type="string", regex=PATTERNS[kind][0], required=required)


def _ifnames(doc):
    return _field(doc, type="list", required=True, minlength=1,
                  schema={"type": "string", "regex": PATTERNS["ifname"][0]})


def _date(doc, required=False):
    return _field(doc, type="date_or_string", check_with="iso_date", required=required)


GRANT_SCHEMA = {
    "name": _text("Unique name of the grant; used in nftables counter and set names.",
                  "name", required=True),
    "description": _text("What the grant is for (rendered as a comment)."),
    "owner": _text("Who answers for this grant (defaults to metadata.owner)."),
    "ticket": _text("Change or request ticket that authorised the grant.", "ticket"),
    "expires": _date("Last day (YYYY-MM-DD) the grant is valid; past it the policy fails "
                     "(NP104), within 30 days it warns (NP105)."),
    # `allowed` on the list itself, not an item schema: same check, but no child validator per
    # grant (a third of the schema time at 10,000 grants); findings still name each bad item.
    "protocols": _field("VPN protocols the clients may use through the router.",
                        type="list", required=True, minlength=1, allowed=list(PROTOCOLS)),
    "clients": _field("LAN addresses or networks (IPv4/IPv6) allowed to start the VPN.",
                      type="list", required=True, minlength=1),
    "servers": _field("Remote VPN server addresses or networks, or the word `any` "
                      "(a wide grant, NP114).", type=["list", "string"], required=True,
                      minlength=1, check_with="any_or_list"),
    "ipsec": _field("IPsec options.", type="dict", schema={
        "nat_traversal": _field("`required`: only IKE (UDP 500) and NAT-T (UDP 4500) pass, so "
                                "many clients can share the NAT address. `allowed`: raw ESP/AH "
                                "may pass too (see `esp`, `ah`).", type="string",
                                allowed=["required", "allowed"]),
        "esp": _field("Allow raw ESP (IP protocol 50). Needs nat_traversal: allowed; behind "
                      "NAT only one client per server works at a time (NP113).",
                      type="boolean"),
        "ah": _field("Allow AH (IP protocol 51). AH cannot survive NAT (NP102).",
                     type="boolean"),
    }),
    "pptp": _field("PPTP options.", type="dict", schema={
        "max_calls_per_client": _field("Limit of concurrent PPTP control connections per "
                                       "client address.", type="count", min=1, max=65535),
    }),
    "l2tp": _field("L2TP options.", type="dict", schema={
        "over_ipsec": _field("L2TP runs inside IPsec (RFC 3193), so it needs no rule of its "
                             "own. `false` opens UDP 1701 in clear text and needs a waiver "
                             "(NP103).", type="boolean"),
    }),
}

SCHEMA = {
    "apiVersion": _field("Document format version.", type="string", required=True,
                         allowed=[API_VERSION]),
    "kind": _field("Document kind.", type="string", required=True, allowed=[KIND]),
    "metadata": _field("Who owns the policy and why it exists.", type="dict", required=True,
                       schema={
                           "name": _text("Policy name.", "name", required=True),
                           "owner": _text("Team or person responsible.", required=True),
                           "ticket": _text("Change ticket.", "ticket"),
                           "description": _text("Free text (rendered as a comment)."),
                       }),
    "router": _field("The router's LAN and WAN sides.", type="dict", required=True, schema={
        "lan": _field("Inside: where the VPN clients live.", type="dict", required=True,
                      schema={
                          "interfaces": _ifnames("LAN interface names."),
                          "networks": _field("LAN networks (IPv4/IPv6 CIDRs); every grant's "
                                             "clients must lie inside them (NP106).",
                                             type="list", required=True, minlength=1),
                      }),
        "wan": _field("Outside: towards the VPN servers.", type="dict", required=True, schema={
            "interfaces": _ifnames("WAN interface names."),
            "nat": _field("`masquerade`, `none`, or `{snat: ADDRESS}`.",
                          type=["string", "dict"], required=True, check_with="nat"),
        }),
        "output_helpers": _field("Also assign conntrack helpers to VPN connections the router "
                                 "itself starts (output chain).", type="boolean"),
    }),
    "grants": _field("Who may reach which VPN server with which protocol.", type="list",
                     required=True, schema={"type": "dict", "schema": GRANT_SCHEMA}),
    "waivers": _field("Accepted risks: a waiver silences one rule for one grant until it "
                      "expires.", type="list", schema={"type": "dict", "schema": {
                          "rule": _text("Rule ID to waive, such as NP101.", "rule",
                                        required=True),
                          "grant": _text("Name of the grant the waiver covers.", "name",
                                         required=True),
                          "reason": _field("Why the risk is accepted.", type="string",
                                           required=True, minlength=10, maxlength=500),
                          "expires": _date("Last day the waiver is valid (required).",
                                           required=True),
                      }}),
    "conntrack": _field("Connection tracking tuning (sysctl).", type="dict", schema={
        "max": _field("net.netfilter.nf_conntrack_max.", type="count", min=1024,
                      max=67108864),
        "gre_timeout": _field("net.netfilter.nf_conntrack_gre_timeout (seconds).",
                              type="count", min=1, max=86400),
        "gre_timeout_stream": _field("net.netfilter.nf_conntrack_gre_timeout_stream "
                                     "(seconds).", type="count", min=1, max=86400),
    }),
    "logging": _field("Logging of denied passthrough attempts.", type="dict", schema={
        "denied": _field("Log denied VPN passthrough attempts (rate-limited).",
                         type="boolean"),
        "rate": _text("Log rate limit, default 10/minute.", "rate"),
        "prefix": _text("Log prefix, default `vpn-denied`.", "prefix"),
    }),
}


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def parse_iso_date(value):
    """A date, or None when value is not a plain YYYY-MM-DD date."""
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if not (isinstance(value, str) and _ISO_DATE.match(value)):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


class PolicyValidator(Validator):
    if HAS_CERBERUS:
        # Cerberus counts booleans as integers; a policy's `max: true` is a mistake, not 1.
        types_mapping = Validator.types_mapping.copy()
        types_mapping.update({
            "count": TypeDefinition("count", (int,), (bool,)),
            "date_or_string": TypeDefinition("date_or_string", (datetime.date, str), ()),
        })

    def _check_with_iso_date(self, field, value):
        if value is not None and parse_iso_date(value) is None:
            self._error(field, "%r is not a date in YYYY-MM-DD form" % (str(value),))

    def _check_with_any_or_list(self, field, value):
        if isinstance(value, str) and value != "any":
            self._error(field, "must be a list of addresses or the word 'any', not %r" % value)

    def _check_with_nat(self, field, value):
        if isinstance(value, str):
            if value not in ("masquerade", "none"):
                self._error(field, "%r is not one of: masquerade, none, {snat: ADDRESS}%s"
                            % (value, _suggest(value, ["masquerade", "none"])))
        elif isinstance(value, dict) and list(value) != ["snat"]:
            self._error(field, "must be masquerade, none or a mapping with only 'snat', "
                               "got keys: %s" % ", ".join(sorted(str(k) for k in value)))


def _suggest(word, candidates):
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.5)
    return "; did you mean '%s'?" % close[0] if close else ""


def _schema_at(path):
    """The schema dict of the mapping that holds path[-1] (list indexes skipped)."""
    schema = SCHEMA
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        rules = schema.get(part, {})
        inner = rules.get("schema", {})
        schema = inner.get("schema", inner) if inner.get("type") == "dict" else inner
    return schema


def _leaves(errs):
    for err in errs:
        if err.is_group_error:
            yield from _leaves(err.child_errors)
        else:
            yield err


def _message(err, path):
    code, value, constraint = err.code, err.value, err.constraint
    if code == errors.REQUIRED_FIELD.code:
        return "required field is missing"
    if code == errors.NOT_NULLABLE.code:
        return "must have a value, not null"
    if code == errors.UNKNOWN_FIELD.code:
        known = sorted(_schema_at(path))
        return "unknown field '%s'%s" % (err.field, _suggest(err.field, known))
    if code == errors.BAD_TYPE.code:
        wanted = constraint if isinstance(constraint, list) else [constraint]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in wanted)
        return "must be %s, not %s" % (words, _describe(value))
    if code == errors.UNALLOWED_VALUE.code:
        hint = _suggest(value, constraint)
        return "%r is not one of: %s%s" % (value, ", ".join(constraint), hint)
    if code == errors.REGEX_MISMATCH.code:
        return "%r is not allowed: use %s" % (value, _PATTERN_HINT.get(constraint, constraint))
    if code == errors.MIN_LENGTH.code:
        return "must have at least %d item%s" % (constraint, "" if constraint == 1 else "s") \
            if isinstance(value, list) else "must be at least %d characters" % constraint
    if code == errors.MAX_LENGTH.code:
        return "must be at most %d characters" % constraint
    if code == errors.MIN_VALUE.code:
        return "%r is below the minimum %d" % (value, constraint)
    if code == errors.MAX_VALUE.code:
        return "%r is above the maximum %d" % (value, constraint)
    if code == errors.CUSTOM.code:
        return err.info[0]
    return "invalid value %r (%s)" % (value, err.rule)  # pragma: no cover - unused rules


def _describe(value):
    if value is None:
        return "empty (null)"
    return {dict: "a mapping", list: "a list", bool: "a boolean", str: "a string",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


# Address fields are checked outside cerberus so each bad item gets its own path and so that
# 100,000 addresses cost one ipaddress call each rather than a cerberus rule walk.
def _address_error(value, single):
    if not isinstance(value, str):
        return "must be an IPv4/IPv6 address%s as a string, not %s" % (
            "" if single else " or network", _describe(value))
    try:
        net = parse_net(value)
    except AddressError as exc:
        return str(exc)
    if single and net.num_addresses != 1:
        return "'%s' must be a single address, not a network" % value
    return None


def _address_lists(doc):
    """Yield (path, list) for every address list present in a (maybe invalid) document."""
    router = doc.get("router")
    lan = router.get("lan") if isinstance(router, dict) else None
    if isinstance(lan, dict) and isinstance(lan.get("networks"), list):
        yield ("router", "lan", "networks"), lan["networks"]
    grants = doc.get("grants")
    for i, grant in enumerate(grants if isinstance(grants, list) else []):
        if not isinstance(grant, dict):
            continue
        for key in ("clients", "servers"):
            if isinstance(grant.get(key), list):
                yield ("grants", i, key), grant[key]


def _address_findings(doc, finding):
    out = []
    for path, values in _address_lists(doc):
        for i, value in enumerate(values):
            msg = _address_error(value, single=False)
            if msg:
                out.append(finding(path + (i,), msg))
    router = doc.get("router")
    wan = router.get("wan") if isinstance(router, dict) else None
    nat = wan.get("nat") if isinstance(wan, dict) else None
    if isinstance(nat, dict) and "snat" in nat:
        msg = _address_error(nat["snat"], single=True)
        if msg:
            out.append(finding(("router", "wan", "nat", "snat"), msg))
    return out


def _without_grant_items(schema):
    top = dict(schema)
    top["grants"] = dict((k, v) for k, v in schema["grants"].items() if k != "schema")
    return top


# Grants are validated one by one with a single reused validator: cerberus otherwise builds a
# child validator per list item, which is ~15% of a 10,000-grant check. Same schema, same errors.
_VALIDATOR = PolicyValidator(_without_grant_items(SCHEMA)) if HAS_CERBERUS else None
_GRANT_VALIDATOR = PolicyValidator(GRANT_SCHEMA) if HAS_CERBERUS else None


def _findings_of(errs, prefix, finding):
    out = []
    for err in _leaves(errs):
        path = prefix + tuple(err.document_path)
        if err.code == errors.UNALLOWED_VALUES.code:  # one finding per offending list item
            allowed = err.constraint
            for i, item in enumerate(err.value):
                if item not in allowed:
                    out.append(finding(path + (i,), "%r is not one of: %s%s" % (
                        item, ", ".join(allowed), _suggest(item, allowed))))
        else:
            out.append(finding(path, _message(err, path)))
    return out


def validate(doc, finding):
    """Schema findings for a parsed document. `finding(path_tuple, message)` builds one."""
    if not isinstance(doc, dict):
        return [finding((), "the document must be a mapping with apiVersion, kind, metadata, "
                            "router and grants, not %s" % _describe(doc))]
    out = []
    if not _VALIDATOR.validate(doc, normalize=False):
        out += _findings_of(_VALIDATOR._errors, (), finding)
    grants = doc.get("grants")
    for i, grant in enumerate(grants if isinstance(grants, list) else []):
        if not isinstance(grant, dict):
            out.append(finding(("grants", i), "must be a mapping, not %s" % _describe(grant)))
        elif not _GRANT_VALIDATOR.validate(grant, normalize=False):
            out += _findings_of(_GRANT_VALIDATOR._errors, ("grants", i), finding)
    out.extend(_address_findings(doc, finding))
    return out


def _net(value):
    return parse_net(value).text


def _unique(values):
    seen = set()
    return [v for v in values if not (v in seen or seen.add(v))]


def _iso(value):
    return parse_iso_date(value).isoformat() if value is not None else None


def _normalise_grant(grant, default_owner):
    ipsec = grant.get("ipsec") or {}
    servers = grant["servers"]
    return {
        "name": grant["name"],
        "description": grant.get("description"),
        "owner": grant.get("owner", default_owner),
        "ticket": grant.get("ticket"),
        "expires": _iso(grant.get("expires")),
        "protocols": sorted(set(grant["protocols"])),
        "clients": _unique(_net(c) for c in grant["clients"]),
        "servers": "any" if servers == "any" else _unique(_net(s) for s in servers),
        "ipsec": {"nat_traversal": ipsec.get("nat_traversal", "required"),
                  "esp": ipsec.get("esp", False), "ah": ipsec.get("ah", False)},
        "pptp": {"max_calls_per_client": (grant.get("pptp") or {}).get("max_calls_per_client")},
        "l2tp": {"over_ipsec": (grant.get("l2tp") or {}).get("over_ipsec", True)},
    }


def _nat(nat):
    if isinstance(nat, dict):
        return {"mode": "snat", "address": parse_net(nat["snat"]).text.split("/")[0]}
    return {"mode": nat, "address": None}


def normalise(doc):
    """The renderer's view of a schema-valid document: every key present, defaults filled,
    addresses canonical, dates ISO strings (see docs/architecture.md)."""
    meta, router = doc["metadata"], doc["router"]
    nat = router["wan"]["nat"]
    conntrack, logging = doc.get("conntrack") or {}, doc.get("logging") or {}
    return {
        "apiVersion": doc["apiVersion"],
        "kind": doc["kind"],
        "metadata": {"name": meta["name"], "owner": meta["owner"],
                     "ticket": meta.get("ticket"), "description": meta.get("description")},
        "router": {
            "lan": {"interfaces": _unique(router["lan"]["interfaces"]),
                    "networks": _unique(_net(n) for n in router["lan"]["networks"])},
            "wan": {"interfaces": _unique(router["wan"]["interfaces"]), "nat": _nat(nat)},
            "output_helpers": router.get("output_helpers", False),
        },
        "grants": [_normalise_grant(g, meta["owner"]) for g in doc["grants"]],
        "waivers": [{"rule": w["rule"], "grant": w["grant"], "reason": w["reason"],
                     "expires": _iso(w["expires"])} for w in doc.get("waivers") or []],
        "conntrack": {"max": conntrack.get("max"), "gre_timeout": conntrack.get("gre_timeout"),
                      "gre_timeout_stream": conntrack.get("gre_timeout_stream")},
        "logging": {"denied": logging.get("denied", False),
                    "rate": logging.get("rate", "10/minute"),
                    "prefix": logging.get("prefix", "vpn-denied")},
    }
