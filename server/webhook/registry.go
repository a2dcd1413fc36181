package webhook

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/setting"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	"github.com/tradeassure/tradeassure/ent/webhookendpoint"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/storage"
)

// versionKey is the setting every endpoint change sets to a new value, in the change's transaction, so
// every server process can tell that its copy of the endpoints is out of date.
const versionKey = "webhook_endpoints_version"

// notifyChannel is the Postgres channel endpoint changes are announced on.
const notifyChannel = "tradeassure_webhook_endpoints"

// route is what the hot path needs of an enabled endpoint to decide whether an event goes to it.
type route struct {
	id       string
	audience events.Audience
	types    []string
}

// registry is each process's copy of the enabled endpoints, so that matching an appended event against
// them costs no query. It is reloaded after this process changes an endpoint (before the call returns),
// when another process announces a change (Postgres LISTEN/NOTIFY), and whenever the version setting is
// found changed (every poll interval), which also covers SQLite files shared by several processes.
type registry struct {
	mu        sync.RWMutex
	version   string
	platform  []*route
	byAccount map[string][]*route
	count     int
	stale     atomic.Bool
}

func newRegistry() *registry {
	r := &registry{byAccount: map[string][]*route{}}
	r.stale.Store(true)
	return r
}

// load replaces the copy with the endpoints read through c (a client or a transaction's client); the
// version is read first, so a change committed meanwhile leaves the copy marked with the older version
// and the next check reloads it.
func (r *registry) load(ctx context.Context, c *ent.Client) error {
	version := ""
	if s, err := c.Setting.Get(ctx, versionKey); err == nil {
		version = s.Value
	} else if !ent.IsNotFound(err) {
		return fmt.Errorf("load webhook endpoints: %w", err)
	}
	rows, err := c.WebhookEndpoint.Query().Where(webhookendpoint.Enabled(true)).
		Select(webhookendpoint.FieldID, webhookendpoint.FieldAccountID, webhookendpoint.FieldOwnerRole, webhookendpoint.FieldEventTypes).
		All(ctx)
	if err != nil {
		return fmt.Errorf("load webhook endpoints: %w", err)
	}
	platform := []*route{}
	byAccount := map[string][]*route{}
	for _, e := range rows {
		rt := &route{id: e.ID, audience: events.Audience{Role: auth.RoleFromName(e.OwnerRole), AccountID: e.AccountID}, types: e.EventTypes}
		if e.AccountID == "" {
			platform = append(platform, rt)
		} else {
			byAccount[e.AccountID] = append(byAccount[e.AccountID], rt)
		}
	}
	r.mu.Lock()
	r.version, r.platform, r.byAccount, r.count = version, platform, byAccount, len(rows)
	r.mu.Unlock()
	r.stale.Store(false)
	return nil
}

// current reports whether the copy is of the given version.
func (r *registry) current(version string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.version == version && !r.stale.Load()
}

// Version is the version of the endpoints this process has loaded.
func (r *registry) Version() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.version
}

// size is how many enabled endpoints the copy holds.
func (r *registry) size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}

// match returns the endpoints an event goes to: those whose owner's audience sees it and whose event
// types match its type.
func (r *registry) match(e events.Event) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.count == 0 {
		return nil
	}
	var out []string
	consider := func(rt *route) {
		if rt.audience.Sees(e.SubjectType, e.Parties) && matchType(rt.types, e.Type) {
			out = append(out, rt.id)
		}
	}
	for _, rt := range r.platform {
		consider(rt)
	}
	seen := map[string]bool{}
	for _, p := range e.Parties {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		for _, rt := range r.byAccount[p] {
			consider(rt)
		}
	}
	return out
}

// matchType reports whether an event type matches the filters: empty or "*" match all, "dispute.*"
// matches every dispute event, anything else matches itself.
func matchType(filters []string, typ string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if f == "*" || f == typ {
			return true
		}
		if prefix, ok := strings.CutSuffix(f, "*"); ok && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// outbox is the events.Outbox of webhooks: it writes a delivery row per matching endpoint, in the
// transaction that appends the event.
type outbox struct {
	reg  *registry
	kick func()
}

// Enqueue writes the deliveries of an appended event within tx. With no endpoint configured it costs
// one map lookup per party and no query.
func (o outbox) Enqueue(ctx context.Context, tx *ent.Tx, ev *ent.Event, e events.Event) error {
	if o.reg.stale.Load() {
		if err := o.reg.load(ctx, tx.Client()); err != nil {
			return err
		}
	}
	ids := o.reg.match(e)
	if len(ids) == 0 {
		return nil
	}
	// One multi-row INSERT, not ent's create, which reads the new ids back: nothing reads these rows in
	// the transaction, so on Postgres the insert is held back and goes with the next statement or COMMIT
	// (storage.Later), and an event for an endpoint costs no round trip of its own.
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = deliveryRow(id, ev)
	}
	if err := storage.InsertRowsOf(storage.Later(ctx), tx, webhookdelivery.Table, deliveryColumns, rows); err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", err)
	}
	tx.OnCommit(o.wakeOnCommit)
	return nil
}

