package transport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tradeassure/tradeassure/server/transport"
)

// TestResponsesGzippedAtTheFastestLevel checks the handlers' compression: a response of
// CompressMinBytes or more is gzipped at transport.GzipLevel (its bytes are exactly what that level
// makes of the message), a smaller one is sent as it is, and a Connect client reads both.
func TestResponsesGzippedAtTheFastestLevel(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/test.Echo/Repeat", connect.NewUnaryHandler("/test.Echo/Repeat",
		func(_ context.Context, req *connect.Request[wrapperspb.Int64Value]) (*connect.Response[wrapperspb.StringValue], error) {
			return connect.NewResponse(wrapperspb.String(strings.Repeat("order ", int(req.Msg.GetValue())))), nil
		}, transport.Config{}.HandlerOptions()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, c := range []struct {
		name   string
		repeat int64
		gzip   bool
	}{
		// The message is a tag, a two-byte length and six bytes a repeat: 1,023 and 1,029 bytes.
		{"just under the threshold", (transport.CompressMinBytes - 3) / 6, false},
		{"just over the threshold", (transport.CompressMinBytes-3)/6 + 1, true},
		{"a large page", 4000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, _ := proto.Marshal(wrapperspb.String(strings.Repeat("order ", int(c.repeat))))
			body, _ := proto.Marshal(wrapperspb.Int64(c.repeat))
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/test.Echo/Repeat", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/proto")
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if enc := resp.Header.Get("Content-Encoding"); (enc == "gzip") != c.gzip {
				t.Fatalf("%d-byte response: Content-Encoding %q, want gzip %v", len(want), enc, c.gzip)
			}
			if !c.gzip {
				if !bytes.Equal(got, want) {
					t.Fatal("the uncompressed response is not the message")
				}
				return
			}
			var fastest bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&fastest, transport.GzipLevel)
			zw.Write(want)
			zw.Close()
			if !bytes.Equal(got, fastest.Bytes()) {
				t.Fatalf("the response is %d bytes, not what gzip level %d makes of the message (%d bytes)", len(got), transport.GzipLevel, fastest.Len())
			}
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := io.ReadAll(zr)
			if !bytes.Equal(plain, want) {
				t.Fatal("the response does not decompress to the message")
			}
		})
	}
	client := connect.NewClient[wrapperspb.Int64Value, wrapperspb.StringValue](srv.Client(), srv.URL+"/test.Echo/Repeat")
	for _, n := range []int64{1, 4000} {
		resp, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.Int64(n)))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Msg.GetValue(); got != strings.Repeat("order ", int(n)) {
			t.Fatalf("client read %d characters, want %d", len(got), 6*n)
		}
	}
}
