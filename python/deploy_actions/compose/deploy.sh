# shellcheck shell=sh
# deploy-actions remote script (POSIX sh). It reaches the host on the standard input of
# `sh -s` (never in an argv: `ps` shows those to every user), after assignments of its
# parameters and a user_env function holding the user's variables (each value shell-quoted
# by the runner), so nothing the user typed is ever evaluated. user_env runs only in the
# subshells of the compose and migration commands: the user's variables cannot change the
# script's own. Everything runs inside main(), called on the last line with stdin closed:
# a script cut short in transit runs nothing at all, and no command can read the script.
#
# Parameters: ACTION DEPLOY_PATH TAG TAG_VAR ENV_FILE PROJECT FILES SERVICES DEPLOY_ID
#             COMMIT ACTOR LOCK_TIMEOUT READY_URL READY_TIMEOUT MIGRATE_COMMAND REASON
#             MIGRATE_PGOPTIONS MIGRATE_RETRIES
#   blue-green: STRATEGY PROXY_IMAGE PROXY_LISTEN UPSTREAM PORTS PORT_VAR DRAIN READY_PATH
#     and, with hostname, the host proxy's HP_* (host_proxy.sh); a canary's HP_CANARY_ROUTES WEIGHT SINCE;
#     maintenance's MAINT HP_MAINT_ROUTES HP_PAGE; pause's PAUSE (seconds); AROUND_MIGRATION
# Every result ends with one line: @@result key=value ... (values without spaces).
# say, result, fail, record, lock, hold, ours and release come from remote/lock.sh, before it;
# the hp_* functions from host_proxy.sh.

state_dir() { printf '%s/.deploy-actions' "$DEPLOY_PATH"; }
lock_subject() { printf '%s' "$DEPLOY_PATH"; }

with_user_env() { # run "$@" with the user's variables, in a subshell that ends with it
  ( user_env; exec "$@" )
}

compose() {
  # $COMPOSE is "docker compose" or "docker-compose"; the tag is exported explicitly so a
  # variable exported by a profile (or kept by sudo, or given in env) cannot override it.
  set -- env "$TAG_VAR=$RUN_TAG" ${RUN_PORT:+"$PORT_VAR=$RUN_PORT"} $COMPOSE $COMPOSE_FLAGS "$@"
  with_user_env "$@"
}

detect_compose() {
  # Found once per deploy (each probe starts the Compose binary); later sessions reuse it.
  cache="$(state_dir)/compose.$DEPLOY_ID"
  if [ -f "$cache" ]; then COMPOSE=$(cat "$cache")
  elif docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then COMPOSE="docker-compose"
  else fail compose 4 "neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed on $(hostname)"; fi
  rm -f "$(state_dir)"/compose.* 2>/dev/null; printf '%s\n' "$COMPOSE" >"$cache"
  FILE_FLAGS=""
  for f in $FILES; do FILE_FLAGS="$FILE_FLAGS -f $f"; done
  COMPOSE_FLAGS="${PROJECT:+-p $PROJECT}$FILE_FLAGS"
}

current_tag() {
  [ -f "$ENV_FILE" ] || { printf ''; return; }
  sed -n "s/^$TAG_VAR=//p" "$ENV_FILE" | tail -n 1 | tr -d "\"'"
}

write_tag() { # replace the TAG_VAR line, keep every other line and their order
  tmp="$ENV_FILE.deploy-actions.$$"
  if [ -f "$ENV_FILE" ]; then
    awk -v var="$TAG_VAR" -v val="$1" 'BEGIN{done=0} index($0, var "=")==1 {if(!done){print var "=" val; done=1}; next} {print} END{if(!done) print var "=" val}' "$ENV_FILE" >"$tmp"
    chmod --reference="$ENV_FILE" "$tmp" 2>/dev/null || true
  else
    printf '%s=%s\n' "$TAG_VAR" "$1" >"$tmp"
  fi
  mv "$tmp" "$ENV_FILE"
}

running() { # "service image-ref image-id" for each running container of the compose file's services
  # Orphans (services no longer in the compose file) are not what this deploy runs.
  wanted=${SERVICES:-$(compose config --services 2>/dev/null)}
  ids=$(compose ps -q $wanted 2>/dev/null)
  [ -n "$ids" ] || return 0
  docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Config.Image}} {{.Image}}' $ids
}

