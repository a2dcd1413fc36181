package webhook

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/webhookattempt"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	"github.com/tradeassure/tradeassure/ent/webhookendpoint"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/resource"
)

// endpointTally is what a batch of results changes on one endpoint.
type endpointTally struct {
	succeeded, failed, failedAttempts int64
	lastSuccess, lastFailure          *time.Time
	// reset is set when the batch's last result for the endpoint succeeded; firstFailure is the first
	// failure after it.
	reset        bool
	firstFailure *time.Time
	gone         bool
}

// record stores the outcomes of a batch of attempts in one transaction (see cycle).
func (w *Webhooks) record(ctx context.Context, batch []result) error {
	_, _, err := w.cycle(ctx, batch, 0, nil)
	return err
}

// recordTx stores the outcomes of a batch of attempts within tx: the attempts, the deliveries' new states
// (retry, done or given up), the endpoints' statistics, and disables endpoints that answered 410 Gone or
// have failed for DisableAfter.
func (w *Webhooks) recordTx(ctx context.Context, tx *ent.Tx, batch []result, now time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	tallies := map[string]*endpointTally{}
	var order []string
	// First attempts that succeeded are stored, with their attempts, in one UPDATE (recordInline); other
	// successes with one UPDATE per claim (lease token) and an attempt row; failures, rarer, one each.
	var inline []result
	succeeded := map[string][]int64{}
	var tokens []string
	// gone are the deliveries deleted (with their endpoint) while in flight: no attempt is recorded.
	gone := map[int64]bool{}
	// stored are the deliveries whose attempt is stored on their row.
	stored := map[int64]bool{}
	for _, r := range batch {
		t := tallies[r.endpointID]
		if t == nil {
			t = &endpointTally{}
			tallies[r.endpointID] = t
			order = append(order, r.endpointID)
		}
		at := r.time
		if r.ok() {
			t.succeeded++
			t.lastSuccess, t.reset, t.firstFailure = &at, true, nil
			if r.attempts == 0 {
				inline = append(inline, r)
				continue
			}
			if succeeded[r.token] == nil {
				tokens = append(tokens, r.token)
			}
			succeeded[r.token] = append(succeeded[r.token], r.id)
			continue
		}
		t.failedAttempts++
		t.lastFailure = &at
		if t.firstFailure == nil {
			t.firstFailure = &at
		}
		retry := r.retries + 1
		if r.status == 410 {
			t.gone = true
		}
		u := tx.WebhookDelivery.Update().Where(webhookdelivery.ID(r.id), webhookdelivery.LeaseToken(r.token)).
			AddAttemptCount(1).SetLeaseToken("").ClearLeaseExpireTime().SetTrigger(webhookdelivery.TriggerScheduled)
		if r.status == 410 || r.trigger == webhookdelivery.TriggerTest || retry > len(RetryDelays) {
			t.failed++
			u.SetState(webhookdelivery.StateFailed).SetFinishTime(now).SetRetries(retry)
		} else {
			u.SetRetries(retry).SetNextAttemptTime(now.Add(backoff(retry)))
		}
		if err := w.saveOutcome(ctx, tx, u, []int64{r.id}, gone); err != nil {
			return err
		}
	}
	if len(inline) > 0 {
		var err error
		if stored, err = w.recordInline(ctx, tx, inline, now); err != nil {
			return err
		}
		// One whose lease was lost is recorded as any other success (see saveOutcome).
		for _, r := range inline {
			if stored[r.id] {
				continue
			}
			if succeeded[r.token] == nil {
				tokens = append(tokens, r.token)
			}
			succeeded[r.token] = append(succeeded[r.token], r.id)
		}
	}
	for _, token := range tokens {
		ids := succeeded[token]
		u := tx.WebhookDelivery.Update().Where(webhookdelivery.IDIn(ids...), webhookdelivery.LeaseToken(token)).
			AddAttemptCount(1).SetLeaseToken("").ClearLeaseExpireTime().SetTrigger(webhookdelivery.TriggerScheduled).
			SetState(webhookdelivery.StateSucceeded).SetFinishTime(now).SetRetries(0)
		if err := w.saveOutcome(ctx, tx, u, ids, gone); err != nil {
			return err
		}
	}
	attempts := make([]*ent.WebhookAttemptCreate, 0, len(batch))
	for _, r := range batch {
		if gone[r.id] || stored[r.id] {
			continue
		}
		attempts = append(attempts, tx.WebhookAttempt.Create().SetDeliveryID(r.id).SetEndpointID(r.endpointID).
			SetTime(r.time).SetTrigger(webhookattempt.Trigger(r.trigger)).SetOutcome(webhookattempt.Outcome(r.outcome)).
			SetHTTPStatus(r.status).SetLatencyMs(r.latency.Milliseconds()).SetError(r.errText).SetResponseBody(r.response))
	}
	if len(attempts) > 0 {
		if err := tx.WebhookAttempt.CreateBulk(attempts...).Exec(ctx); err != nil {
			return fmt.Errorf("record attempts: %w", err)
		}
	}
	for _, id := range order {
		if err := w.tally(ctx, tx, id, tallies[id], now); err != nil {
			return err
		}
	}
	return nil
}

