package listen_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/listen"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key, and returns their paths and a
// pool trusting it.
func selfSigned(t *testing.T) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tradeassured test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return cert, key, pool
}

// serve runs h with listen.Serve and returns its address.
func serve(t *testing.T, h http.Handler, c listen.Config) string {
	t.Helper()
	c.Addr = "127.0.0.1:0"
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- listen.Serve(srv, c, func(a net.Addr) { addrc <- a.String() }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return addr
}

// TestTLS checks a server with a certificate serves Connect, gRPC and gRPC-Web over TLS, HTTP/2 by ALPN
// and HTTP/1.1 to a client that offers only that, on each engine.
func TestTLS(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			buyer := e.Buyer("US")
			cert, key, pool := selfSigned(t)
			addr := serve(t, e.Server.Handler, listen.Config{CertFile: cert, KeyFile: key})
			url := "https://" + addr
			h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
			h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}},
				TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
			for _, c := range []struct {
				name   string
				client *http.Client
				opts   []connect.ClientOption
				proto  string
			}{
				{"connect over h2", h2, nil, "HTTP/2.0"},
				{"connect over http/1.1", h1, nil, "HTTP/1.1"},
				{"grpc", h2, []connect.ClientOption{connect.WithGRPC()}, "HTTP/2.0"},
				{"grpc-web over h2", h2, []connect.ClientOption{connect.WithGRPCWeb()}, "HTTP/2.0"},
				{"grpc-web over http/1.1", h1, []connect.ClientOption{connect.WithGRPCWeb()}, "HTTP/1.1"},
			} {
				t.Run(c.name, func(t *testing.T) {
					orders := orderv1connect.NewOrderServiceClient(c.client, url, append(c.opts, connect.WithInterceptors(servertest.Bearer(buyer.Key)))...)
					if _, err := orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
						t.Fatal(err)
					}
					resp, err := c.client.Get(url + "/healthz")
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.Proto != c.proto || resp.TLS == nil {
						t.Fatalf("proto %s, TLS %v; want %s over TLS", resp.Proto, resp.TLS != nil, c.proto)
					}
				})
			}
			// Cleartext is refused on the TLS port.
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
				t.Fatal("a cleartext request was served on the TLS port")
			}
		})
	}
}

// TestCleartext checks the default serves gRPC over h2c and Connect over HTTP/1.1 on one port.
func TestCleartext(t *testing.T) {
	e := servertest.New(t, servertest.Options{})
	buyer := e.Buyer("US")
	addr := serve(t, e.Server.Handler, listen.Config{})
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: p}}
	for _, c := range []struct {
		name   string
		client *http.Client
		opts   []connect.ClientOption
	}{
		{"grpc over h2c", h2c, []connect.ClientOption{connect.WithGRPC()}},
		{"connect over http/1.1", http.DefaultClient, nil},
		{"grpc-web over http/1.1", http.DefaultClient, []connect.ClientOption{connect.WithGRPCWeb()}},
	} {
		orders := orderv1connect.NewOrderServiceClient(c.client, "http://"+addr, append(c.opts, connect.WithInterceptors(servertest.Bearer(buyer.Key)))...)
		if _, err := orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
}

// TestTLSConfigErrors checks a half-given or unreadable certificate fails at start.
func TestTLSConfigErrors(t *testing.T) {
	cert, key, _ := selfSigned(t)
	for _, c := range []listen.Config{{CertFile: cert}, {KeyFile: key}, {CertFile: cert, KeyFile: cert}, {CertFile: key + ".missing", KeyFile: key}} {
		if _, err := c.TLSConfig(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestCertificateReload checks a renewed certificate is served after its files change, and a broken
// renewal keeps the previous certificate and says so in the log.
func TestCertificateReload(t *testing.T) {
	cert, key, _ := selfSigned(t)
	var logs strings.Builder
	conf, err := listen.Config{CertFile: cert, KeyFile: key, ReloadEvery: -1,
		Log: slog.New(slog.NewTextHandler(&logs, nil))}.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := conf.GetCertificate(nil)
	// A renewal: other files copied over the served ones, with a later modification time.
	renewedCert, renewedKey, _ := selfSigned(t)
	later := time.Now().Add(time.Hour)
	for src, dst := range map[string]string{renewedCert: cert, renewedKey: key} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dst, later, later); err != nil {
			t.Fatal(err)
		}
	}
	renewed, _ := conf.GetCertificate(nil)
	if bytes.Equal(renewed.Certificate[0], first.Certificate[0]) {
		t.Fatal("the renewed certificate is not served")
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Fatalf("no reload in the log: %q", logs.String())
	}
	// A broken renewal: the previous certificate stays, and the log says why.
	if err := os.WriteFile(cert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(cert, later.Add(time.Hour), later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	kept, err := conf.GetCertificate(nil)
	if err != nil || !bytes.Equal(kept.Certificate[0], renewed.Certificate[0]) {
		t.Fatalf("a broken renewal replaced the certificate: %v", err)
	}
	if !strings.Contains(logs.String(), "TLS certificate not reloaded") || !strings.Contains(logs.String(), cert) {
		t.Fatalf("the failed reload is not in the log: %q", logs.String())
	}
}
