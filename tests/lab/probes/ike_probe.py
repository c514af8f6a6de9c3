"""IKE / NAT-T probe: IKE_SA_INIT on UDP 500, then IKE_AUTH and ESP-in-UDP on UDP 4500.

Each client has its own initiator SPI (cookie) and ESP SPI, built from its address, so a reply
that reaches the wrong client is recognised. See README.md in this directory for the CLI contract.
"""
import selectors
import socket
import struct
import sys
import time

import probelib

PROTOCOL = "ike"
IKE_PORT, NATT_PORT = 500, 4500
# RFC 7296 header: initiator SPI, responder SPI, next payload, version, exchange, flags, msg id, len
IKE = struct.Struct("!8s8sBBBBII")
IKE_VERSION = 0x20
IKE_SA_INIT, IKE_AUTH = 34, 35
FIRST_RETRANSMIT = 0.5   # seconds; control messages only, data packets are never resent
FLAG_INITIATOR, FLAG_RESPONSE = 0x08, 0x20
NON_ESP_MARKER = b"\0\0\0\0"          # RFC 3948: IKE on 4500 starts with four zero bytes
COOKIE_MARK = b"NPIK"
ESP = struct.Struct("!II")              # SPI, sequence number
PAYLOAD = struct.Struct("!4s4sI")       # marker, client address, sequence
PAYLOAD_MARK = b"NPNT"


def retransmit_waits(timeout):
    """0.5, 1, 2, ... seconds, cut so that they add up to exactly `timeout`."""
    waits, step, left = [], FIRST_RETRANSMIT, timeout
    while left > 1e-9:
        waits.append(min(step, left))
        left -= waits[-1]
        step *= 2
    return waits


def cookie_for(address):
    return socket.inet_aton(address) + COOKIE_MARK


def ike_message(ispi, rspi, exchange, flags, msg_id):
    return IKE.pack(ispi, rspi, 0, IKE_VERSION, exchange, flags, msg_id, IKE.size)


def parse_ike(data):
    if len(data) < IKE.size:
        return None
    fields = IKE.unpack_from(data)
    if fields[3] != IKE_VERSION:
        return None
    return fields


# ---------------------------------------------------------------- server
class Server:
    def __init__(self, args):
        self.loop = probelib.ServerLoop(args)
        self.peers = {}              # cookie -> what was seen
        self.esp_from = {}           # "addr:port" -> ESP-in-UDP packets
        self.counters = {"ike_in": 0, "natt_in": 0, "esp_in_udp_in": 0, "echoed": 0,
                         "malformed": 0, "send_errors": 0}
        self.ike = probelib.udp_socket(args.listen, IKE_PORT)
        self.natt = probelib.udp_socket(args.listen, NATT_PORT)
        self.loop.register(self.ike, self.on_ike)
        self.loop.register(self.natt, self.on_natt)

    def peer(self, ispi):
        return self.peers.setdefault(ispi, {"cookie": ispi.hex(), "ike_from": None,
                                            "natt_from": None, "ike_in": 0, "natt_in": 0,
                                            "responder_spi": "%016x" % (len(self.peers) + 1)})

    def answer(self, data, prefix=b""):
        fields = parse_ike(data)
        if fields is None:
            self.counters["malformed"] += 1
            return None, None
        ispi, _rspi, _np, _ver, exchange, _flags, msg_id, _len = fields
        peer = self.peer(ispi)
        reply = prefix + ike_message(ispi, bytes.fromhex(peer["responder_spi"]), exchange,
                                     FLAG_RESPONSE, msg_id)
        return peer, reply

    def send(self, sock, reply, dst):
        try:
            sock.sendto(reply, dst)
        except OSError:
            self.counters["send_errors"] += 1   # e.g. an un-NATed LAN source: no route
            return
        self.counters["echoed"] += 1

    def on_ike(self, sock):
        for _burst in range(256):
            try:
                data, src = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            peer, reply = self.answer(data)
            if peer is None:
                continue
            self.counters["ike_in"] += 1
            peer["ike_in"] += 1
            peer["ike_from"] = "%s:%d" % src
            self.send(sock, reply, src)

    def on_natt(self, sock):
        for _burst in range(256):
            try:
                data, src = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            source = "%s:%d" % src
            if data[:4] == NON_ESP_MARKER:
                peer, reply = self.answer(data[4:], NON_ESP_MARKER)
                if peer is None:
                    continue
                self.counters["natt_in"] += 1
                peer["natt_in"] += 1
                peer["natt_from"] = source
            elif len(data) >= ESP.size:
                self.counters["esp_in_udp_in"] += 1
                self.esp_from[source] = self.esp_from.get(source, 0) + 1
                reply = data                     # ESP-in-UDP: echoed unchanged
            else:
                continue                         # NAT-keepalive (0xff) or junk
            self.send(sock, reply, src)

    def report(self):
        peers = [self.peers[k] for k in sorted(self.peers)]
        for peer in peers:
            peer["esp_in_udp_in"] = self.esp_from.get(peer["natt_from"], 0)
        sources = {p["natt_from"] for p in peers if p["natt_from"]}
        addresses = sorted({s.rsplit(":", 1)[0] for s in sources})
        detail = "%d peers; %d distinct NAT-T sources from %s; %d ESP-in-UDP echoed" % (
            len(peers), len(sources), ",".join(addresses) or "nobody",
            self.counters["esp_in_udp_in"])
        counters = dict(self.counters, peers=len(peers), natt_sources=len(sources))
        return probelib.server_report(PROTOCOL, True, detail, counters, peers=peers,
                                      natt_source_addresses=addresses)


