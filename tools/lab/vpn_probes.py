"""The project's protocol probes (tests/lab/probes) run in the lab containers: servers on the
probe host, clients on the LAN clients."""
import os

from labctl import PROBES_DIR, last_json

PROBE_KINDS = ("pptp", "ike", "l2tp", "esp")


def probe_available(kind):
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.exists(os.path.join(here, "..", "..", "tests", "lab", "probes",
                                       "%s_probe.py" % kind))


def start_probe_servers(lab, kinds):
    """Start the probe servers in the background (one podman exec) and wait until bound."""
    script = ["mkdir -p /run/probes", "cd %s" % PROBES_DIR]
    for kind in kinds:
        script.append("rm -f /run/probes/%(k)s.ready; setsid python3 %(k)s_probe.py server "
                      "--listen %(ip)s --ready-file /run/probes/%(k)s.ready "
                      "> /run/probes/%(k)s-server.json 2> /run/probes/%(k)s-server.log "
                      "< /dev/null & echo $! > /run/probes/%(k)s.pid"
                      % {"k": kind, "ip": lab.probe_server["ip"]})
    for kind in kinds:
        script.append("i=0; while [ ! -e /run/probes/%s.ready ] && [ $i -lt 50 ]; do "
                      "sleep 0.1; i=$((i+1)); done" % kind)
    lab.sh(lab.probe_server["name"], "\n".join(script))


def stop_probe_servers(lab, kinds):
    """SIGTERM the probe servers; {kind: their JSON report or None}."""
    script = ["kill -TERM $(cat /run/probes/%s.pid) 2>/dev/null" % k for k in kinds]
    # A server notices SIGTERM within its 0.5 s select timeout, then prints its report: wait
    # until every one has exited (at most 5 s).
    script += ["i=0; while kill -0 $(cat /run/probes/%s.pid) 2>/dev/null && [ $i -lt 50 ]; do "
               "sleep 0.1; i=$((i+1)); done" % k for k in kinds]
    script += ["echo '@@ %s'; cat /run/probes/%s-server.json" % (k, k) for k in kinds]
    out = lab.sh(lab.probe_server["name"], "\n".join(script))[1]
    reports = {}
    for chunk in out.split("@@ ")[1:]:
        kind, text = chunk.split("\n", 1) if "\n" in chunk else (chunk, "")
        reports[kind.strip()] = last_json(text)
    return reports


def probe_client(lab, container, kind, args, timeout=60):
    rc, out, err = lab.run(container, ["python3", "%s/%s_probe.py" % (PROBES_DIR, kind),
                                       "client", "--server", lab.probe_server["ip"]] + args,
                           timeout=timeout)
    data = last_json(out) or {"ok": False, "detail": "no JSON from the probe (rc=%d): %s" % (
        rc, " | ".join(err.strip().splitlines()[-3:]))}
    return data


def counters(data):
    c = data.get("counters", {})
    return "%s/%s delivered, %s misdelivered" % (c.get("delivered", "?"), c.get("sent", "?"),
                                                 c.get("misdelivered", "?"))
