package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestDevModeRefusedOnProductionDatabase checks --dev and TRADEASSURE_DEV=1 are refused, with a message
// saying why, on a database created without development mode: one a production server started on, and
// one the offline admin command created an operator in.
func TestDevModeRefusedOnProductionDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	served := t.TempDir()
	servedDSN := "sqlite://" + served + "/t.db"
	launch(t, served, "--db", servedDSN).stop()
	admined := t.TempDir()
	adminedDSN := "sqlite://" + admined + "/t.db"
	operatorKey(t, adminedDSN)
	for _, c := range []struct {
		name, dir, dsn string
		env            []string
		args           []string
	}{
		{"--dev after a production server", served, servedDSN, nil, []string{"--dev"}},
		{"TRADEASSURE_DEV=1 after a production server", served, servedDSN, []string{"TRADEASSURE_DEV=1"}, nil},
		{"--dev after the admin command", admined, adminedDSN, nil, []string{"--dev"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := tryLaunch(t, c.dir, c.env, append([]string{"--db", c.dsn}, c.args...)...)
			if err == nil {
				p.stop()
				t.Fatal("development mode started on a production database")
			}
			if !strings.Contains(err.Error(), "refusing development mode") || !strings.Contains(err.Error(), "created in production mode") {
				t.Fatalf("unclear refusal: %v", err)
			}
			if _, statErr := os.Stat(filepath.Join(c.dir, "dev-keys.json")); statErr == nil {
				t.Fatal("dev-keys.json was written")
			}
		})
	}
	// Without --dev, the database still serves.
	launch(t, served, "--db", servedDSN).stop()
}

// TestDevRestartRevokesDemoKeys checks a development server's restart revokes the demo keys it printed
// before: only the new ones work.
func TestDevRestartRevokesDemoKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	dir := t.TempDir()
	dsn := "sqlite://" + dir + "/t.db"
	p := launch(t, dir, "--dev", "--db", dsn)
	old := readKeys(t, dir)
	if _, err := clockOf(t, p.url, old["operator"].APIKey); err != nil {
		t.Fatalf("first key: %v", err)
	}
	p.stop()
	p = launch(t, dir, "--dev", "--db", dsn)
	fresh := readKeys(t, dir)
	for name, k := range old {
		if fresh[name].APIKey == k.APIKey {
			t.Fatalf("%s: the same key was printed again", name)
		}
		if _, err := clockOf(t, p.url, k.APIKey); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Fatalf("%s's key of the first start: %v, want UNAUTHENTICATED", name, err)
		}
		if _, err := clockOf(t, p.url, fresh[name].APIKey); err != nil {
			t.Fatalf("%s's new key: %v", name, err)
		}
	}
}

// TestDevClockSharedByProcesses runs two development servers on one Postgres database: a clock moved
// through one is the other's clock at once, and a later move through the other starts from there, so
// neither clock ever moves backwards.
func TestDevClockSharedByProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	if !strings.Contains(strings.Join(servertest.Engines(), ","), "postgres") {
		t.Skip("needs " + servertest.PostgresEnv)
	}
	dsn := servertest.FreshPostgres(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := launch(t, dirA, "--dev", "--db", dsn)
	b := launch(t, dirB, "--dev", "--db", dsn)
	// The second start revoked the first's demo keys; its own work on both servers.
	op := readKeys(t, dirB)["operator"].APIKey
	advance := func(url string, seconds int64) time.Time {
		t.Helper()
		c := adminv1connect.NewAdminServiceClient(http.DefaultClient, url, bearer(op))
		resp, err := c.AdvanceClock(context.Background(), connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: seconds}))
		if err != nil {
			t.Fatalf("advance through %s: %v", url, err)
		}
		return resp.Msg.GetNow().AsTime()
	}
	var last time.Time
	for i, step := range []struct {
		via     *proc
		seconds int64
	}{{a, 86400}, {b, 1}, {a, 3600}, {b, 86400 * 30}, {a, 1}} {
		moved := advance(step.via.url, step.seconds)
		if !last.IsZero() && moved.Before(last.Add(time.Duration(step.seconds)*time.Second)) {
			t.Fatalf("step %d: the clock moved to %v, before %v + %ds: it went backwards", i, moved, last, step.seconds)
		}
		for _, other := range []*proc{a, b} {
			now, err := clockOf(t, other.url, op)
			if err != nil {
				t.Fatal(err)
			}
			if now.Before(moved) {
				t.Fatalf("step %d: %s tells %v, before the %v it was moved to", i, other.url, now, moved)
			}
		}
		last = moved
	}
	// The moves add up across the processes: 31 days and an hour in all, more than either made alone.
	if ahead := time.Until(last); ahead < 31*24*time.Hour {
		t.Fatalf("the clock is %v ahead, want 31 days and an hour", ahead)
	}
}

// clockOf returns a server's time as the key sees it.
func clockOf(t *testing.T, url, key string) (time.Time, error) {
	t.Helper()
	c := adminv1connect.NewAdminServiceClient(http.DefaultClient, url, bearer(key))
	resp, err := c.GetClock(context.Background(), connect.NewRequest(&adminv1.GetClockRequest{}))
	if err != nil {
		return time.Time{}, err
	}
	return resp.Msg.GetNow().AsTime(), nil
}