def run_server(args):
    server = Server(args)
    server.loop.run()
    return probelib.emit(server.report())


# ---------------------------------------------------------------- client
class Peer:
    def __init__(self, source):
        self.result = probelib.ClientResult(source)
        self.local = source
        self.ike = self.natt = None
        self.cookie = None
        self.phase_ok = {"ike": False, "natt": False}
        self.seqs = set()
        self.spi = 0


def on_reply(key):
    """Account every datagram waiting on one of a peer's sockets."""
    peer, sock = key.data, key.fileobj
    for data in probelib.drain(sock):
        if sock is peer.ike or data[:4] == NON_ESP_MARKER:
            fields = parse_ike(data if sock is peer.ike else data[4:])
            if fields is None:
                continue
            if fields[0] != peer.cookie:
                peer.result.misdelivered += 1
            elif fields[5] & FLAG_RESPONSE:
                peer.phase_ok["ike" if sock is peer.ike else "natt"] = True
        elif len(data) >= ESP.size + PAYLOAD.size:
            spi, _seq = ESP.unpack_from(data)
            mark, owner, seq = PAYLOAD.unpack_from(data, ESP.size)
            if mark != PAYLOAD_MARK:
                continue
            if spi != peer.spi or owner != socket.inet_aton(peer.local):
                peer.result.misdelivered += 1
            else:
                peer.seqs.add(seq)


def run_client(args):
    started = time.monotonic()
    peers = [Peer(src) for src in args.sources]
    sel = selectors.DefaultSelector()
    for peer in peers:
        try:
            peer.ike = probelib.connected_udp(peer.local, args.local_ike_port, args.server,
                                              IKE_PORT)
            peer.natt = probelib.connected_udp(peer.local, args.local_natt_port, args.server,
                                               NATT_PORT)
        except OSError as exc:
            peer.result.error = "socket: %s" % exc
            continue
        peer.local = peer.ike.getsockname()[0]
        peer.cookie = cookie_for(peer.local)
        peer.spi = struct.unpack("!I", socket.inet_aton(peer.local))[0]
        sel.register(peer.ike, selectors.EVENT_READ, peer)
        sel.register(peer.natt, selectors.EVENT_READ, peer)
    live = [p for p in peers if p.ike]

    def phase(name, sock_of, message):
        def send(peer):
            sock_of(peer).send(message(peer))

        # Like a real IKE initiator (RFC 7296 section 2.1), retransmit to peers still without
        # an answer, with doubling waits inside the same timeout: one lost datagram must not
        # decide a passthrough check, and a blocked path still fails within --timeout.
        for wait in retransmit_waits(args.timeout):
            pending = [p for p in live if p.result.error is None and not p.phase_ok[name]]
            if not pending:
                break

            def received(pending=pending):
                return sum(1 for p in pending if p.phase_ok[name]) + sum(
                    p.result.misdelivered for p in pending)
            probelib.run_round(sel, pending, send, on_reply, received, wait)
        for peer in live:
            if name != "data" and not peer.phase_ok[name] and peer.result.error is None:
                peer.result.error = "%s: no reply from %s:%d" % (
                    "IKE_SA_INIT" if name == "ike" else "NAT-T IKE_AUTH", args.server,
                    IKE_PORT if name == "ike" else NATT_PORT)

    phase("ike", lambda p: p.ike,
          lambda p: ike_message(p.cookie, b"\0" * 8, IKE_SA_INIT, FLAG_INITIATOR, 0))
    phase("natt", lambda p: p.natt,
          lambda p: NON_ESP_MARKER + ike_message(p.cookie, b"\0" * 8, IKE_AUTH,
                                                 FLAG_INITIATOR, 1))
    ready = [p for p in live if p.phase_ok["ike"] and p.phase_ok["natt"]]
    for peer in ready:
        peer.result.control_ok = True
    queue = [(p, seq) for seq in range(args.packets) for p in ready]

    def send_data(item):
        peer, seq = item
        peer.natt.send(ESP.pack(peer.spi, seq + 1) + PAYLOAD.pack(
            PAYLOAD_MARK, socket.inet_aton(peer.local), seq))
        peer.result.sent += 1

    def received_data():
        return sum(len(p.seqs) + p.result.misdelivered for p in ready)
    probelib.run_round(sel, queue, send_data, on_reply, received_data,
                       args.timeout)
    for peer in peers:
        peer.result.delivered = len(peer.seqs)
        peer.result.extra.update({"ike_ok": peer.phase_ok["ike"],
                                  "natt_ok": peer.phase_ok["natt"],
                                  "cookie": peer.cookie.hex() if peer.cookie else None})
        for sock in (peer.ike, peer.natt):
            if sock:
                sock.close()
    return probelib.emit(probelib.client_report(PROTOCOL, args, [p.result for p in peers],
                                                started))


def add_server_args(_parser):
    pass


def add_client_args(parser):
    parser.add_argument("--local-ike-port", type=probelib.port_number, default=IKE_PORT,
                        help="local UDP port for IKE (default 500, like an IKE daemon)")
    parser.add_argument("--local-natt-port", type=probelib.port_number, default=NATT_PORT,
                        help="local UDP port for NAT-T (default 4500)")


def main(argv=None):
    return probelib.run_probe(__doc__, PROTOCOL, add_server_args, add_client_args, run_server,
                              run_client, argv)


if __name__ == "__main__":
    sys.exit(main())
