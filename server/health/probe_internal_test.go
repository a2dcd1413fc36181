package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadyShared checks a flood of /readyz probes runs the (database) checks once per readyFor, not once
// a probe: just inside readyFor the last result answers, just after it the checks run again.
func TestReadyShared(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var runs atomic.Int64
	rd := newReadiness(func() time.Time { return now }, []Check{{Name: "database", Fn: func(context.Context) error {
		runs.Add(1)
		return nil
	}}})
	probe := func() int {
		w := httptest.NewRecorder()
		rd.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w.Code
	}
	for range 50 {
		if code := probe(); code != http.StatusOK {
			t.Fatalf("/readyz: %d", code)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("50 probes at one instant ran the checks %d times, want 1", n)
	}
	now = now.Add(readyFor - time.Nanosecond)
	probe()
	if n := runs.Load(); n != 1 {
		t.Fatalf("a probe just inside %s ran the checks again (%d runs)", readyFor, n)
	}
	now = now.Add(time.Nanosecond)
	probe()
	if n := runs.Load(); n != 2 {
		t.Fatalf("a probe %s after the last run did not run the checks (%d runs)", readyFor, n)
	}
}