// attemptProto is an attempt as the API shows it.
func attemptProto(r result) *webhookv1.WebhookAttempt {
	return &webhookv1.WebhookAttempt{
		Time: timestamppb.New(r.time), Trigger: triggers[r.trigger.String()], Outcome: outcomes[webhookattempt.Outcome(r.outcome)],
		HttpStatus: int32(r.status), Latency: durationpb.New(time.Duration(r.latency.Milliseconds()) * time.Millisecond),
		Error: r.errText, ResponseBody: r.response,
	}
}

// recordInline stores first attempts that succeeded in one statement: each delivery succeeded, with its
// attempt serialized on its row (inline_attempt) instead of a webhook_attempts row, where the delivery
// is still leased by the attempt's claim. It returns the deliveries it stored.
func (w *Webhooks) recordInline(ctx context.Context, tx *ent.Tx, batch []result, now time.Time) (map[int64]bool, error) {
	ph := func(n int, typ string) string {
		if w.postgres {
			return "CAST($" + strconv.Itoa(n) + " AS " + typ + ")"
		}
		return "CAST(? AS " + typ + ")"
	}
	blob := "BLOB"
	if w.postgres {
		blob = "BYTEA"
	}
	args := []any{now}
	var rows []string
	for _, r := range batch {
		attempt, err := proto.Marshal(attemptProto(r))
		if err != nil {
			return nil, fmt.Errorf("record deliveries: %w", err)
		}
		n := len(args)
		rows = append(rows, "SELECT "+ph(n+1, "BIGINT")+" AS id, "+ph(n+2, "TEXT")+" AS token, "+ph(n+3, blob)+" AS attempt")
		args = append(args, r.id, r.token, attempt)
	}
	at := "?"
	if w.postgres {
		at = "$1"
	}
	q := `UPDATE webhook_deliveries SET "state" = 'succeeded', "attempt_count" = "attempt_count" + 1, "lease_token" = '',
  "lease_expire_time" = NULL, "trigger" = 'scheduled', "finish_time" = ` + at + `, "retries" = 0, "inline_attempt" = v.attempt
FROM (` + strings.Join(rows, " UNION ALL ") + `) AS v
WHERE webhook_deliveries."id" = v.id AND webhook_deliveries."lease_token" = v.token
RETURNING webhook_deliveries."id"`
	res, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("record deliveries: %w", err)
	}
	defer res.Close()
	done := map[int64]bool{}
	for res.Next() {
		var id int64
		if err := res.Scan(&id); err != nil {
			return nil, fmt.Errorf("record deliveries: %w", err)
		}
		done[id] = true
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("record deliveries: %w", err)
	}
	return done, nil
}

