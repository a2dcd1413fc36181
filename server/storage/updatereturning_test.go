package storage_test

import (
	"context"
	"errors"
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
			ctx, s, stmts, start := orderStore(t, engine)
			shipped := start.Add(36 * time.Hour)
			paidOrder(ctx, s, "ord_1", start, shipped)
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

// TestDeferUpdateAtRevision checks the deferred update of rows at their revisions on both engines: the
// row it works out is the row as a fresh read finds it once the batch is flushed (fields set and
// cleared, an enum, a time with nanoseconds), the batch's rows go in one UPDATE, nothing is sent before
// the flush, an update that adds to a field is left to the caller, and a flush in which one row moved on
// from its revision fails (the caller rolls the batch back).
func TestDeferUpdateAtRevision(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx, s, stmts, start := orderStore(t, engine)
			shipped := start.Add(36*time.Hour + 123456789*time.Nanosecond)
			for _, id := range []string{"ord_1", "ord_2", "ord_3"} {
				paidOrder(ctx, s, id, start, shipped)
			}
			// batch defers an update of each order read at rev, and flushes them.
			batch := func(rev int64, ids ...string) (map[string]*ent.Order, error) {
				out := map[string]*ent.Order{}
				err := s.WithTx(ctx, func(tx *ent.Tx) error {
					d := &storage.Deferred{}
					dctx := storage.WithDeferred(ctx, d)
					for _, id := range ids {
						current := tx.Order.GetX(ctx, id)
						current.Revision = rev
						u := tx.Order.Update().SetRevision(rev + 1).SetUpdateTime(shipped).SetState(entorder.StateShipped).
							ClearAutoConfirmDeadline().SetEtag("e2").SetDeliverTime(shipped)
						o, deferred, err := storage.DeferUpdateAtRevision[ent.Order](dctx, s.Dialect, entorder.Table, u.Check,
							u.Mutation(), current, id, rev)
						if err != nil || !deferred {
							t.Fatalf("defer the update of %s: %v, %v", id, deferred, err)
						}
						out[id] = o
					}
					stmts.Reset()
					return d.Flush(ctx, tx)
				})
				return out, err
			}
			got, err := batch(1, "ord_1", "ord_2")
			if err != nil {
				t.Fatalf("flush: %v", err)
			}
			if l := stmts.List(); len(l) != 2 || !strings.HasPrefix(l[0], "UPDATE") || l[1] != "COMMIT" {
				t.Fatalf("the flush sent %d statements, want one UPDATE (and the COMMIT):\n%s", len(l), strings.Join(l, "\n"))
			}
			for _, id := range []string{"ord_1", "ord_2"} {
				fresh := s.Client.Order.GetX(ctx, id)
				if diff := cmp.Diff(fresh.String(), got[id].String()); diff != "" {
					t.Fatalf("%s: worked-out row differs from a fresh read (-fresh +worked out):\n%s", id, diff)
				}
				if fresh.Revision != 2 || fresh.State != entorder.StateShipped || fresh.AutoConfirmDeadline != nil {
					t.Fatalf("%s after the flush = %v", id, fresh)
				}
			}

			// ord_1 is at revision 2 now: a batch reading it at 1 fails as a whole and writes nothing.
			if _, err := batch(1, "ord_3", "ord_1"); !errors.Is(err, storage.ErrMoved) || !strings.Contains(err.Error(), "1 applied") {
				t.Fatalf("a batch with a row moved on: %v, want it failed", err)
			}
			if o := s.Client.Order.GetX(ctx, "ord_3"); o.Revision != 1 || o.State != entorder.StatePaid {
				t.Fatalf("ord_3 after the failed batch: revision %d, %s; want untouched", o.Revision, o.State)
			}

			err = s.WithTx(ctx, func(tx *ent.Tx) error {
				current := tx.Order.GetX(ctx, "ord_3")
				u := tx.Order.Update().SetRevision(2).AddPaidMinor(150)
				_, deferred, err := storage.DeferUpdateAtRevision[ent.Order](storage.WithDeferred(ctx, &storage.Deferred{}),
					s.Dialect, entorder.Table, u.Check, u.Mutation(), current, "ord_3", 1)
				if err != nil || deferred {
					t.Fatalf("an update adding to a field: deferred %v, %v; want it left to the caller", deferred, err)
				}
				_, deferred, err = storage.DeferUpdateAtRevision[ent.Order](ctx, s.Dialect, entorder.Table, u.Check,
					u.Mutation(), current, "ord_3", 1)
				if err != nil || deferred {
					t.Fatalf("an update outside a batch: deferred %v, %v; want it left to the caller", deferred, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// orderStore is a store on engine recording its statements, and the time its orders are created at.
func orderStore(t *testing.T, engine string) (context.Context, *storage.Store, *storage.Statements, time.Time) {
	t.Helper()
	s, stmts := heldStore(t, engine)
	return context.Background(), s, stmts, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
}

// paidOrder stores a paid order id, created at start, to ship by shipped.
func paidOrder(ctx context.Context, s *storage.Store, id string, start, shipped time.Time) {
	s.Client.Order.Create().SetID(id).SetPolicy(entorder.PolicyRetail).SetPolicyVersion("v1").
		SetState(entorder.StatePaid).SetSupplierID("acc_s").SetBuyerID("acc_b").SetBuyerEmail("b@test.example").
		SetCurrency("USD").SetTerms([]byte{1}).SetGoodsMinor(100).SetTotalMinor(150).SetAdvanceMinor(0).
		SetTotalUsdMinor(150).SetCoveredMinor(150).SetShipByTime(shipped).SetAutoConfirmDeadline(shipped).
		SetEtag("e1").SetCreateTime(start).SetUpdateTime(start).ExecX(ctx)
}
