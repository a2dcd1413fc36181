package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1/webhookv1connect"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/webhook"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds tradeassured once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tradeassured-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tradeassured")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a tradeassured subprocess.
type proc struct {
	cmd  *exec.Cmd
	url  string
	dir  string
	mu   sync.Mutex
	logs []string
	done chan struct{}
}

// start runs tradeassured --dev on dsn in dir and waits until it listens.
func start(t *testing.T, dir, dsn, key string, extra ...string) *proc {
	t.Helper()
	return launch(t, dir, append([]string{"--dev", "--demo=false", "--db", dsn, "--log-level", "debug",
		"--webhook-key", key, "--webhook-interval", "100ms"}, extra...)...)
}

// launch runs tradeassured with args on a free port in dir and waits until it listens (or exits).
func launch(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p, err := tryLaunch(t, dir, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tryLaunch is launch with extra environment variables, returning the error of a server that exits
// before it listens.
func tryLaunch(t *testing.T, dir string, env []string, args ...string) (*proc, error) {
	t.Helper()
	cmd := exec.Command(binary(t), append(args, "--addr", "127.0.0.1:0")...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, dir: dir, done: make(chan struct{})}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs = append(p.logs, line)
			p.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "tradeassured listening" {
				listening <- rec.Addr
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("log of %s:\n%s", p.url, strings.Join(p.tail(40), "\n"))
		}
	})
	// Start-up takes as long as it takes (migrations on a slow machine); a server that cannot start exits.
	select {
	case addr := <-listening:
		p.url = "http://" + addr
	case <-p.done:
		return nil, fmt.Errorf("tradeassured exited: %v\n%s\n%s", cmd.ProcessState, stdout.String(), strings.Join(p.tail(40), "\n"))
	}
	return p, nil
}

// stop stops the server as an operator would (SIGTERM) and waits until it has exited.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

func (p *proc) tail(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs[max(0, len(p.logs)-n):]...)
}

// logged reports whether a log line contains every part.
func (p *proc) logged(parts ...string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		all := true
		for _, s := range parts {
			all = all && strings.Contains(l, s)
		}
		if all {
			return true
		}
	}
	return false
}

// devKeys is what dev-keys.json holds.
type devKeys map[string]struct {
	APIKey     string   `json:"api_key"`
	ProductIDs []string `json:"product_ids"`
}

func readKeys(t *testing.T, dir string) devKeys {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "dev-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	k := devKeys{}
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func bearer(key string) connect.ClientOption {
	return connect.WithInterceptors(servertest.Bearer(key))
}

// draftReq is an order the dev supplier drafts for the dev buyer.
func draftReq(product string) *orderv1.CreateOrderRequest {
	return &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: "buyer@acme.example",
		Terms: &orderv1.OrderTerms{
			Lines: []*orderv1.OrderLine{{ProductId: product, Quantity: 10}}, Currency: "USD", ShippingFeeMinor: 50_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"}},
			TradeTerm:       orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
			CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
			ShipByTime:   timestamppb.New(time.Now().Add(60 * 24 * time.Hour)),
		}}
}

// draftedIDs are the ids of the order.drafted events the key sees.
func draftedIDs(t *testing.T, url, key string) []string {
	t.Helper()
	c := eventv1connect.NewEventServiceClient(http.DefaultClient, url, bearer(key))
	var out []string
	after := ""
	for {
		resp, err := c.ListEvents(context.Background(), connect.NewRequest(&eventv1.ListEventsRequest{AfterId: after, PageSize: 1000, SubjectType: "order"}))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range resp.Msg.GetEvents() {
			if ev.GetType() == "order.drafted" {
				out = append(out, ev.GetId())
			}
		}
		if len(resp.Msg.GetEvents()) < 1000 {
			return out
		}
		after = resp.Msg.GetNextAfterId()
	}
}

func sameIDs(got, want []string) error {
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	if len(seen) != len(want) {
		return fmt.Errorf("%d distinct ids, want %d", len(seen), len(want))
	}
	for _, id := range want {
		if !seen[id] {
			return fmt.Errorf("event %s never arrived", id)
		}
	}
	return nil
}

