"""PPP-framing stand-in for pppd, for the lab only.

This kernel has no PPP driver (/dev/ppp), so pppd cannot run. pptpd, pptp-linux and xl2tpd only
need their "pppd" to speak async-HDLC PPP framing (RFC 1662) on a tty or socket: they strip the
framing and carry the frames in GRE or L2TP. This program does exactly that and nothing else:

  server role  writes one hello frame first (pptpd reads no GRE until its pppd has written), then
               echoes every frame it receives, prefixed with "echo ".
  client role  sends N numbered frames tagged with a per-run nonce and the client name, waits for
               their echoes and writes a JSON result: how many came back, and whether any reply
               belonged to someone else (a wrong-client reply).

No LCP/IPCP negotiation happens: this proves the data path through the NAT router (GRE with
rewritten call IDs, L2TP over UDP 1701), not PPP itself.

Client results go to --result PATH, else to RESULT_DIR/TAG-PID.json where TAG is the name of the
pppd options file the daemon passed ("file /etc/ppp/l2tp-plain.options" gives l2tp-plain).
The role comes from --role, else the file /etc/ppp-standin.conf (key=value lines: role, frames,
timeout, result_dir, name), so the program can replace /usr/sbin/pppd for daemons that launch
pppd themselves with their own arguments (unknown arguments are ignored).
With --exec CMD (client role) the program starts CMD with a socket pair as its stdin/stdout (how
pppd runs `pptp SERVER --nolaunchpppd` as a pty program) and talks to it instead of its own stdio.
"""
import json
import os
import secrets
import select
import shlex
import socket
import subprocess
import sys
import termios
import time
import tty

FLAG, ESC = 0x7E, 0x7D
CONF = "/etc/ppp-standin.conf"


def _fcs_table():
    table = []
    for byte in range(256):
        value = byte
        for _bit in range(8):
            value = (value >> 1) ^ 0x8408 if value & 1 else value >> 1
        table.append(value)
    return table


FCS_TABLE = _fcs_table()


def fcs16(data):
    """RFC 1662 FCS-16 over data (initial 0xFFFF, not yet complemented)."""
    fcs = 0xFFFF
    for byte in data:
        fcs = (fcs >> 8) ^ FCS_TABLE[(fcs ^ byte) & 0xFF]
    return fcs


def encode(payload, protocol=0x0021):
    """One async-HDLC frame: address/control, protocol, payload, FCS, escaped, flag-delimited."""
    body = bytes([0xFF, 0x03, protocol >> 8, protocol & 0xFF]) + payload
    fcs = fcs16(body) ^ 0xFFFF
    body += bytes([fcs & 0xFF, fcs >> 8])
    out = bytearray([FLAG])
    for byte in body:
        if byte in (FLAG, ESC) or byte < 0x20:
            out += bytes([ESC, byte ^ 0x20])
        else:
            out.append(byte)
    out.append(FLAG)
    return bytes(out)


class Decoder:
    """Splits an async-HDLC byte stream into frames; frames with a bad FCS are dropped."""

    def __init__(self):
        self.buf = bytearray()
        self.escaped = False

    def feed(self, data):
        frames = []
        for byte in data:
            if byte == FLAG:
                if len(self.buf) >= 4 and fcs16(self.buf) == 0xF0B8:
                    frame = bytes(self.buf[:-2])
                    if frame[:2] == b"\xff\x03":
                        frame = frame[2:]
                    frames.append(frame[2:])  # drop the protocol field
                self.buf.clear()
                self.escaped = False
            elif byte == ESC:
                self.escaped = True
            else:
                self.buf.append(byte ^ 0x20 if self.escaped else byte)
                self.escaped = False
        return frames


def read_conf(path=CONF):
    conf = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, sep, value = line.strip().partition("=")
                if sep and not key.startswith("#"):
                    conf[key.strip()] = value.strip()
    except OSError:
        pass
    return conf


