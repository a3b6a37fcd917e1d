package handlers

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// benchBaseURL is the public base URL the benchmark server is configured
// with and the benchmark callbacks are signed for.
const benchBaseURL = "https://assignd.example.com/routing"

// benchPoolSize is how many distinct signed callbacks the benchmarks cycle
// through, so that no cache can make every request the same one.
const benchPoolSize = 256

// benchLogger is the production logger's shape (JSON, ISO 8601 times, a
// locked writer, info level) writing to io.Discard, so that every callback
// pays for encoding its log line.
func benchLogger() *zap.Logger {
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(ec), zapcore.Lock(zapcore.AddSync(io.Discard)), zapcore.InfoLevel)
	return zap.New(core).Named("assignd")
}

// benchServer is a signed-mode (not development-mode) Server running a
// 10-rule policy whose last rule matches, logging at info level.
func benchServer(b *testing.B) *Server {
	b.Helper()
	p, err := policy.Parse("bench-policy.yaml", []byte(testkit.PolicySource(10)))
	if err != nil {
		b.Fatalf("parsing bench policy: %v", err)
	}
	log := benchLogger()
	reg := prometheus.NewRegistry()
	store, err := policy.NewStore(log, reg)
	if err != nil {
		b.Fatal(err)
	}
	store.Set(p)
	srv, err := New(Options{
		Store:      store,
		Config:     &config.Config{AuthToken: testToken, PublicBaseURL: benchBaseURL},
		Logger:     log,
		Registerer: reg,
	})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	return srv
}

// benchCallback is one signed callback, ready to send.
type benchCallback struct {
	body []byte
	sig  string
}

// benchCallbacks returns benchPoolSize distinct callbacks, each signed with
// testToken for benchBaseURL+AssignmentPath the way Twilio signs them.
func benchCallbacks() []benchCallback {
	out := make([]benchCallback, benchPoolSize)
	for i := range out {
		form := callbackForm(`{"language":"es","tier":"gold","call_sid":"CA88888888888888888888888888888888","customer":{"name":"Ana","accounts":[{"tier":"gold"}]}}`)
		form.Set("TaskSid", fmt.Sprintf("WT%032x", i))
		form.Set("ReservationSid", fmt.Sprintf("WR%032x", i))
		form.Set("WorkerAttributes", `{"contact_uri":"client:alice","skills":["billing","vip"],"languages":["en","es"],"level":3}`)
		out[i] = benchCallback{
			body: []byte(form.Encode()),
			sig:  testkit.Sign(testToken, benchBaseURL+AssignmentPath, form),
		}
	}
	return out
}

// floorHandler is the least an HTTP handler can do for a callback: read the
// body and write a fixed JSON reply.
func floorHandler(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, testkit.CatchAllReply) //nolint:errcheck // a benchmark's floor
}

// benchHandlers are the two handlers every callback benchmark compares,
// built once per benchmark so both sub-benchmarks see the same setup cost.
func benchHandlers(b *testing.B) []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"assignd", benchServer(b).Handler()},
		{"floor", http.HandlerFunc(floorHandler)},
	}
}

// BenchmarkCallback sends signed callbacks in process, through
// httptest.NewRecorder, to the full callback path (Echo, the observe and
// recover middleware, the signature check with twilio-go's validator,
// callback.Parse, Decide over a 10-rule policy whose last rule matches, the
// info log line, metrics and the JSON reply) and to a bare net/http handler
// that reads the same body and writes a fixed JSON reply. Both are driven by
// the same loop over the same pool of pre-signed requests, so the driver's
// cost is the same on both sides and the ratio is the handler's.
func BenchmarkCallback(b *testing.B) {
	pool := benchCallbacks()
	// The request reaches the pod as it would behind an ingress that strips
	// the /routing prefix; the signature covers the public URL.
	target := "http://10.1.2.3:8080" + AssignmentPath
	for _, hc := range benchHandlers(b) {
		b.Run(hc.name, func(b *testing.B) {
			reqs := make([]*http.Request, len(pool))
			bodies := make([]*bytes.Reader, len(pool))
			for i, cb := range pool {
				bodies[i] = bytes.NewReader(cb.body)
				req := httptest.NewRequest(http.MethodPost, target, bodies[i])
				req.RequestURI = AssignmentPath
				req.Header.Set("Content-Type", formContentType)
				req.Header.Set(callback.SignatureHeader, cb.sig)
				reqs[i] = req
			}
			// Check the reply once, outside the timed loop.
			bodies[0].Reset(pool[0].body)
			if rec := serve(hc.h, reqs[0]); rec.Code != http.StatusOK || rec.Body.String() != testkit.CatchAllReply {
				b.Fatalf("%s answered %d %q, want 200 %q", hc.name, rec.Code, rec.Body.String(), testkit.CatchAllReply)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := i % len(reqs)
				i++
				bodies[k].Reset(pool[k].body)
				rec := httptest.NewRecorder()
				hc.h.ServeHTTP(rec, reqs[k])
				if rec.Code != http.StatusOK {
					b.Fatalf("%s answered %d: %s", hc.name, rec.Code, rec.Body.String())
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
		})
	}
}

// BenchmarkCallbackLoopback sends the same signed callbacks as
// BenchmarkCallback over real loopback HTTP/1.1 connections, to the same
// two handlers each behind an httptest.Server, from GOMAXPROCS client
// goroutines with keep-alive. It adds net/http's server and client to both
// sides: the ratio is what assignd keeps of what Go's HTTP stack can do.
// Client and server share the machine's cores.
func BenchmarkCallbackLoopback(b *testing.B) {
	pool := benchCallbacks()
	for _, hc := range benchHandlers(b) {
		b.Run(hc.name, func(b *testing.B) {
			ts := httptest.NewServer(hc.h)
			defer ts.Close()
			target := ts.URL + AssignmentPath
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 64
			c := &http.Client{Transport: tr}
			defer tr.CloseIdleConnections()
			if err := benchPost(c, target, pool[0]); err != nil {
				b.Fatalf("%s: %v", hc.name, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := benchPost(c, target, pool[i%len(pool)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
		})
	}
}

// benchPost sends one signed callback and checks for a 200 with the
// expected reply.
func benchPost(c *http.Client, target string, cb benchCallback) error {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(cb.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", formContentType)
	req.Header.Set(callback.SignatureHeader, cb.sig)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != testkit.CatchAllReply {
		return fmt.Errorf("answered %d %q, want 200 %q", resp.StatusCode, body, testkit.CatchAllReply)
	}
	return nil
}
