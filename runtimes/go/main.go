// sockerr's runtime client for Go: package net's TCPConn.
//
// Speaks the line protocol of runtimes/README.md: one JSON request per line in, one JSON
// observation per line out. `stdio` serves one session on standard input and output, in this
// process's network namespace; `serve PATH` listens on a Unix socket at PATH and serves one
// session per connection, each on a goroutine locked to an OS thread of its own that first
// enters the namespace the session names (setns(2)); it exits when its standard input closes.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Every blocking call is bounded, like the harness's own calls (BLOCKING_CALL_LIMIT).
const limit = 10 * time.Second

type request struct {
	Op    string `json:"op"`
	API   string `json:"api"`
	Netns string `json:"netns"`
	Host  string `json:"host"`
	Port  int    `json:"port"`
	Len   int    `json:"len"`
	How   string `json:"how"`
	On    bool   `json:"on"`
}

type observation struct {
	Outcome string         `json:"outcome"`
	Value   any            `json:"value,omitempty"`
	Type    string         `json:"type,omitempty"`
	Message *string        `json:"message,omitempty"`
	Code    string         `json:"code,omitempty"`
	Errno   *int           `json:"errno,omitempty"`
	Fields  map[string]any `json:"fields,omitempty"`
	Why     string         `json:"why,omitempty"`
	Runtime string         `json:"runtime,omitempty"`
	Pid     int            `json:"pid,omitempty"`
	Fd      *int           `json:"fd"`
}

type unsupported string

func (u unsupported) Error() string { return string(u) }

// The errnos a program tests with errors.Is(err, syscall.X); the first that matches is the
// one the error classifies to.
var classified = []struct {
	name  string
	errno syscall.Errno
}{
	{"ECONNRESET", syscall.ECONNRESET}, {"EPIPE", syscall.EPIPE}, {"ECONNREFUSED", syscall.ECONNREFUSED},
	{"ETIMEDOUT", syscall.ETIMEDOUT}, {"ECONNABORTED", syscall.ECONNABORTED}, {"EHOSTUNREACH", syscall.EHOSTUNREACH},
	{"ENETUNREACH", syscall.ENETUNREACH}, {"ENOTCONN", syscall.ENOTCONN}, {"EAGAIN", syscall.EAGAIN},
	{"EADDRNOTAVAIL", syscall.EADDRNOTAVAIL}, {"EINVAL", syscall.EINVAL}, {"EBADF", syscall.EBADF},
	{"ESHUTDOWN", syscall.ESHUTDOWN}, {"EPROTO", syscall.EPROTO}, {"EHOSTDOWN", syscall.EHOSTDOWN},
	{"ENETDOWN", syscall.ENETDOWN}, {"EACCES", syscall.EACCES}, {"EPERM", syscall.EPERM},
}

func thrown(err error) observation {
	message := err.Error()
	o := observation{Outcome: "error", Type: fmt.Sprintf("%T", err), Message: &message, Fields: map[string]any{}}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		o.Fields["op"] = opErr.Op
		o.Fields["net"] = opErr.Net
		if opErr.Source != nil {
			o.Fields["source"] = opErr.Source.String()
		}
		if opErr.Addr != nil {
			o.Fields["addr"] = opErr.Addr.String()
		}
		o.Fields["err_type"] = fmt.Sprintf("%T", opErr.Err)
		o.Fields["err"] = opErr.Err.Error()
		o.Fields["timeout"] = opErr.Timeout()
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		n := int(errno)
		o.Errno = &n
	}
	for _, c := range classified {
		if errors.Is(err, c.errno) {
			o.Code = c.name
			break
		}
	}
	o.Fields["is_eof"] = errors.Is(err, io.EOF)
	o.Fields["is_closed"] = errors.Is(err, net.ErrClosed)
	o.Fields["is_deadline"] = errors.Is(err, os.ErrDeadlineExceeded)
	return o
}

// One session's TCPConn.
type session struct {
	conn *net.TCPConn
	open bool
}

