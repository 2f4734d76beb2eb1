# shellcheck shell=sh
# deploy-actions: the host's shared proxy (POSIX sh), for blue-green apps with `hostname`.
# Comes before deploy.sh on the same `sh -s` input. The JSON is built by the runner
# (compose/host_proxy.py explains the design); this part only moves files and containers:
#   deploy-actions-proxy                  the front: listeners, TLS; never reloaded
#   deploy-actions-proxy-router-<gen>     the router of that generation; a new one per change
#                                         of any app's names, the old one drained and removed
#   volume deploy-actions-proxy (/config) front.json settings router apps/<app>/{live,routes,
#                                         names,tls,cert.pem} allowed/ https/ certs/ routers/<gen>.json
#   volume deploy-actions-proxy-data (/data) certificates and the internal CA (Caddy's storage)
# Parameters: HP_NAMES HP_ROUTES HP_TLS HP_CERT (a secret) HP_FRONT HP_SETTINGS HP_TLS_LISTEN, and blue-green's
# PROXY_IMAGE PROXY_LISTEN UPSTREAM DRAIN; BASE (the app) comes from bg_init.

HP=deploy-actions-proxy
HP_ROUTER_PORTS="20180 20181"  # the routers', on the upstream address, used in turn

hp_state() { docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null || echo missing; }

hp_sh() { # hp_sh SCRIPT [-- ARGS]: sh -c SCRIPT where the proxy's volume is /config, in the
  # front or in a passing container; stdin is passed on
  hp_script=$1; shift; [ "${1:-}" != -- ] || shift
  if [ "$(hp_state "$HP")" = true ]; then docker exec -i "$HP" sh -c "$hp_script" hp "$@"
  else docker run --rm -i --network none -v "$HP:/config" --entrypoint sh "$PROXY_IMAGE" -c "$hp_script" hp "$@"; fi
}

hp_port_free() { # $1 [address]:port is free on this host (or ss is missing); sets no caller's variable
  command -v ss >/dev/null 2>&1 || return 0
  ! ss -Hltn "sport = :${1##*:}" 2>/dev/null | awk -v h="${1%:*}" -v p="${1##*:}" \
    'h == "" || $4 == h ":" p || $4 ~ /^(0\.0\.0\.0|\*|\[::\]):/ {found=1} END {exit !found}'
}

hp_listeners_free() { # a proxy about to be made can listen where the deploy asks (where the app's
  # own proxy listens, it is handed over: see hp_own_proxy)
  own=$(proxy_listening)
  for listen in "$PROXY_LISTEN" ${HP_TLS_LISTEN:+"$HP_TLS_LISTEN"}; do
    if [ "$listen" = "$own" ]; then # handed over: both bind it for a moment, which needs Caddy 2.7+ in both
      version=$(docker exec "$PROXY" caddy version 2>/dev/null | head -n 1)
      caddy_supported "$version" || fail proxy-image 2 "the app's own proxy $PROXY runs Caddy ${version%% *}, which cannot share $own with the shared proxy for the hand-over (2.7 or later can): deploy once more without hostname and proxy-image caddy:2, or give the shared proxy another port"
      continue
    fi
    if [ -n "$own" ] && [ "${own##*:}" = "${listen##*:}" ]; then
      fail proxy-port 2 "the app's own proxy $PROXY listens on $own, and the shared proxy would listen on $listen: the same port on another address cannot be handed over without dropping requests (give the shared proxy exactly $own, or another port)"
    fi
    hp_port_free "$listen" || fail proxy-port 2 "port ${listen##*:} ($listen) is already taken on $(hostname) by another program"
  done
}

