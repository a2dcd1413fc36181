package servertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
)

// received is one request a receiver got.
type Received struct {
	Header http.Header
	Body   []byte
	Status int
}

// ID is the webhook-id.
func (r Received) ID() string { return r.Header.Get("webhook-id") }

// Event parses the body as the event it carries.
func (r Received) Event(t testing.TB) *eventv1.Event {
	t.Helper()
	ev := &eventv1.Event{}
	if err := protojson.Unmarshal(r.Body, ev); err != nil {
		t.Fatalf("body is not an Event: %v\n%s", err, r.Body)
	}
	return ev
}

// Receiver is a real HTTP server on loopback that records deliveries; answer picks each status (by the
// count of requests so far with the same webhook-id, from 1), default 200.
type Receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []Received
	answer func(id string, n int) int
	// inFlight tracks concurrent requests per webhook-id, to catch a delivery sent twice at once.
	inFlight map[string]int
	overlap  []string
	hold     chan struct{}
	active   int
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{inFlight: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.inFlight[id]++
		if r.inFlight[id] > 1 {
			r.overlap = append(r.overlap, id)
		}
		n := 1
		for _, g := range r.got {
			if g.ID() == id {
				n++
			}
		}
		status := 200
		if r.answer != nil {
			status = r.answer(id, n)
		}
		hold := r.hold
		r.active++
		r.mu.Unlock()
		if hold != nil {
			<-hold
		}
		r.mu.Lock()
		r.active--
		r.inFlight[id]--
		r.got = append(r.got, Received{Header: req.Header.Clone(), Body: body, Status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok " + strconv.Itoa(status)))
	}))
	t.Cleanup(r.Close)
	return r
}

// All returns what arrived, in order.
func (r *Receiver) All() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

// Count is how many requests arrived.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// SetAnswer sets how requests are answered.
func (r *Receiver) SetAnswer(f func(id string, n int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = f
}

// OKIDs are the distinct webhook-ids answered 2xx, in first-arrival order.
func (r *Receiver) OKIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range r.All() {
		if g.Status/100 == 2 && !seen[g.ID()] {
			seen[g.ID()] = true
			out = append(out, g.ID())
		}
	}
	return out
}

// StallLimit is how long a wait may see nothing move before it fails the test.
const StallLimit = time.Minute

// WaitFor waits until ok holds, failing only when progress() has not changed for StallLimit: a slow or
// loaded machine makes the wait longer, a stuck one fails it. Never wait on a fixed wall-clock budget.
func WaitFor(t testing.TB, what string, ok func() bool, progress func() int) {
	t.Helper()
	last, lastChange := -1, time.Now()
	for !ok() {
		if p := progress(); p != last {
			last, lastChange = p, time.Now()
		}
		if time.Since(lastChange) > StallLimit {
			t.Fatalf("timed out waiting for %s (no progress for %v)", what, StallLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Hold makes requests wait, unanswered, until Release.
func (r *Receiver) Hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = make(chan struct{})
}

// Release answers the held requests and stops holding.
func (r *Receiver) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold != nil {
		close(r.hold)
		r.hold = nil
	}
}

// Active is how many requests are being answered now.
func (r *Receiver) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}

// Overlaps are the webhook-ids that arrived again while an earlier request with the same id was still
// being answered: one delivery sent twice at once.
func (r *Receiver) Overlaps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.overlap...)
}
