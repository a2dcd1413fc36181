package events

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/eventparty"
	"github.com/tradeassure/tradeassure/server/storage"
)

// insertDeferred is the storage.FlushFunc of the events a batch deferred (Append under a
// storage.Deferred), each row the stored event and its audience: it gives them their ids, in the order
// appended, and inserts them with their audience rows in a few statements for the whole batch.
func (f *Feed) insertDeferred(ctx context.Context, q storage.Conn, rows [][]any) error {
	evs := make([]*ent.Event, len(rows))
	audiences := make([][]string, len(rows))
	for i, r := range rows {
		evs[i], audiences[i] = r[0].(*ent.Event), r[1].([]string)
	}
	if f.dialect == dialect.Postgres {
		return insertDeferredPostgres(ctx, q, evs, audiences)
	}
	return insertDeferredSQLite(ctx, q, evs, audiences)
}

// eventColumns are the columns of a deferred event's INSERT on SQLite, its id first.
var eventColumns = []string{event.FieldID, event.FieldType, event.FieldSubjectType, event.FieldSubjectID,
	event.FieldRevision, event.FieldTime, event.FieldActorRole, event.FieldActorID, event.FieldPartyIds, event.FieldPayload,
	event.FieldFeedKey}

// insertDeferredSQLite numbers the events after the last id the table gave out (SQLite has one writer,
// which this transaction is, so no other id can come between) and inserts them and their audience rows
// with multi-row INSERTs.
func insertDeferredSQLite(ctx context.Context, tx storage.Conn, evs []*ent.Event, audiences [][]string) error {
	var last int64
	err := scanOne(ctx, tx, `SELECT COALESCE((SELECT "seq" FROM "sqlite_sequence" WHERE "name" = 'events'), 0)`, &last)
	if err != nil {
		return fmt.Errorf("insert %d deferred events: %w", len(evs), err)
	}
	rows := make([][]any, len(evs))
	var parties [][]any
	for i, ev := range evs {
		ev.ID = last + int64(i) + 1
		rows[i] = []any{ev.ID, ev.Type, ev.SubjectType, ev.SubjectID, ev.Revision, ev.Time, ev.ActorRole, ev.ActorID,
			ev.PartyIds, ev.Payload, ev.FeedKey}
		for _, id := range audiences[i] {
			parties = append(parties, []any{id, ev.ID, ev.FeedKey})
		}
	}
	if err := storage.InsertRowsOf(ctx, tx, event.Table, eventColumns, rows); err != nil {
		return err
	}
	return storage.InsertRowsOf(ctx, tx, eventparty.Table, partyColumns, parties)
}

// appendManyPostgres is appendPostgres for many events at once, given their ids ($1, taken from the
// table's sequence beforehand so that they are in the order appended): each event's feed key is the
// transaction's id raised to the key of its subject's latest event before the batch (a subject's events
// of one batch share the key and are ordered by id), and the audience rows ($11, $12: event id and
// account, one pair per row) are written by the same statement.
const appendManyPostgres = `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[],
  $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::bytea[])
  AS v(id, type, subject_type, subject_id, revision, time, actor_role, actor_id, party_ids, payload)),
e AS (INSERT INTO events (id, type, subject_type, subject_id, revision, time, actor_role, actor_id, party_ids, payload, feed_key)
  SELECT id, type, subject_type, subject_id, revision, time, actor_role, actor_id, party_ids, payload,
    GREATEST(pg_current_xact_id()::text::bigint, COALESCE((SELECT MAX(x.feed_key) FROM events x
      WHERE x.subject_type = v.subject_type AND x.subject_id = v.subject_id), 0))
  FROM v ORDER BY id RETURNING id, feed_key)
INSERT INTO event_parties (account_id, feed_key, event_id)
SELECT a.account, e.feed_key, e.id FROM e JOIN unnest($11::bigint[], $12::text[]) AS a(event_id, account) ON a.event_id = e.id`

// insertDeferredPostgres takes the events' ids from the table's sequence, in one query, and inserts the
// events and their audience rows in one statement (appendManyPostgres).
func insertDeferredPostgres(ctx context.Context, tx storage.Conn, evs []*ent.Event, audiences [][]string) error {
	rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, $1)`, len(evs))
	if err != nil {
		return fmt.Errorf("insert %d deferred events: %w", len(evs), err)
	}
	ids := make([]int64, 0, len(evs))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("insert %d deferred events: %w", len(evs), err)
		}
		ids = append(ids, id)
	}
	if err := errorsOf(rows); err != nil || len(ids) != len(evs) {
		return fmt.Errorf("insert %d deferred events: %d ids (%v)", len(evs), len(ids), err)
	}
	slices.Sort(ids)
	var (
		types, subjectTypes, subjectIDs, roles, actors, partyIDs, accounts []string
		revisions, eventIDs                                                []int64
		times                                                              []time.Time
		payloads                                                           [][]byte
	)
	for i, ev := range evs {
		ev.ID = ids[i]
		types, subjectTypes, subjectIDs = append(types, ev.Type), append(subjectTypes, ev.SubjectType), append(subjectIDs, ev.SubjectID)
		revisions, times = append(revisions, ev.Revision), append(times, ev.Time)
		roles, actors, partyIDs = append(roles, ev.ActorRole), append(actors, ev.ActorID), append(partyIDs, ev.PartyIds)
		payloads = append(payloads, ev.Payload)
		for _, a := range audiences[i] {
			eventIDs, accounts = append(eventIDs, ev.ID), append(accounts, a)
		}
	}
	if _, err := tx.ExecContext(ctx, appendManyPostgres, ids, types, subjectTypes, subjectIDs, revisions, times, roles, actors,
		partyIDs, payloads, eventIDs, accounts); err != nil {
		return fmt.Errorf("insert %d deferred events: %w", len(evs), err)
	}
	return nil
}

// scanOne runs a query of one value through tx and scans it into dst.
func scanOne(ctx context.Context, tx storage.Querier, query string, dst any) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("no row: %w", errorsOf(rows))
	}
	if err := rows.Scan(dst); err != nil {
		return err
	}
	return errorsOf(rows)
}

// errorsOf closes rows and returns the error of their iteration or closing.
func errorsOf(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}