verify_running() { # every container runs what its image reference resolves to, and one runs $1
  found=""; stale=""; DIGESTS=""
  running >"$(state_dir)/running.$$"
  refs=$(awk '{print $2}' "$(state_dir)/running.$$" | sort -u)
  [ -n "$refs" ] && docker image inspect -f '{{range .RepoTags}}{{.}} {{end}}{{.Id}}' $refs 2>/dev/null \
    | awk '{for (i = 1; i < NF; i++) print $i, $NF}' >"$(state_dir)/images.$$"
  while read -r service ref image; do
    want=$(awk -v r="$ref" '$1 == r {print $2}' "$(state_dir)/images.$$" | head -n 1)
    [ "$want" = "$image" ] || stale="$stale $service"
    case "$ref" in *":$1") found="$found $service" ;; esac
    DIGESTS="$DIGESTS${DIGESTS:+,}$service=$image"
    say "  $service: $ref ($image)"
  done <"$(state_dir)/running.$$"
  rm -f "$(state_dir)/running.$$" "$(state_dir)/images.$$"
  [ -z "$stale" ] || { say "containers still on an old image:$stale"; return 1; }
  [ -n "$found" ] || { say "no running service uses tag $1: does the compose file use \${$TAG_VAR}?"; return 2; }
  FOUND_SERVICES=$(echo $found | tr ' ' ',')
  return 0
}

wait_ready() { # host-side readiness: curl or wget on the host itself
  [ -n "$READY_URL" ] || return 0
  if command -v curl >/dev/null 2>&1; then get="curl -fsS -o /dev/null --max-time 5"
  elif command -v wget >/dev/null 2>&1; then get="wget -q -O /dev/null -T 5"
  else say "neither curl nor wget on the host: cannot check $READY_URL from here"; return 3; fi
  start=$(date +%s)
  while :; do
    if $get "$READY_URL" 2>/dev/null; then say "ready: $READY_URL after $(( $(date +%s) - start ))s"; return 0; fi
    [ $(( $(date +%s) - start )) -ge "$READY_TIMEOUT" ] && { say "not ready: $READY_URL after ${READY_TIMEOUT}s"; return 1; }
    say "  waiting for $READY_URL"
    sleep 1
  done
}

switch_to() { # $1 tag, $2 "pull" to pull first (a switch pulled in its own phase); sets SWITCH_ERR
  RUN_TAG="$1"
  write_tag "$1"
  if [ "$2" = pull ]; then compose pull -q $SERVICES || { SWITCH_ERR="pull"; return 1; }; fi
  compose up -d $SERVICES || { SWITCH_ERR="up"; return 1; }
  verify_running "$1" || { SWITCH_ERR="verify"; return 1; }
  wait_ready || { SWITCH_ERR="ready"; return 1; }
  return 0
}

# -- blue-green --------------------------------------------------------------------------
# Two Compose projects, <base>-blue and <base>-green, each the whole app on its own port
# (PORT_VAR), and one Caddy container, <base>-proxy, that users reach. Caddy reads where to
# send each request from the file /config/live ({file.*}, read per request), so a switch is
# one atomic rename: no config reload, the listener never restarts, no connection is cut.
# (A reload binds a new listening socket beside the old one, SO_REUSEPORT, and closing the
# old one resets connections still in its accept queue; it also closes idle keep-alive
# connections: measured, both lose requests under load.) The config and the live file sit
# in a volume, so a restarted proxy or host serves the live copy again.
bg_init() {
  name=${PROJECT:-${COMPOSE_PROJECT_NAME:-$(basename "$DEPLOY_PATH")}}
  BASE=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_-' '-')
  PROXY="$BASE-proxy"
  set -- $PORTS; BLUE_PORT=$1; GREEN_PORT=$2
  LIVE=""; LIVE_TAG=""; STANDBY=""; STANDBY_TAG=""
  [ -f "$(state_dir)/live" ] && read -r LIVE LIVE_TAG <"$(state_dir)/live"
  [ -f "$(state_dir)/standby" ] && read -r STANDBY STANDBY_TAG <"$(state_dir)/standby"
  HELD=""; HELD_TAG=""  # a release staged and gated, waiting for promote or abort
  [ -f "$(state_dir)/held" ] && read -r HELD HELD_TAG <"$(state_dir)/held"
  return 0
}

other() { [ "$1" = blue ] && echo green || echo blue; }
port_of() { [ "$1" = blue ] && echo "$BLUE_PORT" || echo "$GREEN_PORT"; }

