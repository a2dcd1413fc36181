package reqlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/server/obs/reqlog"
)

// TestSaneID checks which incoming request ids are kept: 1 to MaxIDLength characters of letters, digits
// and "-_.:".
func TestSaneID(t *testing.T) {
	for _, c := range []struct {
		id   string
		sane bool
	}{
		{"", false},
		{"a", true},
		{"0f3c-ID_9.x:y", true},
		{strings.Repeat("z", reqlog.MaxIDLength), true},
		{strings.Repeat("z", reqlog.MaxIDLength+1), false},
		{"a b", false},
		{"a\nb", false},
		{"a\"b", false},
		{"é", false},
		{"a/b", false},
	} {
		if got := reqlog.SaneID(c.id); got != c.sane {
			t.Errorf("SaneID(%q) = %v, want %v", c.id, got, c.sane)
		}
	}
	if id := reqlog.NewID(); !reqlog.SaneID(id) || id == reqlog.NewID() {
		t.Fatalf("NewID: %q", id)
	}
}

// TestHandlerAddsRequestID checks every line logged with a request's context carries its id, also
// through WithAttrs, and lines outside a request carry none.
func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqlog.NewHandler(slog.NewJSONHandler(&buf, nil))).With("component", "x")
	ctx := reqlog.With(context.Background(), &reqlog.Record{ID: "req-1"})
	log.InfoContext(ctx, "inside")
	log.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"request_id":"req-1"`) || strings.Contains(lines[1], "request_id") {
		t.Fatalf("log: %s", buf.String())
	}
}
