package order_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// statementShape reduces a statement to its verb and first table ("INSERT orders"), so the expected
// sequences below read as what each call costs in round trips.
var statementShape = regexp.MustCompile("(?is)^\\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\\b.*?(?:FROM\\s+)?[`\"]?([a-z_]+)[`\"]?")

// heldItem is a held-back write carried in a statement's WITH list (storage.Later), by its verb and table.
var heldItem = regexp.MustCompile(`(?s)^held_\d+ AS \((INSERT INTO|UPDATE|DELETE FROM) "?([a-z_]+)"?.*?\)\), `)

// shapes reduces each statement to its shape; a statement carrying held-back writes reads as the shapes
// of the writes and its own, joined by " + ".
func shapes(stmts []string) []string {
	out := make([]string, 0, len(stmts))
	for _, s := range stmts {
		var carried []string
		if rest, ok := strings.CutPrefix(s, "WITH held_"); ok {
			rest = "held_" + rest
			for {
				loc := heldItem.FindStringSubmatchIndex(rest)
				if loc == nil {
					break
				}
				carried = append(carried, strings.Fields(rest[loc[2]:loc[3]])[0]+" "+rest[loc[4]:loc[5]])
				rest = rest[loc[1]:]
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
	case strings.HasPrefix(s, "WITH e AS (INSERT INTO events ") && strings.Contains(s, "INSERT INTO event_parties "):
		return "INSERT events and event_parties"
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
// with its audience (one on Postgres), one stores the response (a reference to the revision); a retry
// reads the key and the revision its response refers to.
func TestStatementsPerCall(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true})
			m := newMarket(t, e)
			first := m.draft(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(1)) // authentication and policy caches warm
			m.get(first.GetId())

			req := m.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(1))
			req.RequestId = "statements-1"
			// The new order, its revision and its event with its audience: four statements on SQLite; one on
			// Postgres, where the order and the revision are held back (storage.Later) and carried by the
			// event's statement, which appends the event and its audience at once.
			write := func(before []string, after ...string) []string {
				if engine == "postgres" {
					return slices.Concat(before, []string{"INSERT orders + INSERT order_revisions + INSERT events and event_parties"}, after)
				}
				return slices.Concat(before, []string{"INSERT orders", "INSERT order_revisions", "INSERT events", "INSERT event_parties"}, after)
			}
			cases := []struct {
				name string
				call func() error
				want []string
			}{
				{"CreateOrder", func() error {
					_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
					return err
				}, write([]string{"BEGIN", "INSERT idempotency_keys", "SELECT accounts", "SELECT products"},
					"UPDATE idempotency_keys", "COMMIT")},
				{"CreateOrder retried", func() error {
					_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
					return err
				}, []string{"BEGIN", "INSERT idempotency_keys", "SELECT idempotency_keys", "SELECT order_revisions", "COMMIT"}},
				{"CreateOrder requested by the buyer", func() error {
					r := m.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(1))
					r.BuyerEmail, r.SupplierId = "", m.supplier.ID()
					_, err := m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(r))
					return err
				}, write([]string{"BEGIN", "SELECT accounts", "SELECT products"}, "COMMIT")},
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
				stmts := e.Statements.List()
				if got := shapes(stmts); !slices.Equal(got, c.want) {
					t.Errorf("%s sent %d statements, want %d:\n  got  %q\n  want %q\n%s", c.name, len(got), len(c.want),
						got, c.want, strings.Join(stmts, "\n"))
				}
			}
		})
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
// orders read in one query (the sweep's reading ahead), then per order one UPDATE that returns the
// updated row (no SELECT after it) and its event (on Postgres with its audience), then the batch's
// revisions (and on SQLite the events' audience rows) in one multi-row INSERT each, and the batch marked
// in one statement.
func TestSweepStatements(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true})
			m := newMarket(t, e)
			for i := 0; i < 3; i++ {
				m.delivered(retailPolicy)
			}
			e.Advance(15 * day) // auto-confirmed: their after-sales windows start
			e.Statements.Reset()
			e.Advance(15 * day) // and end in this sweep
			perOrder, together := []string{"UPDATE orders", "INSERT events"}, []string{"INSERT order_revisions", "INSERT event_parties"}
			if engine == "postgres" {
				perOrder, together = []string{"UPDATE orders", "INSERT events and event_parties"}, []string{"INSERT order_revisions"}
			}
			want := []string{"BEGIN", "SELECT deadlines", "SAVEPOINT deadlines", "SELECT orders"}
			for i := 0; i < 3; i++ {
				want = append(want, perOrder...)
			}
			want = append(want, together...)
			want = append(want, "RELEASE SAVEPOINT deadlines", "UPDATE deadlines", "COMMIT",
				"BEGIN", "SELECT deadlines", "COMMIT") // the next claim finds none
			stmts := e.Statements.List()
			if got := shapes(stmts); !slices.Equal(got, want) {
				t.Errorf("the sweep sent %d statements, want %d:\n  got  %q\n  want %q\n%s", len(got), len(want), got, want,
					strings.Join(stmts, "\n"))
			}
			for _, s := range stmts {
				if strings.HasPrefix(s, "UPDATE") && strings.Contains(s, "orders") && !strings.Contains(s, " RETURNING ") {
					t.Errorf("an order's update without RETURNING: %s", s)
				}
				if strings.HasPrefix(s, "INSERT INTO") && strings.Contains(s, "order_revisions") && strings.Count(s, "), (") != 2 {
					t.Errorf("the revisions not in one INSERT of three rows: %s", s)
				}
			}
		})
	}
}
