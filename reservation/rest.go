package reservation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/taskrouter/v1"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/policy"
)

// RESTError is a reservation update that reached TaskRouter and came back
// with an HTTP error. The updater classifies it by Status; Code and Message
// are Twilio's, for the log line.
type RESTError struct {
	// Status is the HTTP status TaskRouter answered with.
	Status int
	// Code and Message come from Twilio's error body, when it had one.
	Code    int
	Message string
	// RetryAfter is the wait TaskRouter asked for with a Retry-After header;
	// zero when it sent none.
	RetryAfter time.Duration
	// Err is what twilio-go returned.
	Err error
}

func (e *RESTError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("taskrouter answered %d", e.Status)
	}
	return fmt.Sprintf("taskrouter answered %d (code %d): %s", e.Status, e.Code, e.Message)
}

func (e *RESTError) Unwrap() error { return e.Err }

// errUpdInvalid marks an update that cannot be expressed as a REST request:
// a bug in the policy's parameter set, which no retry can mend.
var errUpdInvalid = errors.New("invalid reservation update")

// restMaxBody bounds how much of a response body the transport keeps; a
// reservation or error body is well under a kilobyte.
const restMaxBody = 1 << 20

type restParamsT = openapi.UpdateWorkerReservationParams

// restSetter puts one policy parameter value into the REST params, checking
// that its Go type is the one the parameter takes.
type restSetter func(p *restParamsT, v any) error

func restString(set func(*restParamsT, string) *restParamsT) restSetter {
	return func(p *restParamsT, v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
		set(p, s)
		return nil
	}
}

func restBool(set func(*restParamsT, bool) *restParamsT) restSetter {
	return func(p *restParamsT, v any) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want a bool, got %T", v)
		}
		set(p, b)
		return nil
	}
}

func restInt(set func(*restParamsT, int) *restParamsT) restSetter {
	return func(p *restParamsT, v any) error {
		n, ok := v.(int)
		if !ok {
			return fmt.Errorf("want an int, got %T", v)
		}
		set(p, n)
		return nil
	}
}

func restList(set func(*restParamsT, []string) *restParamsT) restSetter {
	return func(p *restParamsT, v any) error {
		l, ok := v.([]string)
		if !ok {
			return fmt.Errorf("want a []string, got %T", v)
		}
		// twilio-go keeps the slice; copy it so a later change to the
		// decision cannot change a request being retried.
		set(p, append([]string(nil), l...))
		return nil
	}
}

