package bench

import (
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/transport"
)

// BenchmarkResponseGzip compresses a real ListOrders page (50 orders, as the server sends it) at gzip's
// default level — Connect's own compressor — and at transport.GzipLevel, the handlers' level, in turn in
// one loop so a busy machine slows both alike; it reports each one's time per page, their ratio and the
// compressed sizes.
func BenchmarkResponseGzip(b *testing.B) {
	c := defaultCompare()
	c.Orders, c.FeedSmall = 5000, 0
	s, _ := realSide(b, "sqlite-file", c)
	resp, err := s.buyer.ListOrders(b.Context(), connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 50}))
	if err != nil {
		b.Fatal(err)
	}
	if len(resp.Msg.GetOrders()) != 50 {
		b.Fatalf("a page of %d orders, want 50", len(resp.Msg.GetOrders()))
	}
	page, err := proto.Marshal(resp.Msg)
	if err != nil {
		b.Fatal(err)
	}
	levels := []int{gzip.DefaultCompression, transport.GzipLevel}
	writers := make([]*gzip.Writer, len(levels))
	bufs := make([]bytes.Buffer, len(levels))
	spent := make([]time.Duration, len(levels))
	for i, l := range levels {
		writers[i], _ = gzip.NewWriterLevel(&bufs[i], l)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, w := range writers {
			start := time.Now()
			bufs[i].Reset()
			w.Reset(&bufs[i])
			if _, err := w.Write(page); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(page)), "page-bytes")
	b.ReportMetric(float64(spent[0].Microseconds())/float64(b.N), "default-µs/page")
	b.ReportMetric(float64(bufs[0].Len()), "default-bytes")
	b.ReportMetric(float64(spent[1].Microseconds())/float64(b.N), "fastest-µs/page")
	b.ReportMetric(float64(bufs[1].Len()), "fastest-bytes")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "time-ratio")
}
