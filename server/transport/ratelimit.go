package transport

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of RateLimits. They are generous: a partner ERP or a browser desk working normally never meets
// them; they stop a runaway client or a key-guessing loop.
const (
	DefaultKeyRate          = 100 // requests a second per API key
	DefaultKeyBurst         = 1000
	DefaultAddressRate      = 20 // requests a second per client address, for calls without a key
	DefaultAddressBurst     = 200
	DefaultAuthFailureRate  = 2 // failed authentications a second per client address
	DefaultAuthFailureBurst = 100
)

// RateLimits are the token buckets of the gate. A zero rate or burst means the default; a negative rate
// turns that limit off.
type RateLimits struct {
	// KeyRate and KeyBurst bound the calls of one API key.
	KeyRate  float64
	KeyBurst int
	// AddressRate and AddressBurst bound the calls without a key (health, reflection) of one client address.
	AddressRate  float64
	AddressBurst int
	// AuthFailureRate and AuthFailureBurst bound the failed authentications of one client address; once
	// its bucket is empty, every call from the address is refused until it refills.
	AuthFailureRate  float64
	AuthFailureBurst int
	// TrustForwardedFor takes the client address from the last X-Forwarded-For entry (set by a reverse
	// proxy in front of the server) instead of the connection's peer.
	TrustForwardedFor bool
}

func (l RateLimits) withDefaults() RateLimits {
	def := func(r *float64, b *int, dr float64, db int) {
		if *r == 0 {
			*r = dr
		}
		if *b <= 0 {
			*b = db
		}
	}
	def(&l.KeyRate, &l.KeyBurst, DefaultKeyRate, DefaultKeyBurst)
	def(&l.AddressRate, &l.AddressBurst, DefaultAddressRate, DefaultAddressBurst)
	def(&l.AuthFailureRate, &l.AuthFailureBurst, DefaultAuthFailureRate, DefaultAuthFailureBurst)
	return l
}

// maxBuckets bounds the buckets of one limit. Hostile input (a distinct client address on every call, from
// a large IPv6 range or many hosts) could otherwise grow the map faster than idle buckets are forgotten;
// past the bound an arbitrary bucket is dropped for each new one. Dropping a bucket only refills it, so
// the bound costs memory (about 200 bytes a bucket), never a legitimate call.
const maxBuckets = 100_000

// buckets is a token bucket per key (an API key's hash, a client address), forgotten after idle time, at
// most max of them.
type buckets struct {
	limit rate.Limit
	burst int
	max   int
	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// idleAfter is how long an unused bucket is kept; by then it has refilled, so forgetting it changes nothing.
func (b *buckets) idleAfter() time.Duration {
	return max(10*time.Minute, time.Duration(float64(b.burst)/float64(b.limit)*float64(time.Second))*2)
}

func newBuckets(r float64, burst int) *buckets {
	if r < 0 {
		return nil
	}
	return &buckets{limit: rate.Limit(r), burst: burst, max: maxBuckets, m: map[string]*bucket{}}
}

func (b *buckets) get(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > time.Minute {
		idle := b.idleAfter()
		for k, e := range b.m {
			if now.Sub(e.used) > idle {
				delete(b.m, k)
			}
		}
		b.swept = now
	}
	e := b.m[key]
	if e == nil {
		if len(b.m) >= b.max {
			for k := range b.m { // an arbitrary one: map iteration order is random
				delete(b.m, k)
				break
			}
		}
		e = &bucket{lim: rate.NewLimiter(b.limit, b.burst)}
		b.m[key] = e
	}
	e.used = now
	return e.lim
}

// take spends a token of key's bucket, or returns how long until one is there. A nil bucket set allows all.
func (b *buckets) take(key string, now time.Time) (wait time.Duration, ok bool) {
	if b == nil {
		return 0, true
	}
	r := b.get(key, now).ReserveN(now, 1)
	if !r.OK() {
		return time.Second, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// empty reports whether key's bucket has no whole token left, and how long until it has one, without
// spending one.
func (b *buckets) empty(key string, now time.Time) (wait time.Duration, isEmpty bool) {
	if b == nil {
		return 0, false
	}
	t := b.get(key, now).TokensAt(now)
	if t >= 1 {
		return 0, false
	}
	return time.Duration(math.Ceil((1 - t) / float64(b.limit) * float64(time.Second))), true
}

// ipv6Prefix is how much of an IPv6 client address names one client for the per-address limits: a
// subscriber or host is given a whole /64 and may use any of its addresses, so a bucket per address would
// let it start afresh with each.
const ipv6Prefix = 64

// limitKey is the bucket name of a client address: the address itself (an IPv4-mapped one as IPv4), or
// an IPv6 address's /64.
func limitKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if ip = ip.Unmap(); ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(ipv6Prefix)
	return p.String()
}

// ClientAddress is the address a request comes from: its connection's peer host, or with
// TrustForwardedFor the last X-Forwarded-For entry.
func (l RateLimits) ClientAddress(r *http.Request) string {
	if l.TrustForwardedFor {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
