"""L2TP control probe (UDP 1701, RFC 2661): SCCRQ -> SCCRP -> SCCCN -> ZLB, then HELLOs.

Every client sends from port 1701 (like xl2tpd) with its own Assigned Tunnel ID, so the router
must remap source ports and every reply must carry the tunnel ID of the client it reaches.
See README.md in this directory for the CLI contract.
"""
import selectors
import socket
import struct
import sys
import time

import probelib

PROTOCOL = "l2tp"
L2TP_PORT = 1701
HEADER = struct.Struct("!HHHHHH")     # flags/version, length, tunnel id, session id, Ns, Nr
CONTROL_FLAGS = 0xC802               # T (control), L (length), S (sequence), version 2
AVP_HEADER = struct.Struct("!HHH")    # M bit + length, vendor id, attribute type
AVP_MANDATORY = 0x8000
# Attribute types and control message types (RFC 2661 sections 4.4, 3.2)
AVP_MESSAGE_TYPE, AVP_PROTOCOL_VERSION, AVP_FRAMING, AVP_HOST_NAME = 0, 2, 3, 7
AVP_ASSIGNED_TUNNEL, AVP_RESULT = 9, 1
SCCRQ, SCCRP, SCCCN, STOPCCN, HELLO = 1, 2, 3, 4, 6
NAMES = {SCCRQ: "SCCRQ", SCCRP: "SCCRP", SCCCN: "SCCCN", STOPCCN: "StopCCN", HELLO: "HELLO",
         None: "ZLB"}


def avp(attr, value):
    return AVP_HEADER.pack(AVP_MANDATORY | (AVP_HEADER.size + len(value)), 0, attr) + value


def message(tunnel_id, ns, nr, msg_type=None, avps=()):
    """A control message; msg_type None builds a ZLB (header only) acknowledgement."""
    body = b""
    if msg_type is not None:
        body = avp(AVP_MESSAGE_TYPE, struct.pack("!H", msg_type)) + b"".join(avps)
    return HEADER.pack(CONTROL_FLAGS, HEADER.size + len(body), tunnel_id, 0, ns, nr) + body


def parse(data):
    """(tunnel_id, ns, nr, msg_type or None for a ZLB, {attr: value}) or None."""
    if len(data) < HEADER.size:
        return None
    flags, length, tunnel_id, _session, ns, nr = HEADER.unpack_from(data)
    if flags & 0xC80F != CONTROL_FLAGS or not HEADER.size <= length <= len(data):
        return None
    avps, offset = {}, HEADER.size
    while offset + AVP_HEADER.size <= length:
        bits, vendor, attr = AVP_HEADER.unpack_from(data, offset)
        size = bits & 0x03FF
        if size < AVP_HEADER.size or offset + size > length:
            return None
        if vendor == 0:
            avps[attr] = data[offset + AVP_HEADER.size:offset + size]
        offset += size
    msg_type = None
    if AVP_MESSAGE_TYPE in avps and len(avps[AVP_MESSAGE_TYPE]) == 2:
        msg_type = struct.unpack("!H", avps[AVP_MESSAGE_TYPE])[0]
    elif length != HEADER.size:
        return None
    return tunnel_id, ns, nr, msg_type, avps


def tunnel_avps(host, tunnel_id):
    return (avp(AVP_PROTOCOL_VERSION, b"\x01\x00"), avp(AVP_FRAMING, struct.pack("!I", 3)),
            avp(AVP_HOST_NAME, host), avp(AVP_ASSIGNED_TUNNEL, struct.pack("!H", tunnel_id)))


# ---------------------------------------------------------------- server
class Server:
    def __init__(self, args):
        self.loop = probelib.ServerLoop(args)
        self.peers = {}
        self.counters = {"messages_in": 0, "replies": 0, "malformed": 0, "send_errors": 0}
        self.sock = probelib.udp_socket(args.listen, L2TP_PORT)
        self.loop.register(self.sock, self.on_datagram)

    def on_datagram(self, sock):
        for _burst in range(256):
            try:
                data, src = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            msg = parse(data)
            if msg is None:
                self.counters["malformed"] += 1
                continue
            self.counters["messages_in"] += 1
            reply = self.answer("%s:%d" % src, msg)
            if reply is None:
                continue
            try:
                sock.sendto(reply, src)
            except OSError:
                self.counters["send_errors"] += 1
                continue
            self.counters["replies"] += 1

    def answer(self, source, msg):
        _tunnel_id, ns, _nr, msg_type, avps = msg
        peer = self.peers.get(source)
        if msg_type == SCCRQ:
            tid = avps.get(AVP_ASSIGNED_TUNNEL, b"")
            if len(tid) != 2:
                self.counters["malformed"] += 1
                return None
            peer = self.peers[source] = {
                "peer": source, "client_tunnel_id": struct.unpack("!H", tid)[0],
                "server_tunnel_id": len(self.peers) + 1,
                "host_name": avps.get(AVP_HOST_NAME, b"").decode("ascii", "replace"),
                "messages": [], "ns": 0}
        if peer is None:
            return None            # nothing known about this source: no tunnel to answer for
        peer["messages"].append(NAMES.get(msg_type, str(msg_type)))
        if msg_type is None:
            return None            # a ZLB needs no answer
        reply_type = SCCRP if msg_type == SCCRQ else None
        avps_out = tunnel_avps(b"probe-lns", peer["server_tunnel_id"]) if reply_type else ()
        reply = message(peer["client_tunnel_id"], peer["ns"], (ns + 1) & 0xFFFF, reply_type,
                        avps_out)
        if reply_type is not None:
            peer["ns"] += 1
        return reply

    def report(self):
        peers = [self.peers[k] for k in sorted(self.peers)]
        for peer in peers:
            peer.pop("ns", None)
        sources = sorted(p["peer"] for p in peers)
        detail = "%d tunnels from %s" % (len(peers), ", ".join(sources) or "nobody")
        return probelib.server_report(PROTOCOL, True, detail,
                                      dict(self.counters, tunnels=len(peers)), peers=peers)


