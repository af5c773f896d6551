#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (PostgreSQL server, headless Chromium, Node.js/npm, a
# Java runtime for the Spark population engine), only when they are missing. Runs as root (CI and the dev machines are root) or through sudo.
set -euo pipefail

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)  # scrapes the server in tests/operations
# pyspark 4 (the population command's `--engine spark`, tests/population) runs on Java 17 or newer.
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1 || true)
[ "${java_major:-0}" -ge 17 ] 2>/dev/null || need+=(openjdk-17-jre-headless)
# The image test (tests/container): daemonless build and run.
for tool in buildah podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("$tool")
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The test FHIR server (Medplum) and the README ask for Node.js 20+; Debian 12's nodejs is 18. The npm
# registry's `node` package carries the Node.js 20 binary, so npm itself brings it when Debian's is older.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js $node_major is older than 20: installing node@20 from the npm registry"
  $SUDO npm install -g --no-audit --no-fund --loglevel=error node@20
  hash -r
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$node_major" -ge 20 ] || { echo "Node.js 20+ is needed; found $node_major" >&2; exit 1; }
fi