hp_own_proxy() { # after the shared proxy took this app's names: the app's own proxy (already switched)
  # is handed over where the shared proxy listens too, else it stays and follows the switches
  case "$(proxy_state)" in
    missing) return 0 ;;
    false) docker rm "$PROXY" >/dev/null 2>&1; docker volume rm "$PROXY-config" >/dev/null 2>&1
      say "proxy $PROXY (stopped) removed: the shared proxy serves this app"; return 0 ;;
  esac
  own=$(proxy_listening)
  if [ "$own" != "$PROXY_LISTEN" ] && [ "$own" != "$HP_TLS_LISTEN" ]; then
    say "proxy $PROXY still serves $own and follows this app's switches; remove it once nobody uses that address: docker rm -f $PROXY"
    return 0
  fi
  # Both listen on $own now (SO_REUSEPORT: the kernel gives each new connection to one of them),
  # both send the app's users to the same copy. The old one stops: it closes its listener, answers
  # the requests it holds (DRAIN at most), and the front alone gets every new connection. The
  # connections still queued on the closing listener would be reset, unless the kernel hands them
  # to the front's (net.ipv4.tcp_migrate_req, Linux 5.14+: set for the hand-over, then restored).
  # A connection the old Caddy accepts as its server shuts down is closed unanswered: on a
  # wildcard address the front's own IPv4 socket takes every new IPv4 connection first (see
  # http_listeners), so there it is bound too before the old one stops (a front made by an
  # earlier release has none).
  since=$(now_ms)
  sockets=2
  hp_sh 'grep -q "\"tcp4/0.0.0.0:" /config/front.json' 2>/dev/null && sockets=3
  hp_bound "$own" "$sockets" || { say "the shared proxy did not start listening on $own beside $PROXY"; return 1; }
  case "$own:$sockets" in
    :*:3 | 0.0.0.0:*:3 | "[::]":*:3) ;;
    :* | 0.0.0.0:* | "[::]":*) say "note: the shared proxy was made by an earlier release and has no IPv4 socket of its own on $own, so a connection arriving just as $PROXY stops may be closed unanswered (about one hand-over in 35)" ;;
    *) say "note: $own is a specific address, which no socket can take from $PROXY before it stops: a connection arriving just then may be closed unanswered (about one hand-over in 35); on a wildcard address or other ports none is" ;;
  esac
  hp_lock || return 1
  was=$(hp_migrate_req 1) \
    || say "this host cannot hand queued connections over (net.ipv4.tcp_migrate_req, Linux 5.14+): a connection arriving just as $PROXY closes may be reset"
  docker stop -t "$DRAIN" "$PROXY" >/dev/null; rc=$?
  [ -z "$was" ] || [ "$was" = 1 ] || hp_migrate_req "$was" >/dev/null
  hp_unlock
  [ "$rc" = 0 ] && docker rm "$PROXY" >/dev/null && docker volume rm "$PROXY-config" >/dev/null \
    || { say "proxy $PROXY could not be stopped and removed; the shared proxy serves $own beside it"; return 1; }
  say "proxy $PROXY handed $own over to the shared proxy and was removed ($(( $(now_ms) - since ))ms)"
}

hp_migrate_req() { # set net.ipv4.tcp_migrate_req (host network namespace) to $1; prints the value it had
  docker run --rm --network host --cap-add NET_ADMIN --security-opt systempaths=unconfined --entrypoint sh "$PROXY_IMAGE" \
    -c 'f=/proc/sys/net/ipv4/tcp_migrate_req; [ -f "$f" ] && cat "$f" && printf "%s\n" "$1" >"$f"' hp "$1" 2>/dev/null
}

