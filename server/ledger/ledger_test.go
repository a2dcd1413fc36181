package ledger_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/servertest"
)

var now = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

// each runs fn on a fresh database of every engine (SQLite in a WAL file, so transactions really overlap
// with reads; Postgres when configured).
func each(t *testing.T, fn func(t *testing.T, e *servertest.Env)) {
	for _, engine := range servertest.Engines() {
		if engine == "sqlite" {
			engine = "sqlite-file"
		}
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, servertest.New(t, servertest.Options{Engine: engine}))
		})
	}
}

func post(e *servertest.Env, tr ledger.Transfer) (ledger.Result, error) {
	var r ledger.Result
	err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) (err error) {
		r, err = ledger.PostResult(e.Ctx, tx, tr)
		return err
	})
	return r, err
}

func move(cause string, amount int64, from, to ledger.Leg) ledger.Transfer {
	from.Amount, to.Amount = -amount, amount
	return ledger.Transfer{CauseKind: "test", CauseID: cause, Currency: "USD", Time: now, Legs: []ledger.Leg{from, to}}
}

func balance(t *testing.T, e *servertest.Env, kind ledger.Kind, owner string) int64 {
	t.Helper()
	var b int64
	if err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) (err error) {
		b, err = ledger.Balance(e.Ctx, tx, kind, owner, "USD")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

func audit(t *testing.T, e *servertest.Env) {
	t.Helper()
	err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
		problems, err := ledger.Audit(e.Ctx, tx)
		for _, p := range problems {
			t.Error(p)
		}
		rep, rerr := ledger.Reconcile(e.Ctx, tx, order.Finished)
		if !rep.OK() {
			t.Errorf("reconcile: %+v", rep)
		}
		return errors.Join(err, rerr)
	})
	if err != nil {
		t.Fatal(err)
	}
}

var (
	funding = ledger.Leg{Kind: ledger.BuyerFunding, Owner: "buyer"}
	escrow  = ledger.Leg{Kind: ledger.OrderEscrow, Owner: "ord"}
	avail   = ledger.Leg{Kind: ledger.SupplierAvailable, Owner: "sup"}
	bank    = ledger.Leg{Kind: ledger.BankPayouts, Owner: "sup"}
)

// TestPostRefusesMalformedTransfers checks that an unbalanced or incomplete transfer writes nothing.
func TestPostRefusesMalformedTransfers(t *testing.T) {
	e := servertest.New(t, servertest.Options{})
	ok := move("ok", 5, funding, escrow)
	tests := map[string]func(tr *ledger.Transfer){
		"no cause kind": func(tr *ledger.Transfer) { tr.CauseKind = "" },
		"no cause id":   func(tr *ledger.Transfer) { tr.CauseID = "" },
		"bad currency":  func(tr *ledger.Transfer) { tr.Currency = "usd" },
		"no time":       func(tr *ledger.Transfer) { tr.Time = time.Time{} },
		"one leg":       func(tr *ledger.Transfer) { tr.Legs = tr.Legs[:1] },
		"zero leg":      func(tr *ledger.Transfer) { tr.Legs = append(tr.Legs, ledger.Leg{Kind: ledger.Refunds, Owner: "b"}) },
		"unbalanced":    func(tr *ledger.Transfer) { tr.Legs[1].Amount++ },
		"one account x 2": func(tr *ledger.Transfer) {
			tr.Legs[1] = ledger.Leg{Kind: funding.Kind, Owner: funding.Owner, Amount: 5}
		},
		"unknown kind": func(tr *ledger.Transfer) { tr.Legs[1].Kind = "piggy_bank" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			tr := ok
			tr.Legs = append([]ledger.Leg(nil), ok.Legs...)
			mutate(&tr)
			if _, err := post(e, tr); err == nil {
				t.Fatal("posted")
			}
		})
	}
	if n, _ := e.Store.Client.LedgerTransfer.Query().Count(e.Ctx); n != 0 {
		t.Fatalf("%d transfers written", n)
	}
}

