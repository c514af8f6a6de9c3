"""PPTP probe: TCP 1723 control exchange and enhanced GRE echo (RFC 2637).

Every client uses the SAME call ID, so replies reach the right client only if the router's
PPTP NAT helper rewrites call IDs. See README.md in this directory for the CLI contract.
"""
import errno
import selectors
import socket
import struct
import sys
import time

import probelib

PROTOCOL = "pptp"
PPTP_PORT = 1723
MAGIC = 0x1A2B3C4D
CONTROL_MESSAGE = 1
HEADER = struct.Struct("!HHIHH")          # length, PPTP message type, magic cookie, type, reserved0

# Control message types and bodies (RFC 2637 section 2), everything after the 12-byte header.
SCCRQ, SCCRP, STOPCCRQ, STOPCCRP, ECHO_RQ, ECHO_RP = 1, 2, 3, 4, 5, 6
OCRQ, OCRP, CCRQ, CDN, SLI = 7, 8, 12, 13, 15
BODY = {
    SCCRQ: struct.Struct("!HHIIHH64s64s"),    # version, rsvd, framing, bearer, chans, fw, host, vendor
    SCCRP: struct.Struct("!HBBIIHH64s64s"),   # version, result, error, framing, bearer, ...
    STOPCCRQ: struct.Struct("!BBH"),          # reason, reserved1, reserved2
    STOPCCRP: struct.Struct("!BBH"),          # result, error, reserved
    ECHO_RQ: struct.Struct("!I"),             # identifier
    ECHO_RP: struct.Struct("!IBBH"),          # identifier, result, error, reserved
    OCRQ: struct.Struct("!HHIIIIHHHH64s64s"),  # call id, serial, min/max bps, bearer, framing,
    #                                           window, delay, phone len, rsvd, phone, subaddress
    OCRP: struct.Struct("!HHBBHIHHI"),        # call id, peer's call id, result, error, cause,
    #                                           speed, window, delay, physical channel
    CCRQ: struct.Struct("!HH"),               # call id, reserved
    CDN: struct.Struct("!HBBHH128s"),         # call id, result, error, cause, rsvd, statistics
    SLI: struct.Struct("!HHII"),              # peer's call id, reserved, send/recv ACCM
}

# Enhanced GRE (RFC 2637 section 4.1): flags+version, protocol, payload length, call id, seq.
GRE_FLAGS = 0x3001                      # K (key) and S (sequence) present, version 1
GRE_PPP = 0x880B
GRE = struct.Struct("!HHHHI")
# Probe payload: marker, the sending client's address, sequence number.
PAYLOAD = struct.Struct("!4s4sI")
PAYLOAD_MARK = b"NPGR"


def control(msg_type, *fields):
    body = BODY[msg_type].pack(*fields)
    return HEADER.pack(HEADER.size + len(body), CONTROL_MESSAGE, MAGIC, msg_type, 0) + body


def split_messages(buf):
    """Take complete control messages off the front of buf: ([(type, body)], rest, error)."""
    messages = []
    while len(buf) >= HEADER.size:
        length, pptp_type, magic, msg_type, _reserved = HEADER.unpack_from(buf)
        if magic != MAGIC or pptp_type != CONTROL_MESSAGE or not HEADER.size <= length <= 4096:
            return messages, b"", "bad control header (magic 0x%08x, length %d)" % (magic, length)
        if len(buf) < length:
            break
        body, buf = buf[HEADER.size:length], buf[length:]
        spec = BODY.get(msg_type)
        if spec is not None and len(body) >= spec.size:
            messages.append((msg_type, spec.unpack_from(body)))
        else:
            messages.append((msg_type, None))
    return messages, buf, None


def gre_packet(call_id, seq, payload):
    return GRE.pack(GRE_FLAGS, GRE_PPP, len(payload), call_id, seq) + payload