use_colour() { # compose commands from here on act on copy $1 running tag $2
  COMPOSE_FLAGS="-p $BASE-$1$FILE_FLAGS"; RUN_TAG="$2"; RUN_PORT=$(port_of "$1")
}

has_copy() { # containers (running or stopped) of copy $1 exist
  [ -n "$(docker ps -aq --filter "label=com.docker.compose.project=$BASE-$1" 2>/dev/null)" ]
}

check_blue_green() { # the compose file can run as two copies side by side; else fail with file:line
  first=""
  for f in ${FILES:-compose.yaml compose.yml docker-compose.yaml docker-compose.yml}; do
    [ -f "$f" ] || continue
    first=${first:-$f}
    line=$(grep -n '^[[:space:]]*container_name:' "$f" | head -n 1 | cut -d: -f1)
    [ -n "$line" ] && fail config 2 "$DEPLOY_PATH/$f:$line: container_name fixes one name for every copy; remove it (blue-green runs the service twice, as projects $BASE-blue and $BASE-green)"
    [ -n "$FILES" ] || break
  done
  # The two copies' resolved configs (less the project name) must differ: by the port.
  use_colour blue "$TAG"; a=$(compose config 2>&1) || fail config 2 "compose config failed: $(printf '%s' "$a" | tail -n 1)"
  use_colour green "$TAG"; b=$(compose config 2>/dev/null)
  a=$(printf '%s\n' "$a" | grep -v '^name:'); b=$(printf '%s\n' "$b" | grep -v '^name:')
  [ "$a" != "$b" ] || fail config 2 "$DEPLOY_PATH/$first: nothing in the compose file uses \${$PORT_VAR}; the service must listen on it (e.g. environment: PORT: \${$PORT_VAR}, or ports: - 127.0.0.1:\${$PORT_VAR}:8000) so blue and green can run side by side"
  return 0
}

proxy_config() { # Caddy's JSON config, listening on $1: every request goes where /config/live
  # says. Idle upstream connections close after 2 s, so that after a switch only requests in
  # flight keep the old copy busy (drain); a reload or stop lets them finish within DRAIN seconds.
  printf '{"admin":{"listen":"unix//config/admin.sock"},"apps":{"http":{"grace_period":"%ss","servers":{"public":{"listen":["%s"],"automatic_https":{"disable":true},"routes":[{"handle":[{"handler":"reverse_proxy","transport":{"protocol":"http","keep_alive":{"idle_timeout":"2s"}},"upstreams":[{"dial":"{file./config/live}"}]}]}]}}}}}\n' \
    "$DRAIN" "$1"
}

proxy_listening() { # the address the app's own proxy listens on, if it runs (its config says)
  [ "$(proxy_state)" = true ] || return 0
  docker exec "$PROXY" cat /config/caddy.json 2>/dev/null | sed -n 's/.*"listen":\["\([^"]*\)"\].*/\1/p'
}

caddy_supported() { # $1: `caddy version` output; {file.*} placeholders came with Caddy 2.7
  printf '%s\n' "$1" | awk '{v = $1; sub(/^v/, "", v); split(v, n, "."); exit !(n[1] > 2 || (n[1] == 2 && n[2] >= 7))}'
}

proxy_state() { # true (running), false (stopped) or missing
  state=$(docker inspect -f '{{.State.Running}}' "$PROXY" 2>/dev/null) || state=missing
  printf '%s\n' "$state"
}

proxy_prepare() { # the image is there (pulled if needed), recent enough, and for a new proxy the port is free
  # (with hostname, the host's shared proxy: host_proxy.sh checks its ports and names)
  docker image inspect "$PROXY_IMAGE" >/dev/null 2>&1 || docker pull -q "$PROXY_IMAGE" >/dev/null 2>&1 \
    || fail proxy-image 2 "proxy image $PROXY_IMAGE is not on $(hostname) and could not be pulled (set proxy-image)"
  version=$(docker run --rm --network none --entrypoint caddy "$PROXY_IMAGE" version 2>/dev/null | head -n 1)
  caddy_supported "$version" \
    || fail proxy-image 2 "proxy image $PROXY_IMAGE runs Caddy ${version%% *}; blue-green needs Caddy 2.7 or later (set proxy-image, e.g. caddy:2)"
  if [ -n "$HP_NAMES" ]; then hp_prepare; return; fi
  if [ "$(proxy_state)" != true ] && command -v ss >/dev/null 2>&1; then
    port=${PROXY_LISTEN##*:}; host=${PROXY_LISTEN%:*}
    if ss -Hltn "sport = :$port" 2>/dev/null | awk -v h="$host" -v p="$port" 'h == "" || $4 == h ":" p || $4 ~ /^(0\.0\.0\.0|\*|\[::\]):/ {found=1} END {exit !found}'; then
      fail proxy-port 2 "port $port (proxy-listen $PROXY_LISTEN) is already taken on $(hostname) by another program"
    fi
  fi
  return 0
}

proxy_wait() { # until Caddy answers on its admin socket
  i=0
  until docker exec "$PROXY" test -S /config/admin.sock 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 100 ] || return 1; sleep 0.1
  done
}

