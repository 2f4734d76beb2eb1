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
# Every result ends with one line: @@result key=value ... (values without spaces).

say() { printf '%s\n' "$*"; }
result() { say "@@result $*"; }
fail() { result "ok=false step=$1 code=$2"; say "error: $3" >&2; exit "$2"; }

state_dir() { printf '%s/.deploy-actions' "$DEPLOY_PATH"; }

with_user_env() { # run "$@" with the user's variables, in a subshell that ends with it
  ( user_env; exec "$@" )
}

compose() {
  # $COMPOSE is "docker compose" or "docker-compose"; the tag is exported explicitly so a
  # variable exported by a profile (or kept by sudo, or given in env) cannot override it.
  set -- env "$TAG_VAR=$RUN_TAG" $COMPOSE $COMPOSE_FLAGS "$@"
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
  COMPOSE_FLAGS=""
  [ -n "$PROJECT" ] && COMPOSE_FLAGS="-p $PROJECT"
  for f in $FILES; do COMPOSE_FLAGS="$COMPOSE_FLAGS -f $f"; done
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

record() { # time action tag previous result commit actor deploy-id
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$3" "$4" "$COMMIT" "$ACTOR" "$DEPLOY_ID" \
    >>"$(state_dir)/history"
}

alive() { kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ]; }

lock() {
  dir="$(state_dir)/lock"
  waited=0
  while ! mkdir "$dir" 2>/dev/null; do
    owner=$(cat "$dir/pid" 2>/dev/null || echo "")
    other=$(cat "$dir/deploy" 2>/dev/null || echo "unknown")
    if [ -n "$owner" ] && ! alive "$owner"; then
      # Its owner died (connection cut, runner cancelled): say so in the history, take over.
      say "taking over a stale lock of deploy $other (process $owner is gone)"
      record interrupted "$(cat "$dir/tag" 2>/dev/null)" "" "interrupted-lock-taken-over" 
      rm -rf "$dir"
      continue
    fi
    if [ "$waited" -ge "$LOCK_TIMEOUT" ]; then
      fail lock 5 "another deploy ($other) holds the lock on $DEPLOY_PATH; waited ${LOCK_TIMEOUT}s"
    fi
    [ "$waited" -eq 0 ] && say "waiting for deploy $other to finish (lock on $DEPLOY_PATH)"
    sleep 1; waited=$((waited + 1))
  done
  printf '%s\n' "$$" >"$dir/pid"; printf '%s\n' "$DEPLOY_ID" >"$dir/deploy"; printf '%s\n' "$TAG" >"$dir/tag"
  LOCKED="$dir"
  trap 'rm -rf "$LOCKED"' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [ "$waited" -gt 0 ] && say "lock acquired after ${waited}s"
  return 0
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

main() {
  say "@@started $(date +%s.%N 2>/dev/null)" # lets the runner tell SSH set-up from the work
  cd "$DEPLOY_PATH" 2>/dev/null || fail path 3 "deploy path $DEPLOY_PATH does not exist on $(hostname) (or is not accessible)"
  mkdir -p "$(state_dir)" || fail path 3 "cannot write $(state_dir)"
  detect_compose
  PREVIOUS=$(current_tag)
  case "$ACTION" in
    prepare) # checks, then pull: nothing that runs changes
      [ -w . ] || fail path 3 "deploy path $DEPLOY_PATH is not writable by $(id -un)"
      RUN_TAG="$TAG"; compose pull -q $SERVICES || fail pull 6 "docker compose pull of $TAG failed"
      result "ok=true previous=$PREVIOUS compose=$(echo "$COMPOSE" | tr ' ' '-')" ;;
    migrate)
      lock
      RUN_TAG="$TAG"
      with_user_env env "$TAG_VAR=$TAG" sh -c "$MIGRATE_COMMAND" || { record migrate "$TAG" "$PREVIOUS" failed; fail migrate 7 "migration command failed"; }
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
