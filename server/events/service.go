package events

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/eventparty"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/pagination"
)

var _ eventv1connect.EventServiceHandler = (*Service)(nil)

// Service implements EventService.
type Service struct {
	client  *ent.Client
	dialect string
	feed    *Feed
	// poll is how often a watcher looks for events committed by other server processes.
	poll time.Duration
}

// NewService returns the event service.
func NewService(client *ent.Client, feed *Feed) *Service {
	return &Service{client: client, dialect: feed.dialect, feed: feed, poll: time.Second}
}

// cursor is a position in the feed's order, (feed key, id); the API's after_id is the id of the event at
// the position.
type cursor struct{ key, id int64 }

// start returns the position of the event after which to read.
func (s *Service) start(ctx context.Context, afterID string) (cursor, error) {
	if afterID == "" {
		return cursor{key: -1}, nil
	}
	id, err := strconv.ParseInt(afterID, 10, 64)
	if err != nil {
		return cursor{}, apierr.Invalid("after_id", "must be an event id")
	}
	key, err := Position(ctx, s.client, id)
	return cursor{key: key, id: id}, err
}

// Position returns the feed key of the event with an id: with the id, the event's place in the feed's
// order, (feed key, id). An id at or below 0 is before every event (-1); an id no event has reads on from
// it as if every key were 0, as on SQLite.
func Position(ctx context.Context, client *ent.Client, id int64) (int64, error) {
	if id <= 0 {
		return -1, nil
	}
	key, err := client.Event.Query().Where(entevent.ID(id)).Select(entevent.FieldFeedKey).Int(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read event %d: %w", id, err)
	}
	return int64(key), nil
}

// Through selects the events at or before the position (key, id) in the feed's order.
func Through(key, id int64) func(*sql.Selector) {
	return func(sel *sql.Selector) {
		sel.Where(sql.Not(sql.CompositeGT([]string{sel.C(entevent.FieldFeedKey), sel.C(entevent.FieldID)}, key, id)))
	}
}

// InFeedOrder orders events by their place in the feed, (feed key, id).
func InFeedOrder(sel *sql.Selector) {
	sel.OrderBy(sel.C(entevent.FieldFeedKey), sel.C(entevent.FieldID))
}

// After selects the events after the position (key, id) in the feed's order.
func After(key, id int64) func(*sql.Selector) {
	return func(sel *sql.Selector) {
		sel.Where(sql.CompositeGT([]string{sel.C(entevent.FieldFeedKey), sel.C(entevent.FieldID)}, key, id))
	}
}

// pgStop is the Postgres reader's stop: the oldest transaction of this database still running when the
// statement's snapshot was taken (the snapshot's in-progress list, less those pg_stat_activity shows
// running in another database — an unknown one counts as ours), or the snapshot's xmax when none is.
// Every event keyed below it is committed (or rolled back) and visible, and none can commit there any
// more (see appendPostgres). It is part of the one statement that reads the rows, so the stop and the rows
// come from the same snapshot; and since transactions of other databases on the server (a CREATE
// DATABASE, a long report) cannot append here, they do not hold the feed back.
const pgStop = `COALESCE((SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
  WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.backend_xid = xid(x) AND a.datname IS DISTINCT FROM current_database())),
  pg_snapshot_xmax(pg_current_snapshot())::text::bigint)`

const (
	belowStop     = " < " + pgStop
	atOrAboveStop = " >= " + pgStop
)

// maxHold bounds how long a Postgres read waits for events that are committed but still held back by an
// older transaction (see page).
const maxHold = 2 * time.Second

// page reads up to limit events the principal may see after c, in feed order. On Postgres, events
// committed but keyed at or above the stop (pgStop) are held back until the older transactions still
// running end; when a short page leaves such events behind, page waits for them (polling, up to maxHold),
// so a caller reads the events committed before its call as it would under a global lock.
//
// The page is first read in one statement (its stop and its rows from one snapshot). A full page is
// returned as it is. A short one is returned when no event at all is committed after its end by the time
// of a second statement: an event held back from the page was committed when the page was read, so it
// would be visible then. Otherwise (events held, or new ones arrived) page falls back to attempts that read
// the page and whether anything is held in one read-only repeatable-read transaction, so that "nothing
// held" is judged in the page's own snapshot.
func (s *Service) page(ctx context.Context, p auth.Principal, c cursor, subjectType, subjectID string, limit int) ([]*ent.Event, error) {
	rows, err := s.query(s.client, p, c, subjectType, subjectID, stopBelow, false, limit).All(ctx)
	if err != nil || s.dialect != dialect.Postgres || len(rows) == limit {
		return rows, err
	}
	end := c
	if len(rows) > 0 {
		end = cursor{key: rows[len(rows)-1].FeedKey, id: rows[len(rows)-1].ID}
	}
	more, err := s.query(s.client, p, end, subjectType, subjectID, stopNone, false, 1).Exist(ctx)
	if err != nil || !more {
		return rows, err
	}
	deadline := time.Now().Add(maxHold)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		rows, held, err := s.attempt(ctx, p, c, subjectType, subjectID, limit)
		if err != nil || !held || len(rows) == limit || !time.Now().Before(deadline) {
			return rows, err
		}
		select {
		case <-ctx.Done():
			return rows, nil
		case <-time.After(wait):
		}
	}
}