// saveOutcome applies u, the outcome of the deliveries ids, and adds to gone those that no longer exist.
// A delivery whose lease was lost keeps its new state, and its attempt is recorded all the same (unless
// the endpoint was deleted meanwhile): either the lease ran out and another worker took it, or the
// delivery was queued again (redelivered or replayed) while this attempt was in flight, which cleared
// its lease token but kept its expiry so that no second attempt could start; that one is due again now.
func (w *Webhooks) saveOutcome(ctx context.Context, tx *ent.Tx, u *ent.WebhookDeliveryUpdate, ids []int64, gone map[int64]bool) error {
	n, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("record deliveries %v: %w", ids, err)
	}
	if n == len(ids) {
		return nil
	}
	exist, err := tx.WebhookDelivery.Query().Where(webhookdelivery.IDIn(ids...)).IDs(ctx)
	if err != nil {
		return fmt.Errorf("record deliveries %v: %w", ids, err)
	}
	for _, id := range ids {
		if !slices.Contains(exist, id) {
			gone[id] = true
		}
	}
	err = tx.WebhookDelivery.Update().Where(webhookdelivery.IDIn(exist...), webhookdelivery.LeaseToken(""),
		webhookdelivery.StateEQ(webhookdelivery.StatePending)).ClearLeaseExpireTime().Exec(ctx)
	if err != nil {
		return fmt.Errorf("record deliveries %v: %w", ids, err)
	}
	return nil
}

// tally applies a batch's results to an endpoint.
func (w *Webhooks) tally(ctx context.Context, tx *ent.Tx, id string, t *endpointTally, now time.Time) error {
	if t.failedAttempts == 0 {
		// Only successes: nothing to read, since nothing can disable the endpoint.
		err := tx.WebhookEndpoint.Update().Where(webhookendpoint.ID(id)).AddSucceededDeliveries(t.succeeded).
			SetLastSuccessTime(*t.lastSuccess).ClearFailingSince().Exec(ctx)
		if err != nil {
			return fmt.Errorf("record endpoint %s: %w", id, err)
		}
		return nil
	}
	ep, err := tx.WebhookEndpoint.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("record endpoint %s: %w", id, err)
	}
	u := tx.WebhookEndpoint.UpdateOneID(id).AddSucceededDeliveries(t.succeeded).AddFailedDeliveries(t.failed).
		AddFailedAttempts(t.failedAttempts)
	if t.lastSuccess != nil {
		u.SetLastSuccessTime(*t.lastSuccess)
	}
	if t.lastFailure != nil {
		u.SetLastFailureTime(*t.lastFailure)
	}
	failingSince := ep.FailingSince
	if t.reset {
		failingSince = t.firstFailure
	} else if failingSince == nil {
		failingSince = t.firstFailure
	}
	if failingSince == nil {
		u.ClearFailingSince()
	} else {
		u.SetFailingSince(*failingSince)
	}
	reason := ""
	switch {
	case !ep.Enabled:
	case t.gone:
		reason = "gone"
	case failingSince != nil && t.firstFailure != nil && now.Sub(*failingSince) >= DisableAfter:
		reason = "failing"
	}
	if reason == "" {
		return u.Exec(ctx)
	}
	rev := ep.Revision + 1
	u.SetEnabled(false).SetDisabledReason(reason).SetDisableTime(now).SetRevision(rev).SetEtag(resource.Etag(id, rev)).SetUpdateTime(now)
	updated, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("disable endpoint %s: %w", id, err)
	}
	w.log.WarnContext(ctx, "webhook endpoint disabled", "endpoint", id, "reason", reason)
	if w.postgres {
		// The disabled event is seen by feed followers: it must survive a crash once committed.
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
			return fmt.Errorf("disable endpoint %s: %w", id, err)
		}
	}
	if err := w.bumpVersion(ctx, tx); err != nil {
		return err
	}
	return w.appendEndpointEvent(ctx, tx, updated, "disabled", auth.System, now)
}

// appendEndpointEvent appends a webhook_endpoint.<what> event: its owner (or, for platform endpoints,
// the operators) follows its endpoints' changes in the feed and in webhooks.
func (w *Webhooks) appendEndpointEvent(ctx context.Context, tx *ent.Tx, ep *ent.WebhookEndpoint, what string, actor auth.Principal, now time.Time) error {
	var parties []string
	if ep.AccountID != "" {
		parties = []string{ep.AccountID}
	}
	return w.feed.Append(ctx, tx, events.Event{
		Type: "webhook_endpoint." + what, SubjectType: subjectEndpoint, SubjectID: ep.ID, Revision: ep.Revision,
		Time: now, Actor: actor, Parties: parties, Payload: endpointToProto(ep, nil),
	})
}

