package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestAdminCreateAccount checks the offline admin command creates an account whose printed key works.
func TestAdminCreateAccount(t *testing.T) {
	dsn := "sqlite://" + t.TempDir() + "/t.db"
	out := capture(t, func() error {
		return adminCommand([]string{"create-account", "--db", dsn, "--role", "operator", "--name", "Ops", "--email", "ops@example.com"})
	})
	var key string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "api_key:"); ok {
			key = strings.TrimSpace(v)
		}
	}
	if key == "" {
		t.Fatalf("no key printed: %q", out)
	}
	s, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := (&auth.Authenticator{Client: s.Client}).Authenticate(context.Background(), "Bearer "+key)
	if err != nil || p.Account.Email != "ops@example.com" {
		t.Fatalf("printed key: %v %v", p, err)
	}
	if err := adminCommand([]string{"create-account", "--db", dsn, "--role", "operator", "--name", "Ops", "--email", "ops@example.com"}); err == nil {
		t.Fatal("a second account with the same email was created")
	}
	if err := adminCommand([]string{"create-account", "--db", dsn, "--role", "pirate", "--name", "X", "--email", "x@example.com"}); err == nil {
		t.Fatal("an unknown role was accepted")
	}
}

func capture(t *testing.T, fn func() error) string {
	t.Helper()
	r, w, _ := os.Pipe()
	old := os.Stdout
	os.Stdout = w
	err := fn()
	w.Close()
	os.Stdout = old
	b, _ := io.ReadAll(r)
	if err != nil {
		t.Fatalf("command: %v", err)
	}
	return string(b)
}

// TestAdminMissingDatabase checks the admin commands that read or change a database refuse a SQLite path
// with no database, rather than create an empty one there (a typo in --db must not look like "no accounts"
// nor leave a stray database), and that create-account, which bootstraps one, still may.
func TestAdminMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"list-accounts"}, {"list-keys"}, {"create-key", "--account", "acct_x"}, {"revoke-key", "--key", "key_x"},
		{"rotate-key", "--key", "key_x"}, {"backup", "--to", dir + "/copy.db"},
	} {
		path := dir + "/typo.db"
		err := adminCommand(append(args, "--db", "sqlite://"+path))
		if err == nil || !strings.Contains(err.Error(), "no database") {
			t.Errorf("%s on a missing database: %v", args[0], err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s created %s", args[0], path)
		}
	}
	capture(t, func() error {
		return adminCommand([]string{"create-account", "--db", "sqlite://" + dir + "/new.db", "--role", "operator", "--name", "Ops", "--email", "ops@example.com"})
	})
}
