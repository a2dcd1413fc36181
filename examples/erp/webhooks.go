package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	tradeassure "github.com/tradeassure/tradeassure/sdk/go"
)

// maxBody bounds a delivery; events are a few KiB.
const maxBody = 1 << 20

// webhookHandler receives webhook deliveries: it verifies each with the endpoint's secret (refusing
// forged, altered and stale ones with 401, so the server retries a genuine one), applies the event once
// however often it arrives, and answers 200 only after the event is saved.
func (e *erp) webhookHandler(ctx context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := tradeassure.VerifyWebhook(e.cfg.WebhookSecret, r.Header, body, 0)
		if err != nil {
			fmt.Fprintf(e.out, "webhook refused: %v\n", err)
			http.Error(w, "signature not valid", http.StatusUnauthorized)
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := e.apply(ctx, ev); err != nil {
			fmt.Fprintf(e.out, "webhook %s not applied: %v\n", ev.GetId(), err)
			http.Error(w, "not applied; retry", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// serveWebhooks catches up from the feed, then receives webhooks until ctx ends: the feed covers what
// happened while the ERP was down beyond the server's retries, the webhooks bring everything new.
func (e *erp) serveWebhooks(ctx context.Context) error {
	if err := e.catchUp(ctx); err != nil {
		return err
	}
	ln := e.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", e.cfg.WebhookListen); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: e.webhookHandler(ctx), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	fmt.Fprintf(e.out, "erp: receiving webhooks at http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintf(e.out, "erp: stopped at cursor %q\n", e.st.Cursor)
	return nil
}