now_ms() { # milliseconds (whole seconds where date has no %N)
  t=$(date +%s%3N 2>/dev/null)
  case "$t" in ""|*[!0-9]*) echo $(( $(date +%s) * 1000 )) ;; *) echo "$t" ;; esac
}

proxy_write() { # $1 file under /config, content on stdin: replaced atomically (a rename)
  docker exec -i "$PROXY" sh -c "cat >/config/$1.next && mv -f /config/$1.next /config/$1"
}

proxy_seed() { # the volume gets the live file (port $1) and the config, for a proxy about to start
  { printf '%s\n' "$UPSTREAM:$1"; proxy_config "$PROXY_LISTEN"; } | docker run --rm -i -v "$PROXY-config:/config" --entrypoint sh "$PROXY_IMAGE" \
    -c 'read -r live && printf "%s" "$live" >/config/live.next && cat >/config/caddy.json.next &&
        mv -f /config/live.next /config/live && mv -f /config/caddy.json.next /config/caddy.json'
}

proxy_point() { # send users to port $1: the next request goes there, in-flight requests drain
  since=$(now_ms)
  state=$(proxy_state)
  if [ "$state" = false ]; then # stopped (a host restart without the restart policy): it serves
    # nobody, so it is made again from this deploy's image (checked) and config
    docker rm "$PROXY" >/dev/null || return 1
    state=missing
  fi
  case "$state" in
    true)
      # One exec: the rename, then whether the config reads the file (exit 3: it does not).
      printf '%s' "$UPSTREAM:$1" | docker exec -i "$PROXY" sh -c 'cat >/config/live.next && mv -f /config/live.next /config/live || exit 1
        grep -qF "{file./config/live}" /config/caddy.json || exit 3'
      rc=$?
      [ "$rc" = 0 ] || [ "$rc" = 3 ] || return 1
      if [ "$rc" = 3 ]; then
        # A proxy set up by an earlier version names the port in its config: one last reload
        # moves it to the live file (needs Caddy 2.7+, checked on this proxy itself first).
        version=$(docker exec "$PROXY" caddy version 2>/dev/null | head -n 1)
        caddy_supported "$version" || { say "proxy $PROXY runs Caddy ${version%% *}; blue-green needs 2.7 or later: recreate it with docker rm -f $PROXY"; return 1; }
        listen=$(proxy_listening)
        proxy_config "${listen:-$PROXY_LISTEN}" | proxy_write caddy.json \
          && docker exec "$PROXY" caddy reload --config /config/caddy.json >/dev/null 2>"$(state_dir)/proxy.err.$$" \
          || { say "proxy reload failed: $(tail -n 1 "$(state_dir)/proxy.err.$$" 2>/dev/null)"; rm -f "$(state_dir)/proxy.err.$$"; return 1; }
        rm -f "$(state_dir)/proxy.err.$$"
        say "proxy $PROXY: moved to switching through /config/live (one reload; later switches need none)"
      fi ;;
    *)
      docker volume create "$PROXY-config" >/dev/null && proxy_seed "$1" || return 1
      docker run -d --name "$PROXY" --network host --restart unless-stopped -v "$PROXY-config:/config" \
        --label "org.deploy-actions.deploy-path=$DEPLOY_PATH" "$PROXY_IMAGE" \
        caddy run --config /config/caddy.json >/dev/null && proxy_wait || return 1 ;;
  esac
  say "proxy $PROXY: users now reach $UPSTREAM:$1 (switched in $(( $(now_ms) - since ))ms)"
}

