package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/httpserver"
)

// status is the JSON body of /healthz and /readyz.
type status struct {
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`
	PolicyHash string `json:"policy_hash,omitempty"`
}

// healthz reports that the process is up and serving. It does not depend on
// the policy: a restart would not fix a missing one.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, status{Status: "ok"})
}

// readyz answers 200 when Ready, 503 otherwise.
func (s *Server) readyz(c echo.Context) error {
	if ok, why := s.ready(); !ok {
		return c.JSON(http.StatusServiceUnavailable, status{Status: "not ready", Reason: why})
	}
	var hash string
	if p := s.store.Current(); p != nil {
		hash = p.Hash()
	}
	return c.JSON(http.StatusOK, status{Status: "ready", PolicyHash: hash})
}

// metricsHandler serves g in the Prometheus exposition formats.
func metricsHandler(g prometheus.Gatherer, log *zap.Logger) echo.HandlerFunc {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      httpserver.StdLogAt(log, zap.ErrorLevel),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return echo.WrapHandler(h)
}
