# deploy-actions swarm manager script (POSIX sh), after remote_lock.sh on the same `sh -s`
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
