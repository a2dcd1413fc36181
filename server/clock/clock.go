// Package clock is the service's source of time. Production uses the system clock; development mode
// (--dev) uses an adjustable clock whose offset is stored in the database, so a black-box test can move
// time forward to cross deadlines, and a restart keeps the moved time.
package clock

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/setting"
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

// Adjustable is a clock that can be moved forward; it runs at real speed from its offset.
type Adjustable struct {
	mu     sync.RWMutex
	offset time.Duration
	client *ent.Client
	base   func() time.Time
}

const offsetKey = "dev_clock_offset_ns"

// NewAdjustable returns an adjustable clock that loads and stores its offset through client. base is the
// underlying time source (time.Now when nil).
func NewAdjustable(ctx context.Context, client *ent.Client, base func() time.Time) (*Adjustable, error) {
	if base == nil {
		base = time.Now
	}
	c := &Adjustable{client: client, base: base}
	s, err := client.Setting.Get(ctx, offsetKey)
	switch {
	case ent.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("load clock offset: %w", err)
	default:
		n, err := strconv.ParseInt(s.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("load clock offset: %w", err)
		}
		c.offset = time.Duration(n)
	}
	return c, nil
}

// Now returns the base time plus the offset.
func (c *Adjustable) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base().Add(c.offset).UTC()
}

// Advance moves the clock forward by d and stores the new offset.
func (c *Adjustable) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return time.Time{}, fmt.Errorf("advance clock: %v is not forward", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.offset + d
	err := c.client.Setting.Create().SetID(offsetKey).SetValue(strconv.FormatInt(int64(next), 10)).
		OnConflictColumns(setting.FieldID).UpdateNewValues().Exec(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("advance clock: %w", err)
	}
	c.offset = next
	return c.base().Add(c.offset).UTC(), nil
}
