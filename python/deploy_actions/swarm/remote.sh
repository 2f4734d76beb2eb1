# shellcheck shell=sh
# deploy-actions swarm manager script (POSIX sh), after remote/lock.sh on the same `sh -s`
# input (never an argv). The cluster itself is driven from the runner through the Docker
# socket forwarded over this connection; on the manager this script only keeps the stack's
# lock (one deploy per stack, held by a session for the whole deploy), its history, and
# checks that the socket is there for the deploy user. Everything runs inside main(),
# called on the last line with stdin closed.
#
# Parameters: ACTION STATE_DIR STACK DOCKER_SOCKET DEPLOY_ID TAG COMMIT ACTOR LOCK_TIMEOUT
#   record: RECORD_ACTION RECORD_TAG RECORD_PREVIOUS RECORD_RESULT
# Every result ends with one line: @@result key=value ... (values without spaces).

state_dir() { printf '%s' "$STATE_DIR"; }
lock_subject() { printf 'stack %s' "$STACK"; }

migration_jobs() { # the stack's migration job services (labelled so by the runner)
  docker -H "unix://$DOCKER_SOCKET" service ls -q --filter "label=org.deploy-actions.stack=$STACK" 2>/dev/null
}

job_runs() { # a task of migration job service $1 has not finished (it is never restarted)
  docker -H "unix://$DOCKER_SOCKET" service ps --format '{{.CurrentState}}' "$1" 2>/dev/null \
    | grep -qE '^(New|Pending|Assigned|Accepted|Preparing|Ready|Starting|Running)'
}

remote_work() { # a migration job of this stack runs: its deploy's runner may be gone, the job is not
  for job in $(migration_jobs); do job_runs "$job" && return 0; done
  return 1
}

reap() { # finished migration jobs a vanished runner left behind (their spec holds its env): removed
  for job in $(migration_jobs); do
    job_runs "$job" || docker -H "unix://$DOCKER_SOCKET" service rm "$job" >/dev/null 2>&1 || :
  done
}

main() {
  say "@@started $(date +%s.%N 2>/dev/null)"
  mkdir -p "$STATE_DIR" 2>/dev/null || fail path 3 "cannot create $STATE_DIR on $(hostname) for the stack's lock and history"
  case "$ACTION" in
    hold) hold ;;
    release) release ;;
    probe)
      [ -S "$DOCKER_SOCKET" ] || fail socket 3 "no Docker socket at $DOCKER_SOCKET on $(hostname)"
      [ -r "$DOCKER_SOCKET" ] && [ -w "$DOCKER_SOCKET" ] || fail socket 3 "$(id -un) may not use $DOCKER_SOCKET on $(hostname) (add it to the docker group)"
      result "ok=true" ;;
    record)
      lock
      record "$RECORD_ACTION" "$RECORD_TAG" "$RECORD_PREVIOUS" "$RECORD_RESULT"
      result "ok=true" ;;
    history)
      say "@@history"; tail -n 20 "$STATE_DIR/history" 2>/dev/null
      result "ok=true" ;;
    *) fail action 2 "unknown action $ACTION" ;;
  esac
}

main </dev/null
