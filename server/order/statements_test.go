package order_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// statementShape reduces a statement to its verb and first table ("INSERT orders"), so the expected
// sequences below read as what each call costs in round trips.
var statementShape = regexp.MustCompile("(?is)^\\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\\b.*?(?:FROM\\s+)?[`\"]?([a-z_]+)[`\"]?")

// heldHead is the start of a held-back write carried in a statement's WITH list (storage.Later): its verb
// and table.
var heldHead = regexp.MustCompile(`^held_\d+ AS \((INSERT INTO|UPDATE|DELETE FROM) "?([a-z_]+)"?`)

// heldEnds are what may follow a held write's item: the next item of the list, or the statement carrying
// them; skip is how much of it belongs to the item and its separator.
var heldEnds = []struct {
	text string
	skip int
}{{"), held_", 3}, {"), e AS (", 3}, {"), v AS (", 3}, {") SELECT ", 2}, {") INSERT ", 2}, {") UPDATE ", 2}, {") DELETE ", 2}}

// shapes reduces each statement to its shape; a statement carrying held-back writes reads as the shapes
// of the writes and its own, joined by " + ".
func shapes(stmts []string) []string {
	out := make([]string, 0, len(stmts))
	for _, s := range stmts {
		var carried []string
		if rest, ok := strings.CutPrefix(s, "WITH held_"); ok {
			rest = "held_" + rest
			for {
				m := heldHead.FindStringSubmatch(rest)
				if m == nil {
					break
				}
				carried = append(carried, strings.Fields(m[1])[0]+" "+m[2])
				end, skip := -1, 0
				for _, e := range heldEnds {
					if i := strings.Index(rest, e.text); i >= 0 && (end < 0 || i < end) {
						end, skip = i, e.skip
					}
				}
				if end < 0 {
					break
				}
				rest = rest[end+skip:]
			}
			s = rest // the statement that carried them: a plain one, or the rest of a WITH list
			if strings.HasPrefix(rest, "e AS (") {
				s = "WITH " + rest
			}
		}
		out = append(out, strings.Join(append(carried, shapeOf(s)), " + "))
	}
	return out
}

func shapeOf(s string) string {
	switch m := statementShape.FindStringSubmatch(s); {
	case strings.HasPrefix(s, "BEGIN"), s == "COMMIT", s == "ROLLBACK":
		return strings.Fields(s)[0]
	case (strings.HasPrefix(s, "WITH e AS (INSERT INTO events ") || strings.HasPrefix(s, "WITH v AS (SELECT * FROM unnest(")) &&
		strings.Contains(s, "INSERT INTO event_parties "):
		return "INSERT events and event_parties"
	case strings.HasPrefix(s, "SELECT nextval("):
		return "SELECT nextval"
	case strings.HasPrefix(s, `SELECT COALESCE((SELECT "seq" FROM "sqlite_sequence"`):
		return "SELECT sqlite_sequence"
	case m != nil:
		return strings.Fields(strings.ToUpper(m[1]))[0] + " " + m[2]
	default:
		return s
	}
}