hp_bound() { # at least $2 listening sockets on address $1 (the front bound beside the app's own proxy);
  # a wildcard address (:80, 0.0.0.0:80, [::]:80) counts every wildcard socket on its port: Go
  # binds each of them as one dual-stack socket, which ss shows as *:80
  command -v ss >/dev/null 2>&1 || { sleep 1; return 0; }
  i=0
  until [ "$(ss -Hltn "sport = :${1##*:}" 2>/dev/null \
    | awk -v a="$1" -v p=":${1##*:}" 'function wild(x) { return x == p || x == "*" p || x == "0.0.0.0" p || x == "[::]" p }
        $4 == a || (wild(a) && wild($4)) {n++} END {print n + 0}')" -ge "$2" ]; do
    i=$((i + 1)); [ "$i" -lt 100 ] || return 1; sleep 0.1
  done
}

hp_prepare() { # checks only (nothing is created): the host proxy's settings, the names' owners, the ports
  if ! docker volume inspect "$HP" >/dev/null 2>&1; then hp_listeners_free; return 0; fi
  current=$(hp_sh 'cat /config/settings 2>/dev/null' 2>/dev/null)
  if [ -n "$current" ] && [ "$current" != "$HP_SETTINGS" ]; then
    fail proxy-settings 2 "the shared proxy on $(hostname) runs with $current; this deploy asks for $HP_SETTINGS (all apps on a host share its listeners and TLS settings: deploy with the same proxy-listen, proxy-tls-listen, tls, acme-ca and acme-email)"
  fi
  taken=$(printf '%s\n' "$HP_NAMES" | hp_sh 'while read -r name; do
      for f in /config/apps/*/names; do
        [ -f "$f" ] || continue; app=${f%/names}; app=${app##*/}
        [ "$app" = "'"$BASE"'" ] && continue
        grep -qxF "$name" "$f" && { echo "$name $app"; exit 0; }
      done
    done' 2>/dev/null)
  [ -z "$taken" ] || fail hostname 2 "hostname ${taken% *} is already served by app ${taken#* } on $(hostname): give this app another name, or first deploy ${taken#* } without it"
  [ "$(hp_state "$HP")" != missing ] || hp_listeners_free
  return 0
}

# Run in the volume: the markers for on-demand TLS and redirects from every app's names, then
# the router config for listen address $1 into /config/routers/next.json.
HP_SYNC='set -e
mkdir -p /config/allowed /config/https /config/routers /config/certs; chmod 700 /config/certs
for d in /config/apps/*/; do # the pause files every route reads (an app routed by an older release has none)
  [ -f "$d/live" ] && [ ! -f "$d/until" ] || continue
  cp "$d/live" "$d/gate"; printf 0 >"$d/until"
done
wanted=$(for d in /config/apps/*/; do [ -f "$d/names" ] && [ "$(cat "$d/tls" 2>/dev/null)" = on ] && cut -d/ -f1 "$d/names"; done | sort -u)
for name in $wanted; do : >"/config/allowed/$name"; : >"/config/https/$name"; done
for f in /config/allowed/* /config/https/*; do
  [ -f "$f" ] || continue
  printf "%s\n" "$wanted" | grep -qxF "${f##*/}" || rm -f "$f"
done
certs=""  # certificates from secrets, one file per name (the front reads them during handshakes)
for d in /config/apps/*/; do
  [ -f "$d/cert.pem" ] || continue
  for name in $(cut -d/ -f1 "$d/names" | sort -u); do
    certs="$certs $name"
    cmp -s "$d/cert.pem" "/config/certs/$name.pem" && continue
    (umask 077; cp "$d/cert.pem" "/config/certs/$name.pem.next") && mv -f "/config/certs/$name.pem.next" "/config/certs/$name.pem"
  done
done
for f in /config/certs/*.pem; do
  [ -f "$f" ] || continue
  n=${f##*/}; case " $certs " in *" ${n%.pem} "*) ;; *) rm -f "$f" ;; esac
