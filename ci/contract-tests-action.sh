#!/usr/bin/env bash
# Runs `contract-tests run` the way the GitHub Action (action.yml) does, and works in any CI or locally.
#
# Inputs (environment):
#   INPUT_BASE_URL     the gateway's base URL (.../v1); empty: the embedded mock, in-process
#   INPUT_API_KEY      the admin key; passed to contract-tests as $REQUESTY_API_KEY, never on a command line
#   INPUT_ARGS         more arguments for `contract-tests run`, split like a shell would (no expansion, no eval)
#   INPUT_REPORT_DIR   where the reports go (default: contract-test-reports)
#   CONTRACT_TESTS     the command to run (default: contract-tests)
# When set (GitHub sets both):
#   GITHUB_STEP_SUMMARY  report.md is appended to it (the job summary); a usage error is written there too
#   GITHUB_OUTPUT        gets exit-code=, report-dir=, junit=
# Exit code: contract-tests' own: 0 conforms, 1 a MUST check failed, 2 usage error.
set -uo pipefail

report_dir="${INPUT_REPORT_DIR:-contract-test-reports}"
junit="$report_dir/junit.xml"
summary_limit=1000000  # GitHub takes at most 1 MiB of summary per step

errors="$(mktemp)"
split="$(mktemp)"
trap 'rm -f "$errors" "$split"' EXIT

# shlex.split: quotes work as in a shell; $VARS, globs and backticks stay literal text.
python_bin="$(command -v python3 || command -v python)"
if "$python_bin" - "${INPUT_ARGS:-}" > "$split" 2> "$errors" <<'PY'
import shlex, sys
try:
    sys.stdout.write("".join(arg + "\0" for arg in shlex.split(sys.argv[1])))
except ValueError as exc:
    sys.exit(f"contract-tests: error: cannot read the args input ({exc}): {sys.argv[1]}")
PY
then
  mapfile -d '' -t extra < "$split"
  command=(${CONTRACT_TESTS:-contract-tests} run --report-dir "$report_dir")
  if [[ -n "${INPUT_BASE_URL:-}" ]]; then
    command+=(--base-url "$INPUT_BASE_URL")
  fi
  command+=("${extra[@]}")
  if [[ -n "${INPUT_API_KEY:-}" ]]; then
    export REQUESTY_API_KEY="$INPUT_API_KEY"
  fi
  echo "contract-tests: running: ${command[*]}"
  "${command[@]}" 2> >(tee "$errors" >&2)
  code=$?
  wait  # for tee to finish writing the error file
else
  code=2
  cat "$errors" >&2
fi

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  if [[ $code -le 1 && -f "$report_dir/report.md" ]]; then
    if [[ $(wc -c < "$report_dir/report.md") -le $summary_limit ]]; then
      cat "$report_dir/report.md" >> "$GITHUB_STEP_SUMMARY"
    else
      head -c "$summary_limit" "$report_dir/report.md" >> "$GITHUB_STEP_SUMMARY"
      printf '\n\n*The report is cut here: the full report.md and report.html are in the artifacts.*\n' >> "$GITHUB_STEP_SUMMARY"
    fi
  else
    {
      echo "# Conformance report"
      echo
      echo "## ⚠️ contract-tests could not run (exit code $code)"
      echo
      echo '```'
      tail -n 20 "$errors"
      echo '```'
    } >> "$GITHUB_STEP_SUMMARY"
  fi
fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exit-code=$code"
    echo "report-dir=$report_dir"
    echo "junit=$junit"
  } >> "$GITHUB_OUTPUT"
fi
exit "$code"
