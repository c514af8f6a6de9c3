# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address parsing for policies with 100,000 addresses: each distinct text is parsed once
(cached), IPv4 on a fast path that accepts exactly what the ipaddress module accepts, IPv6
through ipaddress itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

_BITS = {4: 32, 6: 128}


class Net:
    """A network: version (4/6), integer value, prefix length, canonical text."""

    __slots__ = ("version", "value", "prefixlen", "text")

    def __init__(self, version, value, prefixlen, text):
        self.version, self.value, self.prefixlen, self.text = version, value, prefixlen, text

    @property
    def num_addresses(self):
        return 1 << (_BITS[self.version] - self.prefixlen)

    def within(self, other):
        """True when self lies inside other (same family)."""
        if self.version != other.version or self.prefixlen < other.prefixlen:
            return False
        shift = _BITS[self.version] - other.prefixlen
        return self.value >> shift == other.value >> shift

    def __repr__(self):
        return "Net(%s)" % self.text


class AddressError(ValueError):
    pass


# Exactly ipaddress's IPv4 grammar: decimal octets 0-255 without leading zeros, prefix 0-32.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = re.compile(r"%s\.%s\.%s\.%s(?:/([0-9]{1,9}))?\Z" % ((_OCTET,) * 4))


def _parse_v4(text):
    match = _V4.match(text)
    if match is None:
        raise AddressError(text)
    a, b, c, d, plen = match.groups()
    value = (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    prefixlen = 32 if plen is None else int(plen)
    if prefixlen > 32:
        raise AddressError(text)
    if value & ((1 << (32 - prefixlen)) - 1):
        raise AddressError("'%s' has host bits set; the network is '%s'" % (
            text, ipaddress.ip_network(text, strict=False)))
    return Net(4, value, prefixlen, "%s/%d" % (text.partition("/")[0], prefixlen))


_CACHE = {}


def parse_net(text):
    """Net for an address or CIDR text; AddressError with a readable message otherwise."""
    net = _CACHE.get(text)
    if net is not None:
        return net
    if not isinstance(text, str):
        raise AddressError("not a string")
    if text.strip("0123456789abcdefABCDEF:./") or not text:
        # ipaddress would accept scope IDs ("fe80::1%eth0"); nothing else may reach nft.
        raise AddressError("'%s' is not an IPv4/IPv6 address or network" % text)
    try:
        if ":" in text:
            obj = ipaddress.ip_network(text, strict=True)
            net = Net(obj.version, int(obj.network_address), obj.prefixlen, str(obj))
        else:
            net = _parse_v4(text)
    except AddressError as exc:
        if "host bits" in str(exc):
            raise
        raise AddressError("'%s' is not an IPv4/IPv6 address or network" % text)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            raise AddressError("'%s' has host bits set; the network is '%s'" % (
                text, ipaddress.ip_network(text, strict=False)))
        raise AddressError("'%s' is not an IPv4/IPv6 address or network" % text)
    if len(_CACHE) > 1000000:
        _CACHE.clear()
    _CACHE[text] = net
    return net
