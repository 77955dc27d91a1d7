package daemon

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoop(t *testing.T) {
	tests := []struct {
		name     string
		start    bool
		stubborn bool // run ignores its context until released
		wantErr  error
	}{
		{"stopped after start", true, false, nil},
		{"stopped without start", false, false, nil},
		{"run outlives the stop deadline", true, true, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			ran, returned := make(chan struct{}), make(chan struct{})
			stopped := 0
			c := Loop(func(ctx context.Context) {
				close(ran)
				if tt.stubborn {
					<-release
				} else {
					<-ctx.Done()
				}
				close(returned)
			}, func() { stopped++ })
			if tt.start {
				if err := c.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				<-ran
			}
			ctx := context.Background()
			if tt.stubborn {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 10*time.Millisecond)
				defer cancel()
			}
			if err := c.Stop(ctx); !errors.Is(err, tt.wantErr) {
				t.Errorf("Stop = %v, want %v", err, tt.wantErr)
			}
			if stopped != 1 {
				t.Errorf("stopped called %d times, want once", stopped)
			}
			if tt.start && !tt.stubborn {
				select {
				case <-returned:
				default:
					t.Error("Stop returned before run did")
				}
			}
		})
	}
}
