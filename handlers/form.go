package handlers

import (
	"errors"
	"mime"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// maxLoggedURL bounds the URL in the warning for an invalid signature: the
// request target is the sender's to choose, up to a megabyte of it.
const maxLoggedURL = 256

// readForm reads the callback body into sc and scans it as a form, after
// the signed URL when signatures are checked. If it is not a form within
// the limits, readForm answers the request and returns false and the
// error of answering it.
func (s *Server) readForm(c echo.Context, sc *callback.Form) (bool, error) {
	r := c.Request()
	if r.ContentLength > callback.MaxBodyBytes {
		return false, s.refuse(c, http.StatusRequestEntityTooLarge, callback.TooLarge(), "")
	}
	if err := sc.ReadBody(http.MaxBytesReader(c.Response(), r.Body, callback.MaxBodyBytes)); err != nil {
		if errors.Is(err, callback.ErrTooManyFields) {
			p := callback.TooManyFields()
			return false, s.refuse(c, p.Code, p.Msg, p.Field)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return false, s.refuse(c, http.StatusRequestEntityTooLarge, callback.TooLarge(), "")
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The listener's read timeout ended a body that stalled. Its
			// error would quote the socket addresses; say what happened.
			return false, s.refuse(c, http.StatusRequestTimeout, "the body did not arrive within the read timeout", "")
		}
		return false, s.refuse(c, http.StatusBadRequest, "reading body: "+err.Error(), "")
	}
	if s.verify != nil {
		s.verify.SignURL(sc, r)
	}
	// The form's size and syntax are checked before anything in it is
	// unescaped or signed, so a hostile form costs no more than a real one.
	if p := sc.Scan(); p.Code != 0 {
		return false, s.refuse(c, p.Code, p.Msg, p.Field)
	}
	return true, nil
}

// isFormType reports whether ct is the form media type, with parameters or
// in another case.
func isFormType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == formContentType
}

// writeReply answers 200 with body, a reply the policy encoded when it was
// loaded, as it is. The Content-Type value is s.replyType, shared by every
// reply rather than built for each; net/http only reads it.
func (s *Server) writeReply(c echo.Context, body []byte) error {
	w := c.Response()
	w.Header()[echo.HeaderContentType] = s.replyType
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// policyReads is the keys one policy reads, kept while it is current.
type policyReads struct {
	pol, shadow *policy.Policy
	reads       policy.Reads
}

// readsFor returns what pol reads, for ParseFields: the first callback
// after a reload walks the policy's rules, the others reuse the answer.
// Without a policy nothing is decoded, but the attributes are still
// checked. It is nil, decode everything, for a policy that reads a root
// the projection does not know.
//
// With a shadow policy, it is what either policy reads: the shadow decides
// on the same Input after the answer, and must see every key it reads. It
// returns that shadow policy too, the one the Input suits, since the
// shadow may be reloaded before it decides.
func (s *Server) readsFor(pol *policy.Policy) (*policy.Reads, *policy.Policy) {
	var shadow *policy.Policy
	if s.shadowStore != nil {
		shadow = s.shadowStore.Current()
	}
	cached := s.reads.Load()
	if cached == nil || cached.pol != pol || cached.shadow != shadow {
		cached = &policyReads{pol: pol, shadow: shadow}
		if pol != nil {
			cached.reads = pol.Reads()
		}
		if shadow != nil {
			cached.reads = cached.reads.Union(shadow.Reads())
		}
		s.reads.Store(cached)
	}
	if cached.reads.All {
		return nil, shadow
	}
	return &cached.reads, shadow
}