// replayBatch is how many events one replay step reads.
const replayBatch = 500

// advanceReplays queues the next events of every replay in progress, a batch per endpoint per call, and
// asks to be called again at once while a replay has more.
func (w *Webhooks) advanceReplays(ctx context.Context) error {
	eps, err := w.store.Client.WebhookEndpoint.Query().Where(webhookendpoint.Enabled(true),
		webhookendpoint.ReplayCreateTimeNotNil(), func(s *sql.Selector) {
			s.Where(sql.ColumnsNEQ(s.C(webhookendpoint.FieldReplayCursorID), s.C(webhookendpoint.FieldReplayUntilID)))
		}).Select(webhookendpoint.FieldID).Strings(ctx)
	if err != nil {
		return err
	}
	for _, id := range eps {
		more, err := w.replayStep(ctx, id)
		if err != nil {
			return err
		}
		if more {
			w.kickReplay()
		}
	}
	return nil
}

// kickReplay makes the dispatcher queue more of a replay at its next turn.
func (w *Webhooks) kickReplay() {
	w.replayDue.Store(true)
	w.kick()
}

// replayStep queues one batch of an endpoint's replay: the events after its cursor, through the end of
// its range, that its owner sees and its filters match. A delivery that exists already is queued again.
func (w *Webhooks) replayStep(ctx context.Context, id string) (bool, error) {
	more := false
	err := w.store.WithTx(ctx, func(tx *ent.Tx) error {
		q := tx.WebhookEndpoint.Query().Where(webhookendpoint.ID(id))
		if w.postgres {
			// Another process advancing the same replay skips it.
			q = q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
		}
		ep, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil || !ep.Enabled || ep.ReplayCursorID == ep.ReplayUntilID {
			return err
		}
		// The range is in the feed's order, (feed key, id): on Postgres ids are not.
		fromKey, err := events.Position(ctx, tx.Client(), ep.ReplayCursorID)
		if err != nil {
			return err
		}
		untilKey, err := events.Position(ctx, tx.Client(), ep.ReplayUntilID)
		if err != nil {
			return err
		}
		aud := events.Audience{Role: auth.RoleFromName(ep.OwnerRole), AccountID: ep.AccountID}
		evs, err := tx.Event.Query().Where(events.After(fromKey, ep.ReplayCursorID),
			events.Through(untilKey, ep.ReplayUntilID), aud.Predicate(), events.InFeedOrder).Limit(replayBatch).All(ctx)
		if err != nil {
			return err
		}
		cursor := ep.ReplayUntilID
		if len(evs) == replayBatch {
			cursor = evs[len(evs)-1].ID
			more = true
		}
		now := w.clock.Now()
		var creates []*ent.WebhookDeliveryCreate
		for _, ev := range evs {
			if !matchType(ep.EventTypes, ev.Type) {
				continue
			}
			creates = append(creates, newDelivery(tx, ep.ID, ev).SetTrigger(webhookdelivery.TriggerReplay).
				SetNextAttemptTime(now).SetCreateTime(now))
		}
		if len(creates) > 0 {
			err := tx.WebhookDelivery.CreateBulk(creates...).OnConflictColumns(webhookdelivery.FieldEndpointID, webhookdelivery.FieldSubjectKey, webhookdelivery.FieldSeq).
				Update(func(u *ent.WebhookDeliveryUpsert) {
					// One in flight keeps its lease's expiry, so it is not sent twice at once, and is sent again
					// after that attempt (see saveOutcome).
					u.SetState(webhookdelivery.StatePending).SetTrigger(webhookdelivery.TriggerReplay).SetNextAttemptTime(now).
						SetRetries(0).ClearFinishTime().SetLeaseToken("")
				}).Exec(ctx)
			if err != nil {
				return fmt.Errorf("queue replay of endpoint %s: %w", id, err)
			}
		}
		return tx.WebhookEndpoint.UpdateOneID(id).SetReplayCursorID(cursor).AddReplayQueued(int64(len(creates))).Exec(ctx)
	})
	if err == nil && more {
		w.kick()
	}
	return more, err
}
