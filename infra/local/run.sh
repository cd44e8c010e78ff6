#!/usr/bin/env bash
# Builds the local cluster launcher (and the storage CLI) in Release, then starts a cluster on this machine:
# an embedded PostgreSQL under <repo>/.data (unless --connection-string) and 3 silo processes in regions
# eu/us/ap on loopback. Arguments go to the launcher (--help lists them), e.g.
#   infra/local/run.sh --silos 5 --base-port 21000
#   infra/local/run.sh --connection-string "Host=db;Username=app;Password=...;Database=storage"
# Needs only the .NET 10 SDK and, for the embedded default, PostgreSQL server binaries (initdb, pg_ctl, postgres).
# Ctrl-C (or SIGTERM) stops the silos and the embedded PostgreSQL; the data stays for the next run.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "run.sh: dotnet is not on PATH; install the .NET 10 SDK (https://dot.net)" >&2
  exit 1
fi

echo "Building the local cluster launcher and the storage CLI (Release)..."
dotnet build "$repo/infra/local/local-cluster.slnf" -c Release -nologo -v:q

# exec: the launcher itself receives Ctrl-C/SIGTERM (no shell in between to swallow or delay them).
exec dotnet "$repo/infra/local/Storage.LocalCluster/bin/Release/net10.0/Storage.LocalCluster.dll" "$@"
