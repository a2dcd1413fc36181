package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/ent/schema"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestUpdateAtRevision checks the one-statement update of a row at its revision on both engines: the row
// it returns is the row as a fresh read finds it (fields set, added to and cleared; an enum; a time),
// a row no longer at the revision is not changed and not returned, a failing validator sends nothing,
// and a JSON field's value is refused rather than sent unencoded.
func TestUpdateAtRevision(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			s, stmts := heldStore(t, engine)
			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			shipped := start.Add(36 * time.Hour)
			s.Client.Order.Create().SetID("ord_1").SetPolicy(entorder.PolicyRetail).SetPolicyVersion("v1").
				SetState(entorder.StatePaid).SetSupplierID("acc_s").SetBuyerID("acc_b").SetBuyerEmail("b@test.example").
				SetCurrency("USD").SetTerms([]byte{1}).SetGoodsMinor(100).SetTotalMinor(150).SetAdvanceMinor(0).
				SetTotalUsdMinor(150).SetCoveredMinor(150).SetShipByTime(shipped).SetAutoConfirmDeadline(shipped).
				SetEtag("e1").SetCreateTime(start).SetUpdateTime(start).ExecX(ctx)
			update := func(rev int64, set func(u *ent.OrderUpdate)) (*ent.Order, bool, error) {
				var (
					o     *ent.Order
					found bool
				)
				err := s.WithTx(ctx, func(tx *ent.Tx) error {
					u := tx.Order.Update().SetRevision(rev + 1).SetUpdateTime(start.Add(time.Hour))
					set(u)
					var err error
					o, found, err = storage.UpdateAtRevision[ent.Order](ctx, tx, s.Dialect, entorder.Table, entorder.Columns,
						u.Check, u.Mutation(), "ord_1", rev)
					return err
				})
				return o, found, err
			}

			stmts.Reset()
			got, found, err := update(1, func(u *ent.OrderUpdate) {
				u.SetState(entorder.StateShipped).AddPaidMinor(150).ClearAutoConfirmDeadline().SetEtag("e2").SetDeliverTime(shipped)
			})
			if err != nil || !found {
				t.Fatalf("update at the row's revision: found %v, %v", found, err)
			}
			for _, st := range stmts.List() {
				if strings.HasPrefix(st, "SELECT") {
					t.Fatalf("a read besides the update: %s", st)
				}
			}
			fresh := s.Client.Order.GetX(ctx, "ord_1")
			if diff := cmp.Diff(fresh.String(), got.String()); diff != "" {
				t.Fatalf("returned row differs from a fresh read (-fresh +returned):\n%s", diff)
			}
			if got.Revision != 2 || got.State != entorder.StateShipped || got.PaidMinor != 150 || got.AutoConfirmDeadline != nil ||
				got.DeliverTime == nil || !got.DeliverTime.Equal(shipped) {
				t.Fatalf("returned row = %v", got)
			}

			if _, found, err := update(1, func(u *ent.OrderUpdate) { u.SetEtag("stale") }); err != nil || found {
				t.Fatalf("update at an old revision: found %v, %v; want not found", found, err)
			}
			if _, _, err := update(2, func(u *ent.OrderUpdate) { u.SetState("lost") }); err == nil {
				t.Fatal("an invalid enum value was accepted")
			}
			if o := s.Client.Order.GetX(ctx, "ord_1"); o.Etag != "e2" || o.Revision != 2 {
				t.Fatalf("after the refused updates: etag %q, revision %d; want e2 and 2 (nothing written)", o.Etag, o.Revision)
			}

			err = s.WithTx(ctx, func(tx *ent.Tx) error {
				u := tx.ReturnRequest.Update().SetLines([]schema.ReturnedLine{{}})
				_, _, err := storage.UpdateAtRevision[ent.ReturnRequest](ctx, tx, s.Dialect, returnrequest.Table,
					returnrequest.Columns, u.Check, u.Mutation(), "ret_1", 1)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "lines") {
				t.Fatalf("a JSON field's value: %v, want it refused naming the field", err)
			}
		})
	}
}
