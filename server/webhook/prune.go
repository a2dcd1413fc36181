package webhook

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/predicate"
	"github.com/tradeassure/tradeassure/ent/webhookattempt"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
)

// DefaultRetention is how long a finished delivery and its attempts are kept after it finished.
const DefaultRetention = 30 * 24 * time.Hour

// pruneBatch is how many deliveries one pruning transaction deletes, so that it holds SQLite's writer
// lock only briefly.
const pruneLimit = 500

// pruneEvery is how often, at most, the dispatcher prunes (by the real clock).
const pruneEvery = time.Minute

// pruneDue prunes when the last pruning is pruneEvery ago by the real clock or by the service clock
// (which development mode moves by days at once).
func (w *Webhooks) pruneDue(ctx context.Context) {
	now := w.clock.Now()
	w.pruneMu.Lock()
	due := time.Since(w.prunedAt) >= pruneEvery || now.Sub(w.prunedClock) >= pruneEvery
	w.pruneMu.Unlock()
	if !due {
		return
	}
	if _, err := w.Prune(ctx); err != nil && ctx.Err() == nil {
		w.log.WarnContext(ctx, "prune webhook deliveries", "error", err)
	}
}

// Prune deletes the deliveries that finished (succeeded or failed) more than Config.Retention ago by the
// service clock, with their attempts, and returns how many deliveries it deleted. A delivery queued again
// (redelivered or replayed) is pending, so it is kept with its earlier attempts. The dispatcher calls it
// every minute; deleting twice from two processes is harmless.
func (w *Webhooks) Prune(ctx context.Context) (int, error) {
	now := w.clock.Now()
	cutoff := now.Add(-w.cfg.Retention)
	finished := func() []predicate.WebhookDelivery {
		return []predicate.WebhookDelivery{webhookdelivery.StateIn(webhookdelivery.StateSucceeded, webhookdelivery.StateFailed),
			// A delivery is attempted at or after its next attempt time, so this narrows the search by the
			// (state, next_attempt_time) index without changing its result.
			webhookdelivery.NextAttemptTimeLT(cutoff), webhookdelivery.FinishTimeLT(cutoff)}
	}
	total := 0
	for {
		ids, err := w.store.Client.WebhookDelivery.Query().Where(finished()...).Limit(pruneLimit).IDs(ctx)
		if err != nil {
			return total, pruneErr(err)
		}
		if len(ids) > 0 {
			n, err := w.pruneBatch(ctx, ids, finished())
			total += n
			if err != nil {
				return total, pruneErr(err)
			}
		}
		if len(ids) < pruneLimit {
			break
		}
	}
	w.pruneMu.Lock()
	w.prunedAt, w.prunedClock = time.Now(), now
	w.pruneMu.Unlock()
	return total, nil
}

// pruneBatch deletes the deliveries ids that are still finished, and their attempts.
func (w *Webhooks) pruneBatch(ctx context.Context, ids []int64, finished []predicate.WebhookDelivery) (int, error) {
	deleted := 0
	err := w.store.WithTx(ctx, func(tx *ent.Tx) error {
		// Checked again: one redelivered meanwhile is pending and stays, with its attempts.
		n, err := tx.WebhookDelivery.Delete().Where(append(finished, webhookdelivery.IDIn(ids...))...).Exec(ctx)
		if err != nil || n == 0 {
			return err
		}
		if n < len(ids) {
			kept, err := tx.WebhookDelivery.Query().Where(webhookdelivery.IDIn(ids...)).IDs(ctx)
			if err != nil {
				return err
			}
			ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return slices.Contains(kept, id) })
		}
		if _, err := tx.WebhookAttempt.Delete().Where(webhookattempt.DeliveryIDIn(ids...)).Exec(ctx); err != nil {
			return err
		}
		deleted = n
		return nil
	})
	return deleted, err
}

func pruneErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("prune webhook deliveries: %w", err)
}
