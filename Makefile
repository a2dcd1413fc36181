# tradeassure: `make test` runs every test; `make generate` regenerates code; see README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: all rules-doc generate proto ent migrations check-generated breaking lint test test-go test-ts test-walkthrough bench bench-all run deps \
	bin/tradeassured sdk-ts test-sdk-ts examples test-examples test-browser desk test-desk fuzz

all: generate test

deps:
	go mod download
	npm ci --no-audit --no-fund
	for d in sdk/ts examples/node examples/browser desk; do npm --prefix $$d ci --no-audit --no-fund; done

# The protovalidate schema is printed from its Go module (the Buf Schema Registry is out of reach).
third_party/protovalidate/buf/validate/validate.proto:
	go run ./tools/validateproto -out third_party/protovalidate

proto: third_party/protovalidate/buf/validate/validate.proto
	@test -x node_modules/.bin/protoc-gen-es || npm ci --no-audit --no-fund
	go tool buf lint
	go tool buf generate

ent:
	go generate ./ent

generate: proto ent

# migrations writes the next versioned migration for SQLite and Postgres: make migrations NAME=add_x
migrations:
	@test -n "$(NAME)" || { echo "usage: make migrations NAME=what_changed"; exit 2; }
	go run ./tools/migrations -name $(NAME)

# check-generated regenerates everything and fails if the committed output is stale.
check-generated: generate
	@git add -N gen ent >/dev/null 2>&1 || true
	@if ! git diff --quiet -- gen ent; then \
		echo "generated code is stale; run 'make generate' and commit:"; git diff --stat -- gen ent; exit 1; fi
	@echo "generated code is fresh"

# breaking checks the schema for breaking changes against a git ref: make breaking BASE=main
BASE ?= main
breaking: third_party/protovalidate/buf/validate/validate.proto
	bash tools/breaking.sh $(BASE)

lint:
	go vet ./...
	go tool buf lint

test-go:
	go vet ./...
	go test -count=1 -timeout 30m ./...

test-ts:
	@test -x node_modules/.bin/tsc || npm ci --no-audit --no-fund
	npx tsc -p tsconfig.gen.json
	@echo "gen/ts type-check: 1 passed, 0 failed"

test-walkthrough:
	bash examples/walkthrough/run.sh

# The client SDKs and examples (README "Client SDKs and examples"). They run against a real server built
# once into bin/ and started per test with --dev on a temporary database.
bin/tradeassured:
	go build -buildvcs=auto -ldflags "-X main.commit=$$(git rev-parse HEAD 2>/dev/null)" -o bin/tradeassured ./server/cmd/tradeassured

NPM_CI = npm ci --no-audit --no-fund --loglevel=error

sdk-ts:
	@test -d sdk/ts/node_modules || (cd sdk/ts && $(NPM_CI))
	cd sdk/ts && npm run --silent build

# test-sdk-ts: unit tests, every protocol against a real server, and `npm pack` installed into a fresh project.
test-sdk-ts: sdk-ts bin/tradeassured
	cd sdk/ts && npm run --silent build:test && \
		TRADEASSURED_BIN=$(CURDIR)/bin/tradeassured node --test --test-concurrency=1 build-test/

# examples builds every example: the Go programs, the Node script and the browser app.
examples: sdk-ts
	go build -o bin/ ./examples/...
	@test -d examples/node/node_modules || (cd examples/node && $(NPM_CI))
	cd examples/node && npm run --silent build
	@test -d examples/browser/node_modules || (cd examples/browser && $(NPM_CI))
	cd examples/browser && npm run --silent build

# test-examples runs the grpcurl walkthrough of orders, returns, disputes and payouts and the Node script
# against real servers (the Go ERP example's tests run in test-go).
test-examples: examples bin/tradeassured
	TRADEASSURED_BIN=$(CURDIR)/bin/tradeassured bash examples/grpcurl/test.sh
	TRADEASSURED_BIN=$(CURDIR)/bin/tradeassured bash examples/node/test.sh

# test-browser drives the browser app in headless Chromium (/usr/bin/chromium, or CHROMIUM): a return
# declined, disputed, escalated and ruled; the screenshot is saved in artifacts/.
test-browser: examples bin/tradeassured
	@test -x "$${CHROMIUM:-/usr/bin/chromium}" || { echo "test-browser needs Chromium: apt-get install -y chromium (or set CHROMIUM)"; exit 1; }
	TRADEASSURED_BIN=$(CURDIR)/bin/tradeassured bash examples/browser/test.sh

# desk serves the after-sales desk (desk/) against a development server with the demo history, from a fresh
# clone: it builds the SDK and the desk first (desk/run.sh).
desk:
	bash desk/run.sh

# test-desk drives the desk in headless Chromium against a --dev server with the demo: every role's main
# work, checked with axe-core; screenshots in artifacts/desk-*.png.
test-desk: sdk-ts bin/tradeassured
	@test -x "$${CHROMIUM:-/usr/bin/chromium}" || { echo "test-desk needs Chromium: apt-get install -y chromium (or set CHROMIUM)"; exit 1; }
	@test -d desk/node_modules || (cd desk && $(NPM_CI))
	TRADEASSURED_BIN=$(CURDIR)/bin/tradeassured bash desk/test.sh

# docs/rules.md is rendered from the transition tables and policy sets; a test fails when it is stale.
rules-doc:
	go generate ./server/rulebook

# fuzz runs every Go fuzz target (func FuzzXxx, found with go test -list) for a short time each: FUZZ_BUDGET=48
# seconds of fuzzing shared among the targets, plus building them (tools/fuzz.sh).
fuzz:
	bash tools/fuzz.sh

# The Go tests run last so that their summary closes the output.
test: test-ts test-walkthrough test-sdk-ts test-examples test-browser test-desk fuzz test-go

# bench measures the server against a bare connect-go baseline in one run (ratios; docs/benchmarks.md), on
# SQLite and, when TRADEASSURE_TEST_POSTGRES is set, Postgres; BENCH_* variables size it (server/bench).
# bench-all adds the older absolute benchmarks (webhook delivery, ledger posting).
bench:
	go test -run '^$$' -bench '^BenchmarkCompare$$' -benchtime 1x -timeout 30m ./server/bench/

bench-all: bench
	go test -run '^$$' -bench 'BenchmarkOrders|BenchmarkWebhookDelivery' -benchtime 5s -timeout 60m ./server/bench/
	go test -run '^$$' -bench BenchmarkCreateOrderWebhooks -benchtime 1x -timeout 30m ./server/bench/
	go test -run '^$$' -bench BenchmarkPost -benchtime 5s -timeout 30m ./server/ledger/
	go test -run '^$$' -bench BenchmarkInstrumentation -benchtime 4000x -timeout 30m ./server/obs/

run:
	go run ./server/cmd/tradeassured --dev
