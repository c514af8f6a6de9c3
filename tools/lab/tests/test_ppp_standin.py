"""The PPP-framing stand-in: RFC 1662 async-HDLC framing, and a real server/client echo over a
socket pair (the same way pppd runs `pptp --nolaunchpppd`)."""
import json
import os
import socket
import subprocess
import sys

from hypothesis import given, strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import ppp_standin  # noqa: E402  pylint: disable=wrong-import-position

STANDIN = os.path.join(os.path.dirname(HERE), "ppp_standin.py")


@given(st.binary(max_size=300))
def test_frames_round_trip_with_escaping_and_fcs(payload):
    frame = ppp_standin.encode(payload)
    assert frame[0] == 0x7E and frame[-1] == 0x7E
    # Flags and control characters never appear raw inside the frame (they are escaped).
    assert all(b >= 0x20 and b != 0x7E for b in frame[1:-1])
    assert ppp_standin.Decoder().feed(frame) == [payload]


def test_frames_split_across_reads_and_back_to_back():
    frames = ppp_standin.encode(b"one") + ppp_standin.encode(b"\x7e\x7d\x00two")
    decoder = ppp_standin.Decoder()
    got = []
    for i in range(len(frames)):
        got += decoder.feed(frames[i:i + 1])
    assert got == [b"one", b"\x7e\x7d\x00two"]


def test_corrupted_frame_is_dropped():
    frame = bytearray(ppp_standin.encode(b"payload"))
    frame[6] ^= 0x01
    assert ppp_standin.Decoder().feed(bytes(frame)) == []


def test_fcs_matches_rfc1662_good_value():
    body = b"\xff\x03\x00\x21hello"
    fcs = ppp_standin.fcs16(body) ^ 0xFFFF
    assert ppp_standin.fcs16(body + bytes([fcs & 0xFF, fcs >> 8])) == 0xF0B8


def test_client_and_server_echo_over_a_socket_pair(tmp_path):
    ours, theirs = socket.socketpair()
    server = subprocess.Popen([sys.executable, STANDIN, "--role", "server", "ignored", "option"],
                              stdin=theirs, stdout=theirs)
    theirs.close()
    try:
        fd = ours.fileno()
        result = ppp_standin.run_client(fd, fd, "client9", frames=5, timeout=10)
    finally:
        ours.close()
        server.wait(10)
    assert result["ok"] is True
    assert result["frames_echoed"] == 5 and result["foreign_replies"] == 0


def test_client_without_a_server_fails_and_writes_its_result(tmp_path):
    path = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, STANDIN, "--role", "client", "--frames", "3",
                           "--timeout", "1", "--exec", "cat /dev/null", "--result", str(path)],
                          check=False, timeout=30)
    assert proc.returncode == 1
    result = json.loads(path.read_text())
    assert result["ok"] is False and result["frames_echoed"] == 0


def test_pppd_options_file_tags_the_result(tmp_path):
    conf = tmp_path / "standin.conf"
    conf.write_text("role=client\nframes=1\ntimeout=1\nresult_dir=%s\n" % tmp_path)
    opts = ppp_standin.parse_args(["/dev/pts/0", "passive", "file",
                                   "/etc/ppp/l2tp-inner.options"])
    assert opts["tag"] == "l2tp-inner"
    assert ppp_standin.read_conf(str(conf))["result_dir"] == str(tmp_path)
