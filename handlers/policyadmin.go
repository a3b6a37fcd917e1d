package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
)

// ReloadTimeout bounds how long POST /-/reload waits for its turn and its
// load; loads are serialized with file events and SIGHUP. It is shorter
// than the listener's WriteTimeout, so that a reload that times out still
// gets its answer written.
const ReloadTimeout = 8 * time.Second

// policyReloadResult is the JSON answer of POST /-/reload.
type policyReloadResult struct {
	Status   string   `json:"status"`
	Hash     string   `json:"hash,omitempty"`
	Error    string   `json:"error,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// Shadow is the shadow policy's reload, when there is one. Its failure
	// does not fail the request: the live policy's outcome decides the
	// status code.
	Shadow *policyReloadResult `json:"shadow,omitempty"`
}

// policyInfo is the JSON answer of GET /-/policy.
type policyInfo struct {
	File     string    `json:"file"`
	Hash     string    `json:"hash"`
	LoadedAt time.Time `json:"loaded_at"`
	Rules    []string  `json:"rules"`
	Warnings []string  `json:"warnings"`
	// Source is the policy file with every secret parameter's value masked.
	Source string `json:"source"`
	// Outcomes holds each rule's reservation outcome counts since start,
	// as this process saw them: every rule of the running policy, and
	// rules of earlier policies that still have counts. It is absent
	// without an events endpoint.
	Outcomes map[string]outcome.RuleCounts `json:"outcomes,omitempty"`
}

// ShadowAdmin is what the admin endpoints need of a shadow policy.
type ShadowAdmin struct {
	// Store holds the shadow policy; it may be empty if the file never
	// loaded.
	Store *policy.Store
	// Reload reloads the shadow file; POST /-/reload runs it after the live
	// policy's reload.
	Reload func(context.Context) error
	// Agreement returns what GET /-/shadow answers as JSON.
	Agreement func() any
}

// AddShadowAdmin adds GET /-/shadow, the agreement of a shadow policy with
// the live one, and makes GET /-/policy?which=shadow and POST /-/reload
// cover the shadow. Call it before the admin listener serves.
func (s *Server) AddShadowAdmin(sh ShadowAdmin) {
	s.shadow = &sh
	s.admin.GET("/-/shadow", func(c echo.Context) error {
		return c.JSON(http.StatusOK, sh.Agreement())
	})
}

// AddPolicyAdmin adds the policy endpoints to the admin listener:
// GET /-/policy, the running policy's source with secret parameters masked
// (policy.RedactedSource), its hash and load time, and
// POST /-/reload, which runs reload and answers its error. A nil reload
// (the embedded policy, which has no file) answers 409. POST /-/reload
// takes only Content-Type: application/json (the body is ignored and may
// be empty), so that a cross-site HTML form cannot trigger it.
func (s *Server) AddPolicyAdmin(reload func(context.Context) error) {
	s.admin.GET("/-/policy", s.policyInfo)
	s.admin.POST("/-/reload", func(c echo.Context) error {
		if reload == nil {
			return c.JSON(http.StatusConflict, policyReloadResult{Status: "failed",
				Error: "no policy file to reload: the embedded example is running; set ASSIGND_POLICY_FILE"})
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), ReloadTimeout)
		defer cancel()
		res := reloadResult(reload(ctx), s.store)
		if res.Status != "ok" {
			s.adminLog.Warn("policy reload refused", zap.Strings("problems", res.Problems))
		}
		if s.shadow != nil {
			res.Shadow = reloadResult(s.shadow.Reload(ctx), s.shadow.Store)
			if res.Shadow.Status != "ok" {
				s.adminLog.Warn("shadow policy reload refused", zap.Strings("problems", res.Shadow.Problems))
			}
		}
		if res.Status != "ok" {
			return c.JSON(http.StatusInternalServerError, res)
		}
		return c.JSON(http.StatusOK, res)
	}, requireJSON)
}

// reloadResult is the answer for one store's reload, which returned err.
func reloadResult(err error, store *policy.Store) *policyReloadResult {
	if err == nil {
		res := &policyReloadResult{Status: "ok"}
		if p := store.Current(); p != nil {
			res.Hash = p.Hash()
		}
		return res
	}
	res := &policyReloadResult{Status: "failed", Error: "reloading policy: the running policy stays"}
	var le *policy.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			res.Problems = append(res.Problems, p.String())
		}
	} else {
		res.Problems = []string{err.Error()}
	}
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
			return c.JSON(http.StatusNotFound, policyReloadResult{Status: "failed", Error: "no shadow policy: set ASSIGND_SHADOW_POLICY_FILE"})
		}
		store = s.shadow.Store
	default:
		return c.JSON(http.StatusBadRequest, policyReloadResult{Status: "failed", Error: "which must be live or shadow"})
	}
	p := store.Current()
	if p == nil {
		return c.JSON(http.StatusServiceUnavailable, policyReloadResult{Status: "failed", Error: "no policy loaded"})
	}
	info := policyInfo{File: p.File(), Hash: p.Hash(), LoadedAt: store.LoadedAt().UTC(), Rules: p.Rules(),
		Warnings: []string{}, Source: string(p.RedactedSource())}
	for _, w := range p.Warnings() {
		info.Warnings = append(info.Warnings, w.String())
	}
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