done
logged=$(cat /config/apps/*/logged 2>/dev/null | sort -u | sed "s/.*/\"&\":[\"canary\"]/" | tr "\n" , | sed "s/,$//")
[ -z "$logged" ] || logged="\"logs\":{\"logger_names\":{$logged},\"skip_unmapped_hosts\":true},"
{ printf "{\"admin\":{\"disabled\":true},"
  # apps in a canary: which copy answered each request, its status and duration (compose/canary.py)
  [ -z "$logged" ] || printf "\"logging\":{\"logs\":{\"default\":{\"exclude\":[\"http.log.access.canary\"]},\"canary\":{\"writer\":{\"output\":\"file\",\"filename\":\"/logs/access.log\",\"roll\":false},\"encoder\":{\"format\":\"filter\",\"wrap\":{\"format\":\"json\"},\"fields\":{\"request\":{\"filter\":\"delete\"},\"resp_headers\":{\"filter\":\"delete\"},\"user_id\":{\"filter\":\"delete\"}}},\"include\":[\"http.log.access.canary\"]}}},"
  printf "\"apps\":{\"http\":{\"grace_period\":\"%ss\",\"servers\":{\"router\":{\"listen\":[\"%s\"],\"automatic_https\":{\"disable\":true},\"trusted_proxies\":{\"source\":\"static\",\"ranges\":[\"127.0.0.0/8\",\"10.0.0.0/8\",\"172.16.0.0/12\",\"192.168.0.0/16\",\"::1/128\",\"fc00::/7\"]},$logged\"routes\":[" "$2" "$1"
  printf "{\"match\":[{\"host\":[\"deploy-actions-router.invalid\"]}],\"handle\":[{\"handler\":\"static_response\",\"status_code\":200}],\"terminal\":true}"
  cat /config/apps/*/routes 2>/dev/null | sort | cut -f2- | sed "s/^/,/"
  printf ",{\"handle\":[{\"handler\":\"static_response\",\"status_code\":404,\"body\":\"no app on this host serves this name\"}]}]}}}}}\n"
} >/config/routers/next.json'

hp_lock() { # one change of the host proxy at a time (deploys of two apps to one host)
  hp_lockdir=${HOME:-/tmp}/.deploy-actions-proxy.lock; waited=0
  until mkdir "$hp_lockdir" 2>/dev/null; do
    owner=$(cat "$hp_lockdir/pid" 2>/dev/null)
    if [ -n "$owner" ] && ! alive "$owner"; then rm -rf "$hp_lockdir"; continue; fi
    [ "$waited" -lt 600 ] || { say "the shared proxy stayed busy with another app's deploy for 60s"; return 1; }
    sleep 0.1; waited=$((waited + 1))
  done
  printf '%s\n' "$$" >"$hp_lockdir/pid"
}
hp_unlock() { rm -rf "$hp_lockdir"; }

hp_router_ready() { # router $1 answers on $2
  i=0
  until docker exec "$1" wget -q -O /dev/null --header "Host: deploy-actions-router.invalid" "http://$2/" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 100 ] || return 1; sleep 0.1
  done
}

hp_front() { # the front runs (created with the settings of this deploy the first time)
  case "$(hp_state "$HP")" in
    true) return 0 ;;
    false) docker start "$HP" >/dev/null || return 1 ;;
    *)
      { printf '%s\n' "$HP_SETTINGS"; printf '%s\n' "$HP_FRONT"; } | hp_sh 'read -r s && printf "%s\n" "$s" >/config/settings &&
          cat >/config/front.json.next && mv -f /config/front.json.next /config/front.json' || return 1
      docker run -d --name "$HP" --network host --restart unless-stopped -v "$HP:/config" -v "$HP-data:/data" \
        --label org.deploy-actions.role=host-proxy "$PROXY_IMAGE" caddy run --config /config/front.json >/dev/null || return 1 ;;
  esac
  i=0
  until docker exec "$HP" test -S /config/admin.sock 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 100 ] || return 1; sleep 0.1
  done
}

hp_route() { # the names' routes on this host match every app's files: a new router if they changed
  current=$(hp_sh 'cat /config/routers/current 2>/dev/null')
  gen=${current%% *}; gen=${gen:-0}; port=${current#* }
  set -- $HP_ROUTER_PORTS
  next_port=$1; [ "$port" = "$1" ] && next_port=$2
  hp_sh "$HP_SYNC" -- "$UPSTREAM:$next_port" "$DRAIN" >/dev/null || return 1
  # The same routes and the router runs: nothing to change (only the port in the config differs).
  if [ "$gen" != 0 ] && [ "$(hp_state "$HP-router-$gen")" = true ] \
    && hp_sh "sed 's/\"listen\":\[[^]]*\]//' /config/routers/next.json | cmp -s - /config/routers/$gen.stripped"; then
    return 0
  fi
  new=$((gen + 1))
  hp_port_free "$UPSTREAM:$next_port" || { say "port $next_port on $UPSTREAM, for the shared proxy's router, is taken by another program"; return 1; }
  hp_sh "mv -f /config/routers/next.json /config/routers/$new.json && sed 's/\"listen\":\[[^]]*\]//' /config/routers/$new.json >/config/routers/$new.stripped" || return 1
  docker rm -f "$HP-router-$new" >/dev/null 2>&1
  # The router runs the front's image (a later deploy or proxy-remove-app may name another).
  image=$(docker inspect -f '{{.Config.Image}}' "$HP" 2>/dev/null) || image=$PROXY_IMAGE
  docker run -d --name "$HP-router-$new" --network host --restart unless-stopped -v "$HP:/config:ro" -v "$HP-logs:/logs" \
    --label org.deploy-actions.role=host-proxy-router "$image" caddy run --config "/config/routers/$new.json" >/dev/null \
    && hp_router_ready "$HP-router-$new" "$UPSTREAM:$next_port" \
    || { say "the shared proxy's new router did not start: $(docker logs --tail 1 "$HP-router-$new" 2>&1)"; docker rm -f "$HP-router-$new" >/dev/null 2>&1; return 1; }
  printf '%s' "$UPSTREAM:$next_port" | hp_sh "cat >/config/router.next && mv -f /config/router.next /config/router && echo '$new $next_port' >/config/routers/current" || return 1
  if [ "$gen" != 0 ]; then # the old router: drained, then removed
    waited=0
    while [ "$(connections_to "$port")" -gt 0 ] && [ "$waited" -lt $((DRAIN * 5)) ]; do sleep 0.2; waited=$((waited + 1)); done
    say "shared proxy: router $gen drained in $((waited / 5)).$((waited % 5 * 2))s"
    docker rm -f "$HP-router-$gen" >/dev/null 2>&1
    hp_sh "rm -f /config/routers/$gen.json /config/routers/$gen.stripped"
  fi
  # no app in a canary any more: its access log goes
  docker exec "$HP-router-$new" sh -c 'ls /config/apps/*/logged >/dev/null 2>&1 || rm -f /logs/access.log' 2>/dev/null
  say "shared proxy: router $new routes $(hp_sh 'cat /config/apps/*/names 2>/dev/null | sort | tr "\n" " "')"
}