// restParamTable maps each instruction's snake_case policy parameter names
// to the twilio-go setter of its REST name. It is read-only.
var restParamTable = map[string]map[string]restSetter{
	policy.Accept: {},
	policy.Reject: {
		"activity_sid": restString((*restParamsT).SetWorkerActivitySid),
	},
	policy.Dequeue: {
		"from":                   restString((*restParamsT).SetDequeueFrom),
		"to":                     restString((*restParamsT).SetDequeueTo),
		"post_work_activity_sid": restString((*restParamsT).SetDequeuePostWorkActivitySid),
		"record":                 restString((*restParamsT).SetDequeueRecord),
		"timeout":                restInt((*restParamsT).SetDequeueTimeout),
		"status_callback_url":    restString((*restParamsT).SetDequeueStatusCallbackUrl),
		"status_callback_event":  restList((*restParamsT).SetDequeueStatusCallbackEvent),
	},
	policy.Call: {
		"from":                restString((*restParamsT).SetCallFrom),
		"to":                  restString((*restParamsT).SetCallTo),
		"url":                 restString((*restParamsT).SetCallUrl),
		"accept":              restBool((*restParamsT).SetCallAccept),
		"record":              restString((*restParamsT).SetCallRecord),
		"timeout":             restInt((*restParamsT).SetCallTimeout),
		"status_callback_url": restString((*restParamsT).SetCallStatusCallbackUrl),
	},
	policy.Redirect: {
		"call_sid": restString((*restParamsT).SetRedirectCallSid),
		"url":      restString((*restParamsT).SetRedirectUrl),
		"accept":   restBool((*restParamsT).SetRedirectAccept),
	},
	policy.Conference: {
		"to":                                   restString((*restParamsT).SetTo),
		"from":                                 restString((*restParamsT).SetFrom),
		"post_work_activity_sid":               restString((*restParamsT).SetPostWorkActivitySid),
		"timeout":                              restInt((*restParamsT).SetTimeout),
		"status_callback":                      restString((*restParamsT).SetStatusCallback),
		"status_callback_method":               restString((*restParamsT).SetStatusCallbackMethod),
		"status_callback_event":                restList((*restParamsT).SetStatusCallbackEvent),
		"record":                               restBool((*restParamsT).SetRecord),
		"muted":                                restBool((*restParamsT).SetMuted),
		"beep":                                 restString((*restParamsT).SetBeep),
		"start_conference_on_enter":            restBool((*restParamsT).SetStartConferenceOnEnter),
		"end_conference_on_exit":               restBool((*restParamsT).SetEndConferenceOnExit),
		"end_conference_on_customer_exit":      restBool((*restParamsT).SetEndConferenceOnCustomerExit),
		"beep_on_customer_entrance":            restBool((*restParamsT).SetBeepOnCustomerEntrance),
		"wait_url":                             restString((*restParamsT).SetWaitUrl),
		"wait_method":                          restString((*restParamsT).SetWaitMethod),
		"early_media":                          restBool((*restParamsT).SetEarlyMedia),
		"max_participants":                     restInt((*restParamsT).SetMaxParticipants),
		"conference_status_callback":           restString((*restParamsT).SetConferenceStatusCallback),
		"conference_status_callback_method":    restString((*restParamsT).SetConferenceStatusCallbackMethod),
		"conference_status_callback_event":     restList((*restParamsT).SetConferenceStatusCallbackEvent),
		"conference_record":                    restString((*restParamsT).SetConferenceRecord),
		"conference_trim":                      restString((*restParamsT).SetConferenceTrim),
		"recording_channels":                   restString((*restParamsT).SetRecordingChannels),
		"recording_status_callback":            restString((*restParamsT).SetRecordingStatusCallback),
		"recording_status_callback_method":     restString((*restParamsT).SetRecordingStatusCallbackMethod),
		"conference_recording_status_callback": restString((*restParamsT).SetConferenceRecordingStatusCallback),
		"conference_recording_status_callback_method": restString((*restParamsT).SetConferenceRecordingStatusCallbackMethod),
		"region":             restString((*restParamsT).SetRegion),
		"sip_auth_username":  restString((*restParamsT).SetSipAuthUsername),
		"sip_auth_password":  restString((*restParamsT).SetSipAuthPassword),
		"jitter_buffer_size": restString((*restParamsT).SetJitterBufferSize),
	},
}

// restParams maps a policy instruction to the REST reservation update. Only
// the parameters the policy set are set. An unknown instruction or parameter
// name, or a value of the wrong Go type, is an error: the policy and this
// table disagree, and dropping the parameter would send a different
// instruction than the one decided.
func restParams(in policy.Instruction) (*openapi.UpdateWorkerReservationParams, error) {
	table, ok := restParamTable[in.Name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown instruction %q", errUpdInvalid, in.Name)
	}
	p := &openapi.UpdateWorkerReservationParams{}
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
			return nil, fmt.Errorf("%w: %s has no parameter %q", errUpdInvalid, in.Name, prm.Name)
		}
		if err := set(p, prm.Value); err != nil {
			return nil, fmt.Errorf("%w: %s parameter %q: %w", errUpdInvalid, in.Name, prm.Name, err)
		}
	}
	return p, nil
}