def parse_gre(data):
    """(call_id, payload) of an enhanced GRE packet, or None for anything else."""
    if len(data) < 8:
        return None
    flags, proto, length, call_id = struct.unpack_from("!HHHH", data)
    if flags & 0x0007 != 1 or proto != GRE_PPP or not flags & 0x2000:
        return None
    offset = 8 + (4 if flags & 0x1000 else 0) + (4 if flags & 0x0080 else 0)
    return call_id, data[offset:offset + length]


# ---------------------------------------------------------------- server
class Server:
    def __init__(self, args):
        self.args = args
        self.loop = probelib.ServerLoop(args)
        self.buffers = {}
        self.calls = {}             # server call id -> call record
        self.next_call_id = 0x0100
        self.counters = {"connections": 0, "calls": 0, "gre_in": 0, "gre_echoed": 0,
                         "gre_unknown_call": 0, "bad_control": 0, "send_errors": 0}
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((args.listen, PPTP_PORT))
        self.listener.listen(1024)
        self.listener.setblocking(False)
        self.gre = probelib.raw_socket(socket.IPPROTO_GRE,
                                       None if args.listen == "0.0.0.0" else args.listen)
        self.loop.register(self.listener, self.on_accept)
        self.loop.register(self.gre, self.on_gre)

    def on_accept(self, listener):
        try:
            conn, _peer = listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffers[conn] = b""
        self.counters["connections"] += 1
        self.loop.register(conn, self.on_control)

    def close(self, conn):
        self.loop.unregister(conn)
        self.buffers.pop(conn, None)
        conn.close()

    def on_control(self, conn):
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close(conn)
            return
        messages, self.buffers[conn], error = split_messages(self.buffers[conn] + data)
        if error:
            self.counters["bad_control"] += 1
            probelib.log("pptp server: %s from %s" % (error, conn.getpeername()))
            self.close(conn)
            return
        for msg_type, fields in messages:
            reply = self.answer(conn, msg_type, fields)
            if reply:
                try:
                    conn.sendall(reply)
                except OSError:
                    self.close(conn)
                    return

    def answer(self, conn, msg_type, fields):
        if fields is None:
            self.counters["bad_control"] += 1
            return None
        if msg_type == SCCRQ:
            return control(SCCRP, 0x0100, 1, 0, 3, 3, 0, 1, b"probe-pac", b"netpolicy-probe")
        if msg_type == OCRQ:
            call_id, serial = fields[0], fields[1]
            server_call_id = self.next_call_id
            self.next_call_id = self.next_call_id + 1 if self.next_call_id < 0xFFFF else 0x0100
            peer = "%s:%d" % conn.getpeername()
            self.calls[server_call_id] = {"peer": peer, "peer_addr": conn.getpeername()[0],
                                          "call_id_seen": call_id, "serial": serial,
                                          "server_call_id": server_call_id,
                                          "gre_in": 0, "gre_out": 0}
            self.counters["calls"] += 1
            return control(OCRP, server_call_id, call_id, 1, 0, 0, 10000000, 64, 0, 0)
        if msg_type == ECHO_RQ:
            return control(ECHO_RP, fields[0], 1, 0, 0)
        if msg_type == CCRQ:
            return control(CDN, fields[0], 1, 0, 0, 0, b"")
        if msg_type == STOPCCRQ:
            return control(STOPCCRP, 1, 0, 0)
        return None

    def on_gre(self, sock):
        for _burst in range(256):            # drain a burst, bounded
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            packet = probelib.parse_ipv4_packet(data)
            gre = parse_gre(packet[3]) if packet else None
            if gre is None:
                continue
            self.counters["gre_in"] += 1
            call = self.calls.get(gre[0])
            if call is None:
                self.counters["gre_unknown_call"] += 1
                continue
            call["gre_in"] += 1
            # Echo to the sender with the key the peer announced in its OCRQ (as seen here).
            try:
                sock.sendto(gre_packet(call["call_id_seen"], call["gre_out"], gre[1]),
                            (packet[0], 0))
            except OSError:
                self.counters["send_errors"] += 1   # e.g. an un-NATed LAN source: no route
                continue
            call["gre_out"] += 1
            self.counters["gre_echoed"] += 1

    def report(self):
        peers = [{k: v for k, v in call.items() if k != "peer_addr"}
                 for _call_id, call in sorted(self.calls.items())]
        seen = sorted(c["call_id_seen"] for c in peers)
        distinct = len(set(seen))
        detail = "%d connections, %d calls, %d distinct call IDs seen, %d/%d GRE echoed" % (
            self.counters["connections"], self.counters["calls"], distinct,
            self.counters["gre_echoed"], self.counters["gre_in"])
        counters = dict(self.counters, distinct_call_ids=distinct)
        return probelib.server_report(PROTOCOL, True, detail, counters, peers=peers,
                                      call_ids_seen=seen)


