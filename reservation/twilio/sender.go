// Package twilio is the reservation queue's Send through twilio-go's REST
// client, and the REST form an update-mode decision would POST: the only
// package that imports twilio-go's REST packages, so that the rest of the
// service never depends on them.
package twilio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/taskrouter/v1"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

// Bounds on what the transport reads of a response, so that whatever
// answers at ASSIGND_TASKROUTER_URL cannot make an attempt hold more than
// these: a reservation or error body is well under 4 KiB, and TaskRouter's
// response headers under 2 KiB. The body is cut at maxBody (twilio-go then
// fails to decode it; the status still decides the outcome); headers over
// maxResponseHeader fail the attempt.
const (
	maxBody           = 64 << 10
	maxResponseHeader = 64 << 10
)

// request is twilio-go's form of one reservation update.
type request = openapi.UpdateWorkerReservationParams

// setter puts one policy parameter value into the REST request, checking
// that its Go type is the one the parameter takes.
type setter func(r *request, v any) error

// set returns the setter that hands a value of type T, the canonical Go type
// policy gives the parameter, to the twilio-go method m, such as
// (*request).SetCallFrom.
func set[T string | bool | int | []string](m func(*request, T) *request) setter {
	want := fmt.Sprintf("%T", *new(T))
	if strings.HasPrefix(want, "i") {
		want = "an " + want
	} else {
		want = "a " + want
	}
	return func(r *request, v any) error {
		x, ok := v.(T)
		if !ok {
			return fmt.Errorf("want %s, got %T", want, v)
		}
		// twilio-go keeps a list; copy it so a later change to the
		// decision cannot change a request being retried.
		if l, isList := any(x).([]string); isList {
			x = any(slices.Clone(l)).(T)
		}
		m(r, x)
		return nil
	}
}

// paramTable maps each instruction's snake_case policy parameter names
// to the twilio-go setter of its REST name. It is read-only.
var paramTable = map[string]map[string]setter{
	policy.Accept: {},
	policy.Reject: {
		"activity_sid": set((*request).SetWorkerActivitySid),
	},
	policy.Dequeue: {
		"from":                   set((*request).SetDequeueFrom),
		"to":                     set((*request).SetDequeueTo),
		"post_work_activity_sid": set((*request).SetDequeuePostWorkActivitySid),
		"record":                 set((*request).SetDequeueRecord),
		"timeout":                set((*request).SetDequeueTimeout),
		"status_callback_url":    set((*request).SetDequeueStatusCallbackUrl),
		"status_callback_event":  set((*request).SetDequeueStatusCallbackEvent),
	},
	policy.Call: {
		"from":                set((*request).SetCallFrom),
		"to":                  set((*request).SetCallTo),
		"url":                 set((*request).SetCallUrl),
		"accept":              set((*request).SetCallAccept),
		"record":              set((*request).SetCallRecord),
		"timeout":             set((*request).SetCallTimeout),
		"status_callback_url": set((*request).SetCallStatusCallbackUrl),
	},
	policy.Redirect: {
		"call_sid": set((*request).SetRedirectCallSid),
		"url":      set((*request).SetRedirectUrl),
		"accept":   set((*request).SetRedirectAccept),
	},
	policy.Conference: {
		"to":                                   set((*request).SetTo),
		"from":                                 set((*request).SetFrom),
		"post_work_activity_sid":               set((*request).SetPostWorkActivitySid),
		"timeout":                              set((*request).SetTimeout),
		"status_callback":                      set((*request).SetStatusCallback),
		"status_callback_method":               set((*request).SetStatusCallbackMethod),
		"status_callback_event":                set((*request).SetStatusCallbackEvent),
		"record":                               set((*request).SetRecord),
		"muted":                                set((*request).SetMuted),
		"beep":                                 set((*request).SetBeep),
		"start_conference_on_enter":            set((*request).SetStartConferenceOnEnter),
		"end_conference_on_exit":               set((*request).SetEndConferenceOnExit),
		"end_conference_on_customer_exit":      set((*request).SetEndConferenceOnCustomerExit),
		"beep_on_customer_entrance":            set((*request).SetBeepOnCustomerEntrance),
		"wait_url":                             set((*request).SetWaitUrl),
		"wait_method":                          set((*request).SetWaitMethod),
		"early_media":                          set((*request).SetEarlyMedia),
		"max_participants":                     set((*request).SetMaxParticipants),
		"conference_status_callback":           set((*request).SetConferenceStatusCallback),
		"conference_status_callback_method":    set((*request).SetConferenceStatusCallbackMethod),
		"conference_status_callback_event":     set((*request).SetConferenceStatusCallbackEvent),
		"conference_record":                    set((*request).SetConferenceRecord),
		"conference_trim":                      set((*request).SetConferenceTrim),
		"recording_channels":                   set((*request).SetRecordingChannels),
		"recording_status_callback":            set((*request).SetRecordingStatusCallback),
		"recording_status_callback_method":     set((*request).SetRecordingStatusCallbackMethod),
		"conference_recording_status_callback": set((*request).SetConferenceRecordingStatusCallback),
		"conference_recording_status_callback_method": set((*request).SetConferenceRecordingStatusCallbackMethod),
		"region":             set((*request).SetRegion),
		"sip_auth_username":  set((*request).SetSipAuthUsername),
		"sip_auth_password":  set((*request).SetSipAuthPassword),
		"jitter_buffer_size": set((*request).SetJitterBufferSize),
	},
}

