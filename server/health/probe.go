package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
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

// readyFor is how long a readiness result answers every probe: however many probes arrive (the endpoint
// is not authenticated nor rate limited, so a load balancer's probe is never refused), the checks, which
// query the database, run at most once per readyFor, and concurrent probes wait for the one running.
const readyFor = time.Second

// Ready answers GET /readyz: 200 when every check passes, else 503; the body names each check's result,
// {"status":"fail","checks":{"database":"ok","migrations":"2 pending: …"}} (a readiness probe: take the
// process out of the load balancer on failure).
func Ready(checks ...Check) http.Handler { return newReadiness(time.Now, checks) }

type readiness struct {
	now    func() time.Time
	checks []Check

	mu     sync.Mutex // held while the checks run, so concurrent probes share one run
	at     time.Time
	status string
	result map[string]string
}

func newReadiness(now func() time.Time, checks []Check) *readiness {
	return &readiness{now: now, checks: checks}
}

// run returns the checks' results, run anew when the last ones are older than readyFor.
func (rd *readiness) run(ctx context.Context) (string, map[string]string) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.result != nil && rd.now().Sub(rd.at) < readyFor {
		return rd.status, rd.result
	}
	status, result := "ok", map[string]string{}
	for _, c := range rd.checks {
		// Not the probe's context: a probe that hangs up must not fail the result the others share.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
		err := c.Fn(cctx)
		cancel()
		if err != nil {
			status = "fail"
			result[c.Name] = err.Error()
		} else {
			result[c.Name] = "ok"
		}
	}
	rd.at, rd.status, rd.result = rd.now(), status, result
	return status, result
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, result := rd.run(r.Context())
	out := struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}{Status: status, Checks: result}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(out)
}
