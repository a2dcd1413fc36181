package dispute_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	entdispute "github.com/tradeassure/tradeassure/ent/dispute"
	"github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/dispute"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/transport"
)

// These tests run the real tradeassured binary. Disputes whose supplier-response deadline is already due
// are made by opening them through the API of an in-process server whose clock stands ten days in the
// past, on the same database; the binaries then run on the system clock, so every response deadline (3 or
// 5 days after opening) is due as soon as they start. No hidden flag or clock offset is needed.

// binDir holds the binary built for this test run; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildServer builds the binary once per test run.
var buildServer = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tradeassured-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "tradeassured")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/tradeassured").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build tradeassured: %v\n%s", err, out)
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// postgresDB creates a fresh database on the TRADEASSURE_TEST_POSTGRES server, dropped when the test ends.
func postgresDB(t *testing.T) string {
	t.Helper()
	adminDSN := os.Getenv(servertest.PostgresEnv)
	if adminDSN == "" {
		t.Skip(servertest.PostgresEnv + " is not set")
	}
	db, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tadisp_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// seedDueDisputes opens n disputes through the API, ten days ago, on delivered orders inserted directly.
func seedDueDisputes(t *testing.T, dsn string, n int) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clk := &servertest.Clock{}
	past := time.Now().UTC().Add(-10 * day).Truncate(time.Second)
	clk.Set(past)
	// Seeding calls as fast as the server answers: no rate limits (as servertest), since keys are verified
	// from memory the calls outrun the default 100 a second.
	srv, err := server.New(ctx, server.Config{Store: store, Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Transport: transport.Config{Limits: transport.RateLimits{KeyRate: -1, AddressRate: -1, AuthFailureRate: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	var buyerKey string
	var buyer, supplier *ent.Account
	err = store.WithTx(ctx, func(tx *ent.Tx) error {
		var err error
		if buyer, err = admin.CreateAccount(ctx, tx, admin.NewAccount{Role: commonv1.Role_ROLE_BUYER, Name: "B",
			Email: "b@cluster.example", Country: "US"}, past); err != nil {
			return err
		}
		if supplier, err = admin.CreateAccount(ctx, tx, admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: "S",
			Email: "s@cluster.example", Country: "CN", Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 1_000_000_00,
				OneTouchExport: true, BankAccount: "CN00", BankAccountVerified: true}}, past); err != nil {
			return err
		}
		_, buyerKey, err = admin.IssueKey(ctx, tx, buyer.ID, "cluster", past)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	terms, _ := proto.Marshal(&orderv1.OrderTerms{Currency: "USD", Lines: []*orderv1.OrderLine{{ProductId: "prd_x", Quantity: 1, UnitPriceMinor: 100_00}}})
	ids := make([]string, n)
	const batch = 250
	for start := 0; start < n; start += batch {
		err := store.WithTx(ctx, func(tx *ent.Tx) error {
			var creates []*ent.OrderCreate
			for i := start; i < min(n, start+batch); i++ {
				ids[i] = fmt.Sprintf("ord_cluster_%05d", i)
				pol := entorder.PolicyTradeAssurance
				if i%2 == 1 {
					pol = entorder.PolicyRetail
				}
				creates = append(creates, tx.Order.Create().SetID(ids[i]).SetPolicy(pol).SetPolicyVersion(policy.Current).
					SetState(entorder.StateDelivered).SetSupplierID(supplier.ID).SetBuyerID(buyer.ID).SetBuyerEmail(buyer.Email).
					SetCurrency("USD").SetTerms(terms).SetGoodsMinor(100_00).SetTotalMinor(100_00).SetAdvanceMinor(0).
					SetPaidMinor(100_00).SetTotalUsdMinor(100_00).SetCoveredMinor(100_00).SetShipByTime(past).
					SetDeliverTime(past).SetRevision(1).SetEtag("seed").SetCreateTime(past).SetUpdateTime(past))
				if _, err := ledger.Post(ctx, tx, ledger.Transfer{CauseKind: ledger.CausePayment, CauseID: "pay_" + ids[i],
					Currency: "USD", Time: past, Links: ledger.Links{OrderID: ids[i]}, Legs: []ledger.Leg{
						{Kind: ledger.BuyerFunding, Owner: buyer.ID, Amount: -100_00},
						{Kind: ledger.OrderEscrow, Owner: ids[i], Amount: 100_00}}}); err != nil {
					return err
				}
			}
			return tx.Order.CreateBulk(creates...).Exec(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv.Handler)
	defer hs.Close()
	client := disputev1connect.NewDisputeServiceClient(hs.Client(), hs.URL, connect.WithInterceptors(servertest.Bearer(buyerKey)))
	work := make(chan string)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range work {
				_, err := client.OpenDispute(ctx, connect.NewRequest(openReq(id, disputev1.Dispute_REASON_LOST, disputev1.Dispute_RESOLUTION_FULL_REFUND, 0)))
				if err != nil {
					errs <- fmt.Errorf("open dispute on %s: %w", id, err)
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// startServer runs the binary on dsn with a 50 ms deadline interval, its debug log going to logs.
func startServer(t *testing.T, dsn string, logs io.Writer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), "--db", dsn, "--addr", "127.0.0.1:0", "--deadline-interval", "50ms", "--log-level", "debug")
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func stopServer(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
}

// settled counts the settled disputes.
func settled(t *testing.T, c *ent.Client) int {
	t.Helper()
	n, err := c.Dispute.Query().Where(entdispute.StateEQ(entdispute.StateSettled)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitSettled waits until n disputes are settled, failing only when none more settles for a long while
// (a loaded machine is slow, not wrong).
func waitSettled(t *testing.T, c *ent.Client, n int) {
	t.Helper()
	got := 0
	servertest.WaitFor(t, fmt.Sprintf("%d disputes settled", n),
		func() bool { got = settled(t, c); return got >= n },
		func() int { return got })
}

// checkOnce checks each of the n disputes was granted exactly once: one auto_granted event, one refund.
func checkOnce(t *testing.T, c *ent.Client, n int) {
	t.Helper()
	ctx := context.Background()
	subjects, err := c.Event.Query().Where(event.Type("dispute.auto_granted")).Select(event.FieldSubjectID).Strings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	causes, err := c.LedgerTransfer.Query().Where(ledgertransfer.CauseKind(ledger.CauseDisputeRefund)).Select(ledgertransfer.FieldCauseID).Strings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for what, ids := range map[string][]string{"auto_granted events": subjects, "refund transfers": causes} {
		per := map[string]int{}
		for _, id := range ids {
			per[id]++
		}
		if len(per) != n || len(ids) != n {
			t.Fatalf("%s: %d for %d disputes, want %d", what, len(ids), len(per), n)
		}
	}
	disputes, err := c.Dispute.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range disputes {
		if r.State != entdispute.StateSettled {
			t.Fatalf("dispute %s is %s", r.ID, r.State)
		}
	}
	// Every order was refunded once, in full, and its escrow emptied.
	bad, err := c.Order.Query().Where(entorder.Or(entorder.RefundedMinorNEQ(100_00), entorder.EscrowHoldsNEQ(0))).Count(ctx)
	if err != nil || bad != 0 {
		t.Fatalf("%d orders not refunded exactly once (%v)", bad, err)
	}
}

// TestTwoServersGrantOnce runs two server processes on one Postgres database over 2000 due disputes:
// every one is granted exactly once.
func TestTwoServersGrantOnce(t *testing.T) {
	dsn := postgresDB(t)
	const n = 2000
	began := time.Now()
	seedDueDisputes(t, dsn, n)
	t.Logf("opened %d disputes in %v", n, time.Since(began).Round(time.Millisecond))
	began = time.Now()
	var logA, logB bytes.Buffer
	a, b := startServer(t, dsn, &logA), startServer(t, dsn, &logB)
	store, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	waitSettled(t, store.Client, n)
	t.Logf("two servers granted %d disputes in %v", n, time.Since(began).Round(time.Millisecond))
	stopServer(t, a)
	stopServer(t, b)
	checkOnce(t, store.Client, n)
	// Both processes applied deadlines, and none applied one the other did.
	byA, byB := applied(t, &logA), applied(t, &logB)
	t.Logf("process A granted %d, process B %d", len(byA), len(byB))
	if len(byA) == 0 || len(byB) == 0 || len(byA)+len(byB) != n {
		t.Fatalf("process A granted %d and B %d of %d", len(byA), len(byB), n)
	}
	for id := range byA {
		if byB[id] {
			t.Fatalf("dispute %s was granted by both processes", id)
		}
	}
}

// applied reads the disputes whose supplier-response deadline a process applied, from its debug log.
func applied(t *testing.T, logs *bytes.Buffer) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for line := range strings.Lines(logs.String()) {
		var rec struct{ Msg, Kind, Subject string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "deadline applied" || rec.Kind != dispute.KindResponse {
			continue
		}
		if out[rec.Subject] {
			t.Fatalf("dispute %s granted twice by one process", rec.Subject)
		}
		out[rec.Subject] = true
	}
	return out
}

// TestCrashAppliesOnce kills the server with SIGKILL while timers are due and restarts it: every due timer
// is applied exactly once. It runs on a SQLite file and, when configured, on Postgres.
func TestCrashAppliesOnce(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := "sqlite://" + filepath.Join(t.TempDir(), "tradeassure.db")
			if engine == "postgres" {
				dsn = postgresDB(t)
			}
			const n = 600
			seedDueDisputes(t, dsn, n)
			store, err := storage.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			cmd := startServer(t, dsn, io.Discard)
			waitSettled(t, store.Client, 1)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			killedAt := settled(t, store.Client)
			t.Logf("killed after %d of %d grants", killedAt, n)
			if killedAt == n {
				t.Log("every timer ran before the kill; the restart has nothing left to do")
			}
			restarted := startServer(t, dsn, io.Discard)
			waitSettled(t, store.Client, n)
			stopServer(t, restarted)
			checkOnce(t, store.Client, n)
		})
	}
}
