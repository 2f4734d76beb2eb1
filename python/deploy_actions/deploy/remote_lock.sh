# deploy-actions remote lock and history (POSIX sh), shared by the ssh-compose-deploy and
# swarm-deploy scripts, which come after it on the same `sh -s` input and define
# state_dir() (where the lock and the history live) and lock_subject() (what a message
# calls the locked thing). Parameters used here: DEPLOY_ID TAG COMMIT ACTOR LOCK_TIMEOUT.

say() { printf '%s\n' "$*"; }
result() { say "@@result $*"; }
fail() { result "ok=false step=$1 code=$2"; say "error: $3" >&2; exit "$2"; }

record() { # time action tag previous result commit actor deploy-id
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$3" "$4" "$COMMIT" "$ACTOR" "$DEPLOY_ID" \
    >>"$(state_dir)/history"
}

alive() { kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ]; }

lock() {
  dir="$(state_dir)/lock"
  # Held for this whole deploy by its `hold` session: every other session of it goes ahead.
  ours && return 0
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
      fail lock 5 "another deploy ($other) holds the lock on $(lock_subject); waited ${LOCK_TIMEOUT}s"
    fi
    [ "$waited" -eq 0 ] && say "waiting for deploy $other to finish (lock on $(lock_subject))"
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

hold() { # the folder's lock for the whole deploy, across its sessions: held while this session
  # lives. The runner ends it when the deploy is over; if the runner dies, the connection
  # drops, the next heartbeat fails (SIGPIPE) and the lock goes with this shell.
  lock
  # Still ours when this session ends: no `release` came, the runner died or was cancelled.
  trap 'if ours; then record interrupted "$TAG" "" "interrupted-runner-gone"; rm -rf "$LOCKED"; fi' EXIT
  trap 'exit 141' PIPE
  while :; do say "@@held" || exit 0; sleep 1; done
}

ours() { [ "$(cat "$(state_dir)/lock/deploy" 2>/dev/null)" = "$DEPLOY_ID" ]; }

release() { # the deploy is over (whatever its result): free the folder now, before its hold session ends
  if ours; then rm -rf "$(state_dir)/lock"; fi
  result "ok=true"
}

