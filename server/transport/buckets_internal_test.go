package transport

import (
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
