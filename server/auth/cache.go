package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	entgo "entgo.io/ent"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/setting"
)

// DefaultBound is how long after a key is revoked, or its account banned, restricted, frozen or otherwise
// changed, any server process on the database may still authenticate with what it knew before.
const DefaultBound = time.Second

// maxAge bounds how long a verified key is kept even while nothing changes, and maxEntries how many are.
const (
	maxAge     = 5 * time.Minute
	maxEntries = 10_000
)

// versionKey names the settings row (the auth_changes version) that every change to an API key or an
// account replaces, in the changing transaction, just before it commits. A process that reads a new value
// forgets every key it verified.
const versionKey = "auth_changes"

// keyCache holds verified keys so that a call costs no database round trip to authenticate. An entry is
// used only while the version it was verified under is the one last read, and that version is read again
// at most once per bound — on the first call after the bound has passed — so a change committed by any
// process is seen by every process within the bound.
type keyCache struct {
	mu      sync.Mutex // held while the version is read, so one call per bound reads it
	version string
	checked time.Time // when the version in hand was read (the read's start)

	entriesMu sync.RWMutex
	entries   map[string]cachedKey // by secret hash
}

type cachedKey struct {
	p       Principal
	version string
	at      time.Time
}

// currentVersion returns the auth_changes version, reading it when the one in hand is older than the bound.
func (c *keyCache) currentVersion(ctx context.Context, client *ent.Client, bound time.Duration) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.checked.IsZero() && time.Since(c.checked) < bound {
		return c.version, nil
	}
	start := time.Now()
	s, err := client.Setting.Get(ctx, versionKey)
	switch {
	case ent.IsNotFound(err):
		c.version = ""
	case err != nil:
		return "", fmt.Errorf("read the auth changes version: %w", err)
	default:
		c.version = s.Value
	}
	c.checked = start
	return c.version, nil
}

func (c *keyCache) get(hash, version string) (Principal, bool) {
	c.entriesMu.RLock()
	defer c.entriesMu.RUnlock()
	e, ok := c.entries[hash]
	if !ok || e.version != version || time.Since(e.at) > maxAge {
		return Principal{}, false
	}
	return e.p, true
}

func (c *keyCache) put(hash, version string, at time.Time, p Principal) {
	c.entriesMu.Lock()
	defer c.entriesMu.Unlock()
	if c.entries == nil || len(c.entries) >= maxEntries {
		c.entries = map[string]cachedKey{}
	}
	c.entries[hash] = cachedKey{p: p, version: version, at: at}
}

// forget drops every entry and makes the next call read the version: this process has just committed a
// change.
func (c *keyCache) forget() {
	c.mu.Lock()
	c.checked = time.Time{}
	c.mu.Unlock()
	c.entriesMu.Lock()
	c.entries = nil
	c.entriesMu.Unlock()
}

// Hook returns the ent hook that records every change to an API key or an account (other than its
// creation) by replacing the auth_changes version in the same transaction. The version is written as the
// transaction's last statement, just before it commits, so the one row every such transaction writes is
// held only while committing (it can neither deadlock with the rows the transaction wrote before nor make
// them wait). Register it on the API key and account clients (NewAuthenticator does).
func (a *Authenticator) Hook() ent.Hook {
	var pending sync.Map // *ent.Tx → struct{}: transactions that will write the version at commit
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil || m.Op().Is(entgo.OpCreate) {
				return v, err
			}
			var (
				tx     *ent.Tx
				client *ent.Client
			)
			switch m := m.(type) {
			case *ent.APIKeyMutation:
				tx, _ = m.Tx()
				client = m.Client()
			case *ent.AccountMutation:
				tx, _ = m.Tx()
				client = m.Client()
			default:
				return v, nil
			}
			if tx == nil {
				if err := bumpVersion(ctx, client); err != nil {
					return nil, err
				}
				a.keys.forget()
				return v, nil
			}
			if _, loaded := pending.LoadOrStore(tx, struct{}{}); loaded {
				return v, nil
			}
			tx.OnCommit(func(next ent.Committer) ent.Committer {
				return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
					defer pending.Delete(tx)
					if err := bumpVersion(ctx, tx.Client()); err != nil {
						return err
					}
					err := next.Commit(ctx, tx)
					if err == nil {
						a.keys.forget()
					}
					return err
				})
			})
			tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
				return ent.RollbackFunc(func(ctx context.Context, tx *ent.Tx) error {
					pending.Delete(tx)
					return next.Rollback(ctx, tx)
				})
			})
			return v, nil
		})
	}
}

// use registers the hook on the API key and account clients of client.
func (a *Authenticator) use(client *ent.Client) {
	h := a.Hook()
	client.APIKey.Use(h)
	client.Account.Use(h)
}

// RecordChanges registers, on a client that authenticates nothing (an offline admin command), the hook
// that records changes to API keys and accounts, so running servers see them within DefaultBound.
func RecordChanges(client *ent.Client) { (&Authenticator{}).use(client) }

// bumpVersion replaces the auth_changes version with a new random value.
func bumpVersion(ctx context.Context, client *ent.Client) error {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	err := client.Setting.Create().SetID(versionKey).SetValue(hex.EncodeToString(b)).
		OnConflictColumns(setting.FieldID).UpdateNewValues().Exec(ctx)
	if err != nil {
		return fmt.Errorf("record an API key or account change: %w", err)
	}
	return nil
}
