// Package devseed creates the demo marketplace of development mode: a buyer, two suppliers with different
// limits and export capability, an arbiter, a warehouse, an operator and a few products. Each start issues
// fresh API keys for them and revokes those of the start before (only key hashes are stored, so earlier
// secrets cannot be shown again). It runs only on a database created in development mode (devmode.CheckMode).
// Demo then gives a fresh marketplace a history, made through the services with those keys.
package devseed

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	"github.com/tradeassure/tradeassure/ent/apikey"
	"github.com/tradeassure/tradeassure/ent/product"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/storage"
)

// Principal is one seeded account and its key.
type Principal struct {
	Role      string   `json:"role"`
	Name      string   `json:"name"`
	Email     string   `json:"email"`
	AccountID string   `json:"account_id"`
	APIKey    string   `json:"api_key"`
	Products  []string `json:"product_ids,omitempty"`
	Note      string   `json:"note,omitempty"`
}

type seedAccount struct {
	key      string
	acct     admin.NewAccount
	note     string
	products []seedProduct
}

type seedProduct struct {
	name  string
	price int64
}

var seeds = []seedAccount{
	{key: "buyer", acct: admin.NewAccount{Role: commonv1.Role_ROLE_BUYER, Name: "Acme Retail LLC", Email: "buyer@acme.example", Country: "US"},
		note: "a US buyer"},
	{key: "supplier", acct: admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: "Shenzhen Bright Electronics", Email: "sales@bright.example", Country: "CN",
		Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 100_000_00, OneTouchExport: true, BankAccount: "CN12BANK0000123456789",
			BankAccountVerified: true, FreeReturnProgramme: true,
			ReturnAddress: &commonv1.Address{RecipientName: "Bright Returns Dept", Phone: "+86 755 1234 5678", Country: "CN", Lines: []string{"88 Keji Road"}, City: "Shenzhen", PostalCode: "518000"}}},
		note:     "limit 100,000 USD, one-touch export enabled, free-return programme",
		products: []seedProduct{{"USB-C charger 65W", 12_50}, {"Bluetooth speaker", 23_00}, {"Smart watch", 48_00}}},
	{key: "supplier_small", acct: admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: "Yiwu Small Goods Co", Email: "orders@yiwu.example", Country: "CN",
		Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 20_000_00, OneTouchExport: false, BankAccount: "CN98BANK0000987654321", BankAccountVerified: true}},
		note:     "limit 20,000 USD, no one-touch export (orders capped at 5,000 USD under trade assurance)",
		products: []seedProduct{{"Ceramic mug", 2_20}, {"Cotton tote bag", 1_10}}},
	{key: "arbiter", acct: admin.NewAccount{Role: commonv1.Role_ROLE_ARBITER, Name: "Platform Arbiter", Email: "arbiter@platform.example", Country: "SG"}},
	{key: "warehouse", acct: admin.NewAccount{Role: commonv1.Role_ROLE_WAREHOUSE, Name: "LA Return Warehouse", Email: "warehouse@platform.example", Country: "US"}},
	{key: "operator", acct: admin.NewAccount{Role: commonv1.Role_ROLE_OPERATOR, Name: "Platform Operator", Email: "ops@platform.example", Country: "SG"},
		note: "may move the clock: AdminService/AdvanceClock"},
}

// keyName names the demo keys.
const keyName = "dev"

// Seed creates the demo accounts and products when missing, revokes their demo keys of earlier starts,
// and issues a new key for each.
func Seed(ctx context.Context, store *storage.Store, now time.Time) (map[string]Principal, error) {
	out := map[string]Principal{}
	err := store.WithTx(ctx, func(tx *ent.Tx) error {
		for _, s := range seeds {
			a, err := tx.Account.Query().Where(account.Email(s.acct.Email)).Only(ctx)
			if ent.IsNotFound(err) {
				a, err = admin.CreateAccount(ctx, tx, s.acct, now)
			}
			if err != nil {
				return fmt.Errorf("seed %s: %w", s.key, err)
			}
			var ids []string
			for _, p := range s.products {
				prod, err := tx.Product.Query().Where(product.SupplierID(a.ID), product.Name(p.name)).Only(ctx)
				if ent.IsNotFound(err) {
					prod, err = tx.Product.Create().SetID(fmt.Sprintf("prd_%s_%d", a.ID[len(a.ID)-8:], len(ids)+1)).
						SetSupplierID(a.ID).SetName(p.name).SetCurrency("USD").SetUnitPriceMinor(p.price).
						SetCreateTime(now).SetUpdateTime(now).Save(ctx)
				}
				if err != nil {
					return fmt.Errorf("seed product %s: %w", p.name, err)
				}
				ids = append(ids, prod.ID)
			}
			// The keys of the previous start stop working: only the keys just printed are valid.
			if err := tx.APIKey.Update().Where(apikey.AccountID(a.ID), apikey.Name(keyName), apikey.RevokeTimeIsNil()).
				SetRevokeTime(now).Exec(ctx); err != nil {
				return fmt.Errorf("revoke demo keys of %s: %w", s.key, err)
			}
			_, secret, err := admin.IssueKey(ctx, tx, a.ID, keyName, now)
			if err != nil {
				return err
			}
			out[s.key] = Principal{Role: a.Role.String(), Name: a.Name, Email: a.Email, AccountID: a.ID, APIKey: secret, Products: ids, Note: s.note}
		}
		return nil
	})
	return out, err
}

// Order is the order keys are printed in.
func Order() []string {
	keys := make([]string, len(seeds))
	for i, s := range seeds {
		keys[i] = s.key
	}
	return keys
}