# Run in the volume (appended to a script that has $d, the app's folder): the app's pause ends.
# Requests waiting at the proxy dial the live copy from now on (the gate first), new ones no longer wait.
HP_RELEASE='cp "$d/live" "$d/gate.next" && mv -f "$d/gate.next" "$d/gate" && printf 0 >"$d/until.next" && mv -f "$d/until.next" "$d/until"'

# Run in the volume, stdin: live address, tls (on/off), names, a line @@routes, routes. The
# live file is renamed last: for an app already routed, that rename is the switch.
HP_APP='set -e
d=/config/apps/$1; mkdir -p "$d"; chmod 700 "$d"
read -r live; read -r tls
: >"$d/names.next"; : >"$d/routes.next"; (umask 077; : >"$d/cert.next"); out=$d/names.next
while IFS= read -r line; do
  case "$line" in @@routes) out=$d/routes.next; continue ;; @@cert) out=$d/cert.next; continue ;; esac
  [ -z "$line" ] || printf "%s\n" "$line" >>"$out"
done
printf "%s\n" "$tls" >"$d/tls.next"
if [ -s "$d/cert.next" ]; then mv -f "$d/cert.next" "$d/cert.pem"; else rm -f "$d/cert.next" "$d/cert.pem"; fi
mv -f "$d/names.next" "$d/names"; mv -f "$d/routes.next" "$d/routes"; mv -f "$d/tls.next" "$d/tls"
rm -f "$d/logged" "$d/weight" "$d/maintenance"
printf "%s" "$live" >"$d/live.next"; mv -f "$d/live.next" "$d/live"
'"$HP_RELEASE"

hp_point() { # users of this app's names reach port $1 on the upstream address
  since=$(now_ms)
  hp_lock || return 1
  # The certificate's key goes on stdin (printf is the shell's own: no argv holds it).
  { printf '%s\n%s\n%s\n@@routes\n' "$UPSTREAM:$1" "$HP_TLS" "$HP_NAMES"; printf '%s\n' "$HP_ROUTES" | sed "s|%APP%|$BASE|g"
    printf '@@cert\n%s\n' "${HP_CERT:-}"; } \
    | hp_sh "$HP_APP" -- "$BASE" && hp_route && hp_front || { hp_unlock; return 1; }
  hp_unlock
  say "shared proxy: $(printf '%s' "$HP_NAMES" | tr '\n' ' ')→ $UPSTREAM:$1 (switched in $(( $(now_ms) - since ))ms)"
}

