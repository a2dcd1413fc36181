package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/predicate"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	"github.com/tradeassure/tradeassure/ent/webhookendpoint"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/events"
)

// RetryDelays are the waits before each retry of a failed delivery (each varied by ±20% jitter): 14
// attempts over about three days and three hours, after which the delivery is given up.
var RetryDelays = []time.Duration{
	5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
	8 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour,
}

// DisableAfter is how long an endpoint may fail every attempt before it is disabled.
const DisableAfter = 5 * 24 * time.Hour

// turnGap is the least time between two of the dispatcher's turns when it is woken (by a commit that
// queued deliveries or a finished send) while deliveries keep being queued: under load it records and
// claims in batches, one write transaction of a few statements per turn, so its share of the database's
// writes stays small (about 40 transactions a second at most, however many events are appended), at the
// cost of up to turnGap of delivery latency. A delivery queued after a quiet spell goes out at once, and
// the outcomes of the last sends are recorded at once when nothing was queued meanwhile. (A 100 ms gap
// was tried: fewer, larger turns, but the dispatcher fell behind under load and drained far later.)
const turnGap = 25 * time.Millisecond

// backlogLinger is the pause between turns while due deliveries fill every free slot.
const backlogLinger = 2 * time.Millisecond

// responseLimit is how much of an answer is read and kept.
const responseLimit = 1024

// backoff is the wait before retry n (1-based), with jitter.
func backoff(n int) time.Duration {
	d := RetryDelays[min(n, len(RetryDelays))-1]
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())).Round(time.Millisecond)
}

// job is a claimed delivery, ready to send.
type job struct {
	id                           int64
	token, endpointID, webhookID string
	trigger                      webhookdelivery.Trigger
	retries                      int
	// attempts is how many attempts the delivery had when claimed; a first attempt that succeeds is
	// recorded on the delivery row (inline_attempt).
	attempts int
	url      string
	keys     [][]byte
	body     []byte
}

// result is what came of sending a job.
type result struct {
	job
	time     time.Time
	latency  time.Duration
	outcome  string
	status   int
	errText  string
	response string
}

func (r result) ok() bool { return r.outcome == "succeeded" }

// lease is how long a claimed delivery is reserved for its worker: longer than an attempt can take, so a
// delivery is never sent twice at once; a worker that dies loses its leases when they run out.
func (w *Webhooks) lease() time.Duration { return w.cfg.Timeout + 5*time.Second }

// cycle records the outcomes of a batch of attempts and leases up to n due deliveries, in one write
// transaction (none when there is nothing to record or lease), and returns the leased deliveries'
// prepared requests. One transaction per dispatcher turn, not one per step, keeps the dispatcher's share
// of the database's writes small: on SQLite every write transaction queues for the one writer lock that
// CreateOrder and every other change needs too.
//
// A delivery is due when it is pending, its time has come, no live lease holds it, its endpoint is
// enabled, and no earlier delivery of the same subject to the same endpoint is still pending. busy counts
// this process's deliveries in flight per endpoint: an endpoint is given no more than
// Config.EndpointConcurrency at once, so a slow one cannot take every worker. only leases the given
// deliveries, due or not, whatever the cap.
//
// On SQLite the due deliveries are read before the transaction (WAL readers do not wait for the writer)
// and leased in it by a conditional UPDATE; on Postgres they are read in the transaction FOR UPDATE SKIP
// LOCKED, so another process skips them. The events and endpoints are read and the bodies built after
// the commit, outside any transaction.
func (w *Webhooks) cycle(ctx context.Context, batch []result, n int, busy map[string]int, only ...int64) ([]job, bool, error) {
	if n > 0 {
		if err := w.syncClock(ctx, len(only) > 0); err != nil {
			return nil, false, err
		}
	}
	now := w.clock.Now()
	wall := time.Now().UTC()
	token := uuid.NewString()
	var cands, rows []*ent.WebhookDelivery
	capped := false
	if n > 0 && !w.postgres {
		var err error
		if cands, capped, err = w.candidates(ctx, w.store.Client, n, now, wall, busy, only); err != nil {
			return nil, false, fmt.Errorf("claim webhook deliveries: %w", err)
		}
	}
	if len(batch) == 0 && (n == 0 || (!w.postgres && len(cands) == 0)) {
		return nil, false, nil
	}
	err := w.store.WithTx(ctx, func(tx *ent.Tx) error {
		if w.postgres {
			// Losing this transaction in a crash only sends its deliveries again (at least once), so its
			// commit need not wait for the WAL flush. tally asks for the flush when it disables an endpoint,
			// since that appends an event.
			if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return err
			}
		}
		if err := w.recordTx(ctx, tx, batch, now); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		var err error
		if w.postgres {
			if cands, capped, err = w.candidates(ctx, tx.Client(), n, now, wall, busy, only); err != nil {
				return fmt.Errorf("claim webhook deliveries: %w", err)
			}
		}
		if rows, err = w.leaseRows(ctx, tx.Client(), cands, token, wall); err != nil {
			return fmt.Errorf("claim webhook deliveries: %w", err)
		}
		return nil
	})
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	jobs, err := w.prepare(ctx, rows, token, now)
	if err != nil {
		return nil, false, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return jobs, capped || len(rows) == n, nil
}

