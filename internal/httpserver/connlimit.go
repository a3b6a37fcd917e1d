package httpserver

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// ConnLimiter caps the connections a listener holds open, counting the
// ones serving a request rather than the ones waiting: when the cap is
// reached and a new connection arrives, the connection that has waited
// longest without a request in progress (idle between requests, or
// accepted and not yet sent a byte) is closed to make room. Only when
// every connection is in the middle of a request does the new one wait,
// in hand, for a slot; behind it the kernel's backlog holds the rest. So a
// client that opens the whole cap's worth of connections and leaves them
// idle cannot keep TaskRouter out, and at most max+1 connections are ever
// open.
//
// Set ConnState as the http.Server's ConnState hook: it is how the
// limiter learns which connections are idle.
type ConnLimiter struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[*limitedConn]struct{}
	// changed has a token when a slot was freed or a connection went idle.
	changed chan struct{}
	done    chan struct{}
	once    sync.Once
}

// LimitConns wraps ln so that it holds at most max connections busy
// (max ≥ 1), evicting idle ones for new ones.
func LimitConns(ln net.Listener, max int) *ConnLimiter {
	return &ConnLimiter{
		Listener: ln,
		max:      max,
		conns:    make(map[*limitedConn]struct{}, max),
		changed:  make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

// limitedConn is a connection the limiter counts, with what its
// http.Server last said of it.
type limitedConn struct {
	net.Conn
	l *ConnLimiter
	// idle and since are guarded by l.mu: whether the connection has no
	// request in progress, and since when.
	idle  bool
	since time.Time
	once  sync.Once
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

// Accept waits for a connection and for a slot for it.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &limitedConn{Conn: nc, l: l, idle: true, since: time.Now()}
	for {
		l.mu.Lock()
		if len(l.conns) < l.max {
			l.conns[c] = struct{}{}
			l.mu.Unlock()
			return c, nil
		}
		victim := l.oldestIdle()
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
			continue
		}
		select {
		case <-l.changed:
		case <-l.done:
			nc.Close()
			return nil, net.ErrClosed
		}
	}
}

// oldestIdle is the connection idle longest, or nil; l.mu is held.
func (l *ConnLimiter) oldestIdle() *limitedConn {
	var v *limitedConn
	for c := range l.conns {
		if c.idle && (v == nil || c.since.Before(v.since)) {
			v = c
		}
	}
	return v
}

// ConnState is the http.Server hook that tells the limiter which of its
// connections are idle.
func (l *ConnLimiter) ConnState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*limitedConn)
	if !ok || c.l != l {
		return
	}
	idle := s == http.StateNew || s == http.StateIdle
	l.mu.Lock()
	c.idle, c.since = idle, time.Now()
	l.mu.Unlock()
	if idle {
		l.signal()
	}
}

// Close closes the listener and wakes an Accept waiting for a slot.
func (l *ConnLimiter) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// release frees c's slot.
func (l *ConnLimiter) release(c *limitedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.signal()
}

func (l *ConnLimiter) signal() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}
