# shellcheck shell=sh
# deploy-actions remote lock and history (POSIX sh), shared by the ssh-compose-deploy and
# swarm-deploy scripts, which come after it on the same `sh -s` input and define
# state_dir() (where the lock and the history live) and lock_subject() (what a message
# calls the locked thing). They may define remote_work() (true while work the deploy
# started outside any session, such as a swarm job, still runs) and reap() (removes that
# work once it has ended). Parameters used here: DEPLOY_ID TAG COMMIT ACTOR LOCK_TIMEOUT.
#
# The lock is a folder: pid (the hold session's shell), deploy, tag, and work/, one file per
# session of the deploy that worked under it, named by its session id. It is held while its
# hold session lives *or* any process of those sessions runs: a runner that vanishes (kill
# -9, a cancelled job, a cut connection) ends the hold session, but not a migration that
# the host is still running, and no other deploy may start until that has ended.

say() { printf '%s\n' "$*"; }
result() { say "@@result $*"; }
fail() { result "ok=false step=$1 code=$2"; say "error: $3" >&2; exit "$2"; }

record() { # time action tag previous result commit actor deploy-id
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$3" "$4" "$COMMIT" "$ACTOR" "$DEPLOY_ID" \
    >>"$(state_dir)/history"
}

alive() { kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ]; }

session_of() { # the session id of process $1: every process an SSH session starts shares it
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f4
}

session_alive() { # any process left in session $1 (without /proc: its first process, $2)
  [ -r /proc/self/stat ] || { alive "$2"; return; }
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v s="$1" '{ sub(/.*\) /, "") } $4 == s { found = 1; exit } END { exit !found }'
}

busy() { # work started under the lock in folder $1 still runs on this host
  for entry in "$1"/work/*; do
    [ -f "$entry" ] || continue
    session_alive "${entry##*/}" "$(cat "$entry" 2>/dev/null)" && return 0
  done
  remote_work
}

remote_work() { return 1; } # redefined by a deploy script whose work outlives its sessions
reap() { :; }                # and what removes that work's remains once it has ended

enlist() { # this session works under the deploy's lock: the lock stays while it runs
  sid=$(session_of $$); sid=${sid:-pid$$}
  mkdir -p "$dir/work" && printf '%s\n' "$$" >"$dir/work/$sid"
}

lock() {
  dir="$(state_dir)/lock"
  # Held for this whole deploy by its `hold` session: every other session of it goes ahead.
  if ours; then enlist; return 0; fi
  waited=0; orphaned=""
  while ! mkdir "$dir" 2>/dev/null; do
    owner=$(cat "$dir/pid" 2>/dev/null || echo "")
    other=$(cat "$dir/deploy" 2>/dev/null || echo "unknown")
    if [ -n "$owner" ] && ! alive "$owner"; then
      if busy "$dir"; then # its runner is gone, its work on this host is not: wait for it
        [ -n "$orphaned" ] || say "deploy $other is gone, but what it started here still runs: waiting for it to end"
        orphaned=1
      else # nothing of it left (the host restarted, its hold session was killed): take over
        say "taking over a stale lock of deploy $other (process $owner is gone)"
        record interrupted "$(cat "$dir/tag" 2>/dev/null)" "" "interrupted-lock-taken-over"
        rm -rf "$dir"
        continue
      fi
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
  # drops and the next heartbeat fails (SIGPIPE): the lock then goes once the work the
  # deploy started here has ended.
  lock
  reap
  trap 'hold_ended' EXIT
  trap 'exit 141' PIPE
  while :; do say "@@held" || exit 0; sleep 1; done
}

hold_ended() { # this shell's last act: nothing is written to the runner, who may be gone
  trap '' HUP INT TERM PIPE
  ours || return 0
  waited=0
  while busy "$LOCKED"; do sleep 1; waited=$((waited + 1)); done
  reap
  # No `release` came: the runner died or was cancelled. Said after the work it left ended.
  if [ ! -f "$LOCKED/released" ]; then
    how=interrupted-runner-gone; [ "$waited" -eq 0 ] || how="$how-work-ended-after-${waited}s"
    record interrupted "$TAG" "" "$how"
  fi
  rm -rf "$LOCKED"
}

ours() { [ "$(cat "$(state_dir)/lock/deploy" 2>/dev/null)" = "$DEPLOY_ID" ]; }

release() { # the deploy is over (whatever its result): free the folder now, before its hold
  # session ends — unless work it started still runs (a command that timed out on the
  # runner): the hold session then frees it when that work has ended.
  dir="$(state_dir)/lock"
  if ours; then
    if busy "$dir"; then : >"$dir/released"; say "work of this deploy still runs on $(hostname): the lock stays until it ends"
    else rm -rf "$dir"; fi
  fi
  result "ok=true"
}

