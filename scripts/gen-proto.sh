#!/usr/bin/env bash
# Regenerates the Go code of frostd's gRPC API (proto/frostd/v1) from
# proto/frostd/v1/frostd.proto.
#
# The code generators are pinned and installed with `go install` into the
# repository's bin/ (gitignored), so every machine generates byte-identical
# code; protoc itself comes from Debian (apt package protobuf-compiler).
# Run it from anywhere after editing the .proto file, and commit the result.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12     # keep equal to google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.1

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${GOBIN:-$root/bin}
mkdir -p "$bin"

if ! command -v protoc >/dev/null; then
	echo "gen-proto: protoc not found; install it with: apt-get install protobuf-compiler" >&2
	exit 1
fi

GOBIN=$bin go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
GOBIN=$bin go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"

cd "$root"
PATH="$bin:$PATH" protoc \
	--proto_path=proto \
	--go_out=. --go_opt=module=github.com/frostd/frostd \
	--go-grpc_out=. --go-grpc_opt=module=github.com/frostd/frostd \
	frostd/v1/frostd.proto

echo "gen-proto: regenerated proto/frostd/v1 with protoc $(protoc --version | cut -d' ' -f2)," \
	"protoc-gen-go ${PROTOC_GEN_GO_VERSION}, protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION}"