// TestTwoProcessesShareDeliveries runs two servers on one Postgres database: an endpoint created through
// one is known to the other at once (LISTEN/NOTIFY), and 2,000 events created through both arrive at one
// receiver, none missing and none sent twice at once.
func TestTwoProcessesShareDeliveries(t *testing.T) {
	if os.Getenv(servertest.PostgresEnv) == "" {
		t.Skip(servertest.PostgresEnv + " is not set")
	}
	dsn := servertest.FreshPostgres(t)
	key := webhook.NewKey()
	a := start(t, t.TempDir(), dsn, key)
	b := start(t, t.TempDir(), dsn, key)
	// Each development start revokes the demo keys of the one before: the second's work on both.
	keys := readKeys(t, b.dir)
	supplier, product := keys["supplier"].APIKey, keys["supplier"].ProductIDs[0]
	rx := servertest.NewReceiver(t)
	hooks := webhookv1connect.NewWebhookServiceClient(http.DefaultClient, a.url, bearer(supplier))
	created, err := hooks.CreateWebhookEndpoint(context.Background(), connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
		Url: rx.URL, EventTypes: []string{"order.drafted"}}))
	if err != nil {
		t.Fatal(err)
	}
	_ = created
	servertest.WaitFor(t, "the second process to load the endpoint", func() bool {
		return b.logged("webhook endpoints reloaded", `"endpoints":1`)
	}, func() int { return len(b.tail(1 << 20)) })
	const total = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		url := a.url
		if w%2 == 1 {
			url = b.url
		}
		orders := orderv1connect.NewOrderServiceClient(http.DefaultClient, url, bearer(supplier))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/8; i++ {
				if _, err := orders.CreateOrder(context.Background(), connect.NewRequest(draftReq(product))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create order: %v", err)
	}
	want := draftedIDs(t, a.url, supplier)
	if len(want) != total {
		t.Fatalf("%d drafted events, want %d", len(want), total)
	}
	servertest.WaitFor(t, "every delivery", func() bool { return len(rx.OKIDs()) >= total }, rx.Count)
	if o := rx.Overlaps(); len(o) > 0 {
		t.Fatalf("sent twice at once: %v", o)
	}
	if err := sameIDs(rx.OKIDs(), want); err != nil {
		t.Fatal(err)
	}
	if n := rx.Count(); n != total {
		t.Logf("%d requests for %d events (at least once; a lease ran out under load)", n, total)
	}
}

// TestKilledServerResumesDeliveries SIGKILLs a server while deliveries are in flight; a new process on
// the same database sends them again once their leases run out, so the receiver sees every event. On
// SQLite and, when configured, on Postgres.
func TestKilledServerResumesDeliveries(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			dsn := "sqlite://" + filepath.Join(dir, "tradeassure.db")
			if engine == "postgres" {
				dsn = servertest.FreshPostgres(t)
			}
			killAndResume(t, dir, dsn)
		})
	}
}

func killAndResume(t *testing.T, dir, dsn string) {
	key := webhook.NewKey()
	first := start(t, dir, dsn, key, "--webhook-timeout", "2s")
	keys := readKeys(t, dir)
	supplier, product := keys["supplier"].APIKey, keys["supplier"].ProductIDs[0]
	rx := servertest.NewReceiver(t)
	rx.Hold()
	hooks := webhookv1connect.NewWebhookServiceClient(http.DefaultClient, first.url, bearer(supplier))
	if _, err := hooks.CreateWebhookEndpoint(context.Background(), connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
		Url: rx.URL, EventTypes: []string{"order.drafted"}})); err != nil {
		t.Fatal(err)
	}
	orders := orderv1connect.NewOrderServiceClient(http.DefaultClient, first.url, bearer(supplier))
	const total = 20
	for i := 0; i < total; i++ {
		if _, err := orders.CreateOrder(context.Background(), connect.NewRequest(draftReq(product))); err != nil {
			t.Fatal(err)
		}
	}
	servertest.WaitFor(t, "a delivery in flight", func() bool { return rx.Active() > 0 }, rx.Count)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	rx.Release()
	second := start(t, dir, dsn, key, "--webhook-timeout", "2s")
	supplier = readKeys(t, dir)["supplier"].APIKey // the restart revoked the first start's demo keys
	want := draftedIDs(t, second.url, supplier)
	if len(want) != total {
		t.Fatalf("%d drafted events, want %d", len(want), total)
	}
	// The receiver answered the deliveries held at the kill, but the killed server never recorded that:
	// the new one sends them again once their leases run out, and only then are all recorded as done.
	hooks = webhookv1connect.NewWebhookServiceClient(http.DefaultClient, second.url, bearer(supplier))
	eps, err := hooks.ListWebhookEndpoints(context.Background(), connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{}))
	if err != nil || len(eps.Msg.GetEndpoints()) != 1 {
		t.Fatalf("endpoints: %v %v", eps, err)
	}
	servertest.WaitFor(t, "every delivery to succeed after the restart", func() bool {
		ep, err := hooks.GetWebhookEndpoint(context.Background(), connect.NewRequest(&webhookv1.GetWebhookEndpointRequest{Id: eps.Msg.GetEndpoints()[0].GetId()}))
		return err == nil && ep.Msg.GetEndpoint().GetStats().GetSucceededDeliveries() == total
	}, rx.Count)
	if err := sameIDs(rx.OKIDs(), want); err != nil {
		t.Fatal(err)
	}
	if rx.Count() <= total {
		t.Fatalf("%d requests for %d events: the deliveries in flight at the kill were not sent again", rx.Count(), total)
	}
	if o := rx.Overlaps(); len(o) > 0 {
		t.Fatalf("sent twice at once: %v", o)
	}
}
