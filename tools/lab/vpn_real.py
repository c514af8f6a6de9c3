"""Real VPN software in the lab containers: strongSwan, pptp-linux/pptpd and xl2tpd, the last
two with the PPP-framing stand-in for pppd (tools/lab/ppp_standin.py)."""
import re
import time

from labctl import last_json

PPTP_TIMEOUT = 10


def start_daemons(lab):
    lab.must(lab.server["name"], ["lab-node", "start", "server"])
    lab.parallel(lambda c: lab.must(c["name"], ["lab-node", "start", "client"]), lab.clients)


def ipsec_up(lab, client, timeout=10):
    rc, out, err = lab.run(client["name"], ["swanctl", "--initiate", "--child", "lab",
                                            "--timeout", str(timeout)], timeout=timeout + 10)
    vip = re.search(r"installing new virtual IP (\S+)", out)
    return {"ok": rc == 0, "vip": vip.group(1) if vip else None,
            "tail": " | ".join((out + err).strip().splitlines()[-2:])}


def ping_inner(lab, client, count=3):
    rc, out = lab.run(client["name"], ["ping", "-c", str(count), "-i", "0.2", "-W", "2",
                                       lab.server["inner_ip"]], timeout=20)[:2]
    got = re.search(r"(\d+) received", out)
    return rc == 0, int(got.group(1)) if got else 0


def server_ike_peers(lab):
    """{client IKE identity: 'ADDR[PORT]'} as the VPN server sees its IKE SAs."""
    out = lab.run(lab.server["name"], ["swanctl", "--list-sas"])[1]
    return dict(re.findall(r"remote '([^']+)' @ (\S+)", out))


def pptp_real(lab, client, server_ip, timeout=PPTP_TIMEOUT):
    """pptp-linux (no pppd) joined to the PPP stand-in; returns the stand-in's JSON result."""
    path = "/run/pptp-%s.json" % server_ip
    lab.run(client["name"], ["rm", "-f", path])
    rc, out, err = lab.run(client["name"], [
        "ppp-standin", "--role", "client", "--name", client["label"], "--timeout", str(timeout),
        "--exec", "pptp %s --nolaunchpppd --loglevel 1" % server_ip, "--result", path],
        timeout=timeout + 15)
    text = lab.run(client["name"], ["cat", path])[1]
    data = last_json(text) or {"ok": False, "frames_echoed": 0, "frames_sent": 0}
    data["log"] = " | ".join((out + err).strip().splitlines()[-3:])
    return data


def l2tp_real(lab, client, lac, timeout=10):
    """Dial LAC through the client's xl2tpd; the stand-in it launches writes LAC-PID.json."""
    tag = "l2tp-" + lac
    lab.sh(client["name"], "rm -f /run/ppp-standin/%s-*.json; echo 'c %s' > "
                           "/var/run/xl2tpd/l2tp-control" % (tag, lac))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rc, out = lab.sh(client["name"], "cat /run/ppp-standin/%s-*.json 2>/dev/null" % tag)[:2]
        data = last_json(out) if rc == 0 else None
        if data:
            return data
        time.sleep(0.3)
    return {"ok": False, "frames_echoed": 0, "frames_sent": 0, "log": "no call came up"}


def frames(data):
    return "%s/%s frames echoed, %s foreign" % (data.get("frames_echoed"),
                                                data.get("frames_sent"),
                                                data.get("foreign_replies", "?"))
