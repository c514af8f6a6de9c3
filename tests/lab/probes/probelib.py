"""Shared pieces of the protocol probes: CLI options, the JSON report, the server loop.

Stdlib only: the probes run in minimal lab containers that have nothing but python3.
"""
import argparse
import ipaddress
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

# Hard caps so no probe can loop forever, whatever its arguments say.
MAX_CLIENTS = 4096
MAX_PACKETS = 10000


def log(msg):
    sys.stderr.write("%s\n" % msg)
    sys.stderr.flush()


def positive_int(text):
    value = int(text, 0)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %s" % text)
    return value


def port_number(text):
    value = int(text, 0)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("not a port number: %s" % text)
    return value


def id16(text):
    value = int(text, 0)
    if not 1 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError("must be 1..65535 (0x1..0xffff), got %s" % text)
    return value


def spi32(text):
    value = int(text, 0)
    if not 256 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError("SPI must be 256..4294967295 (1-255 are reserved)")
    return value


def ipv4(text):
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError("not an IPv4 address: %r" % text) from None


def address_range(text):
    first, sep, last = text.partition("-")
    if not sep:
        raise argparse.ArgumentTypeError("expected FIRST-LAST, got %r" % text)
    lo, hi = int(ipaddress.IPv4Address(ipv4(first))), int(ipaddress.IPv4Address(ipv4(last)))
    if hi < lo or hi - lo + 1 > MAX_CLIENTS:
        raise argparse.ArgumentTypeError("range %r is empty or longer than %d" % (text, MAX_CLIENTS))
    return [str(ipaddress.IPv4Address(n)) for n in range(lo, hi + 1)]


def build_parser(description, add_server, add_client):
    """Parser with `server` and `client` subcommands; add_* add protocol-specific options."""
    parser = argparse.ArgumentParser(description=description)
    sub = parser.add_subparsers(dest="role", required=True)
    srv = sub.add_parser("server", help="answer and echo until killed or --duration")
    srv.add_argument("--listen", type=ipv4, default="0.0.0.0", help="local address to bind")
    srv.add_argument("--duration", type=float, default=None, help="stop after SECONDS")
    srv.add_argument("--ready-file", default=None, help="create PATH once sockets are bound")
    add_server(srv)
    cli = sub.add_parser("client", help="run the exchange from one or many source addresses")
    cli.add_argument("--server", type=ipv4, required=True, help="server address")
    cli.add_argument("--source", type=ipv4, action="append", default=[],
                     help="local source address (repeatable)")
    cli.add_argument("--source-range", type=address_range, default=None, metavar="FIRST-LAST",
                     help="every address FIRST..LAST as a source (scale mode)")
    cli.add_argument("--name", default=None, help="label for the report")
    cli.add_argument("--packets", type=positive_int, default=5, help="data packets per client")
    cli.add_argument("--timeout", type=float, default=5.0, help="seconds to wait per phase")
    cli.add_argument("--min-replies", type=int, default=None,
                     help="replies each client needs for ok (default: all)")
    add_client(cli)
    return parser


def parse(parser, argv=None):
    args = parser.parse_args(argv)
    if args.role == "client":
        sources = list(args.source) + list(args.source_range or [])
        if len(set(sources)) != len(sources):
            parser.error("--source/--source-range list an address twice")
        if len(sources) > MAX_CLIENTS:
            parser.error("at most %d sources" % MAX_CLIENTS)
        args.sources = sources or [None]
        if args.packets > MAX_PACKETS:
            parser.error("--packets is capped at %d" % MAX_PACKETS)
        if args.min_replies is None:
            args.min_replies = args.packets
        if not 0 <= args.min_replies <= args.packets:
            parser.error("--min-replies must be between 0 and --packets")
        if not 0 < args.timeout <= 600:
            parser.error("--timeout must be in (0, 600]")
    elif args.duration is not None and args.duration <= 0:
        parser.error("--duration must be > 0")
    return args


def raise_fd_limit():
    # Scale mode opens two sockets per client; lift the soft limit to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY
                                                    else max(soft, 65536), hard))


def emit(report):
    """Print the one JSON line and return the exit status it implies."""
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0 if report.get("ok") else 1


def client_label(args):
    if args.name:
        return args.name
    first = args.sources[0] or "default"
    if len(args.sources) == 1:
        return first
    return "%s+%d" % (first, len(args.sources) - 1)


class ClientResult:
    """What one client (one source address) achieved."""

    def __init__(self, source):
        self.source = source
        self.control_ok = False
        self.sent = 0
        self.delivered = 0
        self.misdelivered = 0     # replies for some other client that arrived here
        self.error = None
        self.extra = {}

    def as_dict(self, min_replies):
        data = {"source": self.source, "control_ok": self.control_ok, "sent": self.sent,
                "delivered": self.delivered, "misdelivered": self.misdelivered,
                "ok": self.ok(min_replies)}
        if self.error:
            data["error"] = self.error
        data.update(self.extra)
        return data

    def ok(self, min_replies):
        return (self.control_ok and self.error is None and self.delivered >= min_replies
                and self.misdelivered == 0)


