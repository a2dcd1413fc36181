package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
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

// claimLinger is how long the dispatcher waits after being woken before it claims, to claim in batches.
const claimLinger = 10 * time.Millisecond

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
	url                          string
	keys                         [][]byte
	body                         []byte
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

// claim leases up to n due deliveries and prepares their requests. A delivery is due when it is pending,
// its time has come, no live lease holds it, its endpoint is enabled, and no earlier delivery of the same
// subject to the same endpoint is still pending.
func (w *Webhooks) claim(ctx context.Context, n int, only ...int64) ([]job, error) {
	if err := clock.Sync(ctx, w.clock); err != nil {
		return nil, err
	}
	now := w.clock.Now()
	wall := time.Now().UTC()
	token := uuid.NewString()
	var jobs []job
	err := w.store.WithTx(ctx, func(tx *ent.Tx) error {
		q := tx.WebhookDelivery.Query().Where(
			webhookdelivery.StateEQ(webhookdelivery.StatePending),
			webhookdelivery.Or(webhookdelivery.LeaseExpireTimeIsNil(), webhookdelivery.LeaseExpireTimeLT(wall)),
		)
		if len(only) > 0 {
			// A test delivery sent at once by SendTestWebhook, whatever the endpoint's state.
			q = q.Where(webhookdelivery.IDIn(only...))
		} else {
			q = q.Where(webhookdelivery.NextAttemptTimeLTE(now),
				// A test is attempted once; one left unsent by a crash is sent by a worker.
				webhookdelivery.Or(webhookdelivery.TriggerNEQ(webhookdelivery.TriggerTest), webhookdelivery.AttemptCount(0)),
				dueInOrder).Order(webhookdelivery.ByNextAttemptTime(), webhookdelivery.ByID()).Limit(n)
		}
		if w.postgres {
			q = q.ForUpdate(entsql.WithLockAction(entsql.SkipLocked), entsql.WithLockTables(webhookdelivery.Table))
		}
		rows, err := q.All(ctx)
		if err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]int64, len(rows))
		var epIDs []string
		var evIDs []int64
		for i, r := range rows {
			ids[i] = r.ID
			epIDs = append(epIDs, r.EndpointID)
			if r.EventID != nil {
				evIDs = append(evIDs, *r.EventID)
			}
		}
		if err := tx.WebhookDelivery.Update().Where(webhookdelivery.IDIn(ids...)).SetLeaseToken(token).
			SetLeaseExpireTime(wall.Add(w.lease())).Exec(ctx); err != nil {
			return err
		}
		eps, err := tx.WebhookEndpoint.Query().Where(webhookendpoint.IDIn(epIDs...)).All(ctx)
		if err != nil {
			return err
		}
		byEP := map[string]*ent.WebhookEndpoint{}
		for _, e := range eps {
			byEP[e.ID] = e
		}
		evs, err := tx.Event.Query().Where(entevent.IDIn(evIDs...)).All(ctx)
		if err != nil {
			return err
		}
		byEV := map[int64]*ent.Event{}
		for _, e := range evs {
			byEV[e.ID] = e
		}
		for _, r := range rows {
			ep := byEP[r.EndpointID]
			keys, err := w.signingKeys(ep, now)
			if err != nil {
				return err
			}
			body, err := w.body(r, byEV)
			if err != nil {
				return err
			}
			jobs = append(jobs, job{id: r.ID, token: token, endpointID: r.EndpointID, webhookID: r.WebhookID,
				trigger: r.Trigger, retries: r.Retries, url: ep.URL, keys: keys, body: body})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return jobs, nil
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

// body is the JSON a delivery sends: the tradeassure.event.v1.Event in its proto-JSON form.
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
	return protojson.Marshal(ev)
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
}

func newDispatcher(w *Webhooks) *dispatcher {
	return &dispatcher{w: w, results: make(chan result, 4*w.cfg.Concurrency)}
}

func (d *dispatcher) run(ctx context.Context) {
	w := d.w
	recorded := make(chan struct{})
	go func() { defer close(recorded); d.recordLoop(ctx) }()
	slots := make(chan struct{}, w.cfg.Concurrency)
	var inflight sync.WaitGroup
	ticker := time.NewTicker(w.cfg.Interval)
	defer ticker.Stop()
	lastCheck := time.Time{}
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
		// Claim in batches: when a quarter of the slots are free, or when nothing is in flight.
		free := cap(slots) - len(slots)
		more := false
		if free > 0 && (free >= max(1, cap(slots)/4) || free == cap(slots)) {
			jobs, err := w.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "claim webhook deliveries", "error", err)
			}
			for _, j := range jobs {
				slots <- struct{}{}
				inflight.Add(1)
				go func(j job) {
					defer inflight.Done()
					d.results <- w.send(ctx, j)
					<-slots
					w.kick()
				}(j)
			}
			more = len(jobs) == free
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
			// Let more commits and outcomes gather before the next claim: one claim per few milliseconds
			// under load instead of one per event keeps the dispatcher's share of the database small.
			select {
			case <-ctx.Done():
			case <-time.After(claimLinger):
			}
		case <-ticker.C:
		}
	}
	inflight.Wait()
	close(d.results)
	<-recorded
}

// recordLoop records results in batches, one transaction each.
func (d *dispatcher) recordLoop(ctx context.Context) {
	for r := range d.results {
		batch := []result{r}
	more:
		for len(batch) < 256 {
			select {
			case r, ok := <-d.results:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if err = d.w.record(context.WithoutCancel(ctx), batch); err == nil {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
		if err != nil {
			// The leases run out and the deliveries are sent again: at least once.
			d.w.log.ErrorContext(ctx, "record webhook attempts", "error", err, "deliveries", len(batch))
		}
		d.w.kick()
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
		jobs, err := w.claim(ctx, w.cfg.Concurrency)
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
