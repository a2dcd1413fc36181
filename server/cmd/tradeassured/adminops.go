package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"entgo.io/ent/dialect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	"github.com/tradeassure/tradeassure/ent/apikey"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/storage"
)

// adminSubcommand is one "tradeassured admin …" command; each works offline on the database.
type adminSubcommand struct {
	usage string
	run   func(args []string) error
}

// adminSubcommands are the admin commands besides create-account and rewrap-webhook-secrets (main.go).
var adminSubcommands = map[string]adminSubcommand{
	"list-accounts": {"list-accounts [--role ROLE] [--db DSN]", listAccountsCommand},
	"create-key":    {"create-key --account ID [--name NAME] [--db DSN]", createKeyCommand},
	"list-keys":     {"list-keys [--account ID] [--db DSN]", listKeysCommand},
	"revoke-key":    {"revoke-key --key KEY_ID [--db DSN]", revokeKeyCommand},
	"rotate-key":    {"rotate-key --key KEY_ID [--keep-old] [--db DSN]", rotateKeyCommand},
	"backup":        {"backup --to FILE [--db sqlite://…]", backupCommand},
}

// adminUsage lists every admin subcommand.
func adminUsage() string {
	lines := []string{
		"create-account --role operator --name NAME --email EMAIL [--country CC] [--limit-usd N] [--one-touch] [--db DSN]",
		"rewrap-webhook-secrets --webhook-key NEW,OLD [--db DSN]",
	}
	for _, name := range []string{"list-accounts", "create-key", "list-keys", "revoke-key", "rotate-key", "backup"} {
		lines = append(lines, adminSubcommands[name].usage)
	}
	return "tradeassured admin " + strings.Join(lines, "\n       tradeassured admin ")
}

// usage is the --help text: the server's flags, then the admin subcommands.
func usage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprintf(out, "tradeassured %s: the tradeassure server (Connect, gRPC and gRPC-Web on one port).\n\n", version())
	fmt.Fprintln(out, "usage: tradeassured [flags]          serve")
	fmt.Fprintln(out, "       tradeassured --version        print the version and commit")
	fmt.Fprintln(out, "       "+adminUsage())
	fmt.Fprintln(out, "\nThe admin subcommands work offline on the database (--db, or TRADEASSURE_DB). See docs/operations.md.")
	fmt.Fprintln(out, "\nflags:")
	fs.PrintDefaults()
}

// openAdmin parses the flags of an admin subcommand (with --db), checks the required ones are given, and
// opens the database, recording key and account changes for the running servers' key caches.
func openAdmin(name string, args []string, define func(fs *flag.FlagSet), required ...string) (*storage.Store, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	dsn := fs.String("db", env("TRADEASSURE_DB", "sqlite://tradeassure.db"), "database (env TRADEASSURE_DB)")
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, r := range required {
		if fs.Lookup(r).Value.String() == "" {
			return nil, fmt.Errorf("--%s is required", r)
		}
	}
	if err := sqliteExists(*dsn); err != nil {
		return nil, err
	}
	store, err := storage.Open(context.Background(), *dsn)
	if err != nil {
		return nil, err
	}
	// A key revoked or rotated here stops working on every running server within auth.DefaultBound.
	auth.RecordChanges(store.Client)
	return store, nil
}

// sqliteExists refuses a SQLite --db with no database file: opening it would create an empty database,
// so a typo in the path would list no accounts, or leave a stray database behind. (create-account, which
// bootstraps a database, does not check.)
func sqliteExists(dsn string) error {
	path, ok := strings.CutPrefix(dsn, "sqlite://")
	if !ok || path == ":memory:" || strings.Contains(path, "mode=memory") {
		return nil
	}
	path, _, _ = strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no database at %s (check --db or TRADEASSURE_DB; create-account or a server start creates one)", path)
	}
	return nil
}

func listAccountsCommand(args []string) error {
	var role *string
	store, err := openAdmin("list-accounts", args, func(fs *flag.FlagSet) { role = fs.String("role", "", "only accounts of this role") })
	if err != nil {
		return err
	}
	defer store.Close()
	q := store.Client.Account.Query().Order(ent.Asc(account.FieldCreateTime), ent.Asc(account.FieldID))
	if *role != "" {
		r := account.Role(strings.ToLower(*role))
		if err := account.RoleValidator(r); err != nil {
			return fmt.Errorf("--role: %w", err)
		}
		q = q.Where(account.RoleEQ(r))
	}
	accts, err := q.All(context.Background())
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT_ID\tROLE\tNAME\tEMAIL\tSTANDING\tCREATED")
	for _, a := range accts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Role, a.Name, a.Email, a.Standing, a.CreateTime.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}