// TestStatementsPerCall pins the statements a warm CreateOrder and its retry send, on each engine, so
// that a duplicate read or an extra round trip shows up as a failing test rather than as a slower
// benchmark: one statement claims the request id, one reads both parties' accounts (the caller's as it is
// now, and the counterparty), one reads the products, four write the order, its revision and its event
// with its audience, one stores the response (a reference to the revision); on Postgres the claim goes
// with the parties' read and the writes and the response in one statement, five round trips in all. A
// retry reads the key and the revision its response refers to.
func TestStatementsPerCall(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true})
			m := newMarket(t, e)
			first := m.draft(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(1)) // authentication and policy caches warm
			m.get(first.GetId())

			req := m.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(1))
			req.RequestId = "statements-1"
			// The new order, its revision, its event with its audience and the stored response (when the call
			// has a request id): five statements on SQLite; one on Postgres, where the order, the revision and
			// the response are held back (storage.Later) and carried by the event's statement, written last
			// (events.AppendAtCommit), which appends the event and its audience at once. More writes held back
			// after it (the webhook outbox rows) go on their own before COMMIT.
			write := func(before []string, response bool, after ...string) []string {
				if engine == "postgres" {
					w := "INSERT orders + INSERT order_revisions + INSERT events and event_parties"
					if response {
						w = "INSERT orders + INSERT order_revisions + UPDATE idempotency_keys + INSERT events and event_parties"
					}
					return slices.Concat(before, []string{w}, after, []string{"COMMIT"})
				}
				w := []string{"INSERT orders", "INSERT order_revisions", "INSERT events", "INSERT event_parties"}
				w = append(w, after...)
				if response {
					w = append(w, "UPDATE idempotency_keys")
				}
				return slices.Concat(before, w, []string{"COMMIT"})
			}
			// The request id's claim, then the parties: on Postgres the claim is held back and carried by the
			// read (idempotency.ClaimWithFirstStatement), so a retry first fails on the stored key there and
			// runs again with the usual claim.
			claimAndRead := []string{"BEGIN", "INSERT idempotency_keys", "SELECT accounts", "SELECT products"}
			var retryFirst []string
			if engine == "postgres" {
				claimAndRead = []string{"BEGIN", "INSERT idempotency_keys + SELECT accounts", "SELECT products"}
				retryFirst = []string{"BEGIN", "INSERT idempotency_keys + SELECT accounts", "ROLLBACK"}
			}
			cases := []struct {
				name string
				call func() error
				want []string
			}{
				{"CreateOrder", func() error {
					_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
					return err
				}, write(claimAndRead, true)},
				{"CreateOrder retried", func() error {
					_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
					return err
				}, slices.Concat(retryFirst, []string{"BEGIN", "INSERT idempotency_keys", "SELECT idempotency_keys", "SELECT order_revisions", "COMMIT"})},
				{"CreateOrder requested by the buyer", func() error {
					r := m.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(1))
					r.BuyerEmail, r.SupplierId = "", m.supplier.ID()
					_, err := m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(r))
					return err
				}, write([]string{"BEGIN", "SELECT accounts", "SELECT products"}, false)},
				{"GetOrder", func() error {
					_, err := m.buyer.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: first.GetId()}))
					return err
				}, []string{"SELECT orders"}},
			}
			for _, c := range cases {
				e.Statements.Reset()
				if err := c.call(); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				wantStatements(t, c.name, e.Statements.List(), c.want)
			}
			// With the supplier's ERP endpoint, the event's outbox row: one statement more, on Postgres held
			// back to COMMIT. (A
			// server in development mode, for a loopback URL; it reads its moved clock first, which is left
			// out here.)
			dev := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true, Dev: true})
			dm := newMarket(t, dev)
			if _, err := dm.supplier.Webhooks.CreateWebhookEndpoint(dev.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
				Url: "http://127.0.0.1:9/erp", EventTypes: []string{"order.*"}})); err != nil {
				t.Fatal(err)
			}
			dm.draft(commonv1.Policy_POLICY_TRADE_ASSURANCE, dm.terms(1)) // caches warm, the endpoints loaded
			req = dm.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, dm.terms(1))
			req.RequestId = "statements-2"
			dev.Statements.Reset()
			if _, err := dm.supplier.Orders.CreateOrder(dev.Ctx, connect.NewRequest(req)); err != nil {
				t.Fatal(err)
			}
			stmts := slices.DeleteFunc(dev.Statements.List(), func(s string) bool { return shapeOf(s) == "SELECT settings" })
			want := write(claimAndRead, true, "INSERT webhook_deliveries")
			wantStatements(t, "CreateOrder with a webhook endpoint", stmts, want)
		})
	}
}

// wantStatements checks that the statements sent have the shapes want.
func wantStatements(t *testing.T, name string, stmts, want []string) {
	t.Helper()
	if got := shapes(stmts); !slices.Equal(got, want) {
		t.Errorf("%s sent %d statements, want %d:\n  got  %q\n  want %q\n%s", name, len(got), len(want),
			got, want, strings.Join(stmts, "\n"))
	}
}

// TestCreateOrderSeesTheCurrentLimit checks that a new order is checked against the supplier's account as
// it is in the database, not as authentication cached it: a limit lowered through another server process
// applies to the very next order, well inside the authentication cache's bound.
func TestCreateOrderSeesTheCurrentLimit(t *testing.T) {
	engines := []string{"sqlite-file"}
	if slices.Contains(servertest.Engines(), "postgres") {
		engines = append(engines, "postgres")
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			m := newMarket(t, e)
			other := servertest.New(t, servertest.Options{DSN: e.DSN})
			supplier := other.Clients(m.supplier.Key)
			create := func() error {
				_, err := supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(m.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(10))))
				return err
			}
			if err := create(); err != nil { // 155.00 USD, inside 100,000 USD; the other process caches the key
				t.Fatalf("create order: %v", err)
			}
			for _, c := range []struct {
				name   string
				limit  int64
				reason commonv1.ErrorReason
			}{
				{"just inside", 155_00, commonv1.ErrorReason_ERROR_REASON_UNSPECIFIED},
				{"just outside", 154_99, commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED},
			} {
				_, err := m.operator.Admin.UpdateSupplierProfile(e.Ctx, connect.NewRequest(&adminv1.UpdateSupplierProfileRequest{
					AccountId: m.supplier.ID(), Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: c.limit,
						OneTouchExport: true, BankAccount: "CN00TEST", BankAccountVerified: true}}))
				if err != nil {
					t.Fatalf("%s: update supplier profile: %v", c.name, err)
				}
				err = create()
				if c.reason == commonv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
					if err != nil {
						t.Fatalf("%s: create order: %v", c.name, err)
					}
					continue
				}
				servertest.WantError(t, err, connect.CodeFailedPrecondition, c.reason)
			}
		})
	}
}

