package rulebook

import (
	"flag"
	"os"
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