// TestPostOncePerCause checks a replayed cause moves nothing and names the first transfer.
func TestPostOncePerCause(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		first, err := post(e, move("pay_1", 100, funding, escrow))
		if err != nil || !first.Posted {
			t.Fatalf("first post: %+v, %v", first, err)
		}
		again, err := post(e, move("pay_1", 100, funding, escrow))
		if err != nil || again.Posted || again.TransferID != first.TransferID {
			t.Fatalf("replay: %+v, %v", again, err)
		}
		// A re-post of the cause with other legs is refused, and moves nothing.
		for name, tr := range map[string]ledger.Transfer{
			"other amount":   move("pay_1", 999, funding, escrow),
			"other account":  move("pay_1", 100, funding, ledger.Leg{Kind: ledger.OrderEscrow, Owner: "ord_other"}),
			"other currency": func() ledger.Transfer { tr := move("pay_1", 100, funding, escrow); tr.Currency = "EUR"; return tr }(),
			"another leg": func() ledger.Transfer {
				tr := move("pay_1", 100, funding, escrow)
				tr.Legs[1].Amount = 50
				tr.Legs = append(tr.Legs, ledger.Leg{Kind: ledger.OrderEscrow, Owner: "ord_other", Amount: 50})
				return tr
			}(),
		} {
			if _, err := post(e, tr); !errors.Is(err, ledger.ErrCauseConflict) {
				t.Errorf("%s: %v, want ErrCauseConflict", name, err)
			}
		}
		if got := balance(t, e, ledger.OrderEscrow, "ord"); got != 100 {
			t.Fatalf("escrow = %d", got)
		}
		audit(t, e)
	})
}

// TestRacingDuplicatePosts races many transactions posting one cause, each holding its transaction open
// for a moment after posting: exactly one posts, the others see a replay and none fails.
func TestRacingDuplicatePosts(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		for round := range 5 {
			cause := fmt.Sprintf("race_%d", round)
			var posted, replayed atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
						r, err := ledger.PostResult(e.Ctx, tx, move(cause, 10, funding, escrow))
						if err != nil {
							return err
						}
						time.Sleep(5 * time.Millisecond)
						if r.Posted {
							posted.Add(1)
						} else {
							replayed.Add(1)
						}
						return nil
					})
					if err != nil {
						t.Errorf("racing post: %v", err)
					}
				}()
			}
			wg.Wait()
			if posted.Load() != 1 || replayed.Load() != 7 {
				t.Fatalf("round %d: %d posted, %d replayed", round, posted.Load(), replayed.Load())
			}
		}
		if n, _ := e.Store.Client.LedgerTransfer.Query().Where(ledgertransfer.CauseKind("test")).Count(e.Ctx); n != 5 {
			t.Fatalf("%d transfers", n)
		}
		if got := balance(t, e, ledger.OrderEscrow, "ord"); got != 50 {
			t.Fatalf("escrow = %d", got)
		}
		audit(t, e)
	})
}

// TestNoOverdraft races withdrawals that together exceed a balance: the balance never goes below zero and
// the refused ones write nothing.
func TestNoOverdraft(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		if _, err := post(e, move("fund", 100, ledger.Leg{Kind: ledger.PlatformCompensation}, avail)); err != nil {
			t.Fatal(err)
		}
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				from := avail
				from.NoOverdraft = true
				_, err := post(e, move(fmt.Sprintf("wdr_%d", i), 30, from, bank))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ledger.ErrOverdraft):
					refused.Add(1)
				default:
					t.Errorf("withdraw: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 3 || refused.Load() != 3 {
			t.Fatalf("%d paid, %d refused", ok.Load(), refused.Load())
		}
		if got := balance(t, e, ledger.SupplierAvailable, "sup"); got != 10 {
			t.Fatalf("available = %d", got)
		}
		// A clawback (no NoOverdraft) may take the balance below zero.
		if _, err := post(e, move("claw", 25, avail, ledger.Leg{Kind: ledger.PlatformCompensation})); err != nil {
			t.Fatal(err)
		}
		if got := balance(t, e, ledger.SupplierAvailable, "sup"); got != -15 {
			t.Fatalf("available after clawback = %d", got)
		}
		audit(t, e)
	})
}