// TestSweepStatements pins what the deadline sweep sends to close three orders in one batch: their
// orders read in one query (the sweep's reading ahead), then, for the whole batch, one UPDATE of the
// three orders (each at the revision it was read at: no RETURNING, no SELECT after it), one multi-row
// INSERT of their revisions and their events with their audience rows (on SQLite numbered after the
// table's last id and inserted with two multi-row INSERTs; on Postgres numbered from the sequence and
// inserted by one statement), and the batch marked in one statement.
func TestSweepStatements(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true})
			m := newMarket(t, e)
			var ids []string
			for i := 0; i < 3; i++ {
				ids = append(ids, m.delivered(retailPolicy).GetId())
			}
			e.Advance(15 * day) // auto-confirmed: their after-sales windows start
			before := map[string]int64{}
			for _, id := range ids {
				before[id] = e.Store.Client.Order.GetX(e.Ctx, id).Revision
			}
			e.Statements.Reset()
			e.Advance(15 * day) // and end in this sweep
			events := []string{"SELECT sqlite_sequence", "INSERT events", "INSERT event_parties"}
			if engine == "postgres" {
				events = []string{"SELECT nextval", "INSERT events and event_parties"}
			}
			want := []string{"BEGIN", "SELECT deadlines", "SAVEPOINT deadlines", "SELECT orders", "UPDATE orders",
				"INSERT order_revisions"}
			want = append(want, events...)
			want = append(want, "RELEASE SAVEPOINT deadlines", "UPDATE deadlines", "COMMIT",
				"BEGIN", "SELECT deadlines", "COMMIT") // the next claim finds none
			stmts := e.Statements.List()
			if got := shapes(stmts); !slices.Equal(got, want) {
				t.Errorf("the sweep sent %d statements, want %d:\n  got  %q\n  want %q\n%s", len(got), len(want), got, want,
					strings.Join(stmts, "\n"))
			}
			for _, s := range stmts {
				if strings.HasPrefix(s, "INSERT INTO") && strings.Contains(s, "order_revisions") && strings.Count(s, "), (") != 2 {
					t.Errorf("the revisions not in one INSERT of three rows: %s", s)
				}
			}
			// What the batch wrote is what the orders' own changes would have: each order closed at its next
			// revision, its revision entry and its event in the order's feed, the event's payload the order
			// as stored.
			for _, id := range ids {
				m.checkClosedBySweep(id, before[id]+1)
			}
		})
	}
}

// checkClosedBySweep checks, through the parties' clients, that the order id was closed by the sweep at
// revision: it reads as closed at that revision, its last revision entry is the closing one and holds
// the order as it reads, and the buyer's and the supplier's feeds each end the order's events with the
// closing event, whose payload is the order as it reads.
func (m *market) checkClosedBySweep(id string, revision int64) {
	m.t.Helper()
	o := m.get(id)
	if o.GetState() != orderv1.Order_STATE_CLOSED || o.GetRevision() != revision {
		m.t.Fatalf("order %s is %v at revision %d, want closed at %d", id, o.GetState(), o.GetRevision(), revision)
	}
	revs, err := m.buyer.Orders.ListOrderRevisions(m.e.Ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: id, PageSize: 500}))
	if err != nil {
		m.t.Fatalf("revisions of %s: %v", id, err)
	}
	list := revs.Msg.GetRevisions()
	if last := list[len(list)-1]; last.GetRevision() != revision || last.GetChange() != "order.closed" || !proto.Equal(last.GetOrder(), o) {
		m.t.Fatalf("order %s's last revision entry: %d %s %v, want %d order.closed %v", id, last.GetRevision(), last.GetChange(),
			last.GetOrder(), revision, o)
	}
	for _, p := range []*servertest.Party{m.buyer, m.supplier} {
		resp, err := p.Events.ListEvents(m.e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: id, PageSize: 100}))
		if err != nil {
			m.t.Fatalf("events of %s: %v", id, err)
		}
		evs := resp.Msg.GetEvents()
		last := evs[len(evs)-1]
		payload := &orderv1.Order{}
		if err := last.GetPayload().UnmarshalTo(payload); err != nil || last.GetType() != "order.closed" ||
			last.GetRevision() != revision || !proto.Equal(payload, o) {
			m.t.Fatalf("order %s's last event: %s at %d, %v (%v); want order.closed at %d, %v", id, last.GetType(),
				last.GetRevision(), payload, err, revision, o)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].GetRevision() <= evs[i-1].GetRevision() {
				m.t.Fatalf("order %s's events out of revision order: %v", id, evs)
			}
		}
	}
}
