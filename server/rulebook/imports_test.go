package rulebook

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const mod = "github.com/tradeassure/tradeassure/"

// walkSources parses every non-test Go file under server/ with mode and calls fn with the file's path, the
// package it belongs to ("server/returns") and its syntax.
func walkSources(t *testing.T, fset *token.FileSet, mode parser.Mode, fn func(path, pkg string, f *ast.File)) {
	t.Helper()
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, mode)
		if err != nil {
			return err
		}
		pkg := "server/" + filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../")))
		pkg = strings.TrimSuffix(strings.SplitN(pkg, "/", 3)[0]+"/"+strings.SplitN(pkg, "/", 3)[1], "/")
		fn(path, pkg, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTablesBehindTheirDomain checks who imports a domain's ent package: a domain's tables are read and
// written by its own package only, and other domains go through its service (order.Read and its Facts,
// order.Money, the other reads of server/order/reads.go, the aftersales contract). Tests may read the
// tables to set up and check their fixtures.
func TestTablesBehindTheirDomain(t *testing.T) {
	owners := map[string]string{
		"ent/order":         "server/order",
		"ent/returnrequest": "server/returns",
		"ent/dispute":       "server/dispute",
	}
	walkSources(t, token.NewFileSet(), parser.ImportsOnly, func(path, pkg string, f *ast.File) {
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			owner, ok := owners[strings.TrimPrefix(p, mod)]
			if !ok || pkg == owner {
				continue
			}
			t.Errorf("%s imports %s; only %s may (read through its service instead)", path, p, owner)
		}
	})
}

// TestOrderEntityBehindOrder checks that only server/order touches the order's rows, which the import rule
// alone does not catch (the general ent client reads them without ent/order): no other package's code
// names the order entity's ent types (ent.Order, ent.OrderQuery, …) or calls its client (tx.Order.Get,
// client.Order.Query, …). Returns, disputes and complaints read an order once per transaction with
// order.Read, as order.Facts.
func TestOrderEntityBehindOrder(t *testing.T) {
	u := orderEntity(t)
	fset := token.NewFileSet()
	walkSources(t, fset, parser.SkipObjectResolution, func(path, pkg string, f *ast.File) {
		if pkg == "server/order" {
			return
		}
		for _, use := range u.uses(fset, f) {
			t.Errorf("%s touches the order's rows directly; read the order with order.Read (order.Facts) instead", use)
		}
	})
}

// TestOrderEntityUsesFound checks the check itself: each way of reaching the order's rows is reported,
// under whatever name ent is imported, and the look-alikes (a query's Order method, other entities, the
// order service's types) are not.
func TestOrderEntityUsesFound(t *testing.T) {
	const src = `package p

import (
	db "github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/order"
)

func f(tx *db.Tx, c *db.Client, q *db.ReturnRequestQuery, r order.RefundResult) {
	var o *db.Order
	_, _ = tx.Order.Get(nil, "o")
	_ = c.Order.Query()
	_ = tx.Client().Order.UpdateOneID("o")
	_ = func(*db.OrderQuery) {}
	_ = q.Order(db.Asc("id"))
	_, _ = order.Read(nil, tx, "o")
	_, _ = tx.ReturnRequest.Get(nil, "r")
	_ = r.Order.GetId()
	_ = o
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	got := orderEntity(t).uses(fset, f)
	want := []string{
		"p.go:9:9: ent.Order",
		"p.go:10:9: tx.Order.Get",
		"p.go:11:6: c.Order.Query",
		"p.go:12:6: tx.Client().Order.UpdateOneID",
		"p.go:13:12: ent.OrderQuery",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("uses found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// entityNames are the ent types and client methods of one entity, read from ent's generated code.
type entityNames struct {
	types   map[string]bool // Order, OrderQuery, OrderUpdateOne, OrderClient, OrderMutation, …
	methods map[string]bool // Get, Query, Create, UpdateOneID, … of *OrderClient
}

// orderEntity reads the names of the order entity: the types ent generates for it in ent/order.go and
// ent/order_*.go, its client and mutation, and the client's methods.
func orderEntity(t *testing.T) entityNames {
	t.Helper()
	files, err := filepath.Glob("../../ent/order_*.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../ent/order.go", "../../ent/client.go")
	u := entityNames{types: map[string]bool{"OrderClient": true, "OrderMutation": true}, methods: map[string]bool{}}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		client := filepath.Base(name) == "client.go"
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if ts, ok := spec.(*ast.TypeSpec); ok && !client {
						u.types[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if !client || d.Recv == nil || len(d.Recv.List) != 1 {
					continue
				}
				if star, ok := d.Recv.List[0].Type.(*ast.StarExpr); ok {
					if id, ok := star.X.(*ast.Ident); ok && id.Name == "OrderClient" {
						u.methods[d.Name.Name] = true
					}
				}
			}
		}
	}
	if !u.types["Order"] || !u.types["OrderQuery"] || !u.methods["Get"] || !u.methods["Query"] {
		t.Fatalf("the order entity's generated code was not found (types %v, client methods %v)", u.types, u.methods)
	}
	return u
}

// uses lists where f reaches the entity's rows: a name of one of its ent types, or a call of its client
// through a Tx or Client field named after it.
func (u entityNames) uses(fset *token.FileSet, f *ast.File) []string {
	entName := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == mod+"ent" {
			entName = "ent"
			if imp.Name != nil {
				entName = imp.Name.Name
			}
		}
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && entName != "" && x.Name == entName && u.types[sel.Sel.Name] {
			out = append(out, fset.Position(sel.Pos()).String()+": ent."+sel.Sel.Name)
		}
		if field, ok := sel.X.(*ast.SelectorExpr); ok && field.Sel.Name == "Order" && u.methods[sel.Sel.Name] {
			out = append(out, fset.Position(sel.Pos()).String()+": "+exprText(field.X)+".Order."+sel.Sel.Name)
		}
		return true
	})
	return out
}

// exprText is a short rendering of the receivers the check reports: x, x.y, x.y().
func exprText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprText(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return exprText(e.Fun) + "()"
	}
	return "…"
}
