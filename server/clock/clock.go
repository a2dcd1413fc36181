// Package clock is the service's source of time. Production uses the system clock; development mode
// (--dev) uses an adjustable clock whose offset is stored in the database, so a black-box test can move
// time forward to cross deadlines, a restart keeps the moved time, and every process on one database
// tells the same time.
package clock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/tradeassure/tradeassure/ent"

	"github.com/tradeassure/tradeassure/ent/setting"
	"github.com/tradeassure/tradeassure/server/storage"
)

// Clock tells the time.
type Clock interface {
	// Now returns the current time in UTC.
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns the system time in UTC.
func (System) Now() time.Time { return time.Now().UTC() }

// Syncer is a clock shared through the database; Sync brings it up to date with the other processes.
type Syncer interface {
	Sync(ctx context.Context) error
}

// Sync brings c up to date when it is shared (the development clock); other clocks need nothing. Callers
// sync before a unit of work (a request, a deadline run), never inside a transaction.
func Sync(ctx context.Context, c Clock) error {
	if s, ok := c.(Syncer); ok {
		return s.Sync(ctx)
	}
	return nil
}

// MaxOffset is how far the development clock may be moved in all: far enough for any deadline, near
// enough that no time it tells comes close to the end of what a timestamp or a duration can hold.
const MaxOffset = 100 * 365 * 24 * time.Hour

// ErrTooFar is returned by Advance when the clock would move beyond MaxOffset.
var ErrTooFar = errors.New("the clock would move more than 100 years ahead of the real time")

// Adjustable is a clock that can be moved forward; it runs at real speed from its offset. The offset is
// stored in the database and shared by every process on it: Advance adds to the stored offset, Sync
// reads it, and the offset a process uses only ever grows, so the clock never moves backwards.
type Adjustable struct {
	mu     sync.RWMutex
	offset time.Duration
	store  *storage.Store
	base   func() time.Time
}

const offsetKey = "dev_clock_offset_ns"

// NewAdjustable returns an adjustable clock that loads and stores its offset in store. base is the
// underlying time source (time.Now when nil).
func NewAdjustable(ctx context.Context, store *storage.Store, base func() time.Time) (*Adjustable, error) {
	if base == nil {
		base = time.Now
	}
	// The offset row exists before any move, so Advance's row lock always has a row to lock: two first
	// moves at once would otherwise both start from zero, and one would be lost.
	if _, err := store.FirstSetting(ctx, offsetKey, "0"); err != nil {
		return nil, fmt.Errorf("load clock offset: %w", err)
	}
	c := &Adjustable{store: store, base: base}
	if err := c.Sync(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// stored reads the stored offset (zero when none); on Postgres within tx it locks the row.
func stored(ctx context.Context, q *ent.SettingQuery) (time.Duration, error) {
	s, err := q.Where(setting.ID(offsetKey)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load clock offset: %w", err)
	}
	n, err := strconv.ParseInt(s.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("load clock offset: %w", err)
	}
	return time.Duration(n), nil
}

// Sync reads the offset other processes may have moved.
func (c *Adjustable) Sync(ctx context.Context) error {
	d, err := stored(ctx, c.store.Client.Setting.Query())
	if err != nil {
		return err
	}
	c.raise(d)
	return nil
}

// raise sets the offset to d unless it is already further.
func (c *Adjustable) raise(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = max(c.offset, d)
}

// Now returns the base time plus the offset.
func (c *Adjustable) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base().Add(c.offset).UTC()
}

// Latest is the furthest time the clock may be moved to: MaxOffset ahead of its base time.
func (c *Adjustable) Latest() time.Time { return c.base().Add(MaxOffset).UTC() }

// Advance moves the clock forward by d, adding it to the stored offset, which another process may have
// moved since this one last read it.
func (c *Adjustable) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return time.Time{}, fmt.Errorf("advance clock: %v is not forward", d)
	}
	var next time.Duration
	err := c.store.WithTx(ctx, func(tx *ent.Tx) error {
		q := tx.Setting.Query()
		if c.store.Dialect == dialect.Postgres {
			q = q.ForUpdate()
		}
		cur, err := stored(ctx, q)
		if err != nil {
			return err
		}
		if d > MaxOffset-cur {
			return ErrTooFar
		}
		next = cur + d
		return tx.Setting.UpdateOneID(offsetKey).SetValue(strconv.FormatInt(int64(next), 10)).Exec(ctx)
	})
	if err != nil {
		if errors.Is(err, ErrTooFar) {
			return time.Time{}, err
		}
		return time.Time{}, fmt.Errorf("advance clock: %w", err)
	}
	c.raise(next)
	return c.Now(), nil
}
