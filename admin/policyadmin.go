package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/api"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
)

// ReloadTimeout bounds how long POST /-/reload waits for its turn and its
// load; loads are serialized with file events and SIGHUP. It is shorter
// than the listener's WriteTimeout, so that a reload that times out still
// gets its answer written.
const ReloadTimeout = 8 * time.Second

// Shadow is what the admin endpoints need of a shadow policy.
type Shadow struct {
	// Store holds the shadow policy; it may be empty if the file never
	// loaded.
	Store *policy.Store
	// Reload reloads the shadow file; POST /-/reload runs it after the live
	// policy's reload.
	Reload func(context.Context) error
	// Agreement returns what GET /-/shadow answers as JSON.
	Agreement func() any
}

// reload answers POST /-/reload: it runs reload, then the shadow's, and
// answers their errors. A nil reload (the embedded policy, which has no
// file) answers 409. requireJSON guards it, so that a cross-site HTML form
// cannot trigger it.
func (s *Server) reload(reload func(context.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if reload == nil {
			return c.JSON(http.StatusConflict, api.ReloadResult{Status: "failed",
				Error: "no policy file to reload: the embedded example is running; set ASSIGND_POLICY_FILE"})
		}
		if !s.reloads.AllowN(s.now(), 1) {
			c.Response().Header().Set("Retry-After", "1")
			return httpserver.WriteError(c, http.StatusTooManyRequests,
				"too many reloads: at most "+strconv.Itoa(ReloadBurst)+" at once and "+strconv.Itoa(ReloadsPerSecond)+" a second", "")
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), ReloadTimeout)
		defer cancel()
		res := reloadResult(reload(ctx), s.store)
		if res.Status != "ok" {
			s.log.Warn("policy reload refused", zap.Strings("problems", res.Problems))
		}
		if s.shadow != nil {
			res.Shadow = reloadResult(s.shadow.Reload(ctx), s.shadow.Store)
			if res.Shadow.Status != "ok" {
				s.log.Warn("shadow policy reload refused", zap.Strings("problems", res.Shadow.Problems))
			}
		}
		if res.Status != "ok" {
			return c.JSON(http.StatusInternalServerError, res)
		}
		return c.JSON(http.StatusOK, res)
	}
}

// reloadResult is the answer for one store's reload, which returned err.
func reloadResult(err error, store *policy.Store) *api.ReloadResult {
	if err == nil {
		res := &api.ReloadResult{Status: "ok"}
		if p := store.Current(); p != nil {
			res.Hash = p.Hash()
		}
		return res
	}
	res := &api.ReloadResult{Status: "failed", Error: "reloading policy: the running policy stays"}
	res.Problems = policy.Problems(err)
	return res
}

// policyInfo answers GET /-/policy: the live policy, or with ?which=shadow
// the shadow policy.
func (s *Server) policyInfo(c echo.Context) error {
	store := s.store
	switch c.QueryParam("which") {
	case "", "live":
	case "shadow":
		if s.shadow == nil {
			return c.JSON(http.StatusNotFound, api.ReloadResult{Status: "failed", Error: "no shadow policy: set ASSIGND_SHADOW_POLICY_FILE"})
		}
		store = s.shadow.Store
	default:
		return c.JSON(http.StatusBadRequest, api.ReloadResult{Status: "failed", Error: "which must be live or shadow"})
	}
	p := store.Current()
	if p == nil {
		// The problems of the last load say why: a file that never loaded
		// is being watched, and loads once it is fixed.
		return c.JSON(http.StatusServiceUnavailable, api.ReloadResult{Status: "failed", Error: "no policy loaded",
			Problems: store.LastLoad().Problems()})
	}
	info := api.PolicyInfo{File: p.File(), Hash: p.Hash(), LoadedAt: store.LoadedAt().UTC(), Rules: p.Rules(),
		Warnings: []string{}, Source: string(p.RedactedSource())}
	for _, w := range p.Warnings() {
		info.Warnings = append(info.Warnings, w.String())
	}
	info.Tables = tableInfos(p)
	if s.outcomes != nil {
		info.Outcomes = s.outcomes.Counts()
		for _, r := range info.Rules {
			if _, ok := info.Outcomes[r]; !ok {
				info.Outcomes[r] = outcome.RuleCounts{Remembered: map[outcome.Outcome]uint64{}, Recomputed: map[outcome.Outcome]uint64{}}
			}
		}
	}
	return c.JSON(http.StatusOK, info)
}