def run_server(args):
    server = Server(args)
    server.loop.run()
    return probelib.emit(server.report())


# ---------------------------------------------------------------- client
class Call:
    """One client: its control connection, its GRE socket and its result."""

    def __init__(self, source):
        self.result = probelib.ClientResult(source)
        self.sock = None
        self.gre = None
        self.buf = b""
        self.local = source
        self.server_call_id = None
        self.seqs = set()
        self.wrong_key = 0


def connect_all(calls, server, sel, timeout):
    for call in calls:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if call.local:
            sock.bind((call.local, 0))
        sock.setblocking(False)
        err = sock.connect_ex((server, PPTP_PORT))
        if err not in (0, errno.EINPROGRESS):
            call.result.error = "connect: %s" % errno.errorcode.get(err, err)
            sock.close()
            continue
        call.sock = sock
        sel.register(sock, selectors.EVENT_WRITE, call)
    pending = {c for c in calls if c.sock}
    for key, _mask in probelib.deadline_iter(sel, timeout, lambda: not pending):
        call = key.data
        sel.unregister(call.sock)
        pending.discard(call)
        err = call.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            call.result.error = "connect: %s" % errno.errorcode.get(err, err)
            call.sock.close()
            call.sock = None
        else:
            call.local = call.sock.getsockname()[0]
            sel.register(call.sock, selectors.EVENT_READ, call)
    for call in pending:
        sel.unregister(call.sock)
        call.sock.close()
        call.sock = None
        call.result.error = "connect: timed out"


def exchange(calls, sel, request, expect, timeout, phase):
    """Send request(call) on every live control connection; wait for an `expect` reply each.
    Returns {call: reply fields}."""
    live = [c for c in calls if c.sock]
    for call in live:
        try:
            call.sock.sendall(request(call))
        except OSError as exc:
            call.result.error = "%s send: %s" % (phase, exc)
    waiting = {c for c in live if c.result.error is None}
    replies = {}
    for key, _mask in probelib.deadline_iter(sel, timeout, lambda: not waiting):
        call = key.data
        if call not in waiting:
            continue
        try:
            data = call.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as exc:
            data, call.result.error = b"", "%s recv: %s" % (phase, exc)
        if not data:
            call.result.error = call.result.error or "%s: connection closed" % phase
            waiting.discard(call)
            continue
        messages, call.buf, error = split_messages(call.buf + data)
        if error:
            call.result.error = "%s: %s" % (phase, error)
            waiting.discard(call)
            continue
        for msg_type, fields in messages:
            if msg_type == expect and fields is not None:
                replies[call] = fields
                waiting.discard(call)
    for call in waiting:
        call.result.error = call.result.error or "%s: no reply within %ss" % (phase, timeout)
    return replies


