package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	tradeassure "github.com/tradeassure/tradeassure/sdk/go"
)

// state is what the ERP keeps between runs: the feed cursor and its copy of the orders, returns and
// disputes it has seen.
type state struct {
	// Cursor is the id of the last event applied; the feed resumes after it.
	Cursor string `json:"cursor"`
	// Orders are the local copies of the orders, by id.
	Orders map[string]*localOrder `json:"orders"`
	// Returns are the open and closed returns seen, by id.
	Returns map[string]*localCase `json:"returns"`
	// Disputes are the open and closed disputes seen, by id.
	Disputes map[string]*localCase `json:"disputes"`
	// Seen are the ids of the latest events applied (at most maxSeen), so a webhook delivered twice, or
	// both by webhook and by the feed, is applied once.
	Seen []string `json:"seen_event_ids,omitempty"`
}

// maxSeen bounds the remembered event ids; redeliveries come within days, not millions of events.
const maxSeen = 10_000

// localOrder is the ERP's row for an order.
type localOrder struct {
	State    string `json:"state"`
	Revision int64  `json:"revision"`
	Total    string `json:"total"`
	Paid     string `json:"paid"`
	Refunded string `json:"refunded,omitempty"`
	Buyer    string `json:"buyer_email"`
	Carrier  string `json:"carrier,omitempty"`
	Tracking string `json:"tracking_number,omitempty"`
	// Held is true while a return or dispute holds the order's escrow.
	Held    bool   `json:"escrow_held"`
	Updated string `json:"updated"`
}

// localCase is the ERP's row for a return or a dispute.
type localCase struct {
	OrderID  string `json:"order_id"`
	State    string `json:"state"`
	Revision int64  `json:"revision"`
	// Next is what must happen next and by when, for the people working the ERP's queue.
	Next string `json:"next,omitempty"`
}

// erp follows the feed as one principal and applies events to its state.
type erp struct {
	mu     sync.Mutex // serializes webhook deliveries, which arrive concurrently
	seen   map[string]bool
	cfg    config
	client *tradeassure.Client
	me     *adminv1.Account
	st     *state
	out    io.Writer
}

func newERP(ctx context.Context, cfg config, out io.Writer) (*erp, error) {
	proto, ok := tradeassure.ParseProtocol(cfg.Protocol)
	if !ok {
		return nil, fmt.Errorf("unknown protocol %q (connect, grpc or grpc-web)", cfg.Protocol)
	}
	opts := []tradeassure.Option{tradeassure.WithProtocol(proto), tradeassure.WithUserAgent("tradeassure-example-erp/1")}
	if cfg.HTTPClient != nil {
		opts = append(opts, tradeassure.WithHTTPClient(cfg.HTTPClient))
	}
	c := tradeassure.New(cfg.Addr, cfg.Key, opts...)
	who, err := c.Admin.GetAccount(ctx, connect.NewRequest(&adminv1.GetAccountRequest{}))
	if err != nil {
		return nil, fmt.Errorf("identify the API key: %w", err)
	}
	st, err := load(cfg.StatePath)
	if err != nil {
		return nil, err
	}
	e := &erp{cfg: cfg, client: c, me: who.Msg.GetAccount(), st: st, out: out, seen: map[string]bool{}}
	for _, id := range st.Seen {
		e.seen[id] = true
	}
	fmt.Fprintf(out, "erp: %s %q, %d orders on file, resuming after event %q\n",
		strings.TrimPrefix(e.me.GetRole().String(), "ROLE_"), e.me.GetName(), len(st.Orders), st.Cursor)
	return e, nil
}

