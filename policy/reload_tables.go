package policy

import (
	"path/filepath"

	"go.uber.org/zap"
)

// watchTables adds the directory of each of the running policy's tables
// to the watch, so that a table changing on disk reloads the bundle as
// the policy file does. Directories stay watched once added: an event in
// one no table uses any more costs a reload that finds nothing changed.
func (r *Reloader) watchTables() {
	if r.watcher == nil || r.current == nil {
		return
	}
	p := r.current()
	if p == nil {
		return
	}
	for _, t := range p.Tables() {
		dir := filepath.Dir(t.File())
		if r.watched[dir] {
			continue
		}
		if err := r.watcher.Add(dir); err != nil {
			r.watchErrors.Inc()
			r.log.Error("table watch failed; changes to this table are not seen until the policy reloads", zap.String("dir", dir), zap.Error(err))
			continue
		}
		r.watched[dir] = true
	}
}
