package admin

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/assignd/assignd/internal/httpserver"
)

// openPaths need no admin token: the probes, the scrape, and the
// console's static files, which hold nothing but code.
var openPaths = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true,
	"/console/console.css": true, "/console/console.js": true, "/favicon.ico": true,
}

// guard refuses, before any handler runs, what must not reach the admin
// listener. A request whose Host is not an IP literal, localhost or one of
// hosts is answered 421: a web page that rebinds its own name to the
// admin port (an ops laptop's kubectl port-forward) sends its own name as
// Host, so it cannot read or drive the console. An empty Host, which no
// browser sends, passes. When token is set, every request but openPaths
// must carry it as a bearer token (401 otherwise); the console page
// answers a request without it with a page that asks for it (locked).
func guard(hosts []string, token string, locked echo.HandlerFunc) echo.MiddlewareFunc {
	allowed := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		allowed[normalHost(h)] = true
	}
	want := []byte("Bearer " + token)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !adminHost(r.Host, allowed) {
				return httpserver.WriteError(c, http.StatusMisdirectedRequest,
					"host "+strconv.Quote(truncate(r.Host, 64))+" is not an admin host: use an IP address, localhost or a name in ASSIGND_ADMIN_HOSTS", "")
			}
			if token == "" || openPaths[r.URL.Path] ||
				subtle.ConstantTimeCompare([]byte(r.Header.Get(echo.HeaderAuthorization)), want) == 1 {
				return next(c)
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="assignd admin"`)
			if r.URL.Path == "/" && locked != nil && r.Method == http.MethodGet {
				return locked(c)
			}
			return httpserver.WriteError(c, http.StatusUnauthorized, "this endpoint needs the admin token (ASSIGND_ADMIN_TOKEN) as a bearer token", "")
		}
	}
}

// adminHost reports whether host, a request's Host header, names the
// admin listener: an IP literal, localhost, or a name in allowed.
func adminHost(host string, allowed map[string]bool) bool {
	if host == "" {
		return true
	}
	h := normalHost(host)
	return net.ParseIP(h) != nil || h == "localhost" || allowed[h]
}

// normalHost is host without its port, brackets and trailing dot, in
// lower case.
func normalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	return strings.ToLower(host)
}

// truncate cuts s to n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