// attempt reads one page on Postgres and whether events after it are held back, in one snapshot.
func (s *Service) attempt(ctx context.Context, p auth.Principal, c cursor, subjectType, subjectID string, limit int) ([]*ent.Event, bool, error) {
	tx, err := s.client.BeginTx(ctx, &stdsql.TxOptions{Isolation: stdsql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, false, err
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := s.query(tx.Client(), p, c, subjectType, subjectID, stopBelow, false, limit).All(ctx)
	if err != nil || len(rows) == limit {
		return rows, false, err
	}
	held, err := s.query(tx.Client(), p, c, subjectType, subjectID, stopAtOrAbove, false, 1).Exist(ctx)
	return rows, held, err
}

// stop is which events a Postgres read takes relative to the stop (pgStop).
type stop int

const (
	stopBelow     stop = iota // the visible feed: events keyed below the stop
	stopAtOrAbove             // events committed but held back
	stopNone                  // every committed event
)

// query selects up to limit events after c that the principal may see, in feed order (with newest, the
// newest first), taken relative to the Postgres stop as st says. A party's events are found through its
// own rows of event_parties; without a subject filter those rows are paged first (limit of them, in feed
// order) and only their events joined, so a page reads limit events however many the party has.
func (s *Service) query(client *ent.Client, p auth.Principal, c cursor, subjectType, subjectID string, st stop, newest bool, limit int) *ent.EventQuery {
	q := client.Event.Query().Limit(limit)
	if subjectType != "" {
		q = q.Where(entevent.SubjectType(subjectType))
	}
	if subjectID != "" {
		q = q.Where(entevent.SubjectID(subjectID))
	}
	aud := AudienceOf(p)
	// order sorts sel by cols, in feed order (or newest first).
	order := func(sel *sql.Selector, cols ...string) {
		for _, col := range cols {
			if newest {
				col = sql.Desc(col)
			}
			sel.OrderBy(col)
		}
	}
	// stopAt keeps the rows of sel keyed relative to the stop as st says.
	stopAt := func(sel *sql.Selector, keyCol string) {
		switch {
		case s.dialect != dialect.Postgres || st == stopNone:
		case st == stopAtOrAbove:
			sel.Where(sql.ExprP(keyCol + atOrAboveStop))
		default:
			sel.Where(sql.ExprP(keyCol + belowStop))
		}
	}
	// position keeps the rows of sel after c, relative to the stop, in feed order.
	position := func(sel *sql.Selector, keyCol, idCol string) {
		sel.Where(sql.CompositeGT([]string{keyCol, idCol}, c.key, c.id))
		stopAt(sel, keyCol)
		order(sel, keyCol, idCol)
	}
	return q.Where(func(sel *sql.Selector) {
		if !aud.isParty() {
			aud.Predicate()(sel)
			position(sel, sel.C(entevent.FieldFeedKey), sel.C(entevent.FieldID))
			return
		}
		t := sql.Table(eventparty.Table)
		if subjectType != "" || subjectID != "" {
			sel.Join(t).On(sel.C(entevent.FieldID), t.C(eventparty.FieldEventID))
			sel.Where(sql.EQ(t.C(eventparty.FieldAccountID), aud.AccountID))
			position(sel, t.C(eventparty.FieldFeedKey), t.C(eventparty.FieldEventID))
			return
		}
		rows := sql.Dialect(s.dialect).Select().From(t) // From gives t the dialect its columns are quoted in
		acc, key, id := t.C(eventparty.FieldAccountID), t.C(eventparty.FieldFeedKey), t.C(eventparty.FieldEventID)
		rows.Select(key, id)
		if s.dialect == dialect.Postgres {
			// The party's rows after c are the index range from (party, c) to the party's end, read in the
			// index's order and stopped after limit. Written as that range (a row comparison from (party, c)
			// and account_id <= party) rather than as account_id = party and a comparison of the rest: from
			// an equality, Postgres estimates a party's rows by the table's statistics, which say a few per
			// account until it next analyzes the table, and it then read every row of a big party after c
			// and sorted them, for each page (a bitmap scan and a top-N sort; so did a prepared statement's
			// generic plan, whatever the party). From a range it expects many and walks the index.
			rows.Where(sql.And(sql.CompositeGT([]string{acc, key, id}, aud.AccountID, c.key, c.id), sql.LTE(acc, aud.AccountID)))
			stopAt(rows, key)
			order(rows, acc, key, id)
		} else {
			rows.Where(sql.EQ(acc, aud.AccountID))
			position(rows, key, id)
		}
		mine := rows.Limit(limit).As("mine")
		sel.Join(mine).On(sel.C(entevent.FieldID), mine.C(eventparty.FieldEventID))
		order(sel, mine.C(eventparty.FieldFeedKey), mine.C(eventparty.FieldEventID))
	})
}

// ToProto converts a stored event.
func ToProto(e *ent.Event) (*eventv1.Event, error) {
	payload := &anypb.Any{}
	if err := proto.Unmarshal(e.Payload, payload); err != nil {
		return nil, fmt.Errorf("read event %d: %w", e.ID, err)
	}
	return &eventv1.Event{
		Id: strconv.FormatInt(e.ID, 10), Type: e.Type, SubjectType: e.SubjectType, SubjectId: e.SubjectID,
		Revision: e.Revision, Time: timestamppb.New(e.Time),
		Actor:   &commonv1.Party{Role: auth.RoleFromName(e.ActorRole), AccountId: e.ActorID},
		Payload: payload,
	}, nil
}

// ListEvents returns the events after a cursor, oldest first.
func (s *Service) ListEvents(ctx context.Context, req *connect.Request[eventv1.ListEventsRequest]) (*connect.Response[eventv1.ListEventsResponse], error) {
	p := auth.FromContext(ctx)
	size, err := pagination.Size(req.Msg.GetPageSize(), 100, 1000)
	if err != nil {
		return nil, err
	}
	c, err := s.start(ctx, req.Msg.GetAfterId())
	if err != nil {
		return nil, err
	}
	rows, err := s.page(ctx, p, c, req.Msg.GetSubjectType(), req.Msg.GetSubjectId(), size)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	out := &eventv1.ListEventsResponse{NextAfterId: req.Msg.GetAfterId()}
	for _, r := range rows {
		e, err := ToProto(r)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
		out.NextAfterId = e.Id
	}
	return connect.NewResponse(out), nil
}

// GetFeedHead returns the id of the newest event the caller may see. On Postgres it is the newest below the
// stop (see pgStop), in the same statement: events still held back by an older transaction come after it
// in feed order, so a client reading on from the head misses none of them.
func (s *Service) GetFeedHead(ctx context.Context, _ *connect.Request[eventv1.GetFeedHeadRequest]) (*connect.Response[eventv1.GetFeedHeadResponse], error) {
	p := auth.FromContext(ctx)
	row, err := s.query(s.client, p, cursor{key: -1}, "", "", stopBelow, true, 1).First(ctx)
	if ent.IsNotFound(err) {
		return connect.NewResponse(&eventv1.GetFeedHeadResponse{}), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read feed head: %w", err)
	}
	return connect.NewResponse(&eventv1.GetFeedHeadResponse{HeadId: strconv.FormatInt(row.ID, 10)}), nil
}

// WatchEvents streams the events after a cursor, then each new one, until the client goes away.
func (s *Service) WatchEvents(ctx context.Context, req *connect.Request[eventv1.WatchEventsRequest], stream *connect.ServerStream[eventv1.WatchEventsResponse]) error {
	p := auth.FromContext(ctx)
	c, err := s.start(ctx, req.Msg.GetAfterId())
	if err != nil {
		return err
	}
	ticker := time.NewTicker(s.poll)
	defer ticker.Stop()
	// A heartbeat at once sends the response headers, so the client knows the watch is established before
	// any event exists, and one after each quiet minute keeps proxies from closing an idle stream.
	if err := stream.Send(&eventv1.WatchEventsResponse{}); err != nil {
		return nil
	}
	lastSend := time.Now()
	for {
		// A stream outlives its key's checks at the gate: the key is checked again before every page, so a
		// revoked key stops the stream within the authentication bound (and a poll).
		if p, err = auth.Recheck(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if connect.CodeOf(err) == connect.CodeUnauthenticated {
				return apierr.New(connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED,
					"the API key of this stream was revoked or is no longer valid; follow the feed on from your cursor with a current key")
			}
			return fmt.Errorf("watch events: %w", err)
		}
		changed := s.feed.Changed()
		rows, err := s.page(ctx, p, c, req.Msg.GetSubjectType(), req.Msg.GetSubjectId(), 500)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch events: %w", err)
		}
		for _, r := range rows {
			e, err := ToProto(r)
			if err != nil {
				return err
			}
			if err := stream.Send(&eventv1.WatchEventsResponse{Event: e}); err != nil {
				return nil
			}
			c = cursor{key: r.FeedKey, id: r.ID}
			lastSend = time.Now()
		}
		if time.Since(lastSend) > time.Minute {
			if err := stream.Send(&eventv1.WatchEventsResponse{}); err != nil {
				return nil
			}
			lastSend = time.Now()
		}
		if len(rows) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-ticker.C:
		}
	}
}
