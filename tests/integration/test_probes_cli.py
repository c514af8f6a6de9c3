"""The probes' CLI contract (tests/lab/probes/README.md): one JSON line, exit 0/1/2, no
tracebacks, bounded run time; and proof that the misdelivery counter can fail."""
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from vpn_topology import PROBES, SERVER, Topology

PROBE_FILES = ["pptp_probe.py", "ike_probe.py", "esp_probe.py", "l2tp_probe.py"]
REQUIRED_KEYS = {"protocol", "role", "client", "ok", "detail", "counters"}


def probe(name, *args, ns=None, timeout=30):
    argv = [sys.executable, str(PROBES / name)] + list(args)
    if ns is not None:
        argv = ns.argv(argv)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("name,args", [
    ("pptp_probe.py", ["client"]),                                   # --server missing
    ("pptp_probe.py", ["client", "--server", "198.51.100.300"]),
    ("pptp_probe.py", ["client", "--server", SERVER, "--call-id", "0"]),
    ("pptp_probe.py", ["client", "--server", SERVER, "--call-id", "0x10000"]),
    ("ike_probe.py", ["client", "--server", SERVER, "--source-range", "10.0.0.9-10.0.0.1"]),
    ("ike_probe.py", ["client", "--server", SERVER, "--source", "10.0.0.1",
                      "--source", "10.0.0.1"]),
    ("ike_probe.py", ["client", "--server", SERVER, "--packets", "0"]),
    ("esp_probe.py", ["client", "--server", SERVER, "--spi", "5"]),
    ("esp_probe.py", ["client", "--server", SERVER, "--hold", "-1"]),
    ("l2tp_probe.py", ["client", "--server", SERVER, "--local-port", "70000"]),
    ("l2tp_probe.py", ["client", "--server", SERVER, "--timeout", "0"]),
    ("l2tp_probe.py", ["server", "--duration", "0"]),
    ("esp_probe.py", ["neither"]),
])
def test_bad_arguments_exit_2_with_a_message_and_no_traceback(name, args):
    proc = probe(name, *args)
    assert proc.returncode == 2, proc
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("name", PROBE_FILES)
def test_server_stops_after_duration_with_one_json_report(name, netns):
    started = time.monotonic()
    proc = probe(name, "server", "--duration", "0.3", ns=netns)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 10
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert REQUIRED_KEYS <= set(report) and report["role"] == "server" and report["ok"]


@pytest.mark.parametrize("name", PROBE_FILES)
def test_client_without_route_fails_with_json_exit_1(name, netns):
    # A namespace with only lo: there is no route to the server at all.
    proc = probe(name, "client", "--server", SERVER, "--timeout", "1", ns=netns)
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert REQUIRED_KEYS <= set(report) and report["ok"] is False
    assert report["protocol"] == name.split("_")[0]


# A deliberately wrong NAT-T server: it answers IKE correctly but sends every ESP-in-UDP echo
# to the OTHER client's NAT mapping. The probe must count those as misdelivered. Clients are
# told apart by who they are, not by NAT mapping: the probe's IKE SPI and ESP SPI both start
# with the client's own address, so a second mapping of one client cannot pose as a third peer.
CROSSING_SERVER = r"""
import socket, select, sys, time
ike = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ike.bind(("0.0.0.0", 500))
natt = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); natt.bind(("0.0.0.0", 4500))
open(sys.argv[1], "w").close()
mapping, held, end = {}, [], time.monotonic() + 20
def reply(data):
    return data[:8] + b"\x00" * 7 + b"\x01" + data[16:19] + b"\x20" + data[20:]
while time.monotonic() < end:
    for sock in select.select([ike, natt], [], [], 0.2)[0]:
        data, src = sock.recvfrom(65536)
        if sock is ike:
            sock.sendto(reply(data), src)
        elif data[:4] == b"\x00" * 4:
            mapping[data[4:8]] = src
            sock.sendto(b"\x00" * 4 + reply(data[4:]), src)
        else:
            held.append(data)
    if len(mapping) >= 2:
        for data in held:
            other = [src for client, src in mapping.items() if client != data[:4]]
            natt.sendto(data, other[0])
        held = []
"""


def test_misdelivered_replies_are_counted_and_fail_the_check():
    lab = Topology(clients=2)
    try:
        lab.apply_policy(protocols=("ipsec",), esp=False)
        fd, ready = tempfile.mkstemp()
        os.close(fd)
        os.unlink(ready)
        server = subprocess.Popen(lab.server.argv([sys.executable, "-c", CROSSING_SERVER, ready]))
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(ready) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert os.path.exists(ready), "the crossing server did not start within 30 s"
            reports = lab.run_clients("ike_probe.py", args=["--packets", "3", "--timeout", "5"])
        finally:
            server.kill()
            server.wait()
            if os.path.exists(ready):
                os.unlink(ready)
    finally:
        lab.close()
    for report in reports:
        assert not report["ok"], report
        assert report["counters"]["misdelivered"] == 3, report
        assert report["counters"]["delivered"] == 0, report
