package transport

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestBucketsBounded checks hostile input (a distinct client address or key on every call, faster than
// buckets go idle) cannot grow the limiter's map past its bound, and that a key still present keeps its
// bucket.
func TestBucketsBounded(t *testing.T) {
	b := newBuckets(1e-6, 2)
	b.max = 100
	now := time.Now()
	if _, ok := b.take("victim", now); !ok {
		t.Fatal("first call of a fresh bucket refused")
	}
	for i := range 10 * b.max {
		b.take("addr-"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
		if n := len(b.m); n > b.max {
			t.Fatalf("after %d distinct keys the map holds %d buckets, more than its bound %d", i+1, n, b.max)
		}
	}
	// Just inside the bound: max distinct keys fit without evicting any.
	c := newBuckets(1e-6, 1)
	c.max = 3
	for _, k := range []string{"a", "b", "c"} {
		c.take(k, now)
	}
	if _, ok := c.take("a", now); ok {
		t.Fatal("a bucket was evicted with the map only at its bound")
	}
}

// TestIPv6PrefixShared checks the addresses of one IPv6 /64 (what one subscriber or host is given, and can
// pick from freely) share their per-address buckets, while other /64s and IPv4 addresses do not.
func TestIPv6PrefixShared(t *testing.T) {
	g := NewGate(nil, Config{Limits: RateLimits{AddressRate: 1e-6, AddressBurst: 1}}, nil)
	g.Log = slog.New(slog.DiscardHandler)
	h := g.Public(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	call := func(remote string) int {
		r := httptest.NewRequest(http.MethodGet, "/grpc.health.v1.Health/Check", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		remote string
		want   int
	}{
		{"[2001:db8:1:2::1]:4000", http.StatusOK},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:4001", http.StatusTooManyRequests}, // the same /64
		{"[2001:db8:1:3::1]:4000", http.StatusOK},                               // the next /64
		{"192.0.2.1:4000", http.StatusOK},
		{"192.0.2.2:4000", http.StatusOK},
		{"[::ffff:192.0.2.3]:4000", http.StatusOK}, // IPv4-mapped: an IPv4 address, not a /64
		{"[::ffff:192.0.2.4]:4000", http.StatusOK},
	} {
		if got := call(c.remote); got != c.want {
			t.Errorf("%s: %d, want %d", c.remote, got, c.want)
		}
	}
}