// claim leases up to n due deliveries (see cycle), with the development clock read first.
func (w *Webhooks) claim(ctx context.Context, n int, busy map[string]int, only ...int64) ([]job, error) {
	if err := w.syncClock(ctx, true); err != nil {
		return nil, err
	}
	jobs, _, err := w.cycle(ctx, nil, n, busy, only...)
	return jobs, err
}

// syncClock reads the development clock's offset, which another process may have moved: at once when
// now is set (a test stepping through retries with DeliverDue, a test webhook), otherwise at most once
// per Config.Interval, the dispatcher's delay for every other change made by another process, so that
// its turns under load cost no extra query. Outside development mode it does nothing.
func (w *Webhooks) syncClock(ctx context.Context, now bool) error {
	if !now && time.Since(time.Unix(0, w.clockSynced.Load())) < w.cfg.Interval {
		return nil
	}
	if err := clock.Sync(ctx, w.clock); err != nil {
		return err
	}
	w.clockSynced.Store(time.Now().UnixNano())
	return nil
}

// leaseRows leases the candidates that are still leasable and returns those leased.
func (w *Webhooks) leaseRows(ctx context.Context, c *ent.Client, cands []*ent.WebhookDelivery, token string, wall time.Time) ([]*ent.WebhookDelivery, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(cands))
	for i, r := range cands {
		ids[i] = r.ID
	}
	leased, err := c.WebhookDelivery.Update().Where(webhookdelivery.IDIn(ids...), leasable(wall)).SetLeaseToken(token).
		SetLeaseExpireTime(wall.Add(w.lease())).Save(ctx)
	if err != nil || leased == len(cands) {
		return cands, err
	}
	// Read before the transaction on SQLite: another process sharing the file leased some meanwhile.
	return c.WebhookDelivery.Query().Where(webhookdelivery.IDIn(ids...), webhookdelivery.LeaseToken(token)).All(ctx)
}

// leasable is the part of being due that is checked again when leasing: pending, and no live lease.
func leasable(wall time.Time) predicate.WebhookDelivery {
	return webhookdelivery.And(webhookdelivery.StateEQ(webhookdelivery.StatePending),
		webhookdelivery.Or(webhookdelivery.LeaseExpireTimeIsNil(), webhookdelivery.LeaseExpireTimeLT(wall)))
}

