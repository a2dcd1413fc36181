package rulebook

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md from the tables")

const path = "../../docs/rules.md"

// TestRulesDoc fails when docs/rules.md differs from what the tables render: change a transition, a timer
// or a policy number and the document must be regenerated (make rules-doc) in the same change.
func TestRulesDoc(t *testing.T) {
	got, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run make rules-doc)", path, err)
	}
	if string(want) != got {
		t.Fatalf("%s is out of date with the transition tables and policy sets; run make rules-doc", path)
	}
}

// TestStepsNameRealRPCs checks that every step run by an RPC names one the API has.
func TestStepsNameRealRPCs(t *testing.T) {
	files, err := filepath.Glob("../../proto/tradeassure/*/v1/*_service.proto")
	if err != nil || len(files) == 0 {
		t.Fatalf("find the service protos: %v", err)
	}
	rpcs := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`rpc (\w+)`).FindAllStringSubmatch(string(b), -1) {
			rpcs[m[1]] = true
		}
	}
	rpcLike := regexp.MustCompile(`\b([A-Z][a-z]+(?:[A-Z][a-z]+)+)\b`)
	for name, table := range Machines() {
		for _, r := range table.Transitions {
			for _, m := range rpcLike.FindAllStringSubmatch(r.By, -1) {
				if !rpcs[m[1]] {
					t.Errorf("%s step %q is run by %s, which is no RPC of the API", name, r.Name, m[1])
				}
			}
		}
	}
}

// TestSourcesAreTheTables checks that every machine's link in docs/rules.md points at the file that
// defines it (the package's Rules).
func TestSourcesAreTheTables(t *testing.T) {
	for name := range Machines() {
		src, ok := Sources[name]
		if !ok {
			t.Errorf("machine %s has no source file to link", name)
			continue
		}
		b, err := os.ReadFile(filepath.Join("..", "..", src))
		if err != nil {
			t.Errorf("machine %s: %v", name, err)
			continue
		}
		if !strings.Contains(string(b), "func Rules() transition.Table") {
			t.Errorf("machine %s: %s does not define Rules", name, src)
		}
	}
}