point() { # users reach port $1: through the host's shared proxy (hostname) or the app's own
  [ -n "$HP_NAMES" ] || { proxy_point "$1"; return; }
  # An own proxy from before hostname switches first, so that no user of its address sees the
  # old copy again once the shared proxy serves the new one; if the shared proxy fails, it goes back.
  [ "$(proxy_state)" != true ] || proxy_point "$1" || return 1
  hp_point "$1" && hp_own_proxy && return 0
  [ "$(proxy_state)" != true ] || [ -z "$LIVE" ] || proxy_point "$(port_of "$LIVE")"
  return 1
}

connections_to() { # established TCP connections to port $1 on this host (the proxy's, to a copy)
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null \
    | awk -v p=":$hex" '$4 == "01" && substr($3, length($3) - 4) == p {n++} END {print n + 0}'
}

drain() { # after a switch away from copy $1: until the proxy holds no connection to it, at most DRAIN s
  port=$(port_of "$1"); waited=0
  while [ "$(connections_to "$port")" -gt 0 ] && [ "$waited" -lt $((DRAIN * 5)) ]; do
    sleep 0.2; waited=$((waited + 1))
  done
  [ "$waited" -eq 0 ] || say "drained copy $1 in $((waited / 5)).$((waited % 5 * 2))s"
}

remember() { # live and standby copies: "colour tag" lines
  printf '%s %s\n' "$1" "$2" >"$(state_dir)/live"
  if [ -n "$3" ]; then printf '%s %s\n' "$3" "$4" >"$(state_dir)/standby"; else rm -f "$(state_dir)/standby"; fi
}

bg_ready() { # host-side readiness of copy $1 (with ready-from: host)
  [ -n "$READY_PATH" ] && [ -n "$READY_URL" ] || return 0
  saved=$READY_URL; READY_URL="http://$UPSTREAM:$(port_of "$1")$READY_PATH"
  wait_ready; rc=$?; READY_URL=$saved; return $rc
}

routed_or_refuse() { # maintenance and pause act on the app's route on the shared proxy; around a
  # deploy's migration (AROUND_MIGRATION=true), an app not routed yet has no users to keep out
  hp_has_route && return 0
  [ "$AROUND_MIGRATION" != true ] || { result "ok=true state=none until=0"; exit 0; }
  fail hostname 2 "app $BASE is not on the shared proxy of $(hostname): deploy it with hostname first"
}

