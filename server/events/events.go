// Package events is the change feed: every state change appends an event in the same transaction as the
// change, and EventService lets clients page through the feed or follow it as a stream.
package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/eventparty"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/storage"
)

// Event is one change to append.
type Event struct {
	// Type is "<subject type>.<what happened>", for example "order.shipped".
	Type        string
	SubjectType string
	SubjectID   string
	Revision    int64
	Time        time.Time
	Actor       auth.Principal
	// Parties are the accounts that may see the event (besides operators).
	Parties []string
	// Payload is the subject after the change.
	Payload proto.Message
	// Encoded, when set, is Payload's wire encoding, which the caller already made (an order's revision
	// snapshot): the event stores it rather than encode Payload again.
	Encoded []byte
}

// Feed appends events and wakes followers when they commit.
type Feed struct {
	dialect string
	mu      sync.Mutex
	wake    chan struct{}
	outbox  Outbox
}

// Outbox queues follow-up work for an appended event within the event's own transaction, so the work
// exists exactly when the event does (the webhook deliveries). It must be cheap: it runs on every append.
type Outbox interface {
	// Enqueue queues the work for the stored event ev (appended as e) within tx.
	Enqueue(ctx context.Context, tx *ent.Tx, ev *ent.Event, e Event) error
}

// SetOutbox sets the outbox every later Append writes to; call it before serving.
func (f *Feed) SetOutbox(o Outbox) { f.outbox = o }

// NewFeed returns a feed for a database of the given dialect.
func NewFeed(dia string) *Feed { return &Feed{dialect: dia, wake: make(chan struct{})} }

// appendPostgres inserts an event on Postgres with its feed key: the appending transaction's id, raised to
// the key of the subject's latest event, so that a subject's events are in revision order in the feed
// even when a later change's transaction got its id first. Since every key is at least its own
// transaction's id, no transaction still running (nor one yet to start) can commit an event keyed below
// the oldest running transaction id (the snapshot's xmin, or the oldest of this database's running
// transactions), so a reader that stops there never misses an event that commits later (see pgStop). No lock is taken: appends on different subjects run side
// by side.
//
// The event's audience rows (event_parties, the party feed's index) are written by the same statement, one
// per account of $10: one round trip per event, not two.
const appendPostgres = `WITH e AS (INSERT INTO events (type, subject_type, subject_id, revision, time, actor_role, actor_id, party_ids, payload, feed_key)
VALUES ($1, $2::text, $3::text, $4, $5, $6, $7, $8, $9, GREATEST(pg_current_xact_id()::text::bigint,
  COALESCE((SELECT MAX(feed_key) FROM events WHERE subject_type = $2::text AND subject_id = $3::text), 0)))
RETURNING id, feed_key),
p AS (INSERT INTO event_parties (account_id, feed_key, event_id) SELECT a, e.feed_key, e.id FROM e, unnest($10::text[]) AS a)
SELECT id, feed_key FROM e`

// anyTypePrefix is the prefix of a payload's type URL, as anypb.New writes it.
const anyTypePrefix = "type.googleapis.com/"

// Append adds an event within tx; followers are woken when tx commits.
func (f *Feed) Append(ctx context.Context, tx *ent.Tx, e Event) error {
	var (
		payload *anypb.Any
		err     error
	)
	if e.Encoded != nil {
		payload = &anypb.Any{TypeUrl: anyTypePrefix + string(e.Payload.ProtoReflect().Descriptor().FullName()), Value: e.Encoded}
	} else if payload, err = anypb.New(e.Payload); err != nil {
		return fmt.Errorf("append event %s: %w", e.Type, err)
	}
	body, err := proto.Marshal(payload)
	if err != nil {
		return fmt.Errorf("append event %s: %w", e.Type, err)
	}
	stored := &ent.Event{Type: e.Type, SubjectType: e.SubjectType, SubjectID: e.SubjectID, Revision: e.Revision,
		Time: e.Time, ActorRole: actorRole(e.Actor), ActorID: e.Actor.AccountID, PartyIds: partyList(e.Parties), Payload: body}
	audience := audienceOf(e.Parties)
	// The schema's validators, which the statements below, written once, do not run as ent's would.
	err = errors.Join(event.TypeValidator(stored.Type), event.SubjectTypeValidator(stored.SubjectType),
		event.SubjectIDValidator(stored.SubjectID))
	if err != nil {
		return fmt.Errorf("append event %s: %w", e.Type, err)
	}
	// In a batch that defers its writes (the deadline sweep's), the event goes in with the batch's others,
	// and its outbox rows, which refer to it, after them.
	if storage.Deferring(ctx) && storage.DeferRow(ctx, event.Table, f.insertDeferred, stored, audience) {
		if f.outbox != nil {
			storage.DeferAfter(ctx, func(ctx context.Context) error {
				if err := f.outbox.Enqueue(ctx, tx, stored, e); err != nil {
					return fmt.Errorf("append event %s: %w", e.Type, err)
				}
				return nil
			})
		}
		f.notifyOnCommit(tx)
		return nil
	}
	// A call whose transaction reads none of its events after appending them writes them last on
	// Postgres, with everything held back until then (AppendAtCommit).
	if f.dialect == dialect.Postgres && atCommit(ctx) &&
		storage.BeforeCommit(tx, func() error { return f.write(ctx, tx, stored, audience, e) }) {
		f.notifyOnCommit(tx)
		return nil
	}
	if err := f.write(ctx, tx, stored, audience, e); err != nil {
		return err
	}
	f.notifyOnCommit(tx)
	return nil
}

