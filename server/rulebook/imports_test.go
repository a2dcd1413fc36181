package rulebook

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestTablesBehindTheirDomain checks who imports a domain's ent package: a domain's tables are read and
// written by its own package only, and other domains go through its service (order.Money, the aftersales
// contract). known lists the packages that still read orders directly, so none is added; remove an entry
// when its package stops.
func TestTablesBehindTheirDomain(t *testing.T) {
	const mod = "github.com/tradeassure/tradeassure/"
	rules := map[string]struct {
		owner string
		known []string
	}{
		"ent/returnrequest": {owner: "server/returns"},
		"ent/dispute":       {owner: "server/dispute"},
		// The order's state, terms and supplier queries are still read by these; its money is read through
		// order.Money.
		"ent/order": {owner: "server/order", known: []string{"server/dispute", "server/ledger", "server/payout", "server/returns"}},
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := "server/" + filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../")))
		pkg = strings.TrimSuffix(strings.SplitN(pkg, "/", 3)[0]+"/"+strings.SplitN(pkg, "/", 3)[1], "/")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			r, ok := rules[strings.TrimPrefix(p, mod)]
			if !ok || pkg == r.owner || slices.Contains(r.known, pkg) {
				continue
			}
			t.Errorf("%s imports %s; only %s may (read through its service instead)", path, p, r.owner)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