// CheckRESTCredentials reports whether cfg can authenticate REST updates.
// main calls it when the policy has update-mode rules, so that a missing or
// malformed credential stops start-up instead of failing every update.
func CheckRESTCredentials(cfg *config.Config) error {
	if ok, missing := cfg.HasRESTCredentials(); !ok {
		return fmt.Errorf("the policy has update-mode rules, which update reservations over REST: set %s", missing)
	}
	// twilio-go refuses non-alphanumeric credentials before sending (codes
	// 21222 and 21224), so a typo would otherwise surface only as rejected
	// updates.
	name := "TWILIO_ACCOUNT_SID"
	secret := "TWILIO_AUTH_TOKEN"
	if cfg.APIKey != "" {
		name, secret = "TWILIO_API_KEY", "TWILIO_API_SECRET"
	}
	var errs []error
	if !restAlnum.MatchString(cfg.RESTUsername()) {
		errs = append(errs, fmt.Errorf("%s: must be letters and digits only", name))
	}
	if !restAlnum.MatchString(cfg.RESTPassword()) {
		errs = append(errs, fmt.Errorf("%s: must be letters and digits only", secret))
	}
	if cfg.APIKey != "" && !restAlnum.MatchString(cfg.AccountSid) {
		errs = append(errs, fmt.Errorf("TWILIO_ACCOUNT_SID: must be letters and digits only"))
	}
	return errors.Join(errs...)
}

var restAlnum = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// NewTwilioSender returns the Send function of an Updater: it POSTs the
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
func NewTwilioSender(cfg *config.Config) (func(ctx context.Context, u Update) error, error) {
	if err := CheckRESTCredentials(cfg); err != nil {
		return nil, err
	}
	target, err := url.Parse(cfg.TaskRouterURL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("ASSIGND_TASKROUTER_URL: %q is not an absolute http(s) URL", cfg.TaskRouterURL)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	// The default of 2 idle connections per host would make most of the
	// worker pool dial a new connection for every update.
	base.MaxIdleConnsPerHost = max(cfg.UpdateConcurrency, 2)
	creds := client.NewCredentials(cfg.RESTUsername(), cfg.RESTPassword())
	accountSid := cfg.AccountSid
	return func(ctx context.Context, up Update) error {
		params, err := restParams(up.Instruction)
		if err != nil {
			return err
		}
		rec := &restRecord{}
		c := &client.Client{
			Credentials: creds,
			HTTPClient: &http.Client{
				Transport: &restTransport{base: base, target: target, ctx: ctx, rec: rec},
				// Like twilio-go's default client: a redirect is an answer, not a hop.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			},
		}
		c.SetAccountSid(accountSid)
		_, err = openapi.NewApiServiceWithClient(c).UpdateWorkerReservation(up.WorkspaceSid, up.WorkerSid, up.ReservationSid, params)
		return restResult(err, rec)
	}, nil
}

// restResult turns what twilio-go returned, and what the transport saw, into
// nil or an error the updater can classify.
func restResult(err error, rec *restRecord) error {
	var te *client.TwilioRestError
	switch {
	case rec.status >= 200 && rec.status < 300:
		// TaskRouter took the update; a body twilio-go could not decode
		// does not undo that.
		return nil
	case rec.status != 0:
		re := &RESTError{Status: rec.status, RetryAfter: rec.retryAfter, Err: err}
		if errors.As(err, &te) {
			re.Code, re.Message = te.Code, te.Message
		}
		return re
	case errors.As(err, &te):
		// Refused by twilio-go before sending, e.g. malformed credentials.
		return &RESTError{Status: te.Status, Code: te.Code, Message: te.Message, Err: err}
	case err != nil:
		return fmt.Errorf("sending reservation update: %w", err)
	}
	return nil
}

// restRecord is what the transport saw of one attempt's response.
type restRecord struct {
	status     int
	retryAfter time.Duration
}

// restTransport serves one attempt: it sends twilio-go's request to the
// configured TaskRouter URL under the attempt's ctx and records the answer.
type restTransport struct {
	base   http.RoundTripper
	target *url.URL
	ctx    context.Context
	rec    *restRecord
}

func (t *restTransport) RoundTrip(req *http.Request) (*http.Response, error) {
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, restMaxBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.rec.status = resp.StatusCode
	t.rec.retryAfter = restRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return resp, nil
}

// restRetryAfter parses a Retry-After value, delay-seconds or an HTTP date,
// into a wait from now; zero when absent, malformed or already past.
func restRetryAfter(v string, now time.Time) time.Duration {
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