bg_action() {
  bg_init
  case "$ACTION" in
    prepare)
      [ -w . ] || fail path 3 "deploy path $DEPLOY_PATH is not writable by $(id -un)"
      check_blue_green
      proxy_prepare
      NEW=$(other "${LIVE:-green}")
      if [ "$STANDBY" = "$NEW" ] && [ "$STANDBY_TAG" = "$TAG" ] && has_copy "$NEW"; then
        say "standby copy $NEW already holds $TAG: no pull"
      else
        use_colour "$NEW" "$TAG"; compose pull -q $SERVICES || fail pull 6 "docker compose pull of $TAG failed"
      fi
      result "ok=true previous=$LIVE_TAG compose=$(echo "$COMPOSE" | tr ' ' '-')" ;;
    stage) # the new copy beside the live one; no user reaches it yet
      lock
      NEW=$(other "${LIVE:-green}")
      if [ -n "$HP_NAMES" ] && [ -n "$LIVE" ] && [ "$(hp_canary)" != 0 ]; then
        # a canary left half-way (its runner gone) or held: its users go back to the live copy first
        hp_weigh "$(port_of "$LIVE")" "$(port_of "$NEW")" 0 || fail proxy 8 "the canary left on the shared proxy could not be ended"
        say "a canary left on the shared proxy was ended: every user is on the live copy ($LIVE_TAG)"
      fi
      if [ -n "$HELD" ]; then
        rm -f "$(state_dir)/held"; say "release $HELD_TAG, held for promote, is replaced by $TAG"
      fi
      record started "$TAG" "$LIVE_TAG" "in-progress-$NEW"
      use_colour "$NEW" "$TAG"
      step=""
      compose up -d --remove-orphans $SERVICES || step=up
      [ -n "$step" ] || verify_running "$TAG" || step=verify
      [ -n "$step" ] || bg_ready "$NEW" || step=ready
      if [ -n "$step" ]; then
        compose down -t 5 >/dev/null 2>&1
        record deploy "$TAG" "$LIVE_TAG" "rejected-$step"
        result "ok=false step=$step state=rejected previous=$LIVE_TAG"; exit 8
      fi
      routed=false  # users of this app's names reach its live copy through the shared proxy (a canary can start)
      [ -z "$HP_NAMES" ] || [ -z "$LIVE" ] || ! hp_has_route || routed=true
      result "ok=true colour=$NEW port=$(port_of "$NEW") previous=$LIVE_TAG digests=$DIGESTS routed=$routed" ;;
    weigh) # canary: WEIGHT % of the app's new visitors to the new copy (0: none, the usual route)
      lock
      NEW=$(other "${LIVE:-green}")
      [ "$WEIGHT" = 0 ] || has_copy "$NEW" || fail switch 8 "copy $NEW of $TAG is not there to send users to"
      hp_weigh "$(port_of "$LIVE")" "$(port_of "$NEW")" "$WEIGHT" || { result "ok=false step=proxy state=on-previous"; exit 8; }
      record canary "$TAG" "$LIVE_TAG" "weight-$WEIGHT"
      result "ok=true since=$(now_ms)" ;;
    observe) # canary: what the shared proxy measured for each copy since SINCE (host time, ms)
      NEW=$(other "${LIVE:-green}")
      result "ok=true live=$(hp_observe "$SINCE" "$(port_of "$LIVE")") new=$(hp_observe "$SINCE" "$(port_of "$NEW")")" ;;
    keep) # hold: the staged copy waits (gated, or at its last canary step) for promote or abort
      lock
      NEW=$(other "${LIVE:-green}")
      has_copy "$NEW" || fail switch 8 "copy $NEW of $TAG is not there to hold"
      printf '%s %s\n' "$NEW" "$TAG" >"$(state_dir)/held"
      if [ -n "$HP_NAMES" ] && [ "$(hp_canary)" != 0 ]; then
        hp_quiet_log || say "the held canary's access log could not be turned off; it grows until promote or abort"
      fi
      record hold "$TAG" "$LIVE_TAG" "held-$NEW"
      result "ok=true colour=$NEW" ;;
    pending) # what promote or abort would act on
      [ -n "$HELD" ] && has_copy "$HELD" || { result "ok=true tag="; exit 0; }
      result "ok=true tag=$HELD_TAG colour=$HELD port=$(port_of "$HELD") previous=$LIVE_TAG" ;;
    discard) # the gate failed, a canary step failed, or an abort: remove the new copy
      lock
      NEW=$(other "${LIVE:-green}")
      rm -f "$(state_dir)/held"
      use_colour "$NEW" "$TAG"; compose down -t 5 >/dev/null 2>&1
      record deploy "$TAG" "$LIVE_TAG" "rejected-$REASON"
      result "ok=true" ;;
    switch)
      lock
      NEW=$(other "${LIVE:-green}")
      has_copy "$NEW" || fail switch 8 "copy $NEW of $TAG is not there to switch to"
      point "$(port_of "$NEW")" || { result "ok=false step=proxy state=on-previous previous=$LIVE_TAG"; exit 8; }
      remember "$NEW" "$TAG" "$LIVE" "$LIVE_TAG"
      rm -f "$(state_dir)/held"
      write_tag "$TAG"
      record switch "$TAG" "$LIVE_TAG" ok
      result "ok=true previous=$LIVE_TAG" ;;
    switchback) # after a failed public check (here or on another host): the old copy is still running
      lock
      if [ -z "$STANDBY" ] || ! has_copy "$STANDBY"; then
        result "ok=false step=switchback state=new-tag-no-previous"; exit 8
      fi
      use_colour "$STANDBY" "$STANDBY_TAG"; compose start $SERVICES >/dev/null 2>&1
      point "$(port_of "$STANDBY")" || { result "ok=false step=proxy state=rollback-failed-at-proxy"; exit 8; }
      failed=$LIVE; failed_tag=$LIVE_TAG
      remember "$STANDBY" "$STANDBY_TAG" "" ""
      write_tag "$STANDBY_TAG"
      drain "$failed"
      use_colour "$failed" "$failed_tag"; compose down -t 10 >/dev/null 2>&1
      record rollback "$STANDBY_TAG" "$failed_tag" "ok-$REASON"
      result "ok=true previous=$failed_tag" ;;
    finish) # every host is live on the new tag: stop the old copy, keep it for a fast rollback
      lock
      if [ -n "$STANDBY" ]; then
        drain "$STANDBY"
        use_colour "$STANDBY" "$STANDBY_TAG"; compose stop -t 10 $SERVICES >/dev/null 2>&1
      fi
      record deploy "$LIVE_TAG" "$STANDBY_TAG" ok
      result "ok=true" ;;
    maintenance) # the app's names answered 503 by the shared proxy (MAINT=on), or its usual routes (off)
      lock
      routed_or_refuse
      hp_maintenance "$MAINT" || fail proxy 8 "the shared proxy's routes could not be changed"
      record maintenance "$LIVE_TAG" "" "$MAINT"
      result "ok=true state=$MAINT" ;;
    pause) # requests to the app's names wait at the shared proxy for PAUSE seconds at most (0: they go on now)
      lock
      routed_or_refuse
      hp_pause "$PAUSE" || fail proxy 8 "the shared proxy could not $([ "$PAUSE" = 0 ] && echo "end the pause" || echo pause)"
      record pause "$LIVE_TAG" "" "$PAUSE"
      result "ok=true state=$([ "$PAUSE" = 0 ] && echo off || echo on) until=$HP_UNTIL" ;;
    remove-app) # off the host's shared proxy: a new router without its routes (deploy-actions proxy-remove-app)
      lock
      if ! docker volume inspect "$HP" >/dev/null 2>&1 || ! hp_sh "test -d /config/apps/$BASE" 2>/dev/null; then
        result "ok=true removed=none"; exit 0
      fi
      hp_routed hp_sh "rm -rf /config/apps/$BASE" || fail proxy 8 "the shared proxy's routes could not be changed"
      record remove-app "$LIVE_TAG" "" ok
      result "ok=true removed=$BASE" ;;
    status)
      proxy=$(proxy_state)  # the app's own proxy, or the host's shared one if the app is routed there
      if [ "$proxy" = missing ] && hp_has_route; then
        proxy=$(hp_state "$HP")
      fi
      say "@@bluegreen live=$LIVE:$LIVE_TAG standby=$STANDBY:$STANDBY_TAG held=$HELD:$HELD_TAG proxy=$proxy"
      say "@@running"
      if [ -n "$LIVE" ]; then use_colour "$LIVE" "$LIVE_TAG"; running; fi
      if [ -n "$STANDBY" ]; then use_colour "$STANDBY" "$STANDBY_TAG"; running; fi
      say "@@history"; tail -n 20 "$(state_dir)/history" 2>/dev/null
      if docker volume inspect "$HP" >/dev/null 2>&1; then # the host's shared proxy: every app's route
        say "@@routes"
        hp_sh 'for d in /config/apps/*/; do [ -f "$d/live" ] || continue; a=${d%/}
          printf "%s %s %s%s\n" "${a##*/}" "$(cat "$d/live")" "$(tr "\n" "," <"$d/names" | sed "s/,$//")" \
            "$([ -f "$d/weight" ] && [ "$(cat "$d/weight")" != 0 ] && printf " canary=%s%%" "$(cat "$d/weight")")$([ -f "$d/maintenance" ] && printf " maintenance=on")$(
            u=$(cat "$d/until" 2>/dev/null); left=$(( ${u:-0} / 1000 - $(date +%s) )); [ "$left" -gt 0 ] && printf " paused=%ss" "$left")"; done' 2>/dev/null
      fi
      result "ok=true current=$LIVE_TAG" ;;
    *) fail action 2 "unknown blue-green action $ACTION" ;;
  esac
}