// catchUp applies every event after the cursor that exists now, then reports and returns.
func (e *erp) catchUp(ctx context.Context) error {
	n := 0
	for ev, err := range e.client.AllEvents(ctx, &eventv1.ListEventsRequest{AfterId: e.st.Cursor, PageSize: 200}) {
		if err != nil {
			return fmt.Errorf("list events after %q: %w", e.st.Cursor, err)
		}
		if err := e.apply(ctx, ev); err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(e.out, "erp: caught up: %d new events, %d orders, %d returns, %d disputes, cursor %q\n",
		n, len(e.st.Orders), len(e.st.Returns), len(e.st.Disputes), e.st.Cursor)
	return nil
}

// follow applies the backlog and then every new event until ctx ends. The SDK's Follow skips the server's
// heartbeats and reconnects after the last event when the stream breaks.
func (e *erp) follow(ctx context.Context) error {
	for ev, err := range e.client.Follow(ctx, &eventv1.WatchEventsRequest{AfterId: e.st.Cursor}) {
		if err != nil {
			return fmt.Errorf("follow events after %q: %w", e.st.Cursor, err)
		}
		if err := e.apply(ctx, ev); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.out, "erp: stopped at cursor %q\n", e.st.Cursor)
	return nil
}

// apply updates the local copy from one event, reacts to it, and saves the state with the new cursor.
// An event seen before (by webhook or by the feed) is skipped.
func (e *erp) apply(ctx context.Context, ev *eventv1.Event) error {
	if e.seen[ev.GetId()] {
		fmt.Fprintf(e.out, "%s %s: seen before, ignored\n", ev.GetId(), ev.GetType())
		return nil
	}
	payload, err := ev.GetPayload().UnmarshalNew()
	if err != nil {
		// A payload type newer than this build: keep the cursor moving, the event is logged.
		fmt.Fprintf(e.out, "%s %s %s (payload not understood: %v)\n", ev.GetId(), ev.GetType(), ev.GetSubjectId(), err)
		return e.commit(ev)
	}
	switch p := payload.(type) {
	case *orderv1.Order:
		e.upsertOrder(p)
		fmt.Fprintf(e.out, "%s %s: order %s is %s\n", ev.GetId(), ev.GetType(), p.GetId(), short(p.GetState().String()))
	case *returnsv1.Return:
		e.onReturn(ctx, ev, p)
	case *disputev1.Dispute:
		e.onDispute(ev, p)
	default:
		fmt.Fprintf(e.out, "%s %s: %s %s\n", ev.GetId(), ev.GetType(), ev.GetSubjectType(), ev.GetSubjectId())
	}
	return e.commit(ev)
}

func (e *erp) upsertOrder(o *orderv1.Order) {
	lo := &localOrder{
		State: short(o.GetState().String()), Revision: o.GetRevision(), Total: money(o.GetAmounts().GetTotal()),
		Paid: money(o.GetAmounts().GetPaid()), Buyer: o.GetBuyerEmail(), Held: o.GetEscrowHeld(),
		Carrier: o.GetShipment().GetCarrier(), Tracking: o.GetShipment().GetTrackingNumber(),
		Updated: o.GetUpdateTime().AsTime().Format(time.RFC3339),
	}
	if o.GetRefunded().GetAmountMinor() != 0 {
		lo.Refunded = money(o.GetRefunded())
	}
	// Events arrive in commit order, but a replayed older revision must never overwrite a newer copy.
	if cur, ok := e.st.Orders[o.GetId()]; ok && cur.Revision > lo.Revision {
		return
	}
	e.st.Orders[o.GetId()] = lo
}

// hold marks the local order as held by a return or dispute (or released), as the service does.
func (e *erp) hold(orderID string, held bool) {
	if o, ok := e.st.Orders[orderID]; ok {
		o.Held = held
	}
}

func (e *erp) onReturn(ctx context.Context, ev *eventv1.Event, r *returnsv1.Return) {
	st := r.GetState()
	open := st == returnsv1.Return_STATE_REQUESTED || st == returnsv1.Return_STATE_PARTIAL_REFUND_OFFERED ||
		st == returnsv1.Return_STATE_APPROVED || st == returnsv1.Return_STATE_SHIPPED || st == returnsv1.Return_STATE_DISPUTED
	next := ""
	switch st {
	case returnsv1.Return_STATE_REQUESTED:
		next = "supplier answers by " + at(r.GetSupplierAnswerDeadline())
	case returnsv1.Return_STATE_APPROVED:
		next = "buyer ships the goods back by " + at(r.GetBuyerShipDeadline())
	case returnsv1.Return_STATE_SHIPPED:
		next = "supplier confirms receipt by " + at(r.GetSupplierReceiptDeadline())
	case returnsv1.Return_STATE_PARTIAL_REFUND_OFFERED:
		next = "buyer accepts or rejects " + money(r.GetPartialRefundOffer())
	case returnsv1.Return_STATE_REFUNDED:
		next = "refunded " + money(r.GetRefundedAmount())
	}
	e.st.Returns[r.GetId()] = &localCase{OrderID: r.GetOrderId(), State: short(st.String()), Revision: r.GetRevision(), Next: next}
	e.hold(r.GetOrderId(), open)
	fmt.Fprintf(e.out, "%s %s: RETURN %s on order %s is %s (%s); %s\n", ev.GetId(), ev.GetType(), r.GetId(), r.GetOrderId(),
		short(st.String()), short(r.GetReason().String()), orDash(next))

	// React: a supplier ERP set to approve returns answers every new request at once, to the registered
	// return address. The etag is the one in the event, so a return that changed since is left alone
	// (ABORTED), and the SDK's request id makes a retried approval safe.
	if e.cfg.ApproveReturns && st == returnsv1.Return_STATE_REQUESTED && e.me.GetRole() == commonv1.Role_ROLE_SUPPLIER {
		resp, err := e.client.Returns.ApproveReturn(ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{
			Id: r.GetId(), Etag: r.GetEtag(), Note: "Approved automatically by the ERP; please use the address given.",
		}))
		if err != nil {
			if te, ok := tradeassure.AsError(err); ok && (te.Code == connect.CodeAborted || te.Code == connect.CodeFailedPrecondition) {
				fmt.Fprintf(e.out, "   not approving return %s: %v\n", r.GetId(), te)
				return
			}
			fmt.Fprintf(e.out, "   approving return %s failed: %v\n", r.GetId(), err)
			return
		}
		fmt.Fprintf(e.out, "   approved return %s: buyer ships by %s\n", r.GetId(), at(resp.Msg.GetReturn().GetBuyerShipDeadline()))
	}
}