# Run in the volume, stdin: the app's routes for a canary step (or its usual ones), $2 the
# names to log (none: not in a canary), $3 the new copy's share. The cookie's secret is made once per app.
HP_WEIGH='set -e
d=/config/apps/$1; [ -f "$d/live" ]
[ -s "$d/secret" ] || (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d " \n" >"$d/secret")
sed "s|%SECRET%|$(cat "$d/secret")|g" >"$d/routes.next"; mv -f "$d/routes.next" "$d/routes"
printf "%s\n" "$3" >"$d/weight"
if [ -n "$2" ]; then printf "%s\n" "$2" >"$d/logged"; else rm -f "$d/logged"; fi
'"$HP_RELEASE"

hp_weigh() { # $3 % of this app's new visitors to port $2, the rest to the live copy's $1 (0: all to $1, the usual route)
  routes=$HP_ROUTES; logged=""
  if [ "$3" != 0 ]; then routes=$HP_CANARY_ROUTES; logged=$(printf '%s\n' "$HP_NAMES" | cut -d/ -f1 | sort -u); fi
  printf '%s\n' "$routes" | sed -e "s|%APP%|$BASE|g" -e "s|%STABLE%|$UPSTREAM:$1|g" -e "s|%CANARY%|$UPSTREAM:$2|g" \
      -e "s|%WSTABLE%|$((100 - $3))|g" -e "s|%WCANARY%|$3|g" \
    | hp_routed hp_sh "$HP_WEIGH" -- "$BASE" "$logged" "$3"
}

hp_routed() { # "$@" changes the volume (stdin passed on), then a new router if the routes changed; one at a time
  hp_lock || return 1
  "$@" && hp_route || { hp_unlock; return 1; }
  hp_unlock
}