// TestConcurrentPostingsKeepEveryAmount posts many transfers over a few shared accounts from many
// goroutines, with legs in every order: none is lost, none deadlocks, and every account's history is a
// gapless sequence ending at its balance.
func TestConcurrentPostingsKeepEveryAmount(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		accounts := []ledger.Leg{funding, escrow, avail, bank, {Kind: ledger.PlatformFees}}
		var wg sync.WaitGroup
		const workers, per = 8, 25
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					a, b, c := accounts[(w+i)%5], accounts[(w+2*i+1)%5], accounts[(3*w+i+2)%5]
					if a == b || b == c || a == c {
						a, b, c = accounts[0], accounts[2], accounts[4]
						if w%2 == 1 {
							a, c = c, a
						}
					}
					a.Amount, b.Amount, c.Amount = -3, 1, 2
					tr := ledger.Transfer{CauseKind: "test", CauseID: fmt.Sprintf("c_%d_%d", w, i), Currency: "USD", Time: now,
						Legs: []ledger.Leg{a, b, c}}
					if _, err := post(e, tr); err != nil {
						t.Errorf("post: %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n, _ := e.Store.Client.LedgerTransfer.Query().Count(e.Ctx); n != workers*per {
			t.Fatalf("%d transfers, want %d", n, workers*per)
		}
		audit(t, e)
	})
}

// TestBalanceStaysInsideInt64 checks a posting that would take a balance just past int64 is refused with
// AMOUNT_TOO_LARGE and writes nothing, while one that reaches the limit exactly posts; and a leg beyond
// money.Max is refused outright.
func TestBalanceStaysInsideInt64(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		high := ledger.Leg{Kind: ledger.SupplierAvailable, Owner: "sup_high"}
		low := ledger.Leg{Kind: ledger.SupplierAvailable, Owner: "sup_low"}
		if _, err := post(e, move("open", 1, low, high)); err != nil {
			t.Fatal(err)
		}
		// An account whose history brought it near the ends of int64 (set directly: no test can post that long).
		set := func(owner string, b int64) {
			if err := e.Store.Client.LedgerAccount.UpdateOneID(ledger.AccountID(ledger.SupplierAvailable, owner, "USD")).
				SetBalanceMinor(b).Exec(e.Ctx); err != nil {
				t.Fatal(err)
			}
		}
		set("sup_high", math.MaxInt64-10)
		set("sup_low", math.MinInt64+10)
		for _, c := range []struct {
			name   string
			amount int64
			ok     bool
		}{
			{"one past the ends", 11, false},
			{"exactly to the ends", 10, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := post(e, move("near-"+c.name, c.amount, low, high))
				var ae *apierr.Error
				switch {
				case c.ok && err != nil:
					t.Fatalf("refused: %v", err)
				case !c.ok && (!errors.As(err, &ae) || ae.Reason != commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE):
					t.Fatalf("want AMOUNT_TOO_LARGE, got %v", err)
				case !c.ok:
					if n := e.Store.Client.LedgerTransfer.Query().Where(ledgertransfer.CauseID("near-" + c.name)).CountX(e.Ctx); n != 0 {
						t.Fatalf("a refused posting wrote %d transfers", n)
					}
				}
			})
		}
		if got := balance(t, e, ledger.SupplierAvailable, "sup_high"); got != math.MaxInt64 {
			t.Fatalf("high balance %d", got)
		}
		if got := balance(t, e, ledger.SupplierAvailable, "sup_low"); got != math.MinInt64 {
			t.Fatalf("low balance %d", got)
		}
		for _, amount := range []int64{money.Max + 1, math.MaxInt64} {
			_, err := post(e, move(fmt.Sprint("huge-", amount), amount, ledger.Leg{Kind: ledger.BuyerFunding, Owner: "b"}, ledger.Leg{Kind: ledger.OrderEscrow, Owner: "o"}))
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Reason != commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE {
				t.Fatalf("a leg of %d: want AMOUNT_TOO_LARGE, got %v", amount, err)
			}
		}
		if _, err := post(e, move("at-max", money.Max, ledger.Leg{Kind: ledger.BuyerFunding, Owner: "b"}, ledger.Leg{Kind: ledger.OrderEscrow, Owner: "o"})); err != nil {
			t.Fatalf("a leg of money.Max: %v", err)
		}
	})
}
