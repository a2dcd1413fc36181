package storage_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestInsertCreated checks on both engines that an insert sent by hand from a create builder's mutation
// stores the row ent's own Save would (defaults included), and returns the entity as it is stored; that a
// mutation it cannot send (a cleared field) is left to the caller with nothing sent; and that the
// builder's validators refuse what Save would refuse.
func TestInsertCreated(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			s := freshStore(t, engine)
			now := time.Date(2026, 12, 8, 2, 30, 0, 123456000, time.UTC) // whole microseconds, as Postgres keeps them
			create := func(tx *ent.Tx, id string) *ent.OrderCreate {
				return tx.Order.Create().SetID(id).SetPolicy(entorder.PolicyRetail).SetPolicyVersion("v1").
					SetState(entorder.StateDraft).SetSupplierID("acc_s").SetBuyerID("acc_b").SetBuyerEmail("b@test.example").
					SetCurrency("USD").SetTerms([]byte{1, 2, 3}).SetGoodsMinor(100).SetTotalMinor(110).SetAdvanceMinor(0).
					SetTotalUsdMinor(110).SetCoveredMinor(110).SetShipByTime(now.Add(time.Hour)).
					SetEtag("e1").SetCreateTime(now).SetUpdateTime(now)
			}
			var created *ent.Order
			err := s.WithTx(ctx, func(tx *ent.Tx) error {
				c := create(tx, "ord_hand")
				if err := c.Prepare(); err != nil {
					return err
				}
				var ok bool
				var err error
				created, ok, err = storage.InsertCreated[ent.Order](storage.Later(ctx), tx, entorder.Table, "ord_hand", c.Mutation())
				if err == nil && !ok {
					t.Error("a plain create was not sent")
				}
				if err != nil {
					return err
				}
				_, err = create(tx, "ord_ent").Save(ctx)
				return err
			})
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			hand, err := s.Client.Order.Get(ctx, "ord_hand")
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			byEnt, err := s.Client.Order.Get(ctx, "ord_ent")
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if d := fieldDiff(hand, created); d != "" {
				t.Errorf("returned entity differs from the stored row: %s", d)
			}
			byEnt.ID = hand.ID
			if d := fieldDiff(byEnt, hand); d != "" {
				t.Errorf("row differs from ent's own insert: %s", d)
			}
			// A cleared field is ent's to write: nothing is sent.
			err = s.WithTx(ctx, func(tx *ent.Tx) error {
				c := create(tx, "ord_cleared")
				c.Mutation().ClearShipment()
				_, ok, err := storage.InsertCreated[ent.Order](ctx, tx, entorder.Table, "ord_cleared", c.Mutation())
				if ok || err != nil {
					t.Errorf("a create with a cleared field: sent %v, error %v", ok, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := s.Client.Order.Query().Where(entorder.ID("ord_cleared")).CountX(ctx); n != 0 {
				t.Errorf("the refused create stored %d rows", n)
			}
			// The validators run as Save's do.
			err = s.WithTx(ctx, func(tx *ent.Tx) error { return create(tx, "ord_bad").SetCurrency("DOLLARS").Prepare() })
			if !ent.IsValidationError(err) {
				t.Errorf("an invalid currency: %v, want a validation error", err)
			}
		})
	}
}

// fieldDiff names the first exported field (but the edges) in which a and b differ, times compared as
// instants; "" when none does.
func fieldDiff(a, b *ent.Order) string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if !f.IsExported() || f.Name == "Edges" {
			continue
		}
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		switch tx := x.(type) {
		case time.Time:
			if !tx.Equal(y.(time.Time)) {
				return fmt.Sprintf("%s: %v and %v", f.Name, x, y)
			}
			continue
		case *time.Time:
			ty := y.(*time.Time)
			if (tx == nil) != (ty == nil) || (tx != nil && !tx.Equal(*ty)) {
				return fmt.Sprintf("%s: %v and %v", f.Name, x, y)
			}
			continue
		}
		if !reflect.DeepEqual(x, y) {
			return fmt.Sprintf("%s: %#v and %#v", f.Name, x, y)
		}
	}
	return ""
}
