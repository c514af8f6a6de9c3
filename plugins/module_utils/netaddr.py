# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address parsing for policies with 100,000 addresses: each distinct text is parsed once
(cached), IPv4 on a fast path that accepts exactly what the ipaddress module accepts, IPv6
through ipaddress itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket

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


def _parse_v4(text):
    # inet_pton accepts exactly the dotted quads ipaddress accepts (no leading zeros, no short
    # forms) and is ~3x faster than parsing the octets in Python; tests/unit/test_netaddr.py
    # holds the two equal.
    addr, slash, plen = text.partition("/")
    try:
        value = int.from_bytes(socket.inet_pton(socket.AF_INET, addr), "big")
    except (OSError, ValueError):
        raise AddressError(text)
    prefixlen = 32
    if slash:
        if not (plen.isdigit() and plen.isascii()) or int(plen) > 32:
            raise AddressError(text)
        prefixlen = int(plen)
    if value & ((1 << (32 - prefixlen)) - 1):
        raise AddressError("'%s' has host bits set; the network is '%s'" % (
            text, ipaddress.ip_network(text, strict=False)))
    return Net(4, value, prefixlen, "%s/%d" % (addr, prefixlen))


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
