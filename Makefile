# tradeassure: `make test` runs every test; `make generate` regenerates code; see README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: all generate proto ent migrations check-generated breaking lint test test-go test-ts test-walkthrough bench run deps

all: generate test

deps:
	go mod download
	npm ci --no-audit --no-fund

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

test: test-go test-ts test-walkthrough

bench:
	go test -run '^$$' -bench . -benchtime 5s -timeout 60m ./server/bench/

run:
	go run ./server/cmd/tradeassured --dev
