package transport

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestPresizeStack(t *testing.T) {
	h := PresizeStack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Depth", "ok")
		w.WriteHeader(http.StatusTeapot)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", nil))
	if rec.Code != http.StatusTeapot || rec.Header().Get("X-Depth") != "ok" {
		t.Fatalf("answer = %d %v, want the handler's", rec.Code, rec.Header())
	}
}

// deep recurses n frames of about 256 bytes each, as a request's chain of interceptors and drivers does.
//
//go:noinline
func deep(n int) byte {
	var frame [256]byte
	frame[n%len(frame)] = byte(n)
	if n == 0 {
		return frame[0]
	}
	return deep(n-1) + last(frame[:])
}

// BenchmarkPresizeStack runs a deep call (about 12 KB of stack) on a new goroutine per operation, as
// the HTTP/2 server runs each request, with and without presizing the stack first.
func BenchmarkPresizeStack(b *testing.B) {
	for _, tc := range []struct {
		name    string
		presize bool
	}{{"grown-as-needed", false}, {"presized", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var wg sync.WaitGroup
			for i := 0; i < b.N; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if tc.presize {
						presize()
					}
					deep(48)
				}()
				wg.Wait()
			}
		})
	}
}
