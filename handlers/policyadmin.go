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
// load; loads are serialized with file events and SIGHUP.
const ReloadTimeout = 10 * time.Second

// policyReloadResult is the JSON answer of POST /-/reload.
type policyReloadResult struct {
	Status   string   `json:"status"`
	Hash     string   `json:"hash,omitempty"`
	Error    string   `json:"error,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// policyInfo is the JSON answer of GET /-/policy.
type policyInfo struct {
	File     string    `json:"file"`
	Hash     string    `json:"hash"`
	LoadedAt time.Time `json:"loaded_at"`
	Rules    []string  `json:"rules"`
	Warnings []string  `json:"warnings"`
	Source   string    `json:"source"`
	// Outcomes holds each rule's reservation outcome counts since start,
	// as this process saw them: every rule of the running policy, and
	// rules of earlier policies that still have counts. It is absent
	// without an events endpoint.
	Outcomes map[string]outcome.RuleCounts `json:"outcomes,omitempty"`
}

// AddPolicyAdmin adds the policy endpoints to the admin listener:
// GET /-/policy, the running policy's source, hash and load time, and
// POST /-/reload, which runs reload and answers its error. A nil reload
// (the embedded policy, which has no file) answers 409.
func (s *Server) AddPolicyAdmin(reload func(context.Context) error) {
	s.admin.GET("/-/policy", s.policyInfo)
	s.admin.POST("/-/reload", func(c echo.Context) error {
		if reload == nil {
			return c.JSON(http.StatusConflict, policyReloadResult{Status: "failed",
				Error: "no policy file to reload: the embedded example is running; set ASSIGND_POLICY_FILE"})
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), ReloadTimeout)
		defer cancel()
		if err := reload(ctx); err != nil {
			res := policyReloadResult{Status: "failed", Error: "reloading policy: the running policy stays"}
			var le *policy.LoadError
			if errors.As(err, &le) {
				for _, p := range le.Problems {
					res.Problems = append(res.Problems, p.String())
				}
			} else {
				res.Problems = []string{err.Error()}
			}
			s.adminLog.Warn("policy reload refused", zap.Strings("problems", res.Problems))
			return c.JSON(http.StatusInternalServerError, res)
		}
		return c.JSON(http.StatusOK, policyReloadResult{Status: "ok", Hash: s.store.Current().Hash()})
	})
}

func (s *Server) policyInfo(c echo.Context) error {
	p := s.store.Current()
	if p == nil {
		return c.JSON(http.StatusServiceUnavailable, policyReloadResult{Status: "failed", Error: "no policy loaded"})
	}
	info := policyInfo{File: p.File(), Hash: p.Hash(), LoadedAt: s.store.LoadedAt().UTC(), Rules: p.Rules(),
		Warnings: []string{}, Source: string(p.Source())}
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