migrate() {
  # The migration with the lock and statement timeouts in PGOPTIONS (libpq reads it; the
  # command hands it on, e.g. `docker compose run -e PGOPTIONS`). Stopped by lock_timeout, it
  # is tried again after 2 s, 4 s, 8 s…; its output is kept only to look for that, then removed.
  attempt=0
  log=$(umask 077; mktemp "$(state_dir)/migrate.XXXXXX") || fail migrate 7 "cannot write $(state_dir)"
  while :; do
    status=0
    { with_user_env env "$TAG_VAR=$TAG" ${MIGRATE_PGOPTIONS:+"PGOPTIONS=$MIGRATE_PGOPTIONS"} sh -c "$MIGRATE_COMMAND" 2>&1 || status=$?
      echo "@@exit $status"; } | tee "$log" | grep -v '^@@exit '
    status=$(sed -n 's/^@@exit //p' "$log" | tail -n 1)
    [ "${status:-1}" = 0 ] && { rm -f "$log"; return 0; }
    if grep -q -e 'canceling statement due to lock timeout' -e LockNotAvailable -e 55P03 "$log"; then
      statement=$(grep -o '\[SQL: [^]]*' "$log" | head -n 1 | cut -c7- | tr -s ' \t' ' ' | cut -c1-160)
      if [ "$attempt" -lt "${MIGRATE_RETRIES:-0}" ]; then
        attempt=$((attempt + 1)); pause=$((1 << attempt))
        say "migration stopped waiting for a lock${statement:+ ($statement)}: another session holds it; try $attempt of $MIGRATE_RETRIES in ${pause}s"
        record migrate-retry "$TAG" "$PREVIOUS" "lock-timeout-$attempt"
        sleep "$pause"; continue
      fi
      rm -f "$log"; record migrate "$TAG" "$PREVIOUS" failed
      fail migrate 7 "migration stopped waiting for a lock$([ -n "$statement" ] && printf ' on: %s' "$statement") after $((attempt + 1)) tries: another session holds a lock on that table"
    fi
    rm -f "$log"; record migrate "$TAG" "$PREVIOUS" failed; fail migrate 7 "migration command failed"
  done
}

