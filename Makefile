# The README's commands. `make test` is what CI runs (through .ci/run).

GO ?= go
# -p 2: the suites for the three backends start their own servers; more
# packages at once than cores only makes every timeout tighter.
TEST_FLAGS ?= -race -p 2 -timeout 30m

# How long `make fuzz` runs each fuzz target: a count of inputs (Nx), not a
# duration, because a duration that ends while a worker is busy can fail
# the run with "context deadline exceeded" although nothing was found.
FUZZTIME ?= 50000x

STRESS_COUNT ?= 5
STRESS_BUSY ?= 2

.PHONY: test test-clusters fuzz stress backends quickstart vet fmt-check images test-containers

## test: install the servers the tests need, then run every test with -race, then the cluster tests.
test: backends
	$(GO) test $(TEST_FLAGS) ./...
	$(MAKE) test-clusters

# The cluster tests start several servers each (3-member etcd, 3 Consul
# servers and a client agent, a 6-node Redis Cluster, a Redis primary with a
# replica and a Sentinel), so they run one package at a time, and the
# conformance suite on each cluster is limited to its Map, Counter and Lock
# parts; the failover scenario runs whole.
CLUSTER_RUN = '^TestCluster[A-Za-z]*$$/^(Failover|Suite)$$/^(Map|Counter|Lock)$$'

## test-clusters: the failover scenarios and the Map/Counter/Lock suite on real multi-node clusters.
test-clusters: backends
	@start=$$(date +%s); \
	ATOMIX_TEST_CLUSTERS=1 $(GO) test -race -p 1 -timeout 20m -run $(CLUSTER_RUN) ./drivers/etcd/ ./drivers/consul/ ./drivers/redis/ && \
	echo "test-clusters: done in $$(( $$(date +%s) - start ))s"

## fuzz: run every fuzz target for FUZZTIME each, after its committed corpus (testdata/fuzz).
fuzz:
	$(GO) test -run '^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./driver/urlparam/
	$(GO) test -run '^$$' -fuzz='^FuzzChangeMessage$$' -fuzztime=$(FUZZTIME) ./drivers/redis/
	$(GO) test -run '^$$' -fuzz='^FuzzKeyEncoding$$' -fuzztime=$(FUZZTIME) ./drivers/redis/
	$(GO) test -run '^$$' -fuzz='^FuzzParseURL$$' -fuzztime=$(FUZZTIME) ./drivers/redis/
	$(GO) test -run '^$$' -fuzz='^FuzzKeyEncoding$$' -fuzztime=$(FUZZTIME) ./drivers/consul/
	$(GO) test -run '^$$' -fuzz='^FuzzKeyEncoding$$' -fuzztime=$(FUZZTIME) ./drivers/etcd/
	$(GO) test -run '^$$' -fuzz='^FuzzJSONCodec$$' -fuzztime=$(FUZZTIME) ./atomix/generic/
	$(GO) test -run '^$$' -fuzz='^FuzzStringCodec$$' -fuzztime=$(FUZZTIME) ./atomix/generic/

## stress: run every test STRESS_COUNT times under CPU pressure (STRESS_BUSY busy loops) and list the failures.
stress: backends
	GO=$(GO) TEST_FLAGS="$(TEST_FLAGS)" STRESS_COUNT=$(STRESS_COUNT) STRESS_BUSY=$(STRESS_BUSY) ./.ci/stress

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

## images: build the test-backend images locally (no registry needed).
images:
	./.ci/build-images

# The images make builds; the tests default to the official ones.
CONTAINER_ENV = ATOMIX_TEST_PROVIDER=container \
	ATOMIX_TEST_ETCD_IMAGE=atomix-test/etcd:v3.6.16 \
	ATOMIX_TEST_REDIS_IMAGE=atomix-test/redis:7 \
	ATOMIX_TEST_CONSUL_IMAGE=atomix-test/consul:1.14.11 \
	TESTCONTAINERS_RYUK_DISABLED=true

# Where published ports are reached. testcontainers-go guesses a gateway
# address when it sees /.dockerenv; on a machine whose Docker engine runs
# beside the tests (as here) that guess is wrong. Override if yours differs.
TESTCONTAINERS_HOST_OVERRIDE ?= localhost
export TESTCONTAINERS_HOST_OVERRIDE

# Only the conformance suites: the least-privilege, TLS and restart tests
# start processes of their own (with flags no image needs to know) and
# have already run in `make test`.
## test-containers: build the images, run every driver's conformance suite in containers, leave none behind.
test-containers: images
	$(CONTAINER_ENV) $(GO) test $(TEST_FLAGS) -run '^TestConformance$$' ./drivers/etcd/ ./drivers/redis/ ./drivers/consul/
	@left=$$(docker ps -aq --filter label=org.testcontainers=true); \
	if [ -n "$$left" ]; then echo "containers left behind:"; docker ps -a --filter label=org.testcontainers=true; exit 1; fi
