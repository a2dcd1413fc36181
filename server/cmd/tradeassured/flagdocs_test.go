package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpText runs tradeassured --help and returns what it prints.
func helpText(t *testing.T) string {
	t.Helper()
	r, w, _ := os.Pipe()
	old := os.Stderr
	os.Stderr = w
	err := serve([]string{"--help"})
	w.Close()
	os.Stderr = old
	b, _ := io.ReadAll(r)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	return string(b)
}

func sortedSet(ms [][]string) []string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestREADMEFlagTable checks the README's flag table names exactly the flags and environment variables
// of tradeassured --help, and that every flag docs/operations.md mentions exists (a server flag, or one
// of an admin subcommand) and every TRADEASSURE_ variable it names is one the server reads.
func TestREADMEFlagTable(t *testing.T) {
	help := helpText(t)
	flags := sortedSet(regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(help, -1))
	envs := sortedSet(regexp.MustCompile(`env (TRADEASSURE_[A-Z0-9_]+)`).FindAllStringSubmatch(help, -1))
	if len(flags) < 10 {
		t.Fatalf("found %d flags in --help:\n%s", len(flags), help)
	}

	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `--") || strings.HasPrefix(line, "| |") {
			rows = append(rows, line)
		}
	}
	var tableFlags, tableEnvs [][]string
	for _, row := range rows {
		cols := strings.Split(row, "|")
		tableFlags = append(tableFlags, regexp.MustCompile("`--([a-z0-9-]+)`").FindAllStringSubmatch(cols[1], -1)...)
		tableEnvs = append(tableEnvs, regexp.MustCompile("`(TRADEASSURE_[A-Z0-9_]+)`").FindAllStringSubmatch(cols[2], -1)...)
	}
	if got := sortedSet(tableFlags); !slices.Equal(got, flags) {
		t.Errorf("README flag table names %v\n--help lists %v", got, flags)
	}
	if got := sortedSet(tableEnvs); !slices.Equal(got, envs) {
		t.Errorf("README flag table names the variables %v\n--help names %v", got, envs)
	}

	ops, err := os.ReadFile("../../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sortedSet(regexp.MustCompile(`--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(ops), -1)) {
		// --help itself, a server flag, --version, or a flag of an admin subcommand, all of which --help shows.
		if m != "help" && !slices.Contains(flags, m) && !regexp.MustCompile(`--`+m+`\b`).MatchString(help) {
			t.Errorf("docs/operations.md mentions --%s, which tradeassured --help does not know", m)
		}
	}
	for _, m := range sortedSet(regexp.MustCompile(`(TRADEASSURE_[A-Z0-9_]+)`).FindAllStringSubmatch(string(ops), -1)) {
		if !slices.Contains(envs, m) {
			t.Errorf("docs/operations.md mentions %s, which tradeassured --help does not know", m)
		}
	}
}