def parse_args(argv):
    """Own options only; everything else (pppd options from the daemons) is ignored."""
    opts = {}
    known = ("--role", "--frames", "--timeout", "--result", "--exec", "--name")
    i = 0
    while i < len(argv):
        if argv[i] in known and i + 1 < len(argv):
            opts[argv[i][2:]] = argv[i + 1]
            i += 2
        elif argv[i] == "file" and i + 1 < len(argv):
            # pppd's "file OPTIONS" (xl2tpd's pppoptfile): its name tags the result file, so
            # several calls from one daemon (one per LAC) can be told apart.
            opts["tag"] = os.path.basename(argv[i + 1]).replace(".options", "")
            i += 2
        else:
            i += 1
    return opts


def open_channel(command):
    """(read_fd, write_fd, child) for our own stdio, or for a child started on a socket pair."""
    if not command:
        if os.isatty(0):
            tty.setraw(0, termios.TCSANOW)
        return 0, 1, None
    ours, theirs = socket.socketpair()
    child = subprocess.Popen(shlex.split(command), stdin=theirs, stdout=theirs, close_fds=True)
    theirs.close()
    fd = os.dup(ours.fileno())
    ours.close()
    return fd, fd, child


def serve(read_fd, write_fd):
    os.write(write_fd, encode(b"hello from ppp-standin server"))
    decoder = Decoder()
    while True:
        try:
            data = os.read(read_fd, 65536)
            if not data:
                return 0
            for frame in decoder.feed(data):
                os.write(write_fd, encode(b"echo " + frame))
        except OSError:  # the daemon closed the call
            return 0


def run_client(read_fd, write_fd, name, frames, timeout):
    nonce = secrets.token_hex(4)
    expected = {("%s %s %d" % (name, nonce, seq)).encode() for seq in range(frames)}
    payloads = [("%s %s %d" % (name, nonce, seq)).encode() for seq in range(frames)]
    got, foreign = set(), 0
    decoder = Decoder()
    start = time.monotonic()
    deadline = start + timeout
    last_send = 0.0
    ended = None
    while len(got) < frames and time.monotonic() < deadline and not ended:
        try:
            if time.monotonic() - last_send >= 2.0:
                # (Re)send what has not been echoed yet: the tunnel may still be coming up.
                for payload in payloads:
                    if payload not in got:
                        os.write(write_fd, encode(payload))
                last_send = time.monotonic()
            ready = select.select([read_fd], [], [], 0.1)[0]
            data = os.read(read_fd, 65536) if ready else None
        except OSError as exc:  # the VPN client on the other side went away
            ended = str(exc)
            break
        if data is None:
            continue
        if not data:
            ended = "peer closed the channel"
            break
        for frame in decoder.feed(data):
            if not frame.startswith(b"echo "):
                continue
            payload = frame[5:]
            if payload in expected:
                got.add(payload)
            else:
                foreign += 1
    return {
        "name": name, "frames_sent": frames, "frames_echoed": len(got),
        "foreign_replies": foreign, "seconds": round(time.monotonic() - start, 3),
        "ok": len(got) == frames and foreign == 0, "ended": ended,
    }


def main(argv):
    opts = parse_args(argv)
    conf = read_conf()
    role = opts.get("role") or conf.get("role", "server")
    read_fd, write_fd, child = open_channel(opts.get("exec"))
    if role == "server":
        return serve(read_fd, write_fd)
    result = run_client(read_fd, write_fd,
                        opts.get("name") or conf.get("name") or socket.gethostname(),
                        int(opts.get("frames") or conf.get("frames", 10)),
                        float(opts.get("timeout") or conf.get("timeout", 15)))
    if child is not None:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
    text = json.dumps(result, sort_keys=True)
    result_path = opts.get("result")
    if not result_path:
        result_dir = conf.get("result_dir", "/run/ppp-standin")
        os.makedirs(result_dir, exist_ok=True)
        result_path = os.path.join(result_dir, "%s-%d.json" % (opts.get("tag", "result"),
                                                               os.getpid()))
    with open(result_path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.rename(result_path + ".tmp", result_path)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
