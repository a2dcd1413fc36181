package auth_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	"github.com/tradeassure/tradeassure/ent/apikey"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestChangesReachOtherProcesses runs two servers on one database: a key verified (and kept in memory) by
// server B stops working on B, or its account stops trading there, once server A commits a revocation, a
// ban, a restriction or a freeze — within the bound, waited for as a condition. SQLite runs both on one
// WAL file, Postgres on one database. Server A, which commits the change, sees it at once.
func TestChangesReachOtherProcesses(t *testing.T) {
	for _, engine := range servertest.Engines() {
		if engine == "sqlite" {
			engine = "sqlite-file"
		}
		t.Run(engine, func(t *testing.T) {
			a := servertest.New(t, servertest.Options{Engine: engine})
			b := servertest.New(t, servertest.Options{DSN: a.DSN})
			operator := a.Staff(commonv1.Role_ROLE_OPERATOR)
			ctx := context.Background()
			for _, c := range []struct {
				name   string
				change func(t *testing.T, s *servertest.Party)
				// code and reason of B's CreateOrder once the change is seen
				code   connect.Code
				reason commonv1.ErrorReason
			}{
				{"revocation", func(t *testing.T, s *servertest.Party) {
					k, err := a.Store.Client.APIKey.Query().Where(apikey.SecretHash(auth.Hash(s.Key))).Only(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := operator.Admin.RevokeApiKey(ctx, connect.NewRequest(&adminv1.RevokeApiKeyRequest{ApiKeyId: k.ID})); err != nil {
						t.Fatal(err)
					}
				}, connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED},
				{"ban", func(t *testing.T, s *servertest.Party) {
					update(t, a.Store, s.ID(), func(u *ent.AccountUpdateOne) { u.SetStanding(account.StandingBanned) })
				}, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED},
				{"restriction", func(t *testing.T, s *servertest.Party) {
					update(t, a.Store, s.ID(), func(u *ent.AccountUpdateOne) {
						u.SetStanding(account.StandingRestricted).SetRestrictedUntil(a.Clock.Now().Add(30 * 24 * time.Hour))
					})
				}, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED},
				{"freeze", func(t *testing.T, s *servertest.Party) {
					update(t, a.Store, s.ID(), func(u *ent.AccountUpdateOne) { u.SetFrozen(true) })
				}, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_FROZEN},
			} {
				t.Run(c.name, func(t *testing.T) {
					supplier := a.Supplier(1_000_000_00, true)
					product := a.Product(supplier, "Widget", 10_00, "USD")
					buyer := a.Buyer("US")
					onA, onB := a.Clients(supplier.Key), b.Clients(supplier.Key)
					createOn := func(p *servertest.Party) error {
						_, err := p.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
							Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: buyer.Account.Email, Terms: terms(product, a.Clock.Now())}))
						return err
					}
					create := func() error { return createOn(onB) }
					// Both verify the key and keep it.
					for _, p := range []*servertest.Party{onA, onB} {
						if err := createOn(p); err != nil {
							t.Fatalf("before the %s: %v", c.name, err)
						}
					}
					c.change(t, supplier)
					// The process that committed the change forgets what it kept at once.
					servertest.WantError(t, createOn(onA), c.code, c.reason)
					var last error
					servertest.WaitFor(t, "server B to see the "+c.name, func() bool {
						last = create()
						return connect.CodeOf(last) == c.code
					}, func() int { return 0 })
					servertest.WantError(t, last, c.code, c.reason)
				})
			}
		})
	}
}

func update(t *testing.T, s *storage.Store, id string, set func(*ent.AccountUpdateOne)) {
	t.Helper()
	err := s.WithTx(context.Background(), func(tx *ent.Tx) error {
		u := tx.Account.UpdateOneID(id)
		set(u)
		return u.Exec(context.Background())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func terms(product string, now time.Time) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines: []*orderv1.OrderLine{{ProductId: product, Quantity: 1}}, Currency: "USD",
		ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"}},
		TradeTerm:       orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(now.Add(30 * 24 * time.Hour)),
	}
}
