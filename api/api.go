// Package api holds the JSON shapes of the admin listener's policy
// endpoints, declared once for the listener (package admin) and its
// clients (assignd explain -server).
package api

import (
	"time"

	"github.com/assignd/assignd/outcome"
)

// PolicyInfo is the JSON answer of GET /-/policy.
type PolicyInfo struct {
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
	// Tables are the policy's data tables, in the policy's order; their
	// hashes are part of Hash.
	Tables []TableInfo `json:"tables"`
}

// TableInfo is one data table of the policy in GET /-/policy.
type TableInfo struct {
	Name string `json:"name"`
	// File is the table's CSV file as the policy names it.
	File string `json:"file"`
	Rows int    `json:"rows"`
	// Hash is a prefix of the SHA-256 of the file's content.
	Hash string `json:"hash"`
	// Hashed reports whether the keys are stored as SHA-256 (hash: sha256).
	Hashed bool `json:"hashed,omitempty"`
}

// ReloadResult is the JSON answer of POST /-/reload, and of GET /-/policy
// when it has no policy to show.
type ReloadResult struct {
	Status   string   `json:"status"`
	Hash     string   `json:"hash,omitempty"`
	Error    string   `json:"error,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// Shadow is the shadow policy's reload, when there is one. Its failure
	// does not fail the request: the live policy's outcome decides the
	// status code.
	Shadow *ReloadResult `json:"shadow,omitempty"`
}
