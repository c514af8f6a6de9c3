"""Raw ESP probe (IP protocol 50): the server echoes every ESP packet to its sender.

ESP has no ports, so a NAT router can map only ONE client per server at a time: a second client
behind the same NAT gets nothing while the first holds its conntrack entry. Used as a negative
control. See README.md in this directory for the CLI contract.
"""
import selectors
import socket
import struct
import sys
import time

import probelib

PROTOCOL = "esp"
IPPROTO_ESP = 50
ESP = struct.Struct("!II")              # SPI, sequence number
PAYLOAD = struct.Struct("!4s4sI")       # marker, client address, sequence
PAYLOAD_MARK = b"NPES"


# ---------------------------------------------------------------- server
class Server:
    def __init__(self, args):
        self.loop = probelib.ServerLoop(args)
        self.peers = {}
        self.counters = {"esp_in": 0, "echoed": 0, "send_errors": 0}
        self.sock = probelib.raw_socket(IPPROTO_ESP,
                                        None if args.listen == "0.0.0.0" else args.listen)
        self.loop.register(self.sock, self.on_esp)

    def on_esp(self, sock):
        for _burst in range(256):
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            packet = probelib.parse_ipv4_packet(data)
            if packet is None or packet[2] != IPPROTO_ESP or len(packet[3]) < ESP.size:
                continue
            src, esp = packet[0], packet[3]
            spi = ESP.unpack_from(esp)[0]
            peer = self.peers.setdefault(src, {"peer": src, "spis": [], "esp_in": 0, "echoed": 0})
            if spi not in peer["spis"]:
                peer["spis"].append(spi)
            peer["esp_in"] += 1
            self.counters["esp_in"] += 1
            try:
                sock.sendto(esp, (src, 0))
            except OSError:
                self.counters["send_errors"] += 1   # e.g. an un-NATed LAN source: no route
                continue
            peer["echoed"] += 1
            self.counters["echoed"] += 1

    def report(self):
        peers = [self.peers[k] for k in sorted(self.peers)]
        detail = "%d peers (%s); %d/%d ESP packets echoed" % (
            len(peers), ",".join(p["peer"] for p in peers) or "nobody",
            self.counters["echoed"], self.counters["esp_in"])
        return probelib.server_report(PROTOCOL, True, detail,
                                      dict(self.counters, peers=len(peers)), peers=peers)


def run_server(args):
    server = Server(args)
    server.loop.run()
    return probelib.emit(server.report())


# ---------------------------------------------------------------- client
def local_address(source, server):
    if source:
        return source
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((server, 9))     # no packet is sent: only the route lookup
        return probe.getsockname()[0]
    finally:
        probe.close()


class Peer:
    def __init__(self, source, server, spi):
        self.result = probelib.ClientResult(source)
        self.local = local_address(source, server)
        self.spi = spi or struct.unpack("!I", socket.inet_aton(self.local))[0]
        self.sock = probelib.raw_socket(IPPROTO_ESP, self.local)
        self.seqs = set()
        self.result.control_ok = True       # ESP has no control exchange
        self.result.extra["spi"] = self.spi


def on_reply(key):
    peer = key.data
    for data in probelib.drain(peer.sock):
        packet = probelib.parse_ipv4_packet(data)
        if packet is None or len(packet[3]) < ESP.size + PAYLOAD.size:
            continue
        spi, _seq = ESP.unpack_from(packet[3])
        mark, owner, seq = PAYLOAD.unpack_from(packet[3], ESP.size)
        if mark != PAYLOAD_MARK:
            continue
        if owner != socket.inet_aton(peer.local) or spi != peer.spi:
            peer.result.misdelivered += 1
        else:
            peer.seqs.add(seq)


def run_client(args):
    started = time.monotonic()
    sel = selectors.DefaultSelector()
    peers = [Peer(src, args.server, args.spi) for src in args.sources]
    for peer in peers:
        sel.register(peer.sock, selectors.EVENT_READ, peer)

    def send(peer, seq):
        packet = ESP.pack(peer.spi, seq + 1) + PAYLOAD.pack(
            PAYLOAD_MARK, socket.inet_aton(peer.local), seq)
        peer.sock.sendto(packet, (args.server, 0))
        peer.result.sent += 1

    # Paced, not a burst: --hold keeps the router's ESP mapping alive for that long.
    hold_until = started + (args.hold or 0)
    seq = 0
    while seq < args.packets or (time.monotonic() < hold_until and seq < probelib.MAX_PACKETS):
        for peer in peers:
            send(peer, seq)
        seq += 1
        for key, _mask in probelib.deadline_iter(sel, args.interval):
            on_reply(key)
    for key, _mask in probelib.deadline_iter(
            sel, args.timeout, lambda: all(len(p.seqs) >= p.result.sent for p in peers)):
        on_reply(key)
    for peer in peers:
        peer.result.delivered = len(peer.seqs)
        peer.sock.close()
    return probelib.emit(probelib.client_report(PROTOCOL, args, [p.result for p in peers],
                                                started))


def add_server_args(_parser):
    pass


def add_client_args(parser):
    parser.add_argument("--spi", type=probelib.spi32, default=None,
                        help="SPI to send (default: the source address as a number)")
    parser.add_argument("--interval", type=float, default=0.05,
                        help="seconds between packets (default 0.05)")
    parser.add_argument("--hold", type=float, default=None,
                        help="keep sending for SECONDS (holds the router's ESP mapping)")


def check_client_args(parser, args):
    if args.role == "client":
        if not 0 < args.interval <= 10:
            parser.error("--interval must be in (0, 10]")
        if args.hold is not None and not 0 < args.hold <= 600:
            parser.error("--hold must be in (0, 600]")


def main(argv=None):
    return probelib.run_probe(__doc__, PROTOCOL, add_server_args, add_client_args, run_server,
                              run_client, argv, check=check_client_args)


if __name__ == "__main__":
    sys.exit(main())
