#!/usr/bin/env bash
# A shaped link between two network namespaces, for the speed-test accuracy bench and test.
#
#   speedtest_netns.sh up    TAG RATE_MBIT LOSS_PCT   create qs-cli-TAG and qs-srv-TAG joined by a veth pair
#   speedtest_netns.sh shape TAG RATE_MBIT LOSS_PCT   change rate and loss of an existing link
#   speedtest_netns.sh down  TAG                      delete both namespaces (and with them every interface)
#
# Client side: namespace qs-cli-TAG, interface qsc-TAG 10.77.0.1/24, plus a second interface qsd-TAG
# 10.88.0.1/24 (a veth whose peer qse-TAG stays in the namespace) that leads nowhere (to test binding and egress verification). Server side:
# qs-srv-TAG, interface qss-TAG 10.77.0.2/24, with a route back to 10.88.0.0/24.
# Shaping: tc tbf at RATE_MBIT on the egress of both veth ends (download and upload directions).
# Loss: an nftables rule dropping LOSS_PCT % of incoming packets at random (numgen random) in each
# namespace. netem is not available on this kernel, so no delay is added: the link's RTT is the
# veth's (well under 1 ms).
set -euo pipefail
cmd=${1:?up|shape|down}; tag=${2:?tag}
cli=qs-cli-$tag; srv=qs-srv-$tag; vc=qsc-$tag; vs=qss-$tag; vd=qsd-$tag

shape() {
  local rate=$1 loss=$2
  # burst: 10 ms at the rate but at least 16 kB; queue: 50 ms at the rate
  local burst=$(( rate * 1000000 / 8 / 100 )); (( burst < 16000 )) && burst=16000
  ip netns exec "$cli" tc qdisc replace dev "$vc" root tbf rate "${rate}mbit" burst "$burst" latency 50ms
  ip netns exec "$srv" tc qdisc replace dev "$vs" root tbf rate "${rate}mbit" burst "$burst" latency 50ms
  for ns in "$cli" "$srv"; do
    ip netns exec "$ns" nft delete table inet qamtu_loss 2>/dev/null || true
    if [ "$loss" != "0" ]; then
      local permille; permille=$(awk -v l="$loss" 'BEGIN{printf "%d", l*10}')
      ip netns exec "$ns" nft add table inet qamtu_loss
      ip netns exec "$ns" nft add chain inet qamtu_loss input '{ type filter hook input priority 0; policy accept; }'
      ip netns exec "$ns" nft add rule inet qamtu_loss input meta l4proto tcp numgen random mod 1000 "<" "$permille" drop
    fi
  done
}

case $cmd in
  up)
    trap 'echo "set-up failed: removing the namespaces" >&2; "$0" down "$tag"' ERR
    ip netns add "$cli"; ip netns add "$srv"
    ip link add "$vc" type veth peer name "$vs"
    ip link set "$vc" netns "$cli"; ip link set "$vs" netns "$srv"
    ip -n "$cli" link set lo up; ip -n "$srv" link set lo up
    ip -n "$cli" addr add 10.77.0.1/24 dev "$vc"; ip -n "$cli" link set "$vc" up
    ip -n "$srv" addr add 10.77.0.2/24 dev "$vs"; ip -n "$srv" link set "$vs" up
    # the "other" interface: a veth pair kept inside the client namespace (dummy is not in this kernel)
    ip -n "$cli" link add "$vd" type veth peer name "qse-$tag"
    ip -n "$cli" addr add 10.88.0.1/24 dev "$vd"; ip -n "$cli" link set "qse-$tag" up; ip -n "$cli" link set "$vd" up
    ip -n "$srv" route add 10.88.0.0/24 via 10.77.0.1
    shape "${3:?rate}" "${4:-0}"
    ;;
  shape) shape "${3:?rate}" "${4:-0}" ;;
  down)
    ip netns pids "$cli" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$srv" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true; ip netns del "$srv" 2>/dev/null || true
    ;;
  *) echo "usage: $0 up|shape|down TAG [RATE_MBIT LOSS_PCT]" >&2; exit 2 ;;
esac