// candidates reads up to n due deliveries within the endpoints' caps, locking them on Postgres. Endpoints
// at their cap are left out of the query; one that reaches it within a batch has its surplus dropped, and
// the query runs again (a few times at most) without it.
func (w *Webhooks) candidates(ctx context.Context, c *ent.Client, n int, now, wall time.Time, busy map[string]int, only []int64) ([]*ent.WebhookDelivery, bool, error) {
	limit := w.cfg.EndpointConcurrency
	taken := map[string]int{}
	var out []*ent.WebhookDelivery
	capped := false
	for round := 0; round < 3 && len(out) < n; round++ {
		ask := n - len(out)
		q := c.WebhookDelivery.Query().Where(leasable(wall))
		if len(only) > 0 {
			// A test delivery sent at once by SendTestWebhook, whatever the endpoint's state or cap.
			q = q.Where(webhookdelivery.IDIn(only...))
		} else {
			var full []string
			for _, m := range []map[string]int{busy, taken} {
				for id := range m {
					if busy[id]+taken[id] >= limit && !slices.Contains(full, id) {
						full = append(full, id)
					}
				}
			}
			if len(full) > 0 {
				q = q.Where(webhookdelivery.EndpointIDNotIn(full...))
			}
			if len(out) > 0 {
				got := make([]int64, len(out))
				for i, r := range out {
					got[i] = r.ID
				}
				q = q.Where(webhookdelivery.IDNotIn(got...))
			}
			q = q.Where(webhookdelivery.NextAttemptTimeLTE(now),
				// A test is attempted once; one left unsent by a crash is sent by a worker.
				webhookdelivery.Or(webhookdelivery.TriggerNEQ(webhookdelivery.TriggerTest), webhookdelivery.AttemptCount(0)),
				dueInOrder).Order(webhookdelivery.ByNextAttemptTime(), webhookdelivery.ByID()).Limit(ask)
		}
		if w.postgres {
			q = q.ForUpdate(entsql.WithLockAction(entsql.SkipLocked), entsql.WithLockTables(webhookdelivery.Table))
		}
		rows, err := q.All(ctx)
		if err != nil {
			return nil, false, err
		}
		dropped := false
		for _, r := range rows {
			if len(only) == 0 && busy[r.EndpointID]+taken[r.EndpointID] >= limit {
				dropped = true
				continue
			}
			if taken[r.EndpointID]++; busy[r.EndpointID]+taken[r.EndpointID] >= limit {
				capped = true
			}
			out = append(out, r)
		}
		// Again only when the cap dropped some and there may be more due for other endpoints.
		if len(only) > 0 || !dropped || len(rows) < ask {
			break
		}
	}
	return out, capped && len(only) == 0, nil
}

// prepare reads the events and endpoints of leased deliveries and builds their signed requests. A
// delivery that cannot be prepared (its endpoint deleted meanwhile, or a secret the keys cannot open) is
// left to its lease running out.
func (w *Webhooks) prepare(ctx context.Context, rows []*ent.WebhookDelivery, token string, now time.Time) ([]job, error) {
	var epIDs []string
	var evIDs []int64
	for _, r := range rows {
		epIDs = append(epIDs, r.EndpointID)
		if r.EventID != nil && !slices.Contains(evIDs, *r.EventID) {
			evIDs = append(evIDs, *r.EventID)
		}
	}
	byEP, err := w.endpoints.get(ctx, w.store.Client, w.reg.Version(), epIDs)
	if err != nil {
		return nil, err
	}
	byEV := map[int64]*ent.Event{}
	if len(evIDs) > 0 {
		evs, err := w.store.Client.Event.Query().Where(entevent.IDIn(evIDs...)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			byEV[e.ID] = e
		}
	}
	// An event going to several endpoints is rendered once: the body is the same for all of them.
	bodies := map[int64][]byte{}
	jobs := make([]job, 0, len(rows))
	for _, r := range rows {
		ep, ok := byEP[r.EndpointID]
		if !ok {
			continue
		}
		keys, err := w.signingKeys(ep, now)
		if err == nil {
			body, cached := []byte(nil), false
			if r.EventID != nil {
				body, cached = bodies[*r.EventID]
			}
			if !cached {
				if body, err = w.body(r, byEV); err == nil && r.EventID != nil {
					bodies[*r.EventID] = body
				}
			}
			if err == nil {
				jobs = append(jobs, job{id: r.ID, token: token, endpointID: r.EndpointID, webhookID: r.WebhookID,
					trigger: r.Trigger, retries: r.Retries, attempts: r.AttemptCount, url: ep.URL, keys: keys, body: body})
				continue
			}
		}
		w.log.ErrorContext(ctx, "prepare webhook delivery", "delivery", r.ID, "error", err)
	}
	return jobs, nil
}