def run_server(args):
    server = Server(args)
    server.loop.run()
    return probelib.emit(server.report())


# ---------------------------------------------------------------- client
class Peer:
    def __init__(self, source, args):
        self.result = probelib.ClientResult(source)
        self.sock = probelib.connected_udp(source, args.local_port, args.server, L2TP_PORT)
        self.local = self.sock.getsockname()[0]
        self.tunnel_id = args.tunnel_id or (
            struct.unpack("!I", socket.inet_aton(self.local))[0] % 0xFFFF + 1)
        self.server_tunnel_id = None
        self.zlb_acks = set()        # Nr values of ZLBs: which of our messages were acknowledged
        self.sccrp = False

    def on_readable(self):
        for data in probelib.drain(self.sock):
            msg = parse(data)
            if msg is None:
                continue
            tunnel_id, _ns, nr, msg_type, avps = msg
            if tunnel_id != self.tunnel_id:
                self.result.misdelivered += 1       # a reply for another client's tunnel
            elif msg_type == SCCRP and len(avps.get(AVP_ASSIGNED_TUNNEL, b"")) == 2:
                self.server_tunnel_id = struct.unpack("!H", avps[AVP_ASSIGNED_TUNNEL])[0]
                self.sccrp = True
            elif msg_type is None:
                self.zlb_acks.add(nr)


def run_client(args):
    started = time.monotonic()
    sel = selectors.DefaultSelector()
    peers = []
    for src in args.sources:
        peer = Peer(src, args)
        sel.register(peer.sock, selectors.EVENT_READ, peer)
        peers.append(peer)

    def on_readable(key):
        key.data.on_readable()

    def misdelivered():
        return sum(p.result.misdelivered for p in peers)

    host = b"netpolicy-probe"
    probelib.run_round(
        sel, peers,
        lambda p: p.sock.send(message(0, 0, 0, SCCRQ, tunnel_avps(host, p.tunnel_id))),
        on_readable, lambda: sum(p.sccrp for p in peers) + misdelivered(), args.timeout)
    up = [p for p in peers if p.sccrp]
    # SCCCN is Ns=1; it is acknowledged by a ZLB with Nr=2.
    probelib.run_round(
        sel, up, lambda p: p.sock.send(message(p.server_tunnel_id, 1, 1, SCCCN)),
        on_readable, lambda: sum(2 in p.zlb_acks for p in up) + misdelivered(), args.timeout)
    for peer in peers:
        if not peer.sccrp:
            peer.result.error = "SCCRQ: no SCCRP from %s:%d" % (args.server, L2TP_PORT)
        elif 2 not in peer.zlb_acks:
            peer.result.error = "SCCCN: not acknowledged"
        else:
            peer.result.control_ok = True
    ready = [p for p in peers if p.result.control_ok]
    # HELLO number i has Ns = 2 + i and is acknowledged by a ZLB with Nr = 3 + i.
    queue = [(p, i) for i in range(args.packets) for p in ready]

    def send_hello(item):
        peer, i = item
        peer.sock.send(message(peer.server_tunnel_id, 2 + i, 1, HELLO))
        peer.result.sent += 1

    def acked():
        return sum(len(p.zlb_acks - {2}) for p in ready) + misdelivered()
    probelib.run_round(sel, queue, send_hello, on_readable, acked, args.timeout)
    for peer in peers:
        peer.result.delivered = len(peer.zlb_acks - {2})
        peer.result.extra.update({"tunnel_id": peer.tunnel_id,
                                  "server_tunnel_id": peer.server_tunnel_id})
        peer.sock.close()
    return probelib.emit(probelib.client_report(PROTOCOL, args, [p.result for p in peers],
                                                started))


def add_server_args(_parser):
    pass


def add_client_args(parser):
    parser.add_argument("--local-port", type=probelib.port_number, default=L2TP_PORT,
                        help="local UDP port (default 1701, like xl2tpd)")
    parser.add_argument("--tunnel-id", type=probelib.id16, default=None,
                        help="Assigned Tunnel ID (default: derived from the source address)")


def main(argv=None):
    return probelib.run_probe(__doc__, PROTOCOL, add_server_args, add_client_args, run_server,
                              run_client, argv)


if __name__ == "__main__":
    sys.exit(main())
