"""Wire formats of the probes against the sizes and fields the RFCs define (no network)."""
import struct
import sys

import pytest

from vpn_topology import PROBES

sys.path.insert(0, str(PROBES))
import ike_probe  # noqa: E402  pylint: disable=wrong-import-position
import l2tp_probe  # noqa: E402  pylint: disable=wrong-import-position
import pptp_probe  # noqa: E402  pylint: disable=wrong-import-position
import probelib  # noqa: E402  pylint: disable=wrong-import-position


@pytest.mark.parametrize("msg_type,fields,length", [
    # RFC 2637 section 2: fixed lengths of the control messages
    (pptp_probe.SCCRQ, (0x0100, 0, 3, 3, 0, 1, b"h", b"v"), 156),
    (pptp_probe.SCCRP, (0x0100, 1, 0, 3, 3, 0, 1, b"h", b"v"), 156),
    (pptp_probe.OCRQ, (0x1234, 1, 300, 100000000, 3, 3, 64, 0, 0, 0, b"", b""), 168),
    (pptp_probe.OCRP, (0x100, 0x1234, 1, 0, 0, 10000000, 64, 0, 0), 32),
    (pptp_probe.ECHO_RQ, (7,), 16),
    (pptp_probe.ECHO_RP, (7, 1, 0, 0), 20),
    (pptp_probe.CCRQ, (0x1234, 0), 16),
    (pptp_probe.CDN, (0x1234, 1, 0, 0, 0, b""), 148),
    (pptp_probe.STOPCCRQ, (1, 0, 0), 16),
    (pptp_probe.SLI, (0x1234, 0, 0, 0), 24),
])
def test_pptp_control_messages_have_rfc_lengths_and_round_trip(msg_type, fields, length):
    wire = pptp_probe.control(msg_type, *fields)
    assert len(wire) == length
    assert struct.unpack("!HHI", wire[:8]) == (length, 1, 0x1A2B3C4D)
    messages, rest, error = pptp_probe.split_messages(wire + wire[:5])
    assert error is None and rest == wire[:5]
    assert messages == [(msg_type, pptp_probe.BODY[msg_type].unpack(wire[12:]))]


def test_pptp_rejects_a_bad_magic_cookie():
    wire = bytearray(pptp_probe.control(pptp_probe.SCCRQ, 0x0100, 0, 3, 3, 0, 1, b"", b""))
    wire[4] ^= 0xFF
    _messages, _rest, error = pptp_probe.split_messages(bytes(wire))
    assert "magic" in error


def test_enhanced_gre_header():
    packet = pptp_probe.gre_packet(0xBEEF, 9, b"payload")
    flags, proto, length, call_id, seq = struct.unpack("!HHHHI", packet[:12])
    assert flags & 0x2000 and flags & 0x1000 and flags & 0x7 == 1   # K, S, version 1
    assert (proto, length, call_id, seq) == (0x880B, 7, 0xBEEF, 9)
    assert pptp_probe.parse_gre(packet) == (0xBEEF, b"payload")
    assert pptp_probe.parse_gre(b"\x00\x00\x08\x00" + packet[4:]) is None    # plain GRE v0


def test_ike_header_is_28_bytes_with_version_2():
    message = ike_probe.ike_message(b"A" * 8, b"\0" * 8, ike_probe.IKE_SA_INIT,
                                    ike_probe.FLAG_INITIATOR, 0)
    assert len(message) == 28
    fields = ike_probe.parse_ike(message)
    assert fields[3] == 0x20 and fields[4] == 34 and fields[7] == 28


def test_l2tp_sccrq_header_and_avps_round_trip():
    wire = l2tp_probe.message(0, 0, 0, l2tp_probe.SCCRQ, l2tp_probe.tunnel_avps(b"lac", 4242))
    flags, length = struct.unpack("!HH", wire[:4])
    assert flags == 0xC802 and length == len(wire)
    tunnel_id, ns, nr, msg_type, avps = l2tp_probe.parse(wire)
    assert (tunnel_id, ns, nr, msg_type) == (0, 0, 0, l2tp_probe.SCCRQ)
    assert avps[l2tp_probe.AVP_ASSIGNED_TUNNEL] == struct.pack("!H", 4242)
    assert avps[l2tp_probe.AVP_PROTOCOL_VERSION] == b"\x01\x00"
    zlb = l2tp_probe.message(4242, 1, 2)
    assert len(zlb) == 12 and l2tp_probe.parse(zlb) == (4242, 1, 2, None, {})


@pytest.mark.parametrize("garbage", [b"", b"\xc8\x02", b"\xc8\x02\x00\x40" + b"\0" * 8,
                                     b"\xc8\x02\x00\x12" + b"\0" * 8 + b"\x80\x02\0\0\0\0"])
def test_l2tp_parser_rejects_truncated_input(garbage):
    assert l2tp_probe.parse(garbage) is None


def test_raw_ipv4_parser_handles_options_and_truncation():
    header = bytes([0x46, 0, 0, 28]) + b"\0" * 5 + bytes([47, 0, 0]) + bytes([198, 51, 100, 1]) \
        + bytes([198, 51, 100, 10]) + b"\0" * 4
    assert probelib.parse_ipv4_packet(header + b"data") == (
        "198.51.100.1", "198.51.100.10", 47, b"data")
    assert probelib.parse_ipv4_packet(header[:10]) is None
    assert probelib.parse_ipv4_packet(b"\x60" + header[1:]) is None               # IPv6