# Run where the router's log volume is /logs: for the copy on port $2, the requests logged
# since host time $1 (ms): "requests,failed (5xx),p95 in ms,p95's lower 99% confidence bound".
# The bound is the r-th fastest duration with r = 0.95n - 2.326 sqrt(0.05 * 0.95n): the normal
# approximation of the binomial rank at or below which p95 lies with 99% chance (98.9% at
# worst for n from 10 to 20,000; compose/canary.py says why the verdict uses it). The square
# root by Newton's method: the proxy image's busybox awk may have no maths built in.
HP_OBSERVE='f=/logs/access.log
[ -f "$f" ] || { echo 0,0,0,0; exit 0; }
awk -v s="$1" -v p="\"copy\":\"$2\"" "
  function num(key,  i) { i = index(\$0, \"\\\"\" key \"\\\":\"); return i ? substr(\$0, i + length(key) + 3) + 0 : -1 }
  index(\$0, p) && num(\"ts\") * 1000 >= s + 0 { printf \"%d %.3f\\n\", num(\"status\"), num(\"duration\") * 1000 }" "$f" \
  | sort -k2,2n | awk "function root(x,  y, i) { y = x + 1; for (i = 0; i < 60; i++) y = (y + x / y) / 2; return y }
    { n++; if (\$1 >= 500) e++; d[n] = \$2 }
    END { if (!n) { print \"0,0,0,0\"; exit } k = int(0.95 * n); if (k < 0.95 * n) k++
      r = int(0.95 * n - 2.326 * root(0.0475 * n)); if (r < 1) r = 1
      printf \"%d,%d,%.1f,%.1f\\n\", n, e + 0, d[k], d[r] }"'

hp_has_route() { # this app's names are routed by the host's shared proxy (to its live copy)
  docker volume inspect "$HP" >/dev/null 2>&1 && hp_sh "test -f /config/apps/$BASE/live" 2>/dev/null
}

hp_canary() { # the share of this app's new visitors its new copy gets on the shared proxy (0: none)
  weight=$(hp_sh "cat /config/apps/$BASE/weight 2>/dev/null" 2>/dev/null)
  printf '%s\n' "${weight:-0}"
}

hp_quiet_log() { # a held canary keeps its share but is no longer logged (nothing reads it until promote or abort)
  hp_routed hp_sh "rm -f /config/apps/$BASE/logged"
}

hp_observe() { # $2's sample since host time $1 (ms), read in the current router (it writes the log)
  gen=$(hp_sh 'cat /config/routers/current 2>/dev/null'); gen=${gen%% *}
  if [ "$(hp_state "$HP-router-$gen")" = true ]; then docker exec "$HP-router-$gen" sh -c "$HP_OBSERVE" hp "$1" "$2"
  else docker run --rm --network none -v "$HP-logs:/logs" --entrypoint sh "$PROXY_IMAGE" -c "$HP_OBSERVE" hp "$1" "$2"; fi
}

# Run in the volume, stdin: the app's routes, a line @@page, the page; $2 on or off.
HP_MAINT='set -e
d=/config/apps/$1; [ -f "$d/live" ]
: >"$d/routes.next"; : >"$d/page.next"; out=$d/routes.next
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in @@page) out=$d/page.next; continue ;; esac
  printf "%s\n" "$line" >>"$out"
done
mv -f "$d/page.next" "$d/maintenance.html"; mv -f "$d/routes.next" "$d/routes"; rm -f "$d/logged" "$d/weight"
if [ "$2" = on ]; then : >"$d/maintenance"; else rm -f "$d/maintenance"; fi
'"$HP_RELEASE"

hp_maintenance() { # on: the app's names answered by the proxy (503); off: its usual routes to the live copy
  routes=$HP_ROUTES; [ "$1" = on ] && routes=$HP_MAINT_ROUTES
  { printf '%s\n' "$routes" | sed "s|%APP%|$BASE|g"; printf '@@page\n%s' "$HP_PAGE"; } \
    | hp_routed hp_sh "$HP_MAINT" -- "$BASE" "$1"
}

# Run in the front: app $1 paused for $2 seconds (0: not paused any more); prints the deadline
# (host time, ms). Requests wait at the proxy (compose/host_proxy.py) for a socket that is never
# there; the gate is closed before the deadline is set, and opened (to the live copy) before it
# is cleared. The front has no clock in ms: host time is $3 (ms) at kernel uptime $4, a clock
# host and container share. A process left in the front ends the pause at the deadline, unless
# another pause or a release replaced it.
HP_PAUSE='set -e
d=/config/apps/$1; [ -f "$d/live" ]
if [ "$2" = 0 ]; then '"$HP_RELEASE"'; echo 0; exit 0; fi
printf "unix/%s/paused.sock" "$d" >"$d/gate.next"; mv -f "$d/gate.next" "$d/gate"
until=$(awk -v t="$3" -v u="$4" -v n="$2" "{ printf \"%.0f\", t + (\$1 - u + n) * 1000 }" /proc/uptime)
printf "%s" "$until" >"$d/until.next"; mv -f "$d/until.next" "$d/until"
echo "$until"
( sleep "$2"; [ "$(cat "$d/until" 2>/dev/null)" = "$until" ] || exit 0
  '"$HP_RELEASE"' ) </dev/null >/dev/null 2>&1 &'

hp_pause() { # $1 seconds (0: end the pause now): requests to this app's names wait at the proxy
  # until host time HP_UNTIL (ms; 0: not paused)
  if [ "$1" != 0 ] && hp_sh "test -f /config/apps/$BASE/maintenance" 2>/dev/null; then
    fail state 2 "app $BASE is in maintenance on $(hostname): its requests are answered by the proxy, there is nothing to pause"
  fi
  [ "$1" = 0 ] || [ "$(hp_canary)" = 0 ] || fail state 2 "app $BASE is in a canary on $(hostname): promote or abort it first"
  # routes written by an earlier release cannot hold requests: the usual ones again (a new router)
  hp_sh "grep -q /until /config/apps/$BASE/routes" 2>/dev/null \
    || printf '%s\n' "$HP_ROUTES" | sed "s|%APP%|$BASE|g" \
      | hp_routed hp_sh 'd=/config/apps/$1; cat >"$d/routes.next" && mv -f "$d/routes.next" "$d/routes"' -- "$BASE" \
    || return 1
  [ "$(hp_state "$HP")" = true ] || { say "the shared proxy ($HP) is not running"; return 1; }
  HP_UNTIL=$(docker exec "$HP" sh -c "$HP_PAUSE" hp "$BASE" "$1" "$(now_ms)" "$(cut -d' ' -f1 /proc/uptime)") \
    && [ -n "$HP_UNTIL" ]
}