def gre_phase(calls, args, call_id):
    """Send --packets GRE frames per call, collect echoes until all are back or timeout."""
    sel = selectors.DefaultSelector()
    up = [c for c in calls if c.result.control_ok]
    for call in up:
        call.gre = probelib.raw_socket(socket.IPPROTO_GRE, call.local)
        sel.register(call.gre, selectors.EVENT_READ, call)
    queue = [(call, seq) for seq in range(args.packets) for call in up]

    def received():
        return sum(len(c.seqs) + c.result.misdelivered + c.wrong_key for c in up)

    def send(item):
        call, seq = item
        payload = PAYLOAD.pack(PAYLOAD_MARK, socket.inet_aton(call.local), seq)
        call.gre.sendto(gre_packet(call.server_call_id, seq, payload), (args.server, 0))
        call.result.sent += 1

    def pump(seconds, done):
        for key, _mask in probelib.deadline_iter(sel, seconds, done):
            receive_gre(key.data, call_id)

    probelib.paced_send(queue, send, received, pump, args.timeout)
    # A short grace period catches late or misdelivered echoes after the last expected one.
    pump(0.2, lambda: False)
    for call in up:
        call.result.delivered = len(call.seqs)
        sel.unregister(call.gre)
        call.gre.close()


def receive_gre(call, call_id):
    for _burst in range(256):
        try:
            data = call.gre.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        packet = probelib.parse_ipv4_packet(data)
        gre = parse_gre(packet[3]) if packet else None
        if gre is None or len(gre[1]) < PAYLOAD.size:
            continue
        mark, owner, seq = PAYLOAD.unpack_from(gre[1])
        if mark != PAYLOAD_MARK:
            continue
        if owner != socket.inet_aton(call.local):
            call.result.misdelivered += 1      # another client's echo arrived here
        elif gre[0] != call_id:
            call.wrong_key += 1                # ours, but the router did not restore the key
        else:
            call.seqs.add(seq)


def run_client(args):
    started = time.monotonic()
    calls = [Call(src) for src in args.sources]
    sel = selectors.DefaultSelector()
    connect_all(calls, args.server, sel, args.timeout)
    host = b"netpolicy-probe"
    exchange(calls, sel, lambda c: control(SCCRQ, 0x0100, 0, 3, 3, 0, 1, host, host),
             SCCRP, args.timeout, "SCCRQ")
    ocrp = exchange(calls, sel, lambda c: control(OCRQ, args.call_id, 1, 300, 100000000, 3, 3,
                                                  64, 0, 0, 0, b"", b""),
                    OCRP, args.timeout, "OCRQ")
    for call, fields in ocrp.items():
        server_call_id, peer_call_id, result = fields[0], fields[1], fields[2]
        if result != 1:
            call.result.error = "OCRP result code %d" % result
        elif peer_call_id != args.call_id:
            call.result.error = "OCRP peer call id 0x%04x, expected 0x%04x" % (
                peer_call_id, args.call_id)
        else:
            call.server_call_id = server_call_id
            call.result.control_ok = True
            call.result.extra["server_call_id"] = server_call_id
    gre_phase(calls, args, args.call_id)
    for call in calls:
        call.result.extra["wrong_key"] = call.wrong_key
        if call.sock:
            try:
                call.sock.sendall(control(STOPCCRQ, 1, 0, 0))
            except OSError:
                pass
            call.sock.close()
    report = probelib.client_report(PROTOCOL, args, [c.result for c in calls], started,
                                    call_id=args.call_id)
    report["counters"]["wrong_key"] = sum(c.wrong_key for c in calls)
    return probelib.emit(report)


def add_server_args(_parser):
    pass


def add_client_args(parser):
    parser.add_argument("--call-id", type=probelib.id16, default=0x1234,
                        help="call ID every client announces (default 0x1234)")


def main(argv=None):
    return probelib.run_probe(__doc__, PROTOCOL, add_server_args, add_client_args, run_server,
                              run_client, argv)


if __name__ == "__main__":
    sys.exit(main())
