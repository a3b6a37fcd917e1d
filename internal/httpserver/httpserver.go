// Package httpserver holds the house's HTTP conventions, shared by the
// callback and admin listeners: the timeouts that keep slow or idle
// clients from pinning connections, JSON error bodies for every error, and
// panics turned into logged 500s.
package httpserver

import (
	"encoding/json"
	"errors"
	stdlog "log"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Timeouts for both listeners, so that slow or idle clients cannot pin
// connections. TaskRouter gives up on a callback after 5 s, so nothing
// legitimate needs more than these.
const (
	// ReadHeaderTimeout bounds reading the request line and headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading the whole request, body included.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds the time from the end of the request headers to the
	// end of the response.
	WriteTimeout = 10 * time.Second
	// IdleTimeout bounds how long a keep-alive connection may wait for its
	// next request. TaskRouter sends callbacks in bursts; a connection idle
	// for 15 s is cheaper to open again than to keep, and on the callback
	// listener an idle connection is evicted sooner when a new one needs
	// its slot (ConnLimiter).
	IdleTimeout = 15 * time.Second
)

// MaxHeaderBytes bounds a request's line and headers on both listeners,
// instead of net/http's 1 MB: a TaskRouter callback's headers are under
// 2 KiB (Host, Content-Type, Content-Length, X-Twilio-Signature,
// User-Agent, I-Twilio-Idempotency-Token), and an ingress adds forwarding
// and tracing headers of a few hundred bytes more. 16 KiB is eight times
// that, so a proxy that adds more still fits, while a connection that
// waits for its body holds at most 16 KiB (plus net/http's 4 KiB of slack)
// of header memory, not 1 MB.
const MaxHeaderBytes = 16 << 10

// Timeouts are the four timeouts of an http.Server.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// Default are the house timeouts, those of both listeners.
var Default = Timeouts{ReadHeader: ReadHeaderTimeout, Read: ReadTimeout, Write: WriteTimeout, Idle: IdleTimeout}

// New wraps h in an http.Server listening on addr, with the timeouts to
// (Default in production; tests cannot wait for those) and errors logged
// through log.
func New(addr string, h http.Handler, log *zap.Logger, to Timeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: to.ReadHeader,
		ReadTimeout:       to.Read,
		WriteTimeout:      to.Write,
		IdleTimeout:       to.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		// TLS handshake errors, header timeouts and the like: worth seeing, not alarming.
		ErrorLog: StdLogAt(log, zap.WarnLevel),
	}
}

// NewEcho returns an Echo that answers every error, its own included, with
// a JSON body. A 405 on one of the postOnly paths says Allow: POST.
func NewEcho(log *zap.Logger, postOnly ...string) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = strings.ToLower(m)
			} else {
				msg = strings.ToLower(http.StatusText(code))
			}
		} else {
			log.Error("request failed", zap.String("path", c.Request().URL.Path), zap.Error(err))
		}
		if code == http.StatusMethodNotAllowed && slices.Contains(postOnly, c.Request().URL.Path) {
			c.Response().Header().Set(echo.HeaderAllow, http.MethodPost)
		}
		if err := WriteError(c, code, msg, ""); err != nil {
			log.Debug("writing error response", zap.Error(err))
		}
	}
	return e
}

// Recoverer turns a panic into a logged 500.
func Recoverer(log *zap.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("panic in handler", zap.String("path", c.Request().URL.Path), zap.Error(err), zap.ByteString("stack", stack))
			return err
		},
	})
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// WriteError answers with code and a JSON error body, byte for byte as
// marshalled (no trailing newline).
func WriteError(c echo.Context, code int, msg, field string) error {
	b, err := json.Marshal(ErrorBody{Error: msg, Field: field})
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(code)
	}
	return c.Blob(code, echo.MIMEApplicationJSON, b)
}

// StdLogAt adapts log for the standard library's *log.Logger, at level.
func StdLogAt(log *zap.Logger, level zapcore.Level) *stdlog.Logger {
	l, err := zap.NewStdLogAt(log, level)
	if err != nil { // only for an invalid level
		return zap.NewStdLog(log)
	}
	return l
}
