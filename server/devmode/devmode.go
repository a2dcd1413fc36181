// Package devmode records the mode a database was created in and refuses development mode on a
// production database. It is apart from devseed, which seeds through the SDK, so the server can use it.
package devmode

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/storage"
)

// modeKey is the setting recording the mode a database was created in.
const modeKey = "database_mode"

// The modes a database can be created in.
const (
	ModeDevelopment = "development"
	ModeProduction  = "production"
)

// ErrNotDevDatabase is returned by CheckMode for development mode on a production database.
type ErrNotDevDatabase struct{ Mode string }

func (e *ErrNotDevDatabase) Error() string {
	return fmt.Sprintf("refusing development mode (--dev, TRADEASSURE_DEV): this database was created in %s mode. "+
		"Development mode seeds demo accounts, an operator among them, writes their keys to disk, and lets "+
		"the clock be moved; it runs only on a database created by a development server. "+
		"Start without --dev, or point --db at a new database for development", e.Mode)
}

// CheckMode records the mode of a new database, the mode of the first server that opens it, and refuses
// development mode on a database created in production mode. A database that already holds accounts
// when its mode is first recorded (made by "tradeassured admin", or before modes were recorded) counts as
// a production database.
func CheckMode(ctx context.Context, store *storage.Store, dev bool) (string, error) {
	mode, err := recordedMode(ctx, store.Client)
	if err != nil {
		return "", err
	}
	if mode == "" {
		mode = ModeProduction
		n, err := store.Client.Account.Query().Count(ctx)
		if err != nil {
			return "", fmt.Errorf("record database mode: %w", err)
		}
		if dev && n == 0 {
			mode = ModeDevelopment
		}
		// Two servers starting on a new database at once: the first record wins, both read it.
		if mode, err = store.FirstSetting(ctx, modeKey, mode); err != nil {
			return "", fmt.Errorf("record database mode: %w", err)
		}
	}
	if dev && mode != ModeDevelopment {
		return mode, &ErrNotDevDatabase{Mode: mode}
	}
	return mode, nil
}

func recordedMode(ctx context.Context, client *ent.Client) (string, error) {
	s, err := client.Setting.Get(ctx, modeKey)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read database mode: %w", err)
	}
	return s.Value, nil
}
