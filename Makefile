# fnhost — `make test` builds the example guests and runs every test; `make bench` the benchmarks.
SHELL       := bash
.SHELLFLAGS := -eo pipefail -c
GO        ?= go
DIST      := guests/dist
GO_GUESTS := $(notdir $(wildcard guests/go/*))
C_GUESTS  := $(basename $(notdir $(wildcard guests/c/*.c)))
WAT_GUESTS:= $(basename $(notdir $(wildcard guests/wat/*.wat)))

FC2_NODE  := cmd/fnhost/testdata/fc2-node
BIN       := bin/fnhost
# make run: where the demo server listens and keeps its data.
LISTEN    ?= 127.0.0.1:9000
DATA      ?= $(CURDIR)/.fnhost

.PHONY: all build guests test check bench fuzz c-guests wat-guests clean run node-deps $(BIN)

all: build

build: $(BIN)
	$(GO) build ./...

$(BIN):
	@mkdir -p bin
	$(GO) build -o $@ ./cmd/fnhost

## run: build fnhost, start it on an embedded store in $(DATA), deploy the
## example guests and print curl lines for them; Ctrl-C stops it.
run: $(BIN) guests
	@bash cmd/fnhost/run-demo.sh $(BIN) $(LISTEN) $(DATA)

## guests: Go guests are built from source; C and WAT guests are copied from
## the committed .wasm next to their source (rebuild those with c-guests /
## wat-guests, which need clang + wasi-libc and wabt).
guests: $(addprefix $(DIST)/,$(addsuffix -go.wasm,$(GO_GUESTS))) \
        $(addprefix $(DIST)/,$(addsuffix -c.wasm,$(C_GUESTS))) \
        $(addprefix $(DIST)/,$(addsuffix .wasm,$(WAT_GUESTS))) \
        $(DIST)/invalid.wasm

$(DIST):
	@mkdir -p $@

$(DIST)/%-go.wasm: $(wildcard guests/go/*/*.go) $(shell find sdk/go abi -name '*.go') go.mod | $(DIST)
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -o $@ ./guests/go/$*

$(DIST)/%-c.wasm: guests/c/%.wasm | $(DIST)
	cp $< $@

$(DIST)/%.wasm: guests/wat/%.wasm | $(DIST)
	cp $< $@

# Not WebAssembly at all: the loader must reject it with a clear error.
$(DIST)/invalid.wasm: | $(DIST)
	printf 'this is not a wasm module\n' > $@

c-guests:
	$(MAKE) -C guests/c

wat-guests:
	$(MAKE) -C guests/wat

check:
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./abi/... ./sdk/go/... ./guests/go/...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

test: guests check node-deps
	$(GO) test -count=1 ./...
	@echo "fuzz smoke: every fuzz target for 1s beyond its committed corpus"
	@$(MAKE) --no-print-directory fuzz FUZZTIME=1s

## node-deps: the FC Node.js SDK (pinned in package-lock.json) for the
## SDK compatibility test. Without npm the test skips and says why.
node-deps: $(FC2_NODE)/node_modules/.package-lock.json

$(FC2_NODE)/node_modules/.package-lock.json: $(FC2_NODE)/package-lock.json $(FC2_NODE)/package.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "npm ci in $(FC2_NODE) (FC Node.js SDK for the compatibility test)"; \
	  cd $(FC2_NODE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	else \
	  echo "npm not found: TestFCNodeSDK will be skipped (install Node.js and npm to run it)"; \
	fi

FUZZTIME ?= 10s
## fuzz: run every native fuzz target for FUZZTIME each (packages found by
## grepping the tests, which is much faster than go list on every package).
fuzz: guests
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' host abi sdk bench cmd | xargs -n1 dirname | sort -u); do \
	  for t in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== ./$$dir $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./$$dir || exit 1; \
	  done; \
	done

## bench: the runtime's testing.B benchmarks, 5 rounds each, saved for
## benchstat in bench/results/.
BENCHCOUNT ?= 5
bench: guests
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./host/... | tee bench/results/runtime-$$(date +%Y%m%d)-$$(hostname).txt

clean:
	rm -rf $(DIST) bin $(FC2_NODE)/node_modules
