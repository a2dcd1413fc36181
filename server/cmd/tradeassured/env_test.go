package main

import (
	"strings"
	"testing"
	"time"
)

// TestEnvLimits checks the limit variables: unset gives the default, a well-formed value is used, a
// malformed one is an error naming the variable, and the first error is the one kept.
func TestEnvLimits(t *testing.T) {
	const bytesVar, timeVar = "TRADEASSURE_TEST_ENV_BYTES", "TRADEASSURE_TEST_ENV_TIME"
	cases := []struct {
		name           string
		bytes, timeout string // "" for unset
		wantBytes      int64
		wantTime       time.Duration
		wantErr        string
	}{
		{"unset", "", "", 7, 3 * time.Second, ""},
		{"set", "4194305", "1m30s", 4194305, 90 * time.Second, ""},
		{"malformed int", "4MiB", "1s", 0, time.Second, bytesVar},
		{"malformed duration", "1", "30", 1, 0, timeVar},
		{"both malformed: the first kept", "x", "y", 0, 0, bytesVar},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for name, v := range map[string]string{bytesVar: c.bytes, timeVar: c.timeout} {
				if v != "" {
					t.Setenv(name, v)
				}
			}
			var err error
			gotBytes := envInt(&err, bytesVar, 7)
			gotTime := envDuration(&err, timeVar, 3*time.Second)
			if gotBytes != c.wantBytes || gotTime != c.wantTime {
				t.Fatalf("got %d, %v; want %d, %v", gotBytes, gotTime, c.wantBytes, c.wantTime)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr+":")):
				t.Fatalf("error %v, want one naming %s", err, c.wantErr)
			}
		})
	}
}
