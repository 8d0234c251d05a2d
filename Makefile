# The README's commands. `make test` is what CI runs (through .ci/run).

GO ?= go
# -p 2: the suites for the three backends start their own servers; more
# packages at once than cores only makes every timeout tighter.
TEST_FLAGS ?= -race -p 2 -timeout 30m

.PHONY: test backends quickstart vet fmt-check

## test: install the servers the tests need, then run every test with -race.
test: backends
	$(GO) test $(TEST_FLAGS) ./...

## backends: install redis-server (Debian) and build etcd and consul (Go module proxy), cached.
backends:
	./.ci/install-backends

## quickstart: run the quickstart example on its embedded default.
quickstart:
	$(GO) run ./examples/quickstart

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
