package twilio

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/taskrouter/v1"

	"github.com/assignd/assignd/policy"
)

// RESTForm returns the form an update-mode decision would POST to
// TaskRouter. It runs twilio-go's own encoding against a transport that
// answers in memory, so explain shows exactly what serve would send.
func RESTForm(ins policy.Instruction) (url.Values, error) {
	params, err := requestFor(ins)
	if err != nil {
		return nil, err
	}
	var form url.Values
	capture := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})
	const sid = "00000000000000000000000000000000"
	c := &client.Client{Credentials: client.NewCredentials("AC"+sid, "explain"), HTTPClient: &http.Client{Transport: capture}}
	c.SetAccountSid("AC" + sid)
	if _, err := openapi.NewApiServiceWithClient(c).UpdateWorkerReservation("WS"+sid, "WK"+sid, "WR"+sid, params); err != nil {
		return nil, fmt.Errorf("encoding reservation update: %w", err)
	}
	return form, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
