// Package listen serves the server's handler on its address: cleartext HTTP/1.1 and HTTP/2 (h2c) by
// default, for local use and behind a TLS-terminating proxy, or TLS with --tls-cert/--tls-key, where ALPN
// offers h2 and falls back to HTTP/1.1. Either way Connect, gRPC and gRPC-Web share the one port.
package listen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Config is where and how to listen.
type Config struct {
	// Addr is the TCP listen address ("localhost:8080", ":443").
	Addr string
	// CertFile and KeyFile are a PEM certificate (chain) and its key; both or neither. With them, the
	// server speaks TLS only.
	CertFile, KeyFile string
	// ReloadEvery is how often the certificate files are checked for a change, at a handshake (default a
	// minute; negative: at every handshake).
	ReloadEvery time.Duration
	// Log receives a line for each reload of the certificate, and a warning for each failed one (the
	// previous certificate keeps being served); default slog.Default().
	Log *slog.Logger
}

// TLS reports whether the config asks for TLS.
func (c Config) TLS() bool { return c.CertFile != "" || c.KeyFile != "" }

// Protocols are the HTTP versions served: HTTP/1.1 and HTTP/2, over TLS (h2 by ALPN) or cleartext (h2c).
func (c Config) Protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	if c.TLS() {
		p.SetHTTP2(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	return p
}

// TLSConfig returns the TLS configuration: TLS 1.2 or later, ALPN h2 then http/1.1, and the certificate
// read from its files, read again when they change (checked at most once a minute), so a renewed
// certificate is served without a restart.
func (c Config) TLSConfig() (*tls.Config, error) {
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	r := &reloader{cert: c.CertFile, key: c.KeyFile, every: c.ReloadEvery, log: c.Log}
	if r.every == 0 {
		r.every = time.Minute
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if err := r.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}, GetCertificate: r.get}, nil
}

// Serve serves srv on the address until srv is shut down; it sets srv's protocols and, for TLS, its TLS
// configuration. ready, when set, is called with the bound address before serving.
func Serve(srv *http.Server, c Config, ready func(addr net.Addr)) error {
	srv.Protocols = c.Protocols()
	var tlsConf *tls.Config
	if c.TLS() {
		var err error
		if tlsConf, err = c.TLSConfig(); err != nil {
			return err
		}
		srv.TLSConfig = tlsConf
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	if tlsConf != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// reloader holds the certificate and reads its files again when their modification times change.
type reloader struct {
	cert, key string
	every     time.Duration
	log       *slog.Logger
	mu        sync.Mutex
	current   *tls.Certificate
	stamp     [2]time.Time
	checked   time.Time
}

func (r *reloader) stamps() ([2]time.Time, error) {
	var out [2]time.Time
	for i, p := range []string{r.cert, r.key} {
		fi, err := os.Stat(p)
		if err != nil {
			return out, err
		}
		out[i] = fi.ModTime()
	}
	return out, nil
}

func (r *reloader) load() error {
	st, err := r.stamps()
	if err != nil {
		return fmt.Errorf("read TLS certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.cert, r.key)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", r.cert, r.key, err)
	}
	r.current, r.stamp, r.checked = &cert, st, time.Now()
	return nil
}

// get returns the certificate, reloading it if its files changed; a failed reload keeps the old one and
// is logged at each check until the files are fixed.
func (r *reloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.every < 0 || time.Since(r.checked) > r.every {
		r.checked = time.Now()
		st, err := r.stamps()
		if err == nil && st != r.stamp {
			err = r.load()
			if err == nil {
				r.log.Info("TLS certificate reloaded", "cert", r.cert, "key", r.key)
			}
		}
		if err != nil {
			r.log.Warn("TLS certificate not reloaded; still serving the previous one", "cert", r.cert, "key", r.key, "error", err.Error())
		}
	}
	return r.current, nil
}
