package payout_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1/payoutv1connect"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestCrashRecovery builds the real tradeassured binary, runs it in development mode on a fresh database
// (a temporary SQLite file, and a fresh Postgres database when TRADEASSURE_TEST_POSTGRES is set), and
// SIGKILLs it in the middle of a burst of withdrawals, releases (buyers confirming receipt) and failed
// withdrawals issued from goroutines. After a restart on the same database the reconciliation is clean,
// every supplier statement adds up to its balance, every request that was acknowledged before the kill is
// reflected in the books, and retrying it with the same request id returns the same response.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := filepath.Join(t.TempDir(), "tradeassured")
	build := exec.Command("go", "build", "-o", bin, "./server/cmd/tradeassured")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build tradeassured: %v\n%s", err, out)
	}
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			dsn := "sqlite://" + filepath.Join(dir, "tradeassure.db")
			if engine == "postgres" {
				dsn = freshPostgres(t)
			}
			crashAndRecover(t, bin, dir, dsn)
		})
	}
}

func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func freshPostgres(t *testing.T) string {
	admin := os.Getenv(servertest.PostgresEnv)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tacrash_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// daemon is a running tradeassured process.
type daemon struct {
	cmd  *exec.Cmd
	addr string
	keys map[string]struct {
		AccountID string   `json:"account_id"`
		APIKey    string   `json:"api_key"`
		Products  []string `json:"product_ids"`
	}
}

func start(t *testing.T, bin, dir, dsn string) *daemon {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_ = os.Remove(filepath.Join(dir, "dev-keys.json"))
	cmd := exec.Command(bin, "--dev", "--db", dsn, "--addr", addr, "--deadline-interval", "200ms", "--log-level", "warn")
	cmd.Dir = dir
	logf, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tradeassured: %v", err)
	}
	d := &daemon{cmd: cmd, addr: "http://" + addr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		logf.Close()
	})
	logPath := filepath.Join(dir, "server.log")
	ready := func() bool {
		body, err := os.ReadFile(filepath.Join(dir, "dev-keys.json"))
		if err != nil || json.Unmarshal(body, &d.keys) != nil {
			return false
		}
		resp, err := http.Get(d.addr + "/grpc.health.v1.Health/Check")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}
	// Start-up takes as long as the machine needs; only a server whose log stops moving fails it.
	servertest.WaitFor(t, "tradeassured to start (see "+logPath+")", ready, func() int {
		fi, err := os.Stat(logPath)
		if err != nil {
			return 0
		}
		return int(fi.Size())
	})
	return d
}

func (d *daemon) orders(who string) orderv1connect.OrderServiceClient {
	return orderv1connect.NewOrderServiceClient(http.DefaultClient, d.addr, connect.WithInterceptors(servertest.Bearer(d.keys[who].APIKey)))
}

func (d *daemon) payouts(who string) payoutv1connect.PayoutServiceClient {
	return payoutv1connect.NewPayoutServiceClient(http.DefaultClient, d.addr, connect.WithInterceptors(servertest.Bearer(d.keys[who].APIKey)))
}

// acked is a request the server answered OK before the kill, with its answer.
type acked struct {
	kind string // "withdraw", "release", "fail"
	req  proto.Message
	resp proto.Message
}

