// Package proctest helps tests that run frostd as separate OS processes:
// building the binaries, running one-shot commands, and waiting on a
// node's Prometheus metrics.
package proctest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Build compiles the command package at dir (relative to the test's
// package) into a temporary directory and returns the binary's path.
func Build(t testing.TB, dir, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, dir).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// Run runs bin with args to completion and returns its combined output,
// failing the test if it exits non-zero.
func Run(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// WaitMetric polls a Prometheus endpoint until metric name is at least
// want, failing the test after timeout.
func WaitMetric(t testing.TB, url, name string, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		v, err := Scrape(url, name)
		if err == nil && v >= want {
			return
		}
		last = fmt.Sprintf("%v %v", v, err)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %v within %v (last: %s)", name, want, timeout, last)
}

// Scrape returns the value of an unlabelled metric.
func Scrape(url, name string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err
		}
	}
	return 0, fmt.Errorf("%s not in %s", name, url)
}
