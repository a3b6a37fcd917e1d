package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/internal/httpserver"
)

// explainRequest is the body of POST /-/explain. Every key is optional:
// Task and Worker are the attribute objects, Fields are callback form
// fields (as explain's -set gives them), Now is the arrival time in RFC
// 3339; or Callback is a captured form-encoded callback body, with Fields
// applied on top.
type explainRequest struct {
	Task     json.RawMessage   `json:"task"`
	Worker   json.RawMessage   `json:"worker"`
	Fields   map[string]string `json:"fields"`
	Now      string            `json:"now"`
	Callback string            `json:"callback"`
}

// explainKeys are the keys explainRequest knows, for naming unknown ones.
var explainKeys = []string{"callback", "fields", "now", "task", "worker"}

// requestError is a bad request: its message, and the request key it is
// about, if any, so that the console can show it next to that field.
type requestError struct {
	field, msg string
}

func badRequest(field, format string, args ...any) *requestError {
	return &requestError{field: field, msg: fmt.Sprintf(format, args...)}
}

// requireJSON answers 415 unless the request says its body is JSON, which
// a cross-site HTML form cannot, and marks the answer as not for caching.
// It guards the admin listener's POST endpoints.
func requireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
		if err != nil || mt != echo.MIMEApplicationJSON {
			return httpserver.WriteError(c, http.StatusUnsupportedMediaType, "content-type must be application/json", "")
		}
		return next(c)
	}
}

// explain answers POST /-/explain with what "assignd explain -format json"
// prints for the running policy.
func (c *console) explain(ctx echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(ctx.Response(), ctx.Request().Body, callback.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return httpserver.WriteError(ctx, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", callback.MaxBodyBytes), "")
	case err != nil:
		return httpserver.WriteError(ctx, http.StatusBadRequest, "reading request: "+err.Error(), "")
	}
	form, now, rerr := explainInput(body, c.s.now)
	if rerr != nil {
		return httpserver.WriteError(ctx, http.StatusBadRequest, rerr.msg, rerr.field)
	}
	p := c.s.store.Current()
	if p == nil {
		return httpserver.WriteError(ctx, http.StatusServiceUnavailable, "no policy loaded", "")
	}
	cb, err := callback.Parse(form)
	if err != nil {
		return httpserver.WriteError(ctx, http.StatusBadRequest, "malformed callback: "+err.Error(), "")
	}
	in := cb.Input(now)
	in.Overrides = c.s.overrides()
	out, err := c.opts.Explain(p, p.Explain(in))
	if err != nil {
		c.log.Error("explaining a decision", zap.Error(err))
		return httpserver.WriteError(ctx, http.StatusInternalServerError, "explaining: "+err.Error(), "")
	}
	return ctx.Blob(http.StatusOK, echo.MIMEApplicationJSON, out)
}

// explainInput decodes an explain request into the callback form and the
// arrival time it describes.
func explainInput(body []byte, clock func() time.Time) (url.Values, time.Time, *requestError) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return nil, time.Time{}, badRequest("", "malformed JSON: %v", err)
	}
	var unknown []string
	for k := range keys {
		if !slices.Contains(explainKeys, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, time.Time{}, badRequest("", "unknown fields %s; known: %s", strings.Join(unknown, ", "), strings.Join(explainKeys, ", "))
	}
	var req explainRequest
	for k, raw := range keys {
		if err := decodeKey(&req, k, raw); err != nil {
			return nil, time.Time{}, badRequest(k, "%s: %v", k, err)
		}
	}
	now := clock()
	if req.Now != "" {
		t, err := time.Parse(time.RFC3339, req.Now)
		if err != nil {
			return nil, time.Time{}, badRequest("now", "now: not an RFC 3339 time such as 2026-11-30T15:00:00Z")
		}
		now = t
	}
	form, rerr := req.form()
	return form, now, rerr
}

// decodeKey decodes one key's value into req, so that a wrong type is
// reported against its key.
func decodeKey(req *explainRequest, key string, raw json.RawMessage) error {
	switch key {
	case "task", "worker":
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return errors.New("must be a JSON object of attributes")
		}
		*map[string]*json.RawMessage{"task": &req.Task, "worker": &req.Worker}[key] = raw
	case "fields":
		if err := json.Unmarshal(raw, &req.Fields); err != nil {
			return errors.New(`must be an object of strings, such as {"TaskPriority": "10"}`)
		}
	case "now", "callback":
		if err := json.Unmarshal(raw, map[string]*string{"now": &req.Now, "callback": &req.Callback}[key]); err != nil {
			return errors.New("must be a string")
		}
	}
	return nil
}

// form builds the callback form the request describes.
func (req *explainRequest) form() (url.Values, *requestError) {
	spec := callback.Spec{Task: compactOr(req.Task), Worker: compactOr(req.Worker)}
	if req.Callback != "" {
		if req.Task != nil || req.Worker != nil {
			return nil, badRequest("callback", "callback: give a captured callback or task and worker attributes, not both")
		}
		// serve's parser, limits included, as assignd explain -callback
		// reads a captured body: what the console accepts, serve accepts.
		spec.Captured = []byte(req.Callback)
	}
	for k, v := range req.Fields {
		if k == "" {
			return nil, badRequest("fields", "fields: a field name is empty")
		}
		spec.Set = append(spec.Set, callback.Field{Name: k, Value: v})
	}
	form, err := spec.Form()
	if err != nil {
		return nil, badRequest("callback", "callback: %v", err)
	}
	return form, nil
}

// compactOr returns raw compacted, as TaskRouter sends attributes, or {}
// when it is absent.
func compactOr(raw json.RawMessage) string {
	var b bytes.Buffer
	if raw == nil || json.Compact(&b, raw) != nil {
		return "{}"
	}
	return b.String()
}