def client_report(protocol, args, results, started, **extra):
    """The client JSON object: totals, ok, a one-sentence detail and per-client results."""
    n_ok = sum(1 for r in results if r.ok(args.min_replies))
    sent = sum(r.sent for r in results)
    delivered = sum(r.delivered for r in results)
    misdelivered = sum(r.misdelivered for r in results)
    control = sum(1 for r in results if r.control_ok)
    counters = {"clients": len(results), "clients_ok": n_ok, "control_ok": control,
                "sent": sent, "delivered": delivered, "lost": sent - delivered,
                "misdelivered": misdelivered,
                "elapsed_ms": int((time.monotonic() - started) * 1000)}
    ok = n_ok == len(results) and misdelivered == 0
    errors = sorted({r.error for r in results if r.error})
    detail = "%d/%d clients ok; control %d/%d; %d/%d replies delivered, %d misdelivered" % (
        n_ok, len(results), control, len(results), delivered, sent, misdelivered)
    if errors:
        detail += "; errors: " + "; ".join(errors[:3])
    report = {"protocol": protocol, "role": "client", "client": client_label(args),
              "server": args.server, "ok": ok, "detail": detail, "counters": counters,
              "clients_detail": [r.as_dict(args.min_replies) for r in results]}
    report.update(extra)
    return report


def deadline_iter(sel, seconds, done=lambda: False):
    """Yield (key, mask) events from a selector until `seconds` pass or done() is true."""
    end = time.monotonic() + seconds
    while not done():
        left = end - time.monotonic()
        if left <= 0:
            return
        for key, mask in sel.select(min(left, 0.5)):
            yield key, mask


def paced_send(queue, send, received, pump, timeout, window=32, round_wait=0.1):
    """Send queue items in rounds of `window`, waiting up to round_wait for each round's replies
    before the next (and up to `timeout` at the end for the rest). Bursts of hundreds of
    packets overflow the veth/backlog queues of a lab; a self-clocked window does not."""
    end = time.monotonic() + timeout
    sent = 0
    for start in range(0, len(queue), window):
        if time.monotonic() > end:
            break
        for item in queue[start:start + window]:
            send(item)
            sent += 1
        target = sent
        pump(min(round_wait, max(0.0, end - time.monotonic())), lambda: received() >= target)
    total = sent
    pump(max(0.0, end - time.monotonic()), lambda: received() >= total)
    return sent


def run_round(sel, queue, send, on_readable, received, timeout):
    """paced_send over a selector whose registered data is the callback for readable keys."""
    def pump(seconds, done):
        for key, _mask in deadline_iter(sel, seconds, done):
            on_readable(key)
    sent = paced_send(queue, send, received, pump, timeout)
    pump(0.1, lambda: False)      # late or misdelivered replies still count
    return sent


def connected_udp(source, local_port, server, port):
    """UDP socket bound to (source, local_port) and connected to the server: only the server's
    replies arrive, and getsockname() tells the local address the route chose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((source or "0.0.0.0", local_port))
    sock.connect((server, port))
    sock.setblocking(False)
    return sock


def drain(sock, limit=256):
    """Up to `limit` datagrams waiting on a non-blocking socket."""
    out = []
    for _burst in range(limit):
        try:
            out.append(sock.recv(65536))
        except (BlockingIOError, InterruptedError):
            break
        except ConnectionRefusedError:
            continue      # ICMP port unreachable from an earlier send: not a reply
    return out


def parse_ipv4_packet(data):
    """Split what a raw IPv4 socket returns into (src, dst, proto, payload); None if malformed."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 0x0F) * 4
    total = struct.unpack("!H", data[2:4])[0]
    if ihl < 20 or len(data) < ihl:
        return None
    end = min(total, len(data)) if total >= ihl else len(data)
    return (socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20]), data[9],
            data[ihl:end])


def raw_socket(proto, bind_addr=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    if bind_addr:
        # A bound raw socket receives only packets addressed to that address: the
        # demultiplexing that makes per-client accounting exact in scale mode.
        sock.bind((bind_addr, 0))
    sock.setblocking(False)
    return sock


def udp_socket(addr, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((addr or "0.0.0.0", port))
    sock.setblocking(False)
    return sock


class ServerLoop:
    """Single-threaded selector loop that stops on SIGTERM/SIGINT or after --duration."""

    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, _signum, _frame):
        self.stopping = True

    def register(self, sock, callback):
        self.sel.register(sock, selectors.EVENT_READ, callback)

    def unregister(self, sock):
        try:
            self.sel.unregister(sock)
        except (KeyError, ValueError):
            pass

    def run(self):
        if self.args.ready_file:
            with open(self.args.ready_file, "w", encoding="ascii") as handle:
                handle.write("%d\n" % os.getpid())
        end = None if self.args.duration is None else time.monotonic() + self.args.duration
        while not self.stopping:
            timeout = 0.5 if end is None else min(0.5, end - time.monotonic())
            if timeout <= 0:
                break
            for key, _mask in self.sel.select(timeout):
                key.data(key.fileobj)


def server_report(protocol, ok, detail, counters, **extra):
    report = {"protocol": protocol, "role": "server", "client": None, "ok": ok,
              "detail": detail, "counters": counters}
    report.update(extra)
    return report


def run_probe(module_doc, protocol, add_server_args, add_client_args, run_server, run_client,
              argv=None, check=None):
    """The whole main() of a probe: parse (plus the probe's own `check(parser, args)`), raise
    the fd limit, run the role under main_guard."""
    parser = build_parser(module_doc.splitlines()[0], add_server_args, add_client_args)
    args = parse(parser, argv)
    if check is not None:
        check(parser, args)
    raise_fd_limit()
    return main_guard(protocol, args, run_server if args.role == "server" else run_client)


def main_guard(protocol, args, func):
    """Run a probe role; a socket error becomes a JSON failure (exit 1), never a traceback."""
    try:
        return func(args)
    except OSError as exc:
        return emit({"protocol": protocol, "role": args.role, "client": None, "ok": False,
                     "detail": "socket error: %s" % exc, "counters": {}})
