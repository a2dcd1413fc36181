package rulebook

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTablesBehindTheirDomain checks who imports a domain's ent package: a domain's tables are read and
// written by its own package only, and other domains go through its service (order.Facts, order.Money,
// order.StageOf and the other reads of server/order/reads.go, the aftersales contract). Tests may read the
// tables to set up and check their fixtures.
func TestTablesBehindTheirDomain(t *testing.T) {
	const mod = "github.com/tradeassure/tradeassure/"
	owners := map[string]string{
		"ent/order":         "server/order",
		"ent/returnrequest": "server/returns",
		"ent/dispute":       "server/dispute",
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
			owner, ok := owners[strings.TrimPrefix(p, mod)]
			if !ok || pkg == owner {
				continue
			}
			t.Errorf("%s imports %s; only %s may (read through its service instead)", path, p, owner)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
