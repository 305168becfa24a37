#!/usr/bin/env bash
# Builds FerretDB v1.24.2 into $GOBIN (default ~/go/bin) unless a working one is there.
# `go install ...@v1.24.2` alone yields a binary that panics at start: the module zip
# lacks build/version/version.txt (FerretDB generates it in its own release tooling),
# so we build from the downloaded module with that one file written in.
set -euo pipefail
VERSION=v1.24.2
GOBIN=${GOBIN:-$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin}
BIN="$GOBIN/ferretdb"
# Output is captured before matching: piping into `grep -q`/`head` can SIGPIPE the
# binary, which `pipefail` turns into a failure.
installed_version() { [ -x "$BIN" ] && "$BIN" --version 2>/dev/null || true; }
if [[ "$(installed_version)" == *"version: $VERSION"* ]]; then
  echo "ferretdb $VERSION already installed at $BIN"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "installing a Go toolchain (Debian golang-go)"
  apt-get update -qq && apt-get install -y -qq golang-go
fi
src=$(mktemp -d)
trap 'chmod -R u+w "$src"; rm -rf "$src"' EXIT
dir=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json github.com/FerretDB/FerretDB@$VERSION | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
cp -r "$dir" "$src/ferretdb" && chmod -R u+w "$src/ferretdb"
echo "$VERSION" > "$src/ferretdb/build/version/version.txt"
mkdir -p "$GOBIN"
(cd "$src/ferretdb" && CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/ferretdb)
version_output=$("$BIN" --version)
echo "${version_output%%$'\n'*}"