// wakeOnCommit wakes the dispatcher once the transaction that queued deliveries commits.
func (o outbox) wakeOnCommit(next ent.Committer) ent.Committer {
	return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
		err := next.Commit(ctx, tx)
		if err == nil {
			o.kick()
		}
		return err
	})
}

// deliveryColumns are the columns of a new outbox row, deliveryRow's values in order.
var deliveryColumns = []string{webhookdelivery.FieldEndpointID, webhookdelivery.FieldEventID, webhookdelivery.FieldWebhookID,
	webhookdelivery.FieldEventType, webhookdelivery.FieldSubjectKey, webhookdelivery.FieldSeq, webhookdelivery.FieldState,
	webhookdelivery.FieldTrigger, webhookdelivery.FieldAttemptCount, webhookdelivery.FieldRetries,
	webhookdelivery.FieldNextAttemptTime, webhookdelivery.FieldLeaseToken, webhookdelivery.FieldCreateTime}

// deliveryRow is the outbox row of an event for an endpoint, due at the event's time, with the schema's
// defaults for the rest.
func deliveryRow(endpointID string, ev *ent.Event) []any {
	return []any{endpointID, ev.ID, webhookID(ev), ev.Type, subjectKey(ev), ev.ID,
		string(webhookdelivery.DefaultState), string(webhookdelivery.DefaultTrigger), webhookdelivery.DefaultAttemptCount,
		webhookdelivery.DefaultRetries, ev.Time, webhookdelivery.DefaultLeaseToken, ev.Time}
}

// newDelivery is the outbox row of an event for an endpoint, due at the event's time, as an ent create
// (the replay's, which upserts).
func newDelivery(tx *ent.Tx, endpointID string, ev *ent.Event) *ent.WebhookDeliveryCreate {
	return tx.WebhookDelivery.Create().SetEndpointID(endpointID).SetEventID(ev.ID).
		SetWebhookID(webhookID(ev)).SetEventType(ev.Type).SetSubjectKey(subjectKey(ev)).
		SetSeq(ev.ID).SetNextAttemptTime(ev.Time).SetCreateTime(ev.Time)
}

// webhookID is an event's webhook-id header, the same for every delivery and attempt of it.
func webhookID(ev *ent.Event) string { return strconv.FormatInt(ev.ID, 10) }

// subjectKey names an event's subject, whose deliveries to one endpoint go in order.
func subjectKey(ev *ent.Event) string { return ev.SubjectType + "/" + ev.SubjectID }

// bumpVersion records an endpoint change within tx: a new version value, announced on Postgres when tx
// commits, and this process's copy reloaded once tx has committed.
func (w *Webhooks) bumpVersion(ctx context.Context, tx *ent.Tx) error {
	if err := recordChange(ctx, tx, w.postgres); err != nil {
		return err
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				w.reg.stale.Store(true)
				if lerr := w.reg.load(context.WithoutCancel(ctx), w.store.Client); lerr != nil {
					w.log.WarnContext(ctx, "reload webhook endpoints", "error", lerr)
				}
				w.kick()
			}
			return err
		})
	})
	return nil
}

// recordChange sets a new version of the endpoint configuration within tx, announced on Postgres when tx
// commits.
func recordChange(ctx context.Context, tx *ent.Tx, postgres bool) error {
	err := tx.Setting.Create().SetID(versionKey).SetValue(uuid.NewString()).
		OnConflictColumns(setting.FieldID).UpdateNewValues().Exec(ctx)
	if err != nil {
		return fmt.Errorf("record webhook endpoint change: %w", err)
	}
	if postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", notifyChannel); err != nil {
			return fmt.Errorf("announce webhook endpoint change: %w", err)
		}
	}
	return nil
}
