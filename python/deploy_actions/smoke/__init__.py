"""The health contract (`/health` = process up, `/ready` = ready for traffic) and smoke calls."""
