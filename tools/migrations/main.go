// Command migrations writes the next versioned migration for each storage engine into
// server/storage/migrations/<engine>/, as the difference between the migrations already there and the
// ent schema. It needs a scratch database for each engine to replay the existing migrations on: SQLite in
// memory, and a throwaway Postgres database it creates and drops (--pg, default the local server).
// Run it through `make migrations NAME=what_changed` after changing ent/schema.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/tradeassure/tradeassure/ent/migrate"
)

func main() {
	// Atlas opens the dev database by the URL scheme; pgx answers for "postgres".
	sql.Register("postgres", stdlib.GetDefaultDriver())
	name := flag.String("name", "", "a short snake_case name for the migration, such as add_returns")
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "an admin DSN of a Postgres server where a scratch database may be created")
	flag.Parse()
	if *name == "" {
		log.Fatal("migrations: -name is required")
	}
	ctx := context.Background()
	if err := diff(ctx, "server/storage/migrations/sqlite", dialect.SQLite, "sqlite://file?mode=memory&_fk=1", *name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}
	devURL, cleanup, err := scratchPostgres(ctx, *pg)
	if err != nil {
		log.Fatalf("postgres: %v", err)
	}
	defer cleanup()
	if err := diff(ctx, "server/storage/migrations/postgres", dialect.Postgres, devURL, *name); err != nil {
		log.Fatalf("postgres: %v", err)
	}
}

func diff(ctx context.Context, path, dia, devURL, name string) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	dir, err := atlas.NewLocalDir(path)
	if err != nil {
		return err
	}
	opts := []schema.MigrateOption{
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dia),
		schema.WithFormatter(atlas.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	}
	if err := migrate.NamedDiff(ctx, devURL, name, opts...); err != nil {
		return fmt.Errorf("diff %s: %w", path, err)
	}
	return nil
}

// scratchPostgres creates an empty database for the diff to replay migrations on, and drops it after.
func scratchPostgres(ctx context.Context, adminDSN string) (string, func(), error) {
	db, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return "", nil, err
	}
	// A name of its own per run, so that two checkouts generating migrations at once do not collide.
	scratch := fmt.Sprintf("tradeassure_migrations_scratch_%d", os.Getpid())
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+scratch); err != nil {
		return "", nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+scratch); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + scratch
	q := u.Query()
	q.Set("search_path", "public")
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+scratch)
		_ = db.Close()
	}, nil
}
