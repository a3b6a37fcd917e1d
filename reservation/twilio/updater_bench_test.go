package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/taskrouter/v1"

	"github.com/assignd/assignd/policy"
)

// BenchmarkUpdate POSTs the same conference update to a loopback fake
// TaskRouter two ways in one run: through NewSender (twilio-go, with
// the rewriting, recording transport and a client per attempt) and through
// a bare net/http client, to show what the library costs. The fake answers
// at once, so the numbers are client overhead plus loopback HTTP, not
// TaskRouter's latency. Run with -cpu to vary parallelism; docs/performance.md
// reports updates/s and the ratio.
func BenchmarkUpdate(b *testing.B) {
	in := policy.Instruction{Name: policy.Conference, Params: []policy.Param{
		p("from", "+18001231234"),
		p("to", "client:joey"),
		p("timeout", 20),
		p("status_callback", "https://example.com/status"),
		p("conference_status_callback_event", []string{"start", "end", "join", "leave"}),
		p("conference_record", "record-from-start"),
		p("end_conference_on_customer_exit", true),
	}}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("Instruction") != "conference" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, reservationBody(r.URL.Path, "accepted"))
	}))
	defer srv.Close()
	cfg := testConfig(b, srv.URL)

	b.Run("twilio-go", func(b *testing.B) {
		send, err := NewSender(cfg)
		if err != nil {
			b.Fatal(err)
		}
		up := testUpdate(1, in)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := send(context.Background(), up); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	})

	b.Run("bare-net-http", func(b *testing.B) {
		// The same form twilio-go sends, built once by the same mapping.
		form, err := RESTForm(in)
		if err != nil {
			b.Fatal(err)
		}
		body := form.Encode()
		target := srv.URL + "/v1/Workspaces/" + testWS + "/Workers/" + testWK + "/Reservations/" + testWR(1)
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(cfg.UpdateConcurrency, 2)
		c := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := benchBarePost(c, target, body); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	})
}

func benchBarePost(c *http.Client, target, body string) error {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testUser, testPass)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Decode into the same model twilio-go returns, so both sides do the same work.
	var v openapi.TaskrouterV1WorkerReservation
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || v.Sid == nil {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
