package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

// TestEventPartiesBackfill runs the event_feed_keys migration's backfill on events stored before it (each
// with its party list " a b ") and checks it indexes each event once per named account, on SQLite and,
// when TRADEASSURE_TEST_POSTGRES is set, Postgres.
func TestEventPartiesBackfill(t *testing.T) {
	ctx := context.Background()
	dsns := map[string]string{dialect.SQLite: "sqlite://" + t.TempDir() + "/b.db"}
	if admin := os.Getenv("TRADEASSURE_TEST_POSTGRES"); admin != "" {
		dsns[dialect.Postgres] = scratchPostgres(t, admin)
	}
	for dia, dsn := range dsns {
		t.Run(dia, func(t *testing.T) {
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			now := time.Now()
			for _, parties := range []string{" acc_a acc_b ", " acc_c ", "", " "} {
				if err := s.Client.Event.Create().SetType("order.drafted").SetSubjectType("order").SetSubjectID("ord_1").
					SetRevision(1).SetTime(now).SetActorRole("system").SetPartyIds(parties).SetPayload([]byte{}).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.DB.ExecContext(ctx, "DELETE FROM event_parties"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DB.ExecContext(ctx, backfill(t, dia)); err != nil {
				t.Fatal(err)
			}
			rows, err := s.DB.QueryContext(ctx, "SELECT p.account_id, e.party_ids FROM event_parties p JOIN events e ON e.id = p.event_id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var acct, parties string
				if err := rows.Scan(&acct, &parties); err != nil {
					t.Fatal(err)
				}
				got = append(got, acct+" in"+parties)
			}
			sort.Strings(got)
			want := []string{"acc_a in acc_a acc_b ", "acc_b in acc_a acc_b ", "acc_c in acc_c "}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("backfilled %q, want %q", got, want)
			}
		})
	}
}

// backfill is the migration's statement that fills event_parties.
func backfill(t *testing.T, dia string) string {
	dir := "migrations/sqlite"
	if dia == dialect.Postgres {
		dir = "migrations/postgres"
	}
	entries, err := migrations.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), "_event_feed_keys.sql") {
			continue
		}
		data, _ := migrations.ReadFile(dir + "/" + e.Name())
		stmts, err := atlas.NewLocalFile(e.Name(), data).Stmts()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if strings.Contains(s, "INTO `event_parties`") || strings.Contains(s, `INTO "event_parties"`) {
				return s
			}
		}
	}
	t.Fatal("no backfill statement in the event_feed_keys migration")
	return ""
}

func scratchPostgres(t *testing.T, admin string) string {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tatest_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
