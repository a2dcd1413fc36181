// Package transport is the HTTP armour in front of the Connect handlers: the size, time and origin limits
// of a request, and authentication before a request body is read. Each piece is a small http.Handler
// middleware, so other middleware (logging, metrics, rate limits) composes with it in any order.
package transport

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"github.com/rs/cors"
)

// Defaults of Config.
const (
	DefaultMaxMessageBytes   = 4 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// Config is the transport's limits. Zero values mean the defaults.
type Config struct {
	// MaxMessageBytes is the largest request message a handler reads, after decompression; a larger
	// one is refused with RESOURCE_EXHAUSTED.
	MaxMessageBytes int64
	// ReadHeaderTimeout is how long a client may take to send a request's headers.
	ReadHeaderTimeout time.Duration
	// BodyTimeout is how long a client may take to send a request's body, from the start of the
	// request. It ends when the body has been read, so server streams are not cut.
	BodyTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its next request.
	IdleTimeout time.Duration
	// CORSOrigins are the browser origins allowed to call the API ("*" for any); none when empty.
	CORSOrigins []string
	// Limits are the gate's rate limits.
	Limits RateLimits
}

// WithDefaults returns c with every zero limit set to its default.
func (c Config) WithDefaults() Config {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	c.Limits = c.Limits.withDefaults()
	return c
}

// CompressMinBytes is the smallest response the handlers compress: gzip of the many small replies cost
// 9–15 % of CPU under load for little gain (docs/benchmarks.md).
const CompressMinBytes = 1024

// HandlerOptions are the Connect options every handler gets: the maximum message size, and compression
// only of responses of CompressMinBytes or more, by gzip at its fastest level.
func (c Config) HandlerOptions() connect.HandlerOption {
	return connect.WithHandlerOptions(connect.WithReadMaxBytes(int(c.WithDefaults().MaxMessageBytes)),
		connect.WithCompressMinBytes(CompressMinBytes),
		connect.WithCompression("gzip", func() connect.Decompressor { return &gzip.Reader{} }, newGzipWriter))
}

// GzipLevel is the level responses are compressed at. Connect's own gzip uses the default level (6): a
// page of 50 orders (24 KB) took 70–74 µs to compress at 6 and 31–33 µs at 1, for 840–845 bytes instead
// of 832–837 (BenchmarkResponseGzip in server/bench); the API's responses are protobuf or JSON with long
// repeated runs, which the fastest level already finds.
const GzipLevel = gzip.BestSpeed

func newGzipWriter() connect.Compressor {
	w, err := gzip.NewWriterLevel(io.Discard, GzipLevel)
	if err != nil { // only for a level out of range, which GzipLevel is not
		panic(err)
	}
	return w
}

// HTTPServer returns an http.Server for h with the header and idle timeouts. (The body timeout is
// BodyDeadline's, per request: http.Server.ReadTimeout would also cut server streams on HTTP/1.1.)
func (c Config) HTTPServer(h http.Handler, protocols *http.Protocols) *http.Server {
	c = c.WithDefaults()
	return &http.Server{Handler: h, Protocols: protocols, ReadHeaderTimeout: c.ReadHeaderTimeout, IdleTimeout: c.IdleTimeout}
}

// ParseOrigins splits a comma-separated list of origins, dropping blanks.
func ParseOrigins(list string) []string {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// CORS lets browsers on the configured origins call the API with an API key; with no origins it adds
// nothing, so browsers refuse cross-origin calls.
func (c Config) CORS(next http.Handler) http.Handler {
	if len(c.CORSOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: c.CORSOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         7200,
	}).Handler(next)
}

// BodyDeadline gives each request BodyTimeout to send its body: a client sending it slower (a slow-loris
// body) gets its connection closed. The deadline is lifted once the body has been read to its end.
func (c Config) BodyDeadline(next http.Handler) http.Handler {
	d := c.WithDefaults().BodyTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody && rc.SetReadDeadline(time.Now().Add(d)) == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, w: w, http1: r.ProtoMajor == 1}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when the body ends, and closes an HTTP/1 connection whose body
// ran out of time after the answer (the rest of the body is still on it).
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	w     http.ResponseWriter
	http1 bool
	done  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF && !b.done:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil && b.http1 && errors.Is(err, os.ErrDeadlineExceeded):
		b.w.Header().Set("Connection", "close")
	}
	return n, err
}
