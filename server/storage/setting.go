package storage

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/ent/setting"
)

// FirstSetting stores value under key unless the key already holds one, and returns the value the key
// holds: the first process to store it wins, and every process, however they race, reads the winner's.
func (s *Store) FirstSetting(ctx context.Context, key, value string) (string, error) {
	// DoNothing on conflict reports "no rows" on some drivers; the read below is what matters.
	_ = s.Client.Setting.Create().SetID(key).SetValue(value).
		OnConflictColumns(setting.FieldID).DoNothing().Exec(ctx)
	got, err := s.Client.Setting.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return got.Value, nil
}
