# frostd: the two commands a newcomer needs are `make dev` and `make test`.

GO ?= go

.PHONY: dev demo test deps vet fmt-check proto-check unit bench sim fuzz proto

## dev: the embedded default: a 3-of-5 cluster in this process, state under ./frostd-data
dev:
	$(GO) run ./cmd/frostd dev

## demo: local key, then the same identity split 3-of-5 in memory
demo:
	$(GO) run ./cmd/frostd demo

## proto: regenerate the committed protobuf code (pinned generators)
proto:
	./scripts/gen-proto.sh

## proto-check: the committed protobuf code is what the .proto file generates
proto-check: proto
	@git diff --exit-code -- proto/ || (echo "proto/ is stale: run make proto and commit the result"; exit 1)

## test: install what the tests start (ssh-agent, sshd, SoftHSM2), then vet and run every test with -race
test: deps vet fmt-check proto-check unit

deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -timeout 20m ./...

## bench: the benchmarks quoted in docs/performance.md, side by side in one run
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./coordinator/ ./participant/... ./dkg/

## sim: the protocol core with thousands of simulated participants (SIM_N=2000)
SIM_N ?= 2000
sim:
	$(GO) test ./simulations -run TestScale -v -args -sim.n=$(SIM_N)

## fuzz: run every fuzz target briefly (FUZZTIME=30s by default)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done