func (e *erp) onDispute(ev *eventv1.Event, d *disputev1.Dispute) {
	st := d.GetState()
	next := ""
	switch st {
	case disputev1.Dispute_STATE_AWAITING_RESPONSE:
		next = "supplier responds by " + at(d.GetSupplierResponseDeadline()) + ", or the buyer's request is granted"
	case disputev1.Dispute_STATE_NEGOTIATING:
		next = "negotiating"
		if d.GetAutoEscalationTime() != nil {
			next += "; escalates by itself at " + at(d.GetAutoEscalationTime())
		}
	case disputev1.Dispute_STATE_ESCALATED:
		next = "an arbiter rules"
	case disputev1.Dispute_STATE_SETTLED, disputev1.Dispute_STATE_RULED:
		next = "refund " + money(d.GetSettlement().GetRefundAmount())
	}
	open := st == disputev1.Dispute_STATE_AWAITING_RESPONSE || st == disputev1.Dispute_STATE_NEGOTIATING ||
		st == disputev1.Dispute_STATE_ESCALATED || st == disputev1.Dispute_STATE_SUSPENDED
	e.st.Disputes[d.GetId()] = &localCase{OrderID: d.GetOrderId(), State: short(st.String()), Revision: d.GetRevision(), Next: next}
	e.hold(d.GetOrderId(), open)
	fmt.Fprintf(e.out, "%s %s: DISPUTE %s on order %s is %s (%s, asks %s); %s\n", ev.GetId(), ev.GetType(), d.GetId(),
		d.GetOrderId(), short(st.String()), short(d.GetReason().String()), money(d.GetRequestedRefundAmount()), orDash(next))
}

// commit moves the cursor past ev, remembers its id, and saves the state atomically (write a temporary
// file, then rename). Webhooks of different objects may arrive out of order, so the cursor only moves
// forward; a restart catches up from it and skips what it has seen.
func (e *erp) commit(ev *eventv1.Event) error {
	if n, err := strconv.ParseInt(ev.GetId(), 10, 64); err == nil {
		if cur, _ := strconv.ParseInt(e.st.Cursor, 10, 64); n > cur {
			e.st.Cursor = ev.GetId()
		}
	}
	e.seen[ev.GetId()] = true
	e.st.Seen = append(e.st.Seen, ev.GetId())
	if len(e.st.Seen) > maxSeen {
		for _, old := range e.st.Seen[:len(e.st.Seen)-maxSeen] {
			delete(e.seen, old)
		}
		e.st.Seen = e.st.Seen[len(e.st.Seen)-maxSeen:]
	}
	b, err := json.MarshalIndent(e.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := e.cfg.StatePath + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp, e.cfg.StatePath); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// load reads the state file; a missing file is an empty state (start of the feed).
func load(path string) (*state, error) {
	st := &state{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, fmt.Errorf("read state: %w", err)
	default:
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("read state %s: %w", path, err)
		}
	}
	if st.Orders == nil {
		st.Orders = map[string]*localOrder{}
	}
	if st.Returns == nil {
		st.Returns = map[string]*localCase{}
	}
	if st.Disputes == nil {
		st.Disputes = map[string]*localCase{}
	}
	return st, nil
}

// money formats minor units exactly: 267500 USD is "2675.00 USD".
func money(m *commonv1.Money) string {
	if m == nil {
		return "-"
	}
	a := m.GetAmountMinor()
	sign := ""
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, m.GetCurrency())
}

// at formats a deadline.
func at(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format("2006-01-02 15:04 MST")
}

// short drops an enum value's prefix: "STATE_PAID" is "PAID".
func short(s string) string {
	for _, p := range []string{"STATE_", "REASON_"} {
		if strings.HasPrefix(s, p) {
			return strings.TrimPrefix(s, p)
		}
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