// endpointCache holds the endpoints deliveries were prepared for, as of one version of the endpoint
// configuration: every endpoint change sets a new version (bumpVersion), which this process loads before
// the change's call returns and another process within Config.Interval (at once on Postgres, by
// LISTEN/NOTIFY), so the dispatcher reads an endpoint's URL and secrets once per change, not once per turn.
type endpointCache struct {
	mu      sync.Mutex
	version string
	byID    map[string]*ent.WebhookEndpoint
}

// get returns the endpoints ids (those that exist) as of version, reading those it does not hold.
func (c *endpointCache) get(ctx context.Context, client *ent.Client, version string, ids []string) (map[string]*ent.WebhookEndpoint, error) {
	c.mu.Lock()
	if c.version != version || c.byID == nil {
		c.version, c.byID = version, map[string]*ent.WebhookEndpoint{}
	}
	out := make(map[string]*ent.WebhookEndpoint, len(ids))
	var missing []string
	for _, id := range ids {
		if e, ok := c.byID[id]; ok {
			out[id] = e
		} else if !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	eps, err := client.WebhookEndpoint.Query().Where(webhookendpoint.IDIn(missing...)).All(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range eps {
		out[e.ID] = e
		if c.version == version {
			c.byID[e.ID] = e
		}
	}
	return out, nil
}

// dueInOrder keeps per-subject order: a delivery waits while an earlier delivery of its subject to its
// endpoint is pending (leased, backing off, or due), and is never claimed for a disabled endpoint.
func dueInOrder(s *entsql.Selector) {
	ep := entsql.Table(webhookendpoint.Table)
	s.Where(entsql.In(s.C(webhookdelivery.FieldEndpointID),
		entsql.Select(ep.C(webhookendpoint.FieldID)).From(ep).Where(entsql.EQ(ep.C(webhookendpoint.FieldEnabled), true))))
	earlier := entsql.Table(webhookdelivery.Table).As("earlier")
	s.Where(entsql.Not(entsql.Exists(entsql.Select(earlier.C(webhookdelivery.FieldID)).From(earlier).Where(entsql.And(
		entsql.ColumnsEQ(earlier.C(webhookdelivery.FieldEndpointID), s.C(webhookdelivery.FieldEndpointID)),
		entsql.ColumnsEQ(earlier.C(webhookdelivery.FieldSubjectKey), s.C(webhookdelivery.FieldSubjectKey)),
		entsql.EQ(earlier.C(webhookdelivery.FieldState), webhookdelivery.StatePending.String()),
		entsql.ColumnsLT(earlier.C(webhookdelivery.FieldSeq), s.C(webhookdelivery.FieldSeq)),
	)))))
}

// signingKeys are the HMAC keys that sign an endpoint's deliveries now: the current secret's, and the
// previous one's during a rotation's grace period.
func (w *Webhooks) signingKeys(ep *ent.WebhookEndpoint, now time.Time) ([][]byte, error) {
	cur, err := w.key(ep.ID, ep.SecretCipher)
	if err != nil {
		return nil, err
	}
	keys := [][]byte{cur}
	if ep.PreviousSecretCipher != "" && ep.PreviousSecretExpireTime != nil && now.Before(*ep.PreviousSecretExpireTime) {
		prev, err := w.key(ep.ID, ep.PreviousSecretCipher)
		if err != nil {
			return nil, err
		}
		keys = append(keys, prev)
	}
	return keys, nil
}

// key decrypts a sealed secret into its HMAC key, once per secret.
func (w *Webhooks) key(endpointID, sealed string) ([]byte, error) {
	if k, ok := w.secrets.Load(sealed); ok {
		return k.([]byte), nil
	}
	if w.cfg.Keys == nil {
		return nil, errors.New("no webhook key is configured")
	}
	secret, err := w.cfg.Keys.open(endpointID, sealed)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", endpointID, err)
	}
	k, err := secretKey(secret)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: malformed secret", endpointID)
	}
	w.secrets.Store(sealed, k)
	return k, nil
}

