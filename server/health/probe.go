package health

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is one readiness condition: Fn fails when the condition does not hold.
type Check struct {
	Name string
	Fn   func(context.Context) error
}

// probeTimeout bounds each readiness check, so a hung database makes /readyz fail, not hang.
const probeTimeout = 3 * time.Second

// Live answers GET /healthz: 200 while the process serves HTTP at all (a liveness probe; restart on failure).
func Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// Ready answers GET /readyz: 200 when every check passes, else 503; the body names each check's result,
// {"status":"fail","checks":{"database":"ok","migrations":"2 pending: …"}} (a readiness probe: take the
// process out of the load balancer on failure).
func Ready(checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}{Status: "ok", Checks: map[string]string{}}
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
			err := c.Fn(ctx)
			cancel()
			if err != nil {
				out.Status = "fail"
				out.Checks[c.Name] = err.Error()
			} else {
				out.Checks[c.Name] = "ok"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if out.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}
