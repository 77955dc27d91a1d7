package daemon

import (
	"context"
	"sync"
)

// Loop returns a Component that runs run in a goroutine from Start until
// Stop cancels its context, the shape of most components. Stop waits for
// run to return, within its ctx, and then calls stopped (when not nil)
// whether or not run had returned.
func Loop(run func(ctx context.Context), stopped func()) Component {
	return &loop{run: run, stopped: stopped}
}

type loop struct {
	run     func(ctx context.Context)
	stopped func()

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *loop) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	l.mu.Lock()
	l.cancel, l.done = cancel, done
	l.mu.Unlock()
	go func() {
		defer close(done)
		l.run(ctx)
	}()
	return nil
}

func (l *loop) Stop(ctx context.Context) error {
	if l.stopped != nil {
		defer l.stopped()
	}
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
