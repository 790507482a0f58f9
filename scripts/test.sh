#!/usr/bin/env bash
# The whole test suite: set-up, type check, lint, then every jest project (unit and integration).
# Ends with one plain line "N passed, N failed" for CI.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1

status=0
echo "==> generated code is current" >&2
bash scripts/gen-proto.sh --check || status=1
echo "==> type check" >&2
npx tsc -p tsconfig.json --noEmit || status=1
echo "==> lint" >&2
# The module-boundary rule reads Nx's project graph, which must exist before eslint runs.
NX_DAEMON=false npx nx show projects >/dev/null || status=1
npx eslint --max-warnings=0 . || status=1

mkdir -p test-results
echo "==> jest" >&2
# A hard ceiling so a hung test fails the run instead of eating the CI budget. No --forceExit: it would
# hide a handle a test leaves open; instead the global teardown names whatever still holds jest 10 s
# after the last test (test/support/open-handles.ts) and ends the run with jest's verdict.
timeout --kill-after=30 1800 npx jest --ci --json --outputFile=test-results/jest.json "$@" || status=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  try {
    const r = JSON.parse(fs.readFileSync("test-results/jest.json", "utf8"));
    passed = r.numPassedTests;
    // A suite that fails to load has no failed tests but must still count as a failure.
    failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  } catch { failed = 1; }
  console.log(`${passed} passed, ${failed} failed`);
'
exit $status
