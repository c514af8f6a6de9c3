#!/bin/sh
# Runs inside a lab container (installed as /usr/local/sbin/lab-node): sets up and (re)starts the
# VPN daemons of this container's role, and prints their logs for diagnosis.
#   lab-node install server|client   put configs in place, pppd -> PPP stand-in
#   lab-node start server|client     (re)start the daemons of the role
#   lab-node restart-pptpd           fresh pptpd (stale calls break later phases)
#   lab-node logs                    print every daemon log
set -eu
src=/usr/local/share/lab-node

wait_for() {  # wait_for PATH: up to 5 s for a socket/file to appear
  i=0
  while [ ! -e "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  [ -e "$1" ] || { echo "lab-node: $1 did not appear" >&2; return 1; }
}

start_charon() {
  pkill -x charon 2>/dev/null || true
  rm -f /var/run/charon.pid /var/run/charon.vici
  : > /var/log/charon.log
  setsid /usr/lib/ipsec/charon >/dev/null 2>&1 < /dev/null &
  wait_for /var/run/charon.vici
  swanctl --load-all --noprompt >/dev/null
}

start_xl2tpd() {
  pkill -x xl2tpd 2>/dev/null || true
  sleep 0.2
  mkdir -p /var/run/xl2tpd
  rm -f /var/run/xl2tpd/l2tp-control /var/run/xl2tpd.pid
  setsid xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf >/var/log/xl2tpd.log 2>&1 < /dev/null &
  wait_for /var/run/xl2tpd/l2tp-control
}

start_pptpd() {
  pkill -x pptpd 2>/dev/null || true
  pkill -x pptpctrl 2>/dev/null || true
  sleep 0.2
  rm -f /var/run/pptpd.pid
  setsid pptpd --fg --conf /etc/pptpd.conf >/var/log/pptpd.log 2>&1 < /dev/null &
  sleep 0.3
  pgrep -x pptpd >/dev/null || { cat /var/log/pptpd.log >&2; return 1; }
}

case "${1:-}" in
  install)
    role="$2"
    cp "$src/common/strongswan.conf" /etc/strongswan.conf
    cp "$src/$role/swanctl.conf" /etc/swanctl/swanctl.conf
    cp "$src/$role/xl2tpd.conf" /etc/xl2tpd/xl2tpd.conf
    cp "$src/$role/ppp-standin.conf" /etc/ppp-standin.conf
    [ "$role" = server ] && cp "$src/server/pptpd.conf" /etc/pptpd.conf
    install -m 0755 "$src/ppp_standin.py" /usr/local/sbin/ppp-standin
    # xl2tpd hard-codes /usr/sbin/pppd: inside this container only, pppd is the stand-in.
    ln -sf /usr/local/sbin/ppp-standin /usr/sbin/pppd
    ;;
  start)
    start_charon
    start_xl2tpd
    [ "$2" = server ] && start_pptpd
    ;;
  restart-pptpd)
    start_pptpd
    ;;
  restart-xl2tpd)
    start_xl2tpd
    ;;
  logs)
    for f in /var/log/charon.log /var/log/xl2tpd.log /var/log/pptpd.log; do
      [ -f "$f" ] && { echo "===== $(hostname) $f (last 60 lines)"; tail -n 60 "$f"; }
    done
    ;;
  *)
    echo "usage: lab-node install|start ROLE | restart-pptpd | restart-xl2tpd | logs" >&2
    exit 2
    ;;
esac
