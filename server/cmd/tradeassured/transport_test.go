package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	binenc "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/server/transport"
)

// gzipZeros returns n zero bytes, gzipped.
func gzipZeros(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(chunk) {
		if _, err := zw.Write(chunk[:min(left, len(chunk))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// grpcFrame is one gRPC message envelope.
func grpcFrame(compressed bool, declared int, body []byte) []byte {
	head := make([]byte, 5)
	if compressed {
		head[0] = 1
	}
	binenc.BigEndian.PutUint32(head[1:], uint32(declared))
	return append(head, body...)
}

// memory returns a process's peak and current resident set size in KiB.
func memory(t *testing.T, pid int) (hwm, rss int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmHWM:" {
			hwm, _ = strconv.Atoi(f[1])
		}
		if len(f) >= 2 && f[0] == "VmRSS:" {
			rss, _ = strconv.Atoi(f[1])
		}
	}
	return hwm, rss
}

// operatorKey creates an operator with the offline admin command on dsn and returns its key.
func operatorKey(t *testing.T, dsn string) string {
	t.Helper()
	out := capture(t, func() error {
		return adminCommand([]string{"create-account", "--db", dsn, "--role", "operator", "--name", "Ops", "--email", "ops@example.com"})
	})
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "api_key:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no key printed: %q", out)
	return ""
}

// productionServer runs the binary without --dev on a new SQLite database with an operator made by the
// admin command, and returns it and the operator's key.
func productionServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	dir := t.TempDir()
	dsn := "sqlite://" + dir + "/t.db"
	key := operatorKey(t, dsn)
	return launch(t, dir, append([]string{"--db", dsn}, args...)...), key
}

// hostile is one hostile request and the code it must be answered with.
type hostile struct {
	name string
	grpc bool
	key  string
	body func() io.Reader // a fresh body; a reader of unknown length is sent chunked
	gzip bool
	// expect sends "Expect: 100-continue", as curl does for large bodies, so the client reads a refusal
	// before sending the body.
	expect bool
}

// TestHostileBodiesKeepMemoryLow runs the real binary and sends it a burst of compressed bombs
// (254 KB inflating to 256 MiB) and large plain bodies, over Connect (HTTP/1.1) and gRPC (h2c), without
// a key and with a valid key: each is answered UNAUTHENTICATED or RESOURCE_EXHAUSTED. Without a key the
// server's peak resident memory stays under 200 MiB. With one, it stays within what docs/limits.md says
// the requests in flight may hold: its memory before the burst, plus, for each of the six senders, four
// times the maximum message size, doubled for the collector's allowance (GOGC=100), whose lag behind a
// burst depends on how busy the machine is — 192 MiB in all, where one bomb inflated in full would take
// 256 MiB by itself.
func TestHostileBodiesKeepMemoryLow(t *testing.T) {
	p, key := productionServer(t)
	held := int64(2 * burstSenders * 4 * transport.DefaultMaxMessageBytes)

	bomb := gzipZeros(t, 256<<20)
	t.Logf("bomb: %d bytes inflating to %d", len(bomb), 256<<20)
	plain := bytes.Repeat([]byte{0x0a}, 16<<20)
	h1 := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	h2 := &http.Client{Transport: &http.Transport{Protocols: h2cOnly()}}
	defer h1.CloseIdleConnections()
	defer h2.CloseIdleConnections()
	// Without a key first, then with one: the server's peak after each burst.
	for _, k := range []struct{ name, key, want string }{{"no key", "", "unauthenticated"}, {"valid key", key, "resource_exhausted"}} {
		_, before := memory(t, p.cmd.Process.Pid)
		limit := int64(200 << 10) // KiB, as /proc reports
		if k.key != "" {
			limit = int64(before) + held>>10
		}
		reqs := []hostile{
			{name: "connect gzip bomb", key: k.key, gzip: true, body: func() io.Reader { return bytes.NewReader(bomb) }},
			{name: "connect plain 16 MiB", key: k.key, body: func() io.Reader { return bytes.NewReader(plain) }},
			{name: "connect plain 16 MiB, expect 100-continue", key: k.key, expect: true, body: func() io.Reader { return bytes.NewReader(plain) }},
			{name: "connect plain 16 MiB chunked", key: k.key, body: func() io.Reader { return io.MultiReader(bytes.NewReader(plain)) }},
			{name: "grpc gzip bomb", grpc: true, key: k.key, body: func() io.Reader { return bytes.NewReader(grpcFrame(true, len(bomb), bomb)) }},
			{name: "grpc plain 16 MiB", grpc: true, key: k.key, body: func() io.Reader { return io.MultiReader(bytes.NewReader(grpcFrame(false, len(plain), plain))) }},
		}
		answered := burst(t, h1, h2, p.url, reqs, k.want)
		hwm, rss := memory(t, p.cmd.Process.Pid)
		t.Logf("%s: %d hostile requests (%d answered %s, the rest cut while sending): server peak RSS %d MiB, now %d MiB",
			k.name, 10*len(reqs), answered, k.want, hwm>>10, rss>>10)
		if int64(hwm) > limit {
			t.Fatalf("%s: server peak RSS %d MiB (%d MiB before the burst), want under %d MiB", k.name, hwm>>10, before>>10, limit>>10)
		}
	}
}

