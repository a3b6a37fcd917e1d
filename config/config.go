// Package config reads assignd's process environment.
//
// Everything the process needs from its environment is here, read once at
// start-up with envconfig; a bad value stops start-up with a message that
// names the variable. The policy file is not configuration in this sense: it
// is loaded, validated and hot-reloaded by package policy.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"go.uber.org/zap/zapcore"

	"github.com/assignd/assignd/decisionlog"
)

// Config is assignd's environment, one field per variable.
type Config struct {
	// Listen is the address of the callback listener that TaskRouter reaches through the ingress.
	Listen string `envconfig:"ASSIGND_LISTEN" default:":8080" desc:"address of the callback listener that TaskRouter reaches"`
	// AdminListen is the address of the admin listener (health, metrics, reload); never on the ingress.
	AdminListen string `envconfig:"ASSIGND_ADMIN_LISTEN" default:":9090" desc:"address of the admin listener (health, metrics, console); keep it off the ingress"`

	// AccountSid is the Twilio account; it is also the REST username with an auth token.
	AccountSid string `envconfig:"TWILIO_ACCOUNT_SID" desc:"the Twilio account (AC...); REST username with an auth token"`
	// AuthToken signs callbacks and, without an API key, authenticates REST updates.
	AuthToken string `envconfig:"TWILIO_AUTH_TOKEN" secret:"true" desc:"checks callback signatures; REST password without an API key (required outside dev mode)"`
	// AuthTokenSecondary is also accepted for signatures while a token rotation is under way.
	AuthTokenSecondary string `envconfig:"TWILIO_AUTH_TOKEN_SECONDARY" secret:"true" desc:"also accepted for signatures during a token rotation"`
	// APIKey and APISecret are the production choice for REST credentials.
	APIKey    string `envconfig:"TWILIO_API_KEY" desc:"REST API key (SK...), with TWILIO_API_SECRET"`
	APISecret string `envconfig:"TWILIO_API_SECRET" secret:"true" desc:"REST API key secret, with TWILIO_API_KEY"`

	// PublicBaseURL is the scheme, host, optional port and path prefix by which
	// TaskRouter reaches the service; signatures are checked against it.
	PublicBaseURL string `envconfig:"ASSIGND_PUBLIC_BASE_URL" desc:"scheme, host and path prefix TaskRouter calls; signatures are checked against it"`
	// TrustForwarded builds the signed URL from X-Forwarded-* headers when no base URL is set.
	TrustForwarded bool `envconfig:"ASSIGND_TRUST_FORWARDED" default:"false" desc:"build the signed URL from X-Forwarded-* headers when no base URL is set"`

	// PolicyFile is the policy to run and watch; empty runs the embedded example.
	PolicyFile string `envconfig:"ASSIGND_POLICY_FILE" desc:"the policy file to run and watch (required outside dev mode)"`
	// ShadowPolicyFile is a candidate policy evaluated on every callback
	// after the live answer, only counted and logged; empty runs none.
	ShadowPolicyFile string `envconfig:"ASSIGND_SHADOW_POLICY_FILE" desc:"a candidate policy evaluated after every answer, only counted and logged"`
	// OverridesFile holds calendar overrides (open or closed until a
	// time), watched and reloaded like the policy; empty means none.
	OverridesFile string `envconfig:"ASSIGND_OVERRIDES_FILE" desc:"calendar overrides (open or closed until a time), watched and reloaded like the policy"`

	// ShutdownTimeout bounds graceful shutdown, draining the update queue included.
	ShutdownTimeout time.Duration `envconfig:"ASSIGND_SHUTDOWN_TIMEOUT" default:"20s" desc:"bound on graceful shutdown, draining updates included"`
	// ShutdownDelay keeps the callback listener open, answering, after
	// readiness turns 503, while a load balancer stops sending new callbacks.
	ShutdownDelay time.Duration `envconfig:"ASSIGND_SHUTDOWN_DELAY" default:"0s" desc:"callbacks still answered after readiness turns 503 at shutdown"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"ASSIGND_LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	// LogFormat is json or console.
	LogFormat string `envconfig:"ASSIGND_LOG_FORMAT" default:"json" desc:"json, or console (the default in dev mode)"`
	// ExamplePolicy runs the embedded example policy outside development
	// mode, on purpose, when ASSIGND_POLICY_FILE is not set: without it
	// serve refuses to start, so that a misspelt variable cannot put the
	// demo in production. A policy file, when set, wins.
	ExamplePolicy bool `envconfig:"ASSIGND_EXAMPLE_POLICY" default:"false" desc:"run the embedded example policy without ASSIGND_POLICY_FILE outside dev mode, on purpose"`
	// StrictEnv makes an unknown ASSIGND_* or TWILIO_* variable stop
	// start-up instead of a warning.
	StrictEnv bool `envconfig:"ASSIGND_STRICT_ENV" default:"false" desc:"refuse to start when an ASSIGND_* or TWILIO_* variable is not one assignd reads"`
	// Dev skips signature checks and binds loopback only; for a laptop, never production.
	Dev bool `envconfig:"ASSIGND_DEV" default:"false" desc:"development mode: no signature checks, loopback only, the example policy; never in production"`

	// TaskRouterURL is where REST updates go; a test server or a proxy may stand in.
	TaskRouterURL string `envconfig:"ASSIGND_TASKROUTER_URL" default:"https://taskrouter.twilio.com" desc:"where REST reservation updates go"`
	// UpdateQueue is how many reservation updates may wait; beyond it callbacks get 503.
	UpdateQueue int `envconfig:"ASSIGND_UPDATE_QUEUE" default:"10000" desc:"reservation updates that may wait; beyond it callbacks get 503"`
	// UpdateConcurrency is how many reservation updates are sent at once.
	UpdateConcurrency int `envconfig:"ASSIGND_UPDATE_CONCURRENCY" default:"16" desc:"reservation updates sent at once"`
	// UpdateAttemptTimeout bounds one REST attempt.
	UpdateAttemptTimeout time.Duration `envconfig:"ASSIGND_UPDATE_ATTEMPT_TIMEOUT" default:"5s" desc:"bound on one REST update attempt"`
	// ReservationTimeout is the Workflow's TaskReservationTimeout: no update is tried after it.
	ReservationTimeout time.Duration `envconfig:"ASSIGND_RESERVATION_TIMEOUT" default:"120s" desc:"the Workflow's TaskReservationTimeout; no update is tried after it"`
	// DecisionMemory is how many decisions are remembered, by
	// ReservationSid, to attribute TaskRouter's reservation events to rules.
	DecisionMemory int `envconfig:"ASSIGND_DECISION_MEMORY" default:"100000" desc:"decisions remembered to attribute reservation events to rules"`
	// MaxConnections caps the callback listener's open connections,
	// counting those serving a request: a new connection evicts the one
	// idle longest, and waits only when every one is busy.
	MaxConnections int `envconfig:"ASSIGND_MAX_CONNECTIONS" default:"4096" desc:"cap on the callback listener's open connections; the idle longest is closed first"`
	// MaxTableBytes is the largest policy table file read, in bytes; a
	// larger one fails the load with a message naming this variable. 0
	// means the policy package's default, the same 64 MiB.
	MaxTableBytes int64 `envconfig:"ASSIGND_MAX_TABLE_BYTES" default:"67108864" desc:"largest policy table file read, in bytes (0: the default, 64 MiB)"`

	// DecisionLog is where a record of every decision goes: stdout,
	// file:/path, or an http(s):// collector URL, whose user and password,
	// if any, authenticate to the collector and are never shown. Empty
	// keeps no decision log.
	DecisionLog string `envconfig:"ASSIGND_DECISION_LOG" secret:"userinfo" desc:"where a record of every decision goes: stdout, file:/path or an http(s):// collector URL"`
	// DecisionLogMaxMB is the size at which a file decision log is rotated.
	DecisionLogMaxMB int `envconfig:"ASSIGND_DECISION_LOG_MAX_MB" default:"100" desc:"size in MB at which a file decision log is rotated"`
	// DecisionLogMaxFiles is how many rotated decision log files are kept.
	DecisionLogMaxFiles int `envconfig:"ASSIGND_DECISION_LOG_MAX_FILES" default:"10" desc:"rotated decision log files kept (0: every one)"`

	// AdminHosts are the host names, besides IP literals and localhost,
	// that the admin listener answers, comma-separated (AdminHostList);
	// any other Host gets 421, so DNS rebinding cannot reach it. A string,
	// so that Config stays comparable.
	AdminHosts string `envconfig:"ASSIGND_ADMIN_HOSTS" desc:"host names the admin listener answers besides IP literals and localhost, comma-separated"`
	// AdminToken, when set, is the bearer token every admin endpoint but
	// /healthz, /readyz and /metrics requires.
	AdminToken string `envconfig:"ASSIGND_ADMIN_TOKEN" secret:"true" desc:"bearer token every admin endpoint but /healthz, /readyz and /metrics requires"`
}

// NoPolicyFile is Check's refusal outside development mode when no policy
// file is set: serving the embedded example in production would dequeue
// real calls by a demo's rules.
const NoPolicyFile = "ASSIGND_POLICY_FILE is not set: set it to the policy file to serve; " +
	"to run the embedded example on purpose, set ASSIGND_DEV=true (a laptop) or ASSIGND_EXAMPLE_POLICY=true"

// logFormatVar is the variable whose default development mode changes.
const logFormatVar = "ASSIGND_LOG_FORMAT"

// UpdateSafetyMargin is how long before a reservation times out the
// updater stops starting attempts: an attempt started later could land
// after TaskRouter has already moved on. The updater's default margin, and
// Check's lower bound on ASSIGND_RESERVATION_TIMEOUT, are this one value.
const UpdateSafetyMargin = 5 * time.Second

// MaxTableBytes bounds ASSIGND_MAX_TABLE_BYTES just under 4 GiB, the most text a
// table's 32-bit offsets address.
const MaxTableBytes = 1<<32 - 1

// MaxDecisionMemory bounds ASSIGND_DECISION_MEMORY: an entry costs a few
// hundred bytes, so ten million is already gigabytes.
const MaxDecisionMemory = 10_000_000

// Load reads the process environment and checks the values that envconfig
// cannot.
func Load() (*Config, error) {
	c, err := Read()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Read reads the process environment and returns it with Check's verdict:
// "assignd config" shows what a refused configuration holds. The Config is
// nil only when envconfig could not parse a value.
func Read() (*Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return nil, fmt.Errorf("reading environment: %w", err)
	}
	if _, set := os.LookupEnv(logFormatVar); c.Dev && !set {
		// A person reads development mode's log; a collector reads
		// production's.
		c.LogFormat = "console"
	}
	return &c, c.Check()
}

// Check reports every bad value at once, each naming its variable. It is
// the one home of the environment's rules: the rest of the program takes a
// checked Config on trust.
func (c *Config) Check() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if !c.Dev && c.AuthToken == "" {
		errs = append(errs, errors.New("TWILIO_AUTH_TOKEN is not set: set it to the account's auth token, or set ASSIGND_DEV=true to run locally without signature checks"))
	}
	if !c.Dev && c.PolicyFile == "" && !c.ExamplePolicy {
		errs = append(errs, errors.New(NoPolicyFile))
	}
	if problem := publicBaseURLProblem(c.PublicBaseURL); problem != "" {
		bad("ASSIGND_PUBLIC_BASE_URL", "%s", problem)
	}
	if u, err := url.Parse(c.TaskRouterURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("ASSIGND_TASKROUTER_URL", "%q is not an absolute http(s) URL", printableURL(c.TaskRouterURL))
	}
	if _, ok := logLevels[strings.ToLower(c.LogLevel)]; !ok {
		bad("ASSIGND_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		bad("ASSIGND_LOG_FORMAT", "%q is not one of json, console", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		bad("ASSIGND_SHUTDOWN_TIMEOUT", "must be positive, not %s", c.ShutdownTimeout)
	}
	if c.ShutdownDelay < 0 || c.ShutdownDelay >= c.ShutdownTimeout {
		bad("ASSIGND_SHUTDOWN_DELAY", "must be at least 0 and less than ASSIGND_SHUTDOWN_TIMEOUT (%s), not %s", c.ShutdownTimeout, c.ShutdownDelay)
	}
	if c.UpdateQueue < 1 {
		bad("ASSIGND_UPDATE_QUEUE", "must be at least 1, not %d", c.UpdateQueue)
	}
	if c.UpdateConcurrency < 1 {
		bad("ASSIGND_UPDATE_CONCURRENCY", "must be at least 1, not %d", c.UpdateConcurrency)
	}
	if c.MaxConnections < 1 {
		bad("ASSIGND_MAX_CONNECTIONS", "must be at least 1, not %d", c.MaxConnections)
	}
	if c.UpdateAttemptTimeout <= 0 {
		bad("ASSIGND_UPDATE_ATTEMPT_TIMEOUT", "must be positive, not %s", c.UpdateAttemptTimeout)
	}
	if c.ReservationTimeout <= 0 || c.ReservationTimeout > 86400*time.Second {
		bad("ASSIGND_RESERVATION_TIMEOUT", "must be between 1s and 24h (TaskRouter's range), not %s", c.ReservationTimeout)
	} else if least := UpdateSafetyMargin + c.UpdateAttemptTimeout; c.UpdateAttemptTimeout > 0 && c.ReservationTimeout <= least {
		// No update could start and finish in time: every one would
		// expire unsent while TaskRouter got its 200.
		bad("ASSIGND_RESERVATION_TIMEOUT", "must exceed the updater's safety margin (%s) plus ASSIGND_UPDATE_ATTEMPT_TIMEOUT (%s), that is %s, not %s",
			UpdateSafetyMargin, c.UpdateAttemptTimeout, least, c.ReservationTimeout)
	}
	if c.DecisionMemory < 1 || c.DecisionMemory > MaxDecisionMemory {
		bad("ASSIGND_DECISION_MEMORY", "must be between 1 and %d, not %d", MaxDecisionMemory, c.DecisionMemory)
	}
	c.checkFiles(bad)
	// Missing credentials are not an error here: only update-mode rules
	// need them, and a policy with such rules is refused without them.
	if _, err := c.REST(); !errors.As(err, new(*MissingREST)) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// publicBaseURLProblem is what is wrong with ASSIGND_PUBLIC_BASE_URL, or
// "" for nothing (an unset one included).
func publicBaseURLProblem(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return parseProblem(raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("scheme must be http or https, not %q", u.Scheme)
	case u.Host == "":
		return "has no host"
	case u.User != nil:
		// The signed URL is logged when a signature fails; a password in
		// it would reach the logs. Signatures, not basic auth,
		// authenticate TaskRouter here.
		return "must not hold a user name or password"
	case u.RawQuery != "" || u.Fragment != "":
		return "must not have a query or fragment"
	}
	return ""
}

// checkFiles checks the variables that name the files serve reads beside
// the policy (shadow, overrides, tables) and the decision log it writes.
func (c *Config) checkFiles(bad func(name, format string, args ...any)) {
	if c.MaxTableBytes < 0 || c.MaxTableBytes > MaxTableBytes {
		bad("ASSIGND_MAX_TABLE_BYTES", "must be between 0 (the default, 64 MiB) and %d, not %d", int64(MaxTableBytes), c.MaxTableBytes)
	}
	if c.ShadowPolicyFile != "" && c.PolicyFile == "" {
		bad("ASSIGND_SHADOW_POLICY_FILE", "needs ASSIGND_POLICY_FILE: a shadow is compared with a live policy file, not the embedded example")
	}
	if c.ShadowPolicyFile != "" && c.ShadowPolicyFile == c.PolicyFile {
		bad("ASSIGND_SHADOW_POLICY_FILE", "is ASSIGND_POLICY_FILE (%q): a shadow is a candidate, another file", c.PolicyFile)
	}
	if c.OverridesFile != "" && (c.OverridesFile == c.PolicyFile || c.OverridesFile == c.ShadowPolicyFile) {
		bad("ASSIGND_OVERRIDES_FILE", "is a policy file (%q): overrides are a file of their own", c.OverridesFile)
	}
	if c.DecisionLog != "" {
		c.checkDecisionLog(bad)
	}
}

// checkDecisionLog checks the decision log's variables, which matter only
// when ASSIGND_DECISION_LOG is set.
func (c *Config) checkDecisionLog(bad func(name, format string, args ...any)) {
	// ParseSink's errors never quote the value, which may hold a password.
	if _, err := decisionlog.ParseSink(c.DecisionLog); err != nil {
		bad("ASSIGND_DECISION_LOG", "%v", err)
	}
	if c.DecisionLogMaxMB < 1 {
		bad("ASSIGND_DECISION_LOG_MAX_MB", "must be at least 1, not %d", c.DecisionLogMaxMB)
	}
	if c.DecisionLogMaxFiles < 0 {
		bad("ASSIGND_DECISION_LOG_MAX_FILES", "must be at least 0 (0 keeps every rotated file), not %d", c.DecisionLogMaxFiles)
	}
}

// logLevels are the ASSIGND_LOG_LEVEL values, lower-cased, and the zap level
// of each. It is read-only.
var logLevels = map[string]zapcore.Level{
	"debug": zapcore.DebugLevel,
	"info":  zapcore.InfoLevel,
	"warn":  zapcore.WarnLevel,
	"error": zapcore.ErrorLevel,
}

// Level is ASSIGND_LOG_LEVEL as a zap level; info for a value Check refuses.
func (c *Config) Level() zapcore.Level {
	return logLevels[strings.ToLower(c.LogLevel)] // the zero Level is info
}

// Credentials are the Basic credentials of REST updates.
type Credentials struct{ Username, Password string }

// MissingREST is REST's error when credentials are missing: update-mode
// rules cannot run without them, and nothing else needs them.
type MissingREST struct {
	// Vars names the variables to set.
	Vars string
}

// Error names the variables to set.
func (e *MissingREST) Error() string {
	return "update-mode rules need REST credentials: set " + e.Vars
}

// restAlnum is what twilio-go accepts in a credential.
var restAlnum = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// REST holds every rule of the REST credentials: it returns the
// credentials REST updates authenticate with, the API key pair when
// TWILIO_API_KEY is set, else the account SID and auth token. When some
// are missing the error is a *MissingREST naming them; when all are set but
// one is not letters and digits, which twilio-go refuses before sending
// (codes 21222 and 21224), the error names each such variable. An API
// key without its secret, or the reverse, is an error of its own.
func (c *Config) REST() (Credentials, error) {
	if (c.APIKey == "") != (c.APISecret == "") {
		return Credentials{}, errors.New("TWILIO_API_KEY: TWILIO_API_KEY and TWILIO_API_SECRET go together")
	}
	userVar, passVar := "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"
	creds := Credentials{Username: c.AccountSid, Password: c.AuthToken}
	if c.APIKey != "" {
		userVar, passVar = "TWILIO_API_KEY", "TWILIO_API_SECRET"
		creds = Credentials{Username: c.APIKey, Password: c.APISecret}
	}
	// Only what is missing is named: the API key pair is whole or absent
	// by now, so a password is missing only when neither it nor the
	// token is set.
	var missing []string
	if c.AccountSid == "" {
		missing = append(missing, "TWILIO_ACCOUNT_SID")
	}
	if creds.Password == "" {
		missing = append(missing, "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)")
	}
	if len(missing) > 0 {
		return Credentials{}, &MissingREST{Vars: strings.Join(missing, " and ")}
	}
	checked := [][2]string{{userVar, creds.Username}, {passVar, creds.Password}}
	if c.APIKey != "" {
		checked = append(checked, [2]string{"TWILIO_ACCOUNT_SID", c.AccountSid})
	}
	var errs []error
	for _, v := range checked {
		if !restAlnum.MatchString(v[1]) {
			errs = append(errs, fmt.Errorf("%s: must be letters and digits only", v[0]))
		}
	}
	return creds, errors.Join(errs...)
}

// AdminHostList is AdminHosts as a list, blanks dropped.
func (c *Config) AdminHostList() []string {
	var hosts []string
	for h := range strings.SplitSeq(c.AdminHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}
