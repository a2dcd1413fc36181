package servertest

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
)

// Terms are valid order terms a test starts from: quantity units of one product in a currency, shipped
// by air (FCA) to a US address, paid in full, covered after delivery, to ship by shipBy. A test sets
// the fields it is about on the copy it gets.
func Terms(product, currency string, quantity int64, shipBy time.Time) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines: []*orderv1.OrderLine{{ProductId: product, Quantity: quantity}}, Currency: currency,
		ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
			Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(shipBy),
	}
}