func createKeyCommand(args []string) error {
	var acct, name *string
	store, err := openAdmin("create-key", args, func(fs *flag.FlagSet) {
		acct = fs.String("account", "", "account id (required)")
		name = fs.String("name", "admin-cli", "a name for the key, to tell keys apart")
	}, "account")
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	var k *ent.APIKey
	var secret string
	if err := store.WithTx(ctx, func(tx *ent.Tx) (err error) {
		k, secret, err = admin.IssueKey(ctx, tx, *acct, *name, time.Now().UTC())
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("api_key_id: %s\napi_key:    %s\n", k.ID, secret)
	return nil
}

func listKeysCommand(args []string) error {
	var acct *string
	store, err := openAdmin("list-keys", args, func(fs *flag.FlagSet) { acct = fs.String("account", "", "only this account's keys") })
	if err != nil {
		return err
	}
	defer store.Close()
	q := store.Client.APIKey.Query().Order(ent.Asc(apikey.FieldCreateTime), ent.Asc(apikey.FieldID))
	if *acct != "" {
		q = q.Where(apikey.AccountID(*acct))
	}
	keys, err := q.All(context.Background())
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "API_KEY_ID\tACCOUNT_ID\tNAME\tPREFIX\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if k.RevokeTime != nil {
			revoked = k.RevokeTime.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.AccountID, k.Name, k.Prefix, k.CreateTime.UTC().Format(time.RFC3339), revoked)
	}
	return w.Flush()
}

func revokeKeyCommand(args []string) error {
	var id *string
	store, err := openAdmin("revoke-key", args, func(fs *flag.FlagSet) { id = fs.String("key", "", "API key id (key_…, from list-keys; required)") }, "key")
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	var k *ent.APIKey
	if err := store.WithTx(ctx, func(tx *ent.Tx) (err error) {
		k, err = admin.RevokeKey(ctx, tx, *id, time.Now().UTC())
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("revoked %s (account %s) at %s\n", k.ID, k.AccountID, k.RevokeTime.UTC().Format(time.RFC3339))
	return nil
}

// rotateKeyCommand issues a new key for the account of an existing one and, unless --keep-old, revokes the
// old one in the same transaction.
func rotateKeyCommand(args []string) error {
	var id *string
	var keep *bool
	store, err := openAdmin("rotate-key", args, func(fs *flag.FlagSet) {
		id = fs.String("key", "", "API key id to replace (required)")
		keep = fs.Bool("keep-old", false, "leave the old key valid (revoke it with revoke-key once every client has the new one)")
	}, "key")
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	var nk *ent.APIKey
	var secret string
	if err := store.WithTx(ctx, func(tx *ent.Tx) error {
		now := time.Now().UTC()
		old, err := tx.APIKey.Get(ctx, *id)
		if ent.IsNotFound(err) {
			return fmt.Errorf("no API key %s", *id)
		} else if err != nil {
			return err
		}
		if old.RevokeTime != nil {
			return fmt.Errorf("API key %s is revoked; issue a new one with create-key", *id)
		}
		if nk, secret, err = admin.IssueKey(ctx, tx, old.AccountID, old.Name, now); err != nil {
			return err
		}
		if !*keep {
			_, err = admin.RevokeKey(ctx, tx, old.ID, now)
		}
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("api_key_id: %s\napi_key:    %s\n", nk.ID, secret)
	if *keep {
		fmt.Printf("%s stays valid; revoke it with: tradeassured admin revoke-key --key %s\n", *id, *id)
	} else {
		fmt.Printf("revoked %s\n", *id)
	}
	return nil
}

// backupCommand writes a consistent copy of a SQLite database with VACUUM INTO, while servers keep using
// it (it reads one snapshot). Postgres is backed up with pg_dump (docs/operations.md).
func backupCommand(args []string) error {
	var to *string
	store, err := openAdmin("backup", args, func(fs *flag.FlagSet) {
		to = fs.String("to", "", "file to write the copy to; must not exist (required)")
	}, "to")
	if err != nil {
		return err
	}
	defer store.Close()
	if store.Dialect != dialect.SQLite {
		return errors.New("backup copies SQLite databases; back up Postgres with pg_dump (see docs/operations.md)")
	}
	if _, err := os.Stat(*to); err == nil {
		return fmt.Errorf("%s exists; choose a new file", *to)
	}
	if _, err := store.DB.ExecContext(context.Background(), "VACUUM INTO ?", *to); err != nil {
		return fmt.Errorf("back up to %s: %w", *to, err)
	}
	fi, err := os.Stat(*to)
	if err != nil {
		return err
	}
	fmt.Printf("backed up to %s (%d bytes); restore by starting tradeassured with --db sqlite://%s\n", *to, fi.Size(), *to)
	return nil
}
