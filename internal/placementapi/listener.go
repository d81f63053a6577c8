package placementapi

import (
	"bytes"
	"net"
)

// RewriteInvalidContentLength wraps a listener so that a request whose Content-Length
// header is not an integer reaches the handler, which answers it as Placement does (400
// "content-length header must be an integer") instead of net/http rejecting it with a
// plain-text error. It renames such a header, in place and with the same length, to
// Invalid-Length. Only header lines whose value is not all digits are touched, so valid
// requests pass unchanged.
func RewriteInvalidContentLength(l net.Listener) net.Listener { return &clListener{l} }

type clListener struct{ net.Listener }

func (l *clListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &clConn{Conn: c}, nil
}

type clConn struct{ net.Conn }

var contentLengthName = []byte("\ncontent-length:")

func (c *clConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		rewriteContentLength(p[:n])
	}
	return n, err
}

// rewriteContentLength renames, in buf, every "Content-Length:" header line whose value
// is not a non-negative integer.
func rewriteContentLength(buf []byte) {
	lower := bytes.ToLower(buf)
	off := 0
	for {
		i := bytes.Index(lower[off:], contentLengthName)
		if i < 0 {
			return
		}
		start := off + i + 1
		valStart := start + len(contentLengthName) - 1
		end := bytes.IndexByte(buf[valStart:], '\r')
		if end < 0 {
			return
		}
		val := bytes.TrimSpace(buf[valStart : valStart+end])
		if !allDigits(val) {
			copy(buf[start:], invalidLengthHeader)
		}
		off = valStart
	}
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
