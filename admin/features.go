package admin

import (
	"github.com/assignd/assignd/api"
	"github.com/assignd/assignd/policy"
)

// tableInfos lists p's data tables for GET /-/policy: never nil, so that
// a policy without tables shows an empty list.
func tableInfos(p *policy.Policy) []api.TableInfo {
	out := []api.TableInfo{}
	for _, t := range p.Tables() {
		out = append(out, api.TableInfo{Name: t.Name(), File: t.File(), Rows: t.Rows(), Hash: t.Hash(), Hashed: t.Hashed()})
	}
	return out
}
