package policy

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// DefaultDebounce is how long the Reloader waits after the last file event
// before loading: an editor's save or a ConfigMap's symlink swap is several
// events, and one load should follow them all.
const DefaultDebounce = 250 * time.Millisecond

// Reloader funnels every reload trigger (file events, SIGHUP, the admin
// endpoint) through one goroutine, so loads never race each other.
type Reloader struct {
	store    *Store
	path     string
	log      *zap.Logger
	requests chan chan error
	hup      chan struct{}
	// Debounce may be changed before Run; tests shorten it.
	Debounce time.Duration
}

// NewReloader returns a Reloader for the policy file at path.
func NewReloader(store *Store, path string, log *zap.Logger) *Reloader {
	return &Reloader{
		store:    store,
		path:     path,
		log:      log.Named("reloader").With(zap.String("file", path)),
		requests: make(chan chan error),
		hup:      make(chan struct{}, 1),
		Debounce: DefaultDebounce,
	}
}

// Trigger asks for a reload without waiting for it, as SIGHUP does.
// Triggers that arrive while one is pending coalesce.
func (r *Reloader) Trigger() {
	select {
	case r.hup <- struct{}{}:
	default:
	}
}

// Reload loads the file now and returns the outcome, as POST /-/reload
// needs. An unchanged file is not an error.
func (r *Reloader) Reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case r.requests <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run watches the file's directory and serves triggers until ctx ends. It
// watches the directory, not the file, because a Kubernetes ConfigMap volume
// updates by swapping a ..data symlink, which a watch on the file itself
// never sees. A failed load is logged and watching goes on.
func (r *Reloader) Run(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching policy: %w", err)
	}
	defer w.Close()
	dir := filepath.Dir(r.path)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching policy directory %q: %w", dir, err)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			r.log.Debug("policy directory changed", zap.String("event", ev.String()))
			timer.Reset(r.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.log.Warn("policy watch error", zap.Error(err))
		case <-timer.C:
			r.load("watch")
		case <-r.hup:
			r.load("signal")
		case reply := <-r.requests:
			reply <- r.load("api")
		}
	}
}

func (r *Reloader) load(trigger string) error {
	changed, err := r.store.LoadFile(r.path)
	if err == nil && !changed {
		r.log.Debug("policy unchanged", zap.String("trigger", trigger))
	}
	return err
}
