package obs

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/metric"
)

// TestScrapesOneAtATime checks /metrics, which anyone may call and whose gauges query the database, runs
// one scrape at a time: a scrape arriving while one runs gets 503 at once instead of another set of queries.
func TestScrapesOneAtATime(t *testing.T) {
	o, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close(context.Background())
	entered, release := make(chan struct{}, 1), make(chan struct{})
	g, err := o.meter.Float64ObservableGauge("test.slow")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.meter.RegisterCallback(func(ctx context.Context, ob metric.Observer) error {
		select {
		case entered <- struct{}{}:
			<-release // the first scrape waits here, as on a slow database
		default:
		}
		ob.ObserveFloat64(g, 1)
		return nil
	}, g); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(o.MetricsHandler())
	defer srv.Close()
	scrape := func() int {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Error(err)
			return 0
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	first := make(chan int)
	go func() { first <- scrape() }()
	<-entered
	if code := scrape(); code != http.StatusServiceUnavailable {
		t.Errorf("a scrape during another: %d, want 503", code)
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("the first scrape: %d", code)
	}
	if code := scrape(); code != http.StatusOK {
		t.Errorf("a scrape after the first: %d", code)
	}
}