// write inserts the event stored with its audience rows, then queues its webhook deliveries.
func (f *Feed) write(ctx context.Context, tx *ent.Tx, stored *ent.Event, audience []string, e Event) error {
	var err error
	if f.dialect == dialect.Postgres {
		err = insertPostgres(ctx, tx, stored, audience)
	} else {
		// SQLite has one writer at a time: ids are in commit order, and every key is 0.
		err = insertSQLite(ctx, tx, stored, audience)
	}
	if err != nil {
		return fmt.Errorf("append event %s: %w", e.Type, err)
	}
	// The outbox step is separate from the insert and ordering above: whatever orders the feed, the
	// outbox rows only need the stored event and the same transaction.
	if f.outbox != nil {
		if err := f.outbox.Enqueue(ctx, tx, stored, e); err != nil {
			return fmt.Errorf("append event %s: %w", e.Type, err)
		}
	}
	return nil
}

// AppendAtCommit marks a call whose transaction reads none of the events it appends, sets no savepoint,
// and may have its events written after its other statements: on Postgres they are then written just
// before COMMIT (storage.BeforeCommit), by the statement that carries every write held back until then,
// the stored response's among them, which saves that one its round trip. The feed's order is the same:
// an event's key is its transaction's.
func AppendAtCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, atCommitKey{}, true)
}

type atCommitKey struct{}

func atCommit(ctx context.Context) bool { v, _ := ctx.Value(atCommitKey{}).(bool); return v }

// notifyOnCommit wakes this process's followers once tx commits.
func (f *Feed) notifyOnCommit(tx *ent.Tx) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				f.notify()
			}
			return err
		})
	})
}

// Changed returns a channel that is closed at the next commit of an event in this process.
func (f *Feed) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wake
}

func (f *Feed) notify() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.wake)
	f.wake = make(chan struct{})
}

// insertPostgres appends ev and its audience rows in one statement, setting ev's id and feed key.
func insertPostgres(ctx context.Context, tx *ent.Tx, ev *ent.Event, audience []string) error {
	// The statement may carry the transaction's held-back writes (storage.Later: a new order, its revision,
	// and when it is written at commit the stored response): it reads only events, which no held-back
	// write writes.
	rows, err := tx.QueryContext(storage.Absorbing(ctx), appendPostgres, ev.Type, ev.SubjectType, ev.SubjectID, ev.Revision, ev.Time,
		ev.ActorRole, ev.ActorID, ev.PartyIds, ev.Payload, audience)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("insert returned no row")
	}
	if err := rows.Scan(&ev.ID, &ev.FeedKey); err != nil {
		return err
	}
	return rows.Close()
}

// audienceOf is the accounts that may see an event of these parties, each once (the party feed's rows).
func audienceOf(parties []string) []string {
	out := make([]string, 0, len(parties))
	for _, id := range parties {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// insertEventSQLite is the INSERT of an event on SQLite, built once (feed key 0).
var insertEventSQLite = storage.InsertInto(event.Table, event.FieldType, event.FieldSubjectType, event.FieldSubjectID,
	event.FieldRevision, event.FieldTime, event.FieldActorRole, event.FieldActorID, event.FieldPartyIds, event.FieldPayload, event.FieldFeedKey)

// partyColumns are the columns of an event's audience row.
var partyColumns = []string{eventparty.FieldAccountID, eventparty.FieldEventID, eventparty.FieldFeedKey}

// insertPartiesSQLite holds the INSERTs of an event's audience rows (the party feed's index), by the
// audience's size, each built once.
var insertPartiesSQLite sync.Map

// insertSQLite appends ev and then its audience rows on SQLite, setting ev's id.
func insertSQLite(ctx context.Context, tx *ent.Tx, ev *ent.Event, audience []string) error {
	res, err := tx.ExecContext(ctx, insertEventSQLite, ev.Type, ev.SubjectType, ev.SubjectID, ev.Revision, ev.Time,
		ev.ActorRole, ev.ActorID, ev.PartyIds, ev.Payload, ev.FeedKey)
	if err != nil {
		return err
	}
	if ev.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if len(audience) == 0 {
		return nil
	}
	query, ok := insertPartiesSQLite.Load(len(audience))
	if !ok {
		query, _ = insertPartiesSQLite.LoadOrStore(len(audience), storage.InsertRows(eventparty.Table, len(audience), partyColumns...))
	}
	args := make([]any, 0, 3*len(audience))
	for _, id := range audience {
		args = append(args, id, ev.ID, ev.FeedKey)
	}
	_, err = tx.ExecContext(ctx, query.(string), args...)
	return err
}

func partyList(ids []string) string {
	var b strings.Builder
	b.WriteString(" ")
	for _, id := range ids {
		if id == "" {
			continue
		}
		b.WriteString(id)
		b.WriteString(" ")
	}
	return b.String()
}

func actorRole(p auth.Principal) string {
	return strings.ToLower(strings.TrimPrefix(p.Role.String(), "ROLE_"))
}