// requestFor maps a policy instruction to the REST reservation update. Only
// the parameters the policy set are set. An unknown instruction or parameter
// name, or a value of the wrong Go type, is an error: the policy and this
// table disagree, and dropping the parameter would send a different
// instruction than the one decided.
func requestFor(in policy.Instruction) (*request, error) {
	table, ok := paramTable[in.Name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown instruction %q", reservation.ErrInvalid, in.Name)
	}
	p := &request{}
	switch in.Name {
	case policy.Accept:
		p.SetReservationStatus("accepted")
	case policy.Reject:
		p.SetReservationStatus("rejected")
	default:
		p.SetInstruction(in.Name)
	}
	for _, prm := range in.Params {
		set, ok := table[prm.Name]
		if !ok {
			return nil, fmt.Errorf("%w: %s has no parameter %q", reservation.ErrInvalid, in.Name, prm.Name)
		}
		if err := set(p, prm.Value); err != nil {
			return nil, fmt.Errorf("%w: %s parameter %q: %w", reservation.ErrInvalid, in.Name, prm.Name, err)
		}
	}
	return p, nil
}

// NewSender returns the Send function of an Updater: it POSTs the
// update to the worker reservation through twilio-go's
// TaskrouterV1.UpdateWorkerReservation, at cfg.TaskRouterURL.
//
// twilio-go builds every request with context.Background(), so each call
// gets its own small client whose transport puts the call's ctx on the
// request: the attempt's deadline really cancels the HTTP exchange. The
// transport also keeps the status and Retry-After header, which twilio-go
// drops on errors, and reads the body to the end so the connection is
// reused even when twilio-go leaves an error body unclosed. twilio-go has
// no retries of its own; the Updater's loop is the only one.
//
// cfg must have passed config.Check, which holds the rules for the
// credentials and the URL; only missing credentials are an error here.
func NewSender(cfg *config.Config) (func(ctx context.Context, u reservation.Update) error, error) {
	rest, err := cfg.REST()
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(cfg.TaskRouterURL)
	if err != nil {
		return nil, fmt.Errorf("ASSIGND_TASKROUTER_URL: %w", err)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	// The default of 2 idle connections per host would make most of the
	// worker pool dial a new connection for every update.
	base.MaxIdleConnsPerHost = max(cfg.UpdateConcurrency, 2)
	base.MaxResponseHeaderBytes = maxResponseHeader
	creds := client.NewCredentials(rest.Username, rest.Password)
	accountSid := cfg.AccountSid
	return func(ctx context.Context, up reservation.Update) error {
		params, err := requestFor(up.Instruction)
		if err != nil {
			return err
		}
		rec := &record{}
		c := &client.Client{
			Credentials: creds,
			HTTPClient: &http.Client{
				Transport: &transport{base: base, target: target, ctx: ctx, rec: rec},
				// Like twilio-go's default client: a redirect is an answer, not a hop.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			},
		}
		c.SetAccountSid(accountSid)
		_, err = openapi.NewApiServiceWithClient(c).UpdateWorkerReservation(up.WorkspaceSid, up.WorkerSid, up.ReservationSid, params)
		return sendResult(err, rec)
	}, nil
}

// sendResult turns what twilio-go returned, and what the transport saw, into
// nil or an error the updater can classify.
func sendResult(err error, rec *record) error {
	var te *client.TwilioRestError
	switch {
	case rec.status >= 200 && rec.status < 300:
		// TaskRouter took the update; a body twilio-go could not decode
		// does not undo that.
		return nil
	case rec.status != 0:
		re := &reservation.RESTError{Status: rec.status, RetryAfter: rec.retryAfter, Err: err}
		if errors.As(err, &te) {
			re.Code, re.Message = te.Code, te.Message
		}
		return re
	case errors.As(err, &te):
		// Refused by twilio-go before sending, e.g. malformed credentials.
		return &reservation.RESTError{Status: te.Status, Code: te.Code, Message: te.Message, Err: err}
	case err != nil:
		return fmt.Errorf("sending reservation update: %w", err)
	}
	return nil
}

// record is what the transport saw of one attempt's response.
type record struct {
	status     int
	retryAfter time.Duration
}

// transport serves one attempt: it sends twilio-go's request to the
// configured TaskRouter URL under the attempt's ctx and records the answer.
type transport struct {
	base   http.RoundTripper
	target *url.URL
	ctx    context.Context
	rec    *record
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Clone, as a RoundTripper must not change the request it was given.
	r := req.Clone(t.ctx)
	r.URL.Scheme = t.target.Scheme
	r.URL.Host = t.target.Host
	r.URL.Path = strings.TrimSuffix(t.target.Path, "/") + r.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	// Read the body here, under the attempt's ctx, so that a slow body is
	// cut off by the attempt timeout too, and so the connection goes back
	// to the pool whatever twilio-go does with the response.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.rec.status = resp.StatusCode
	t.rec.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return resp, nil
}

// parseRetryAfter parses a Retry-After value, delay-seconds or an HTTP date,
// into a wait from now; zero when absent, malformed or already past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		// A day bounds the product; no reservation lives longer.
		return time.Duration(min(max(n, 0), 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
