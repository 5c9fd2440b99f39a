// Package reqlog carries a request id through a context into every log record:
// the HTTP layer puts the X-Request-ID there, jobs enqueued by the request store
// it in their arguments and put it back when they run, and the slog handler
// from Handler adds it as request_id to every record logged with that context.
package reqlog

import (
	"context"
	"log/slog"
)

type key struct{}

// WithRequestID returns ctx carrying id (an empty id leaves ctx as it is).
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, key{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Handler wraps h so records logged with a context that carries a request id
// get a request_id attribute.
// Wrapping twice adds nothing.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.Handler.WithAttrs(as)} }
func (h handler) WithGroup(name string) slog.Handler    { return handler{h.Handler.WithGroup(name)} }
