package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
)

// queues returns the pending deliveries of endpoints: how many, and when the oldest was queued.
func (w *Webhooks) queues(ctx context.Context, ids []string) (map[string]queue, error) {
	out := map[string]queue{}
	if len(ids) == 0 {
		return out, nil
	}
	var counts []struct {
		EndpointID string `json:"endpoint_id"`
		Count      int64  `json:"count"`
	}
	err := w.store.Client.WebhookDelivery.Query().
		Where(webhookdelivery.EndpointIDIn(ids...), webhookdelivery.StateEQ(webhookdelivery.StatePending)).
		GroupBy(webhookdelivery.FieldEndpointID).Aggregate(ent.Count()).Scan(ctx, &counts)
	if err != nil {
		return nil, fmt.Errorf("count pending deliveries: %w", err)
	}
	for _, c := range counts {
		oldest, err := w.store.Client.WebhookDelivery.Query().
			Where(webhookdelivery.EndpointID(c.EndpointID), webhookdelivery.StateEQ(webhookdelivery.StatePending)).
			Order(ent.Asc(webhookdelivery.FieldID)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, fmt.Errorf("find oldest pending delivery: %w", err)
		}
		q := queue{pending: c.Count}
		if oldest != nil {
			q.oldest = &oldest.CreateTime
		}
		out[c.EndpointID] = q
	}
	return out, nil
}

// EndpointStats are one endpoint's delivery statistics.
type EndpointStats struct {
	EndpointID string
	// AccountID is the owning account; empty for a platform endpoint.
	AccountID string
	Enabled   bool
	// Succeeded and Failed count deliveries; FailedAttempts counts every failed attempt, retries included.
	Succeeded, Failed, FailedAttempts int64
	// Pending counts the deliveries waiting; QueueLag is how long the oldest of them has waited.
	Pending  int64
	QueueLag time.Duration
}

// Stats reads every endpoint's delivery statistics from the database, so they are the same in every
// process. It is the hook for metrics exporters: a collector calls it at scrape time and exports the
// counters per endpoint (succeeded, failed, failed attempts), the pending gauge and the queue lag.
func (w *Webhooks) Stats(ctx context.Context) ([]EndpointStats, error) {
	eps, err := w.store.Client.WebhookEndpoint.Query().Order(ent.Asc("id")).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read webhook statistics: %w", err)
	}
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.ID
	}
	qs, err := w.queues(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := w.clock.Now()
	out := make([]EndpointStats, len(eps))
	for i, e := range eps {
		q := qs[e.ID]
		out[i] = EndpointStats{EndpointID: e.ID, AccountID: e.AccountID, Enabled: e.Enabled, Succeeded: e.SucceededDeliveries,
			Failed: e.FailedDeliveries, FailedAttempts: e.FailedAttempts, Pending: q.pending}
		if q.oldest != nil && now.After(*q.oldest) {
			out[i].QueueLag = now.Sub(*q.oldest)
		}
	}
	return out, nil
}