// body is the JSON a delivery sends: the tradeassure.event.v1.Event in its proto-JSON form (renderEvent).
func (w *Webhooks) body(d *ent.WebhookDelivery, byEvent map[int64]*ent.Event) ([]byte, error) {
	var ev *eventv1.Event
	if d.EventID == nil {
		ev = &eventv1.Event{}
		if err := proto.Unmarshal(d.Payload, ev); err != nil {
			return nil, fmt.Errorf("read test delivery %d: %w", d.ID, err)
		}
	} else {
		stored, ok := byEvent[*d.EventID]
		if !ok {
			return nil, fmt.Errorf("delivery %d: event %d not found", d.ID, *d.EventID)
		}
		var err error
		if ev, err = events.ToProto(stored); err != nil {
			return nil, err
		}
	}
	return renderEvent(ev)
}

// send makes one attempt. The signature's timestamp is the real time (receivers compare it with their
// own clocks), even in development mode where the service clock may have been moved.
func (w *Webhooks) send(ctx context.Context, j job) result {
	r := result{job: j, time: w.clock.Now()}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Timeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(j.body))
	if err != nil {
		r.outcome, r.errText = "connection_failed", "the URL cannot be requested"
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tradeassure-webhooks/1")
	setHeaders(req.Header, j.webhookID, start.Unix(), j.body, j.keys...)
	resp, err := w.client.Do(req)
	if err != nil {
		r.latency = time.Since(start)
		r.outcome, r.errText = classify(err, w.cfg.Timeout)
		return r
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, responseLimit))
	// Drain a little more so the connection can be reused; a longer answer closes it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 16<<10))
	resp.Body.Close()
	r.latency = time.Since(start)
	r.status = resp.StatusCode
	r.response = strings.ToValidUTF8(string(head), "\uFFFD")
	for len(r.response) > responseLimit {
		_, size := utf8.DecodeLastRuneInString(r.response)
		r.response = r.response[:len(r.response)-size]
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.outcome = "succeeded"
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		r.outcome, r.errText = "http_error", fmt.Sprintf("HTTP %d: redirects are not followed; configure the final URL", resp.StatusCode)
	case resp.StatusCode == http.StatusGone:
		r.outcome, r.errText = "http_error", "HTTP 410 Gone: the endpoint was disabled"
	default:
		r.outcome, r.errText = "http_error", "HTTP "+strconv.Itoa(resp.StatusCode)
	}
	return r
}

// classify turns a transport error into an outcome and a message for the endpoint's owner. It never
// passes the error text on: that could name server internals.
func classify(err error, timeout time.Duration) (string, string) {
	if msg, ok := notPublic(err); ok {
		return "address_not_allowed", msg + ", which is refused outside development mode"
	}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "timeout", fmt.Sprintf("no answer within %v", timeout)
	case errors.As(err, &dnsErr):
		return "connection_failed", "the host name could not be resolved"
	case errors.As(err, &unknownCA):
		return "connection_failed", "TLS: the certificate is not signed by a trusted authority"
	case errors.As(err, &hostErr):
		return "connection_failed", "TLS: the certificate does not match the host name"
	case errors.As(err, &certErr):
		return "connection_failed", "TLS: the certificate is invalid or expired"
	case errors.As(err, &recordErr):
		return "connection_failed", "TLS: the server did not answer with TLS"
	case errors.As(err, &alert):
		return "connection_failed", "TLS: the handshake failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_failed", "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection_failed", "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "connection_failed", "host unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_failed", "the connection closed before an answer"
	}
	return "connection_failed", "the connection failed"
}

// dispatcher runs one process's deliveries.
type dispatcher struct {
	w       *Webhooks
	results chan result
	mu      sync.Mutex
	// busy counts the deliveries in flight per endpoint, for the per-endpoint cap.
	busy map[string]int
	// lastTurn is when the dispatcher last woke for work.
	lastTurn time.Time
}

func newDispatcher(w *Webhooks) *dispatcher {
	return &dispatcher{w: w, results: make(chan result, 4*w.cfg.Concurrency), busy: map[string]int{}}
}

// inFlight is a copy of busy, for a claim.
func (d *dispatcher) inFlight() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.busy)
}

