package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/tradeassure/tradeassure/server/storage"
)

func init() { sql.Register("sqlite3_uncached", &sqlite3.SQLiteDriver{}) }

// BenchmarkStatementCache measures what the statement cache saves on the statements a GetOrder and a
// CreateOrder send (ent's full-column order read by primary key, an insert of an order-sized row), on one
// WAL file through two pools run alternately in each iteration: the server's (cached) and one on the plain
// driver (uncached). It reports each side's mean µs per iteration and uncached/cached.
func BenchmarkStatementCache(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	store, err := storage.Open(ctx, "sqlite://"+dir+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	plain, err := sql.Open("sqlite3_uncached", "file:"+dir+"/bench.db?_fk=1&_busy_timeout=10000&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	plain.SetMaxOpenConns(4)
	plain.SetMaxIdleConns(4)
	const read = "SELECT `orders`.`id`, `orders`.`create_time`, `orders`.`update_time`, `orders`.`revision`, `orders`.`etag`, " +
		"`orders`.`policy`, `orders`.`policy_version`, `orders`.`state`, `orders`.`supplier_id`, `orders`.`buyer_id`, " +
		"`orders`.`buyer_email`, `orders`.`currency`, `orders`.`terms`, `orders`.`goods_minor`, `orders`.`total_minor` " +
		"FROM `orders` WHERE `orders`.`id` = ? LIMIT 2"
	const write = "INSERT INTO `order_revisions` (`order_id`, `revision`, `change`, `actor_role`, `actor_id`, `time`, `snapshot`) VALUES (?, ?, ?, ?, ?, ?, ?)"
	snapshot := make([]byte, 600)
	n := 0
	run := func(db *sql.DB) time.Duration {
		start := time.Now()
		for range 20 {
			n++
			var id, etag, policy, state, supplier, buyer, email, currency string
			var ct, ut time.Time
			var rev, pv, goods, total int64
			var terms []byte
			err := db.QueryRowContext(ctx, read, "ord_missing").Scan(&id, &ct, &ut, &rev, &etag, &policy, &pv, &state, &supplier, &buyer, &email, &currency, &terms, &goods, &total)
			if err != sql.ErrNoRows {
				b.Fatal(err)
			}
		}
		n++
		if _, err := db.ExecContext(ctx, write, fmt.Sprint("ord_", n), 1, "order.drafted", "supplier", "acc_1", time.Now(), snapshot); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var cached, uncached time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			cached += run(store.DB)
			uncached += run(plain)
		} else {
			uncached += run(plain)
			cached += run(store.DB)
		}
	}
	b.ReportMetric(float64(cached.Microseconds())/float64(b.N), "cached-µs/op")
	b.ReportMetric(float64(uncached.Microseconds())/float64(b.N), "uncached-µs/op")
	b.ReportMetric(float64(uncached)/float64(cached), "uncached/cached")
}
