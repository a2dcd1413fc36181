// Package deps holds what every service is built with, so server.New wires each service the same way.
package deps

import (
	"log/slog"

	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/storage"
)

// Deps are the shared pieces a service depends on.
type Deps struct {
	Store  *storage.Store
	Clock  clock.Clock
	Feed   *events.Feed
	Pager  *pagination.Pager
	Engine *deadline.Engine
	Log    *slog.Logger
}
