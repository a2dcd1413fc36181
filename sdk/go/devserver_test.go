package tradeassure_test

import (
	"context"
	"log/slog"
	"net/http/httptest"

	"github.com/tradeassure/tradeassure/server"
	"github.com/tradeassure/tradeassure/server/devseed"
	"github.com/tradeassure/tradeassure/server/storage"
)

// devServer is a real tradeassure server in development mode on an in-memory database, as
// "tradeassured --dev" runs it, serving HTTP/1.1 and h2c on a loopback port. Examples use it because an
// Example function has no testing.T for server/servertest.
type devServer struct {
	URL  string
	Keys map[string]devseed.Principal
	stop func()
}

// startDevServer starts a dev server; it panics on failure, which fails the example.
func startDevServer() *devServer {
	ctx := context.Background()
	store, err := storage.Open(ctx, "sqlite://:memory:")
	if err != nil {
		panic(err)
	}
	srv, err := server.New(ctx, server.Config{Store: store, Log: slog.New(slog.DiscardHandler), Dev: true})
	if err != nil {
		panic(err)
	}
	keys, err := devseed.Seed(ctx, store, srv.Clock.Now())
	if err != nil {
		panic(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler)
	hs.Config.Protocols = server.Protocols()
	hs.Start()
	return &devServer{URL: hs.URL, Keys: keys, stop: func() { hs.Close(); _ = store.Close() }}
}

// key returns the API key of a seeded principal: "buyer", "supplier", "arbiter", "operator", …
func (d *devServer) key(who string) string { return d.Keys[who].APIKey }

// Close stops the server.
func (d *devServer) Close() { d.stop() }
