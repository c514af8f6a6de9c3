"""status against real PPTP traffic: the policy applied by the apply module to the lab router
namespace, three probe clients through the NAT, then per-grant counters and conntrack entries
per helper as the status module reports them (with the before-traffic state as control)."""
import os

import pytest
import yaml

from apply_harness import Router, render
from vpn_topology import Topology, lab_policy


class LabRouter(Router):
    """Router harness bound to the topology's router namespace (links already exist)."""

    def __init__(self, ns, root):  # pylint: disable=super-init-not-called
        self.ns = ns
        self.root = str(root)
        self.etc = os.path.join(self.root, "etc")
        self.state_dir = os.path.join(self.root, "state")
        os.makedirs(self.etc)


@pytest.fixture
def lab():
    topology = Topology(clients=3)
    try:
        yield topology
    finally:
        topology.close()


def test_pptp_calls_show_up_in_counters_and_conntrack(lab, tmp_path):
    doc = yaml.safe_load(lab_policy(protocols=("pptp",)))
    # a per-client call limit: a dynamic set the packet path fills, which is not drift
    doc["grants"][0]["pptp"] = {"max_calls_per_client": 2}
    rendered = render(doc)
    router = LabRouter(lab.router, tmp_path / "root")
    assert router.apply(rendered)["changed"]
    lab.flush_conntrack()
    quiet = router.status(rendered)
    assert quiet["in_sync"] is True, quiet["summary"]
    assert quiet["counters"]["grant_lab-pptp"]["packets"] == 0
    assert quiet["conntrack"]["entries_per_helper"] == {}

    lab.start_server("pptp_probe.py")
    reports = lab.run_clients("pptp_probe.py")
    assert all(r["ok"] for r in reports), reports
    busy = router.status(rendered)
    assert busy["counters"]["grant_lab-pptp"]["packets"] >= 3
    assert busy["conntrack"]["entries_per_helper"].get("pptp", 0) >= 3, busy["conntrack"]
    assert busy["conntrack"]["entries_per_protocol"].get("gre", 0) >= 3, busy["conntrack"]
    assert "pptp=" in busy["summary"]
    live = lab.router.nft("list", "table", "inet", "netpolicy_vpn_passthrough").stdout
    assert "ct count over 2" in live.split("flags dynamic", 1)[1]  # the set did fill up
    assert busy["in_sync"] is True, busy["table"]["diff"]
    assert router.apply(rendered)["changed"] is False