main() {
  say "@@started $(date +%s.%N 2>/dev/null)" # lets the runner tell SSH set-up from the work
  cd "$DEPLOY_PATH" 2>/dev/null || fail path 3 "deploy path $DEPLOY_PATH does not exist on $(hostname) (or is not accessible)"
  mkdir -p "$(state_dir)" || fail path 3 "cannot write $(state_dir)"
  detect_compose
  case "$ACTION" in hold) hold ;; release) release; return ;; migrate) ;; *) [ "$STRATEGY" != blue-green ] || { bg_action; return; } ;; esac
  PREVIOUS=$(current_tag)
  case "$ACTION" in
    prepare) # checks, then pull: nothing that runs changes
      [ -w . ] || fail path 3 "deploy path $DEPLOY_PATH is not writable by $(id -un)"
      RUN_TAG="$TAG"; compose pull -q $SERVICES || fail pull 6 "docker compose pull of $TAG failed"
      result "ok=true previous=$PREVIOUS compose=$(echo "$COMPOSE" | tr ' ' '-')" ;;
    migrate)
      lock
      RUN_TAG="$TAG"
      migrate
      record migrate "$TAG" "$PREVIOUS" ok
      result "ok=true" ;;
    switch)
      lock
      record started "$TAG" "$PREVIOUS" in-progress
      if switch_to "$TAG" no-pull; then
        record deploy "$TAG" "$PREVIOUS" ok
        result "ok=true previous=$PREVIOUS digests=$DIGESTS services=$FOUND_SERVICES"
      else
        failed_step=$SWITCH_ERR
        say "switch to $TAG failed at $failed_step; rolling back to ${PREVIOUS:-nothing}"
        if [ -z "$PREVIOUS" ]; then
          record deploy "$TAG" "" "failed-$failed_step-no-previous"
          result "ok=false step=$failed_step rolled_back=false previous= state=on-new-tag-no-previous"; exit 8
        fi
        if switch_to "$PREVIOUS" pull; then
          record rollback "$PREVIOUS" "$TAG" "ok-after-$failed_step"
          result "ok=false step=$failed_step rolled_back=true previous=$PREVIOUS state=on-previous digests=$DIGESTS"
        else
          record rollback "$PREVIOUS" "$TAG" "failed-$SWITCH_ERR"
          result "ok=false step=$failed_step rolled_back=false previous=$PREVIOUS state=rollback-failed-at-$SWITCH_ERR"
        fi
        exit 8
      fi ;;
    rollback)
      lock
      if switch_to "$TAG" pull; then
        record rollback "$TAG" "$PREVIOUS" "ok-$REASON"
        result "ok=true previous=$PREVIOUS digests=$DIGESTS"
      else
        record rollback "$TAG" "$PREVIOUS" "failed-$SWITCH_ERR"
        result "ok=false step=$SWITCH_ERR state=rollback-failed-at-$SWITCH_ERR"; exit 8
      fi ;;
    status)
      RUN_TAG="$PREVIOUS"
      say "@@running"; running
      say "@@history"; tail -n 20 "$(state_dir)/history" 2>/dev/null
      result "ok=true current=$PREVIOUS" ;;
    *) fail action 2 "unknown action $ACTION" ;;
  esac
}

main </dev/null
