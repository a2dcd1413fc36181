package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestVersionAndHelp checks --version prints the module version and the commit it was built from, and
// --help lists the admin subcommands.
func TestVersionAndHelp(t *testing.T) {
	// Built as make builds it: Go's VCS stamp when it has one, else the commit passed by -ldflags.
	head, _ := exec.Command("git", "rev-parse", "HEAD").Output()
	bin := filepath.Join(t.TempDir(), "tradeassured")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-ldflags", "-X main.commit="+strings.TrimSpace(string(head)), "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v %s", err, out)
	}
	if !strings.HasPrefix(string(out), "tradeassured ") || !strings.Contains(string(out), "commit "+strings.TrimSpace(string(head))) {
		t.Fatalf("--version: %q, HEAD %s", out, head)
	}
	out, err = exec.Command(binary(t), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v %s", err, out)
	}
	for _, sub := range []string{"create-account", "rewrap-webhook-secrets", "list-accounts", "create-key", "list-keys", "revoke-key", "rotate-key", "backup", "-tls-cert", "-rate-limit", "-metrics-addr"} {
		if !strings.Contains(string(out), sub) {
			t.Errorf("--help lacks %s:\n%s", sub, out)
		}
	}
}

var printedKey = regexp.MustCompile(`(?m)^api_key:\s+(\S+)$`)
var printedKeyID = regexp.MustCompile(`(?m)^api_key_id:\s+(\S+)$`)

// TestAdminKeys checks the offline key commands: list accounts, create, list, rotate and revoke keys,
// each key working or not as it should.
func TestAdminKeys(t *testing.T) {
	dsn := "sqlite://" + t.TempDir() + "/t.db"
	out := capture(t, func() error {
		return adminCommand([]string{"create-account", "--db", dsn, "--role", "operator", "--name", "Ops", "--email", "ops@example.com"})
	})
	acct := regexp.MustCompile(`account_id:\s+(\S+)`).FindStringSubmatch(out)[1]
	first := printedKey.FindStringSubmatch(out)[1]
	out = capture(t, func() error { return adminCommand([]string{"list-accounts", "--db", dsn, "--role", "operator"}) })
	if !strings.Contains(out, acct) || !strings.Contains(out, "ops@example.com") {
		t.Fatalf("list-accounts: %s", out)
	}
	out = capture(t, func() error { return adminCommand([]string{"list-accounts", "--db", dsn, "--role", "buyer"}) })
	if strings.Contains(out, acct) {
		t.Fatalf("list-accounts --role buyer: %s", out)
	}
	out = capture(t, func() error {
		return adminCommand([]string{"create-key", "--db", dsn, "--account", acct, "--name", "erp"})
	})
	second, secondID := printedKey.FindStringSubmatch(out)[1], printedKeyID.FindStringSubmatch(out)[1]
	out = capture(t, func() error { return adminCommand([]string{"list-keys", "--db", dsn, "--account", acct}) })
	if strings.Count(out, acct) != 2 || !strings.Contains(out, secondID) || strings.Contains(out, second) {
		t.Fatalf("list-keys (two keys, no secrets): %s", out)
	}
	out = capture(t, func() error { return adminCommand([]string{"rotate-key", "--db", dsn, "--key", secondID}) })
	third := printedKey.FindStringSubmatch(out)[1]
	works := func(key string) bool {
		s, err := storage.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = (&auth.Authenticator{Client: s.Client}).Authenticate(context.Background(), "Bearer "+key)
		return err == nil
	}
	if !works(first) || works(second) || !works(third) {
		t.Fatalf("after rotation: first %v, rotated %v, new %v", works(first), works(second), works(third))
	}
	firstID := strings.Fields(strings.Split(capture(t, func() error { return adminCommand([]string{"list-keys", "--db", dsn}) }), "\n")[1])[0]
	capture(t, func() error { return adminCommand([]string{"revoke-key", "--db", dsn, "--key", firstID}) })
	if works(first) {
		t.Fatal("a revoked key works")
	}
	for _, bad := range [][]string{{"revoke-key", "--db", dsn, "--key", "key_nope"}, {"rotate-key", "--db", dsn, "--key", secondID},
		{"create-key", "--db", dsn, "--account", "acct_nope"}, {"create-key", "--db", dsn}, {"list-accounts", "--db", dsn, "--role", "pirate"}} {
		if err := adminCommand(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestBackupRestore checks admin backup copies a live SQLite database with VACUUM INTO, and a server
// started on the copy serves its accounts, ready.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite://" + filepath.Join(dir, "live.db")
	out := capture(t, func() error {
		return adminCommand([]string{"create-account", "--db", dsn, "--role", "operator", "--name", "Ops", "--email", "ops@example.com"})
	})
	key := printedKey.FindStringSubmatch(out)[1]
	live := launch(t, dir, "--db", dsn) // the backup runs while a server uses the database
	copyPath := filepath.Join(dir, "copy.db")
	capture(t, func() error { return adminCommand([]string{"backup", "--db", dsn, "--to", copyPath}) })
	if err := adminCommand([]string{"backup", "--db", dsn, "--to", copyPath}); err == nil {
		t.Fatal("backup over an existing file")
	}
	live.stop()

	restored := launch(t, dir, "--db", "sqlite://"+copyPath)
	defer restored.stop()
	c := adminv1connect.NewAdminServiceClient(http.DefaultClient, restored.url, connect.WithInterceptors(servertest.Bearer(key)))
	resp, err := c.ListAccounts(context.Background(), connect.NewRequest(&adminv1.ListAccountsRequest{}))
	if err != nil || len(resp.Msg.GetAccounts()) != 1 || resp.Msg.GetAccounts()[0].GetEmail() != "ops@example.com" {
		t.Fatalf("restored copy: %v %v", resp, err)
	}
	servertest.WaitFor(t, "restored server ready", func() bool {
		r, err := http.Get(restored.url + "/readyz")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		_, _ = io.Copy(io.Discard, r.Body)
		return r.StatusCode == http.StatusOK
	}, func() int { return 0 })
	if os.Getenv(servertest.PostgresEnv) != "" {
		err := adminCommand([]string{"backup", "--db", servertest.FreshPostgres(t), "--to", filepath.Join(dir, "pg.db")})
		if err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup of Postgres: %v", err)
		}
	}
}

// TestMetricsAddr checks --metrics-addr serves /metrics on its own address and not on the API port.
func TestMetricsAddr(t *testing.T) {
	dir := t.TempDir()
	p := launch(t, dir, "--db", "sqlite://"+filepath.Join(dir, "m.db"), "--metrics-addr", "127.0.0.1:0")
	defer p.stop()
	var addr string
	servertest.WaitFor(t, "metrics listening", func() bool {
		for _, line := range p.tail(100) {
			if m := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(line); m != nil {
				addr = m[1]
			}
		}
		return addr != ""
	}, func() int { return len(p.tail(100)) })
	r, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(b), "db_client_connection_max") {
		t.Fatalf("/metrics on --metrics-addr: %d %.300s", r.StatusCode, b)
	}
	if r, err := http.Get(p.url + "/metrics"); err != nil || r.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the API port: %v %v", r, err)
	}
}