func (d *dispatcher) started(endpointID string, delta int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[endpointID] += delta; d.busy[endpointID] <= 0 {
		delete(d.busy, endpointID)
	}
}

func (d *dispatcher) run(ctx context.Context) {
	w := d.w
	slots := make(chan struct{}, w.cfg.Concurrency)
	var inflight sync.WaitGroup
	ticker := time.NewTicker(w.cfg.Interval)
	defer ticker.Stop()
	lastCheck := time.Time{}
	var batch []result
	failures := 0
	for ctx.Err() == nil {
		periodic := time.Since(lastCheck) >= w.cfg.Interval
		if periodic {
			w.refresh(ctx)
			lastCheck = time.Now()
		}
		if w.replayDue.Swap(false) || periodic {
			if err := w.advanceReplays(ctx); err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "queue webhook replay", "error", err)
			}
		}
		if periodic {
			w.pruneDue(ctx)
		}
		w.commits.Store(false)
		batch = d.collect(batch)
		// Claim in batches: when a quarter of the slots are free, or when nothing is in flight.
		free := cap(slots) - len(slots)
		n := 0
		if free > 0 && (free >= max(1, cap(slots)/4) || free == cap(slots)) {
			n = free
		}
		jobs, saturated, err := w.cycle(ctx, batch, n, d.inFlight())
		switch {
		case err == nil:
			batch, failures = batch[:0], 0
		case ctx.Err() != nil:
		default:
			w.log.WarnContext(ctx, "record and claim webhook deliveries", "error", err, "outcomes", len(batch))
			if failures++; failures >= 5 {
				// The leases run out and the deliveries are sent again: at least once.
				w.log.ErrorContext(ctx, "record webhook attempts", "error", err, "deliveries", len(batch))
				batch, failures = batch[:0], 0
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			inflight.Add(1)
			d.started(j.endpointID, 1)
			go func(j job) {
				defer inflight.Done()
				r := w.send(ctx, j)
				d.started(j.endpointID, -1)
				d.results <- r
				<-slots
				w.kick()
			}(j)
		}
		// Straight on while there is a backlog; otherwise wait to be woken (by a commit that queued
		// deliveries, or a finished send) or for the interval.
		if n > 0 && len(jobs) == n {
			d.pace(ctx, backlogLinger)
			continue
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
			switch {
			case saturated:
				d.pace(ctx, backlogLinger)
			case !w.commits.Load() && len(slots) == 0:
				// The last sends finished and nothing was queued since the last turn: record them now.
			default:
				d.pace(ctx, turnGap-time.Since(d.lastTurn))
			}
		case <-ticker.C:
		}
		d.lastTurn = time.Now()
	}
	inflight.Wait()
	close(d.results)
	if batch = d.collect(batch); len(batch) > 0 {
		if err := w.record(context.WithoutCancel(ctx), batch); err != nil {
			w.log.ErrorContext(ctx, "record webhook attempts", "error", err, "deliveries", len(batch))
		}
	}
}

// collect adds the outcomes that have arrived to batch.
func (d *dispatcher) collect(batch []result) []result {
	for len(batch) < 4*d.w.cfg.Concurrency {
		select {
		case r, ok := <-d.results:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// pace waits for wait (nothing when it is not positive), so that more commits and outcomes gather
// before the next turn.
func (d *dispatcher) pace(ctx context.Context, wait time.Duration) {
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// DeliverDue sends every delivery due now and records the outcomes before it returns, as the dispatcher
// would, and returns how many attempts it made. Tests use it to step through retries without a running
// dispatcher.
func (w *Webhooks) DeliverDue(ctx context.Context) (int, error) {
	if err := w.advanceReplays(ctx); err != nil {
		return 0, err
	}
	total := 0
	for {
		jobs, err := w.claim(ctx, w.cfg.Concurrency, nil)
		if err != nil || len(jobs) == 0 {
			return total, err
		}
		results := make([]result, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = w.send(ctx, j) }()
		}
		wg.Wait()
		if err := w.record(ctx, results); err != nil {
			return total, err
		}
		total += len(jobs)
	}
}
