package policy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/metric"
)

// DefaultDebounce is how long the Reloader waits after the last file event
// before loading: an editor's save or a ConfigMap's symlink swap is several
// events, and one load should follow them all.
const DefaultDebounce = 250 * time.Millisecond

// Reloader funnels every reload trigger (file events, SIGHUP, the admin
// endpoint) through one goroutine, so loads never race each other.
//
// The trigger loop and the directory watch are apart on purpose: a watch
// can fail (in production, the inotify limit of 128 instances per user),
// and when it does only file events are lost; Trigger and Reload go on
// working.
type Reloader struct {
	loadFile func(path string) (changed bool, err error)
	// current is the loaded policy whose tables' directories are watched
	// beside the file's; nil for a file without tables (the overrides).
	current     func() *Policy
	path        string
	log         *zap.Logger
	requests    chan chan error
	hup         chan struct{}
	watchErrors prometheus.Counter
	// Debounce may be changed before Run; tests shorten it.
	Debounce time.Duration
	// Watch sets up the watch of the policy's directory; it is WatchDir
	// unless changed before Run. A test makes it fail, as a full inotify
	// table would.
	Watch func(dir string) (*fsnotify.Watcher, error)
	// watcher and watched are Run's watch and the directories it has
	// added, so that a table's directory is watched as the policy's is.
	watcher *fsnotify.Watcher
	watched map[string]bool
}

// NewReloader returns a Reloader for the policy file at path, with its
// metrics registered on reg under the store's policy label.
func NewReloader(store *Store, path string, log *zap.Logger, reg prometheus.Registerer) (*Reloader, error) {
	switch {
	case store == nil:
		return nil, errors.New("policy.NewReloader: no store")
	case log == nil:
		return nil, errors.New("policy.NewReloader: no logger")
	case reg == nil:
		return nil, errors.New("policy.NewReloader: no prometheus registerer")
	}
	r, err := newReloader(store.LoadFile, path, log, store.labelled(reg))
	if err != nil {
		return nil, err
	}
	r.current = store.Current
	return r, nil
}

// newReloader builds a Reloader that loads path with loadFile.
func newReloader(loadFile func(string) (bool, error), path string, log *zap.Logger, reg prometheus.Registerer) (*Reloader, error) {
	r := &Reloader{
		loadFile: loadFile,
		path:     path,
		log:      log.Named("reloader").With(zap.String("file", path)),
		requests: make(chan chan error),
		hup:      make(chan struct{}, 1),
		watchErrors: metric.Counter("assignd_policy_watch_errors_total",
			"Failures of the watch of a watched file's directory (the policy's, the shadow's or the overrides', by the policy label): set-up failed (file changes then go unseen until restart; SIGHUP and POST /-/reload still reload) or the watch reported an error."),
		Debounce: DefaultDebounce,
		Watch:    WatchDir,
	}
	if err := metric.Register(reg, "policy reload", r.watchErrors); err != nil {
		return nil, err
	}
	return r, nil
}

// WatchDir watches dir for changes. It watches the directory, not the
// file, because a Kubernetes ConfigMap volume updates by swapping a ..data
// symlink, which a watch on the file itself never sees.
func WatchDir(dir string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching policy: %w", err)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching policy directory %q: %w", dir, err)
	}
	return w, nil
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

// Run serves triggers until ctx ends: debounced events from the watch of
// the file's directory, Trigger and Reload. A watch that cannot be set up
// is logged and counted, and Run goes on without it; a failed load is
// logged and Run goes on too.
func (r *Reloader) Run(ctx context.Context) {
	// A nil channel never delivers: without a watch, the loop serves
	// Trigger and Reload only.
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if w, err := r.Watch(filepath.Dir(r.path)); err != nil {
		r.watchErrors.Inc()
		r.log.Error("policy watch failed; file changes are not seen until restart, SIGHUP and POST /-/reload still reload", zap.Error(err))
	} else {
		defer w.Close()
		events, watchErrs = w.Events, w.Errors
		r.watcher, r.watched = w, map[string]bool{filepath.Dir(r.path): true}
		r.watchTables()
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			r.log.Debug("policy directory changed", zap.String("event", ev.String()))
			timer.Reset(r.Debounce)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			r.watchErrors.Inc()
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
	changed, err := r.loadFile(r.path)
	r.watchTables()
	if err == nil && !changed {
		r.log.Debug("policy unchanged", zap.String("trigger", trigger))
	}
	return err
}