// burstSenders is how many clients send a burst's requests at once.
const burstSenders = 6

// burst sends each request ten times from six clients at once. Each must be answered with want, or,
// for an HTTP/1 body sent without waiting for 100-continue, may be cut while sending: the server
// answers and closes without reading the rest, and the client's send fails on the closed connection.
// It returns how many were answered.
func burst(t *testing.T, h1, h2 *http.Client, base string, reqs []hostile, want string) int {
	t.Helper()
	const rounds, workers = 10, burstSenders
	jobs := make(chan hostile)
	var mu sync.Mutex
	var failures []string
	answered := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range jobs {
				got, err := send(h1, h2, base, h)
				cut := err != nil && !h.grpc && !h.expect && isReset(err)
				if err == nil && got != want {
					err = fmt.Errorf("answered %s, want %s", got, want)
				}
				mu.Lock()
				if err == nil {
					answered++
				} else if !cut {
					failures = append(failures, fmt.Sprintf("%s (%s): %v", h.name, want, err))
				}
				mu.Unlock()
			}
		}()
	}
	for range rounds {
		for _, h := range reqs {
			jobs <- h
		}
	}
	close(jobs)
	wg.Wait()
	for _, f := range failures[:min(len(failures), 10)] {
		t.Error(f)
	}
	return answered
}

// isReset reports whether err is the server closing the connection under a request being sent.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func h2cOnly() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// send sends one hostile request and returns the Connect code it was answered with.
func send(h1, h2 *http.Client, base string, h hostile) (string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/tradeassure.admin.v1.AdminService/ListAccounts", h.body())
	if err != nil {
		return "", err
	}
	if h.key != "" {
		req.Header.Set("Authorization", "Bearer "+h.key)
	}
	client := h1
	if h.grpc {
		client = h2
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		req.Header.Set("Grpc-Encoding", "gzip")
	} else {
		req.Header.Set("Content-Type", "application/proto")
		req.Header.Set("Connect-Protocol-Version", "1")
		if h.gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		if h.expect {
			req.Header.Set("Expect", "100-continue")
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if h.grpc {
		status := resp.Trailer.Get("Grpc-Status")
		if status == "" {
			status = resp.Header.Get("Grpc-Status")
		}
		switch status {
		case "16":
			return "unauthenticated", nil
		case "8":
			return "resource_exhausted", nil
		}
		return "grpc-status " + status + " " + resp.Header.Get("Grpc-Message") + resp.Trailer.Get("Grpc-Message"), nil
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return "unauthenticated", nil
	case http.StatusTooManyRequests:
		return "resource_exhausted", nil
	}
	return fmt.Sprintf("HTTP %d %s", resp.StatusCode, body), nil
}

// TestSlowBodyIsCut checks a request body sent one byte a second, without a key and with one, is cut
// when the body timeout passes: the server answers and closes the connection.
func TestSlowBodyIsCut(t *testing.T) {
	const timeout = time.Second
	p, key := productionServer(t, "--body-timeout", timeout.String())
	for _, k := range []string{"", key} {
		t.Run(fmt.Sprintf("key %v", k != ""), func(t *testing.T) {
			start := time.Now()
			conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			head := "POST /tradeassure.admin.v1.AdminService/ListAccounts HTTP/1.1\r\nHost: x\r\n" +
				"Content-Type: application/proto\r\nConnect-Protocol-Version: 1\r\nContent-Length: 1000\r\n"
			if k != "" {
				head += "Authorization: Bearer " + k + "\r\n"
			}
			if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
				t.Fatal(err)
			}
			// Trickle the body until the server closes the connection.
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for {
					if _, err := conn.Write([]byte{0x0a}); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			// Wait for the close: the connection reaches EOF (or is reset). Reading never times out
			// before a generous safety limit, many times the body timeout, so a slow machine cannot fail it.
			_ = conn.SetReadDeadline(time.Now().Add(60 * timeout))
			br := bufio.NewReader(conn)
			first, _ := br.Peek(1)
			t.Logf("first byte %q after %v", first, time.Since(start))
			resp, err := io.ReadAll(br)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the connection was still open after %v (body timeout %v); read %q", time.Since(start), timeout, resp)
			}
			t.Logf("closed after %v: %q", time.Since(start).Round(time.Millisecond), firstLine(resp))
		})
	}
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}
