package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// receiverEnv makes the test binary act as a webhook receiver instead of running tests (see TestMain).
const receiverEnv = "TRADEASSURE_BENCH_RECEIVER"

// TestMain lets the benchmarks start this same binary as a receiver in a separate process, so that the
// receiver's CPU time is not the measured server process's (it still runs on the same machine).
func TestMain(m *testing.M) {
	if os.Getenv(receiverEnv) == "1" {
		serveReceiver()
		return
	}
	os.Exit(m.Run())
}

// serveReceiver answers every request 204 at once on a loopback port, prints its URL on stdout, and
// exits when stdin closes (when the benchmark process ends or closes it).
func serveReceiver() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// externalReceiver starts a receiver process (this binary, see TestMain) and returns its URL; it is
// stopped when b ends.
func externalReceiver(b *testing.B) string {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), receiverEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		if cmd.Wait() == nil {
			b.Logf("receiver process: %v CPU", cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("start receiver: %v", err)
	}
	return strings.TrimSpace(line)
}

// processCPU is the CPU time this process has used so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