func (s *session) fd() *int {
	if s.conn == nil || !s.open {
		return nil
	}
	raw, err := s.conn.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	if raw.Control(func(d uintptr) { fd = int(d) }) != nil || fd < 0 {
		return nil
	}
	return &fd
}

func (s *session) step(r request) (any, error) {
	if r.Op != "connect" && s.conn == nil {
		return nil, unsupported("no connection: connect first (net.Dial returns no TCPConn before it succeeds)")
	}
	switch r.Op {
	case "connect":
		d := net.Dialer{Timeout: limit}
		c, err := d.Dial("tcp", net.JoinHostPort(r.Host, strconv.Itoa(r.Port)))
		if err != nil {
			return nil, err
		}
		s.conn, s.open = c.(*net.TCPConn), true
		return nil, nil
	case "read":
		s.conn.SetReadDeadline(time.Now().Add(limit))
		return s.conn.Read(make([]byte, r.Len))
	case "write":
		s.conn.SetWriteDeadline(time.Now().Add(limit))
		buf := make([]byte, r.Len)
		for i := range buf {
			buf[i] = 'x'
		}
		return s.conn.Write(buf)
	case "shutdown":
		switch r.How {
		case "read":
			return nil, s.conn.CloseRead()
		case "write":
			return nil, s.conn.CloseWrite()
		}
		return nil, unsupported("net.TCPConn has CloseRead and CloseWrite, no shutdown(SHUT_RDWR)")
	case "so_error":
		return nil, unsupported("net.TCPConn exposes no SO_ERROR (only the raw descriptor through SyscallConn)")
	case "getpeername":
		return s.conn.RemoteAddr().String(), nil
	case "set_nodelay":
		return nil, s.conn.SetNoDelay(r.On)
	case "set_keepalive":
		return nil, s.conn.SetKeepAlive(r.On)
	case "close":
		s.open = false
		return nil, s.conn.Close()
	}
	return nil, unsupported(fmt.Sprintf("no step %q in the protocol", r.Op))
}

func enterNetns(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, _, e := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return &os.SyscallError{Syscall: "setns", Err: e}
	}
	return nil
}

// serveSession answers requests until "bye" or the end of input; the goroutine is locked to
// its thread, which it leaves to die with it, so a namespace it entered goes with it.
func serveSession(in io.Reader, out io.Writer) {
	runtime.LockOSThread()
	lines := bufio.NewScanner(in)
	encoder := json.NewEncoder(out)
	var s *session
	for lines.Scan() {
		var r request
		var o observation
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			o = thrown(err)
		} else if r.Op == "bye" {
			if s != nil && s.open {
				s.conn.Close()
			}
			s = nil
			encoder.Encode(observation{Outcome: "ok"})
			return
		} else if r.Op == "hello" {
			o = hello(r, &s)
		} else if s == nil {
			o = observation{Outcome: "unsupported", Why: "the session has not said hello"}
		} else if value, err := s.step(r); err != nil {
			var u unsupported
			if errors.As(err, &u) {
				o = observation{Outcome: "unsupported", Why: u.Error()}
			} else {
				o = thrown(err)
			}
		} else {
			o = observation{Outcome: "ok", Value: value}
		}
		if s != nil {
			o.Fd = s.fd()
		}
		if encoder.Encode(o) != nil {
			break
		}
	}
	if s != nil && s.open {
		s.conn.Close()
	}
}

func hello(r request, s **session) observation {
	if r.Netns != "" {
		if err := enterNetns(r.Netns); err != nil {
			return thrown(err)
		}
	}
	if r.API != "go.net" {
		return observation{Outcome: "unsupported", Why: fmt.Sprintf("no API %q here; this client serves go.net", r.API)}
	}
	*s = &session{}
	return observation{Outcome: "ok", Runtime: runtime.Version(), Pid: os.Getpid()}
}

func serve(path string) error {
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Println("ready")
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			serveSession(c, c)
		}()
	}
}

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "stdio":
		serveSession(os.Stdin, os.Stdout)
	case len(os.Args) == 3 && os.Args[1] == "serve":
		if err := serve(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: sockerr-client stdio | serve PATH")
		os.Exit(2)
	}
}
