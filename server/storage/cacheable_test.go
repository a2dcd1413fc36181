package storage

import "testing"

// TestCacheable pins which statements the SQLite statement cache keeps, whatever their keywords' case.
func TestCacheable(t *testing.T) {
	for _, c := range []struct {
		query string
		exec  bool
		want  bool
	}{
		{"SELECT a FROM t WHERE k = ?", false, true},
		{"SELECT * FROM t", false, false},
		{"SELECT COUNT(*) FROM t", false, true},
		{"INSERT INTO t (a) VALUES (?)", true, true},
		{"  insert into t (a) values (?)", true, true},
		{"Update t SET a = ?", true, true},
		{"DELETE FROM t", true, true},
		{"replace into t (a) values (?)", true, true},
		{"INSERT INTO t (a) VALUES (?) RETURNING id", true, false},
		{"update t set a = ? returning a", true, false},
		{"UPDATE t SET a = ? ReTuRnInG a", true, false},
		{"UPDATE t SET returned = ?", true, true},
		{"SELECT a FROM t", true, false},
		{"INSERT INTO t (a) VALUES (1); INSERT INTO t (a) VALUES (2)", true, false},
		{"UPD", true, false},
	} {
		if got := cacheable(c.query, c.exec); got != c.want {
			t.Errorf("cacheable(%q, exec %v) = %v, want %v", c.query, c.exec, got, c.want)
		}
	}
}
