package bounds_test

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/bounds"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestLimitsJustInsideAndOutside sends requests at each kind of bound and one step past it through the
// generated clients, on every engine: past the bound is INVALID_ARGUMENT with a field violation naming the
// field (a 1 MB id used to be looked up, a huge quantity or price overflowed the order's total, and a
// negative trade-assurance limit was stored); at the bound the schema lets the request through to the
// business rules, and nothing answers INTERNAL.
func TestLimitsJustInsideAndOutside(t *testing.T) {
	type limitCase struct {
		name  string
		field string // the field at fault past the bound
		send  func(m *market, past bool) error
	}
	size := func(past bool, n int) int {
		if past {
			return n + 1
		}
		return n
	}
	order := func(m *market, edit func(*orderv1.OrderTerms)) error {
		terms := m.terms(m.e.Clock.Now().Add(14 * 24 * time.Hour))
		edit(terms)
		_, err := m.supplier.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
			Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: m.buyer.Account.Email, Terms: terms,
		}))
		return err
	}
	cases := []limitCase{
		{"order id of 64 characters / 1 MB", "order_id", func(m *market, past bool) error {
			id := strings.Repeat("o", bounds.IDLen)
			if past {
				id = strings.Repeat("o", 1<<20)
			}
			_, err := m.buyer.Orders.GetOrder(m.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
			return err
		}},
		{"request id of 128 characters", "request_id", func(m *market, past bool) error {
			_, err := m.supplier.Orders.CreateProduct(m.e.Ctx, connect.NewRequest(&orderv1.CreateProductRequest{
				RequestId: strings.Repeat("r", size(past, bounds.RequestIDLen)), Name: "Gadget",
				UnitPrice: &commonv1.Money{AmountMinor: 1_00, Currency: "USD"},
			}))
			return err
		}},
		{"request id of 128 bytes", "request_id", func(m *market, past bool) error {
			id := strings.Repeat("r", bounds.RequestIDLen)
			if past {
				id = strings.Repeat("é", bounds.RequestIDLen) // 128 characters, 256 bytes
			}
			_, err := m.supplier.Payouts.RequestWithdrawal(m.e.Ctx, connect.NewRequest(&payoutv1.RequestWithdrawalRequest{
				RequestId: id, Amount: &commonv1.Money{AmountMinor: 1_00, Currency: "USD"},
			}))
			return err
		}},
		{"remark of 4000 characters", "terms.remark", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) { o.Remark = strings.Repeat("x", size(past, bounds.TextLen)) })
		}},
		{"200 order lines", "terms.lines", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) {
				o.Lines = nil
				for i := 0; i < size(past, bounds.MaxOrderLines); i++ {
					o.Lines = append(o.Lines, &orderv1.OrderLine{ProductId: m.product, Quantity: 1})
				}
			})
		}},
		{"quantity of 1,000,000", "terms.lines[0].quantity", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) {
				o.Lines[0].Quantity = int64(size(past, int(bounds.MaxLineQuantity)))
				o.Lines[0].UnitPriceMinor = 1
			})
		}},
		{"unit price of 1e13", "terms.lines[0].unit_price_minor", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) {
				o.Lines[0].Quantity, o.ShippingFeeMinor, o.InsuranceFeeMinor = 1, 0, 0
				o.Lines[0].UnitPriceMinor = int64(size(past, int(bounds.MaxAmountMinor)))
			})
		}},
		{"the overflowing order of the report: 4 × 4611686018427387929", "terms.lines[0].unit_price_minor", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) {
				o.Lines[0].Quantity, o.Lines[0].UnitPriceMinor = 4, 10_00
				if past {
					o.Lines[0].UnitPriceMinor = 4611686018427387929
				}
			})
		}},
		{"10 × MaxInt64", "terms.lines[0].unit_price_minor", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) {
				o.Lines[0].Quantity, o.Lines[0].UnitPriceMinor = 10, 10_00
				if past {
					o.Lines[0].UnitPriceMinor = math.MaxInt64
				}
			})
		}},
		{"shipping fee of 1e13", "terms.shipping_fee_minor", func(m *market, past bool) error {
			return order(m, func(o *orderv1.OrderTerms) { o.ShippingFeeMinor = int64(size(past, int(bounds.MaxAmountMinor))) })
		}},
		{"product price of 1e13", "unit_price.amount_minor", func(m *market, past bool) error {
			_, err := m.supplier.Orders.CreateProduct(m.e.Ctx, connect.NewRequest(&orderv1.CreateProductRequest{
				Name: "Yacht", UnitPrice: &commonv1.Money{AmountMinor: int64(size(past, int(bounds.MaxAmountMinor))), Currency: "USD"},
			}))
			return err
		}},
		{"trade-assurance limit of 0 / -1", "supplier.trade_assurance_limit_usd_minor", func(m *market, past bool) error {
			limit := int64(0)
			if past {
				limit = -1
			}
			_, err := m.operator.Admin.UpdateSupplierProfile(m.e.Ctx, connect.NewRequest(&adminv1.UpdateSupplierProfileRequest{
				AccountId: m.supplier.ID(), Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: limit, BankAccount: "CN00TEST"},
			}))
			return err
		}},
		{"trade-assurance limit of 1e13", "supplier.trade_assurance_limit_usd_minor", func(m *market, past bool) error {
			_, err := m.operator.Admin.UpdateSupplierProfile(m.e.Ctx, connect.NewRequest(&adminv1.UpdateSupplierProfileRequest{
				AccountId: m.supplier.ID(), Supplier: &adminv1.SupplierProfile{
					TradeAssuranceLimitUsdMinor: int64(size(past, int(bounds.MaxAmountMinor))), BankAccount: "CN00TEST"},
			}))
			return err
		}},
		{"event cursor of 19 digits", "after_id", func(m *market, past bool) error {
			cursor := strconv.FormatInt(math.MaxInt64, 10)
			if past {
				cursor = "0" + cursor
			}
			_, err := m.operator.Events.ListEvents(m.e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{AfterId: cursor}))
			return err
		}},
		{"email of 254 characters", "email", func(m *market, past bool) error {
			local := strings.Repeat("a", 64)
			domain := strings.Repeat(strings.Repeat("d", 62)+".", 3) + "example"
			email := local + "@" + domain[:bounds.EmailLen-len(local)-1-4] + ".com"
			if past {
				email = "a" + email
			}
			_, err := m.operator.Admin.CreateAccount(m.e.Ctx, connect.NewRequest(&adminv1.CreateAccountRequest{
				Role: commonv1.Role_ROLE_BUYER, Name: "Long Mail", Email: email, Country: "US",
			}))
			return err
		}},
	}
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			m := newMarket(t, e)
			for _, c := range cases {
				err := c.send(m, true)
				wantInvalidField(t, err, c.field, c.name+", one past")
				err = c.send(m, false)
				if code := connect.CodeOf(err); err != nil && code == connect.CodeInternal {
					t.Errorf("%s, at the bound: internal: %v", c.name, err)
				}
				for _, v := range servertest.Detail(err).GetFieldViolations() {
					if v.GetField() == c.field {
						t.Errorf("%s, at the bound: refused: %v", c.name, err)
					}
				}
			}
		})
	}
}
