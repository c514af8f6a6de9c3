"""Parsing the rendered sysctl drop-in and reading/writing values (router_sysctl.py)."""
import pytest

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.router_sysctl import (
    SysctlError, parse_sysctl_text, read_value, write_value)

PARSE = [
    ("", []),
    ("# comment\n; other comment\n\n", []),
    ("net.ipv4.ip_forward = 1\n", [("net.ipv4.ip_forward", "1")]),
    ("net.ipv4.ip_forward=1", [("net.ipv4.ip_forward", "1")]),
    ("-net.ipv4.ip_forward = 1\n", [("net.ipv4.ip_forward", "1")]),
    ("a.b = 1\nc.d = 2\na.b = 3\n", [("a.b", "3"), ("c.d", "2")]),
    ("net.ipv4.ip_local_port_range = 1024\t65000\n",
     [("net.ipv4.ip_local_port_range", "1024 65000")]),
]
BAD = [
    ("net.ipv4.ip_forward\n", "no '='"),
    ("../../etc/passwd = 1\n", "invalid key"),
    ("/proc/x = 1\n", "invalid key"),
    ("a b = 1\n", "invalid key"),
]


@pytest.mark.parametrize("text, expected", PARSE)
def test_parse(text, expected):
    assert parse_sysctl_text(text) == expected


@pytest.mark.parametrize("text, reason", BAD)
def test_parse_rejects(text, reason):
    with pytest.raises(SysctlError) as err:
        parse_sysctl_text(text)
    assert reason in str(err.value)


def test_read_and_write_under_a_root(tmp_path):
    (tmp_path / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "net" / "ipv4" / "ip_forward").write_text("0\n")
    assert read_value("net.ipv4.ip_forward", str(tmp_path)) == "0"
    write_value("net.ipv4.ip_forward", "1", str(tmp_path))
    assert read_value("net.ipv4.ip_forward", str(tmp_path)) == "1"
    assert read_value("net.ipv4.missing", str(tmp_path)) is None
    with pytest.raises(SysctlError) as err:
        write_value("net.nope.key", "1", str(tmp_path))
    assert "net.nope.key" in str(err.value)
