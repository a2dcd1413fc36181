package pagination

import (
	"strings"
	"testing"
)

func TestSize(t *testing.T) {
	cases := []struct {
		req       int32
		want      int
		wantError bool
	}{{0, 50, false}, {1, 1, false}, {500, 500, false}, {501, 500, false}, {-1, 0, true}}
	for _, c := range cases {
		got, err := Size(c.req, 50, 500)
		if (err != nil) != c.wantError || got != c.want {
			t.Errorf("Size(%d) = %d, %v; want %d (error %v)", c.req, got, err, c.want, c.wantError)
		}
	}
}

func TestTokens(t *testing.T) {
	p := New([]byte("secret"))
	tok := p.Token("ord_42", "orders acc_1 DRAFT")
	if key, err := p.After(tok, "orders acc_1 DRAFT"); err != nil || key != "ord_42" {
		t.Fatalf("After = %q, %v", key, err)
	}
	if key, err := p.After("", "anything"); err != nil || key != "" {
		t.Fatalf("empty token = %q, %v", key, err)
	}
	body, mac, _ := strings.Cut(tok, ".")
	bad := []string{
		p.Token("ord_42", "orders acc_2 DRAFT"),                    // another caller's filter
		New([]byte("other")).Token("ord_42", "orders acc_1 DRAFT"), // another server's secret
		body + "." + mac[:len(mac)-2] + "AA",                       // altered signature
		"x" + body[1:] + "." + mac,                                 // altered body
		"not-a-token",
	}
	for _, b := range bad {
		if _, err := p.After(b, "orders acc_1 DRAFT"); err == nil {
			t.Errorf("token %q was accepted", b)
		}
	}
	// Filters of different queries never coincide, however their parts split.
	if Filter("disputes", "ab", "c") == Filter("disputes", "a", "bc") {
		t.Error("filters of different queries coincide")
	}
	// A page trims the extra row and names the last kept one.
	rows, next := Page(p, []string{"a", "b", "c"}, 2, "f", func(s string) string { return s })
	if len(rows) != 2 || next == "" {
		t.Fatalf("Page = %v %q", rows, next)
	}
	if key, _ := p.After(next, "f"); key != "b" {
		t.Fatalf("next page starts after %q", key)
	}
	if rows, next := Page(p, []string{"a"}, 2, "f", func(s string) string { return s }); len(rows) != 1 || next != "" {
		t.Fatalf("last page = %v %q", rows, next)
	}
}
