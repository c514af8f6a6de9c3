#!/bin/sh
# Runs inside a lab container (installed as /usr/local/sbin/lab-node): sets up and (re)starts the
# VPN daemons of this container's role, and prints their logs for diagnosis.
#   lab-node install server|client   put configs in place, pppd -> PPP stand-in
#   lab-node start server|client     (re)start the daemons of the role
#   lab-node restart-pptpd           fresh pptpd (stale calls break later phases)
#   lab-node start-charon|stop-charon|stop-client
#   lab-node logs                    print every daemon log
set -eu
src=/usr/local/share/lab-node

wait_for() {  # wait_for PATH: up to 5 s for a socket/file to appear
  i=0
  while [ ! -e "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  [ -e "$1" ] || { echo "lab-node: $1 did not appear" >&2; return 1; }
}

running() {  # running NAME: a live (not zombie) process of that name exists
  ps -e -o stat=,comm= | awk -v n="$1" '$1 !~ /^Z/ && $2 == n { found = 1 } END { exit !found }'
}

stop_proc() {  # stop_proc NAME: TERM, wait up to 3 s for it to go (ports free), then KILL
  running "$1" || return 0
  pkill -x "$1" 2>/dev/null || true
  i=0
  while running "$1" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
  pkill -9 -x "$1" 2>/dev/null || true
}

start_charon() {
  stop_proc charon
  rm -f /var/run/charon.pid /var/run/charon.vici
  : > /var/log/charon.log
  setsid /usr/lib/ipsec/charon >/dev/null 2>&1 < /dev/null &
  wait_for /var/run/charon.vici
  swanctl --load-all --noprompt >/dev/null 2>&1
}

start_xl2tpd() {
  stop_proc xl2tpd
  mkdir -p /var/run/xl2tpd
  rm -f /var/run/xl2tpd/l2tp-control /var/run/xl2tpd.pid
  setsid xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf >/var/log/xl2tpd.log 2>&1 < /dev/null &
  wait_for /var/run/xl2tpd/l2tp-control
}

start_pptpd() {
  stop_proc pptpd
  stop_proc pptpctrl
  rm -f /var/run/pptpd.pid
  setsid pptpd --fg --conf /etc/pptpd.conf >/var/log/pptpd.log 2>&1 < /dev/null &
  sleep 0.3
  running pptpd || { cat /var/log/pptpd.log >&2; return 1; }
}

case "${1:-}" in
  install)
    role="$2"
    cp "$src/common/strongswan.conf" /etc/strongswan.conf
    cp "$src/$role/swanctl.conf" /etc/swanctl/swanctl.conf
    cp "$src/$role/xl2tpd.conf" /etc/xl2tpd/xl2tpd.conf
    cp "$src/$role/ppp-standin.conf" /etc/ppp-standin.conf
    if [ "$role" = server ]; then
      cp "$src/server/pptpd.conf" /etc/pptpd.conf
    else
      # Empty pppd option files: their names tag the stand-in's result per L2TP LAC.
      : > /etc/ppp/l2tp-plain.options
      : > /etc/ppp/l2tp-inner.options
      : > /etc/ppp/l2tp-ungranted.options
    fi
    printf '#!/bin/sh\nexec python3 %s/ppp_standin.py "$@"\n' "$src" > /usr/local/sbin/ppp-standin
    chmod 0755 /usr/local/sbin/ppp-standin
    # xl2tpd hard-codes /usr/sbin/pppd: inside this container only, pppd is the stand-in.
    ln -sf /usr/local/sbin/ppp-standin /usr/sbin/pppd
    ;;
  start)
    start_charon
    start_xl2tpd
    if [ "$2" = server ]; then start_pptpd; fi
    ;;
  restart-pptpd)
    start_pptpd
    ;;
  restart-xl2tpd)
    start_xl2tpd
    ;;
  stop-charon)
    stop_proc charon
    ;;
  stop-client)
    stop_proc charon
    stop_proc xl2tpd
    ;;
  start-charon)
    start_charon
    ;;
  logs)
    for f in /var/log/charon.log /var/log/xl2tpd.log /var/log/pptpd.log; do
      [ -f "$f" ] && { echo "===== $(hostname) $f (last 60 lines)"; tail -n 60 "$f"; }
    done
    ;;
  *)
    echo "usage: lab-node install|start ROLE | restart-pptpd | restart-xl2tpd | start-charon | stop-charon | stop-client | logs" >&2
    exit 2
    ;;
esac
