// Package events is the change feed: every state change appends an event in the same transaction as the
// change, and EventService lets clients page through the feed or follow it as a stream.
package events

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/auth"
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

// feedLock is the Postgres advisory lock that orders event ids by commit: it is taken just before the
// insert and held to commit, so no event with a lower id can commit after a follower has read a higher one.
const feedLock = 7355609

// Append adds an event within tx; followers are woken when tx commits.
func (f *Feed) Append(ctx context.Context, tx *ent.Tx, e Event) error {
	payload, err := anypb.New(e.Payload)
	if err != nil {
		return fmt.Errorf("append event %s: %w", e.Type, err)
	}
	body, err := proto.Marshal(payload)
	if err != nil {
		return fmt.Errorf("append event %s: %w", e.Type, err)
	}
	if f.dialect == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", feedLock); err != nil {
			return fmt.Errorf("append event %s: lock feed: %w", e.Type, err)
		}
	}
	stored, err := tx.Event.Create().
		SetType(e.Type).SetSubjectType(e.SubjectType).SetSubjectID(e.SubjectID).SetRevision(e.Revision).
		SetTime(e.Time).SetActorRole(actorRole(e.Actor)).SetActorID(e.Actor.AccountID).
		SetPartyIds(partyList(e.Parties)).SetPayload(body).Save(ctx)
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
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				f.notify()
			}
			return err
		})
	})
	return nil
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
