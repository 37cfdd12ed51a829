# fnhost — `make test` builds the example guests and runs every test; `make bench` the benchmarks.
SHELL       := bash
.SHELLFLAGS := -eo pipefail -c
GO        ?= go
DIST      := guests/dist
GO_GUESTS := $(notdir $(wildcard guests/go/*))
C_GUESTS  := $(basename $(notdir $(wildcard guests/c/*.c)))
WAT_GUESTS:= $(basename $(notdir $(wildcard guests/wat/*.wat)))

.PHONY: all build guests test check bench fuzz c-guests wat-guests clean

all: build

build:
	$(GO) build ./...

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

test: guests check
	$(GO) test -count=1 ./...

FUZZTIME ?= 10s
## fuzz: run every native fuzz target for FUZZTIME each.
fuzz: guests
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## bench: the runtime's testing.B benchmarks, 5 rounds each, saved for
## benchstat in bench/results/.
BENCHCOUNT ?= 5
bench: guests
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./host/... | tee bench/results/runtime-$$(date +%Y%m%d)-$$(hostname).txt

clean:
	rm -rf $(DIST)