func crashAndRecover(t *testing.T, bin, dir, dsn string) {
	ctx := context.Background()
	d := start(t, bin, dir, dsn)
	buyer, supplier, operator := d.orders("buyer"), d.orders("supplier"), d.payouts("operator")
	product := d.keys["supplier"].Products[0]

	// Setup: completed orders fund the supplier; shipped ones wait to be released during the burst.
	shipped := func() string {
		o, err := supplier.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
			Policy: taPolicy, BuyerEmail: "buyer@acme.example", Terms: crashTerms(product)}))
		if err != nil {
			t.Fatalf("create order: %v", err)
		}
		id := o.Msg.GetOrder().GetId()
		for _, step := range []func() error{
			func() error {
				_, err := buyer.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id}))
				return err
			},
			func() error {
				_, err := buyer.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: id,
					Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"}))
				return err
			},
			func() error {
				_, err := supplier.ShipOrder(ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: id, Carrier: "DHL", TrackingNumber: "T"}))
				return err
			},
		} {
			if err := step(); err != nil {
				t.Fatalf("order %s: %v", id, err)
			}
		}
		return id
	}
	for range 10 {
		id := shipped()
		if _, err := buyer.ConfirmReceipt(ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: id})); err != nil {
			t.Fatal(err)
		}
	}
	var pending []string
	for range 60 {
		pending = append(pending, shipped())
	}

	// The burst: withdrawers, releasers and an operator failing acknowledged withdrawals, until the kill.
	var (
		mu     sync.Mutex
		acks   []acked
		stop   atomic.Bool
		wg     sync.WaitGroup
		nacked atomic.Int64
		seq    atomic.Int64
	)
	record := func(a acked) {
		mu.Lock()
		acks = append(acks, a)
		mu.Unlock()
		nacked.Add(1)
	}
	sup := d.payouts("supplier")
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req := &payoutv1.RequestWithdrawalRequest{RequestId: fmt.Sprintf("crash-w-%d-%d", g, seq.Add(1)), Amount: usd(1_00 + seq.Load()%7_00)}
				r, err := sup.RequestWithdrawal(ctx, connect.NewRequest(req))
				if err == nil {
					record(acked{"withdraw", req, r.Msg})
				}
			}
		}()
	}
	releases := make(chan string, len(pending))
	for _, id := range pending {
		releases <- id
	}
	close(releases)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range releases {
				if stop.Load() {
					return
				}
				req := &orderv1.ConfirmReceiptRequest{RequestId: "crash-r-" + id, OrderId: id}
				r, err := buyer.ConfirmReceipt(ctx, connect.NewRequest(req))
				if err == nil {
					record(acked{"release", req, r.Msg})
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			mu.Lock()
			var target *payoutv1.Withdrawal
			for i := len(acks) - 1; i >= 0; i-- {
				if acks[i].kind == "withdraw" && seq.Load()%3 == 0 {
					target = acks[i].resp.(*payoutv1.RequestWithdrawalResponse).GetWithdrawal()
					break
				}
			}
			mu.Unlock()
			if target == nil {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			req := &payoutv1.FailWithdrawalRequest{RequestId: "crash-f-" + target.GetId(), Id: target.GetId(), FailureReason: "bounced"}
			r, err := operator.FailWithdrawal(ctx, connect.NewRequest(req))
			if err == nil {
				record(acked{"fail", req, r.Msg})
			}
		}
	}()
	for nacked.Load() < 50 {
		time.Sleep(2 * time.Millisecond)
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Wait()
	stop.Store(true)
	wg.Wait()
	t.Logf("killed after %d acknowledged requests", len(acks))

	// Restart on the same database.
	d = start(t, bin, dir, dsn)
	buyer, operator, sup = d.orders("buyer"), d.payouts("operator"), d.payouts("supplier")
	rec, err := operator.Reconcile(ctx, connect.NewRequest(&payoutv1.ReconcileRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Msg.GetOk() {
		t.Fatalf("reconciliation after the crash: %v", rec.Msg)
	}
	counts := map[string]int{}
	for _, a := range acks {
		counts[a.kind]++
		switch a.kind {
		case "withdraw":
			req := a.req.(*payoutv1.RequestWithdrawalRequest)
			r, err := sup.RequestWithdrawal(ctx, connect.NewRequest(req))
			if err != nil || !proto.Equal(r.Msg, a.resp) {
				t.Errorf("retry of %s: %v, %v; first answer %v", req.GetRequestId(), r, err, a.resp)
				continue
			}
			w := a.resp.(*payoutv1.RequestWithdrawalResponse).GetWithdrawal()
			got, err := operator.GetWithdrawal(ctx, connect.NewRequest(&payoutv1.GetWithdrawalRequest{Id: w.GetId()}))
			if err != nil || got.Msg.GetWithdrawal().GetAmount().GetAmountMinor() != w.GetAmount().GetAmountMinor() {
				t.Errorf("acknowledged withdrawal %s: %v, %v", w.GetId(), got, err)
			}
			trs, err := operator.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{
				CauseKind: payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL, CauseId: w.GetId()}))
			if err != nil || len(trs.Msg.GetTransfers()) != 1 {
				t.Errorf("transfers of withdrawal %s: %v, %v", w.GetId(), trs, err)
			}
		case "release":
			req := a.req.(*orderv1.ConfirmReceiptRequest)
			r, err := buyer.ConfirmReceipt(ctx, connect.NewRequest(req))
			if err != nil || !proto.Equal(r.Msg, a.resp) {
				t.Errorf("retry of release %s: %v", req.GetOrderId(), err)
				continue
			}
			trs, err := operator.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{
				OrderId: req.GetOrderId(), CauseKind: payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE}))
			if err != nil || len(trs.Msg.GetTransfers()) != 1 {
				t.Errorf("release of %s: %v, %v", req.GetOrderId(), trs, err)
			}
		case "fail":
			req := a.req.(*payoutv1.FailWithdrawalRequest)
			r, err := operator.FailWithdrawal(ctx, connect.NewRequest(req))
			if err != nil || !proto.Equal(r.Msg, a.resp) {
				t.Errorf("retry of fail %s: %v", req.GetId(), err)
				continue
			}
			trs, err := operator.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{
				CauseKind: payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL_REVERSAL, CauseId: req.GetId()}))
			if err != nil || len(trs.Msg.GetTransfers()) != 1 {
				t.Errorf("reversal of %s: %v, %v", req.GetId(), trs, err)
			}
		}
	}
	// The supplier's statement adds up to its balance, which was never overdrawn by a withdrawal.
	supplierID := d.keys["supplier"].AccountID
	bal, err := sup.GetBalance(ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: supplierID}))
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	tok := ""
	for {
		page, err := sup.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
			SupplierAccountId: supplierID, PageToken: tok, PageSize: 200, Currency: "USD"}))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Msg.GetEntries() {
			sum += e.GetAmount().GetAmountMinor()
			if sum != e.GetBalanceAfter().GetAmountMinor() ||
				(e.GetCause().GetKind() == payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL && sum < 0) {
				t.Errorf("entry %s: balance after %d, running sum %d", e.GetId(), e.GetBalanceAfter().GetAmountMinor(), sum)
			}
		}
		if tok = page.Msg.GetNextPageToken(); tok == "" {
			break
		}
	}
	for _, b := range bal.Msg.GetBalance().GetBalances() {
		if b.GetCurrency() == "USD" && b.GetAvailable().GetAmountMinor() != sum {
			t.Errorf("statement sums to %d, available is %d", sum, b.GetAvailable().GetAmountMinor())
		}
	}
	t.Logf("acknowledged before the kill and verified after the restart: %v", counts)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err == nil {
		_ = d.cmd.Wait()
	}
}

func crashTerms(product string) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines:    []*orderv1.OrderLine{{ProductId: product, Quantity: 40}},
		Currency: "USD", ShippingFeeMinor: 20_00,
		ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"},
			City: "Springfield", PostalCode: "12345"},
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestampIn(time.Now(), 60*day),
	}
}
