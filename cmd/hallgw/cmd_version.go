package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// scripts/build and hallgw bundle do so.
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "print the firmware version and build information",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "version")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			rev := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = s.Value
					}
				}
			}
			fmt.Fprintf(e.stdout, "hallgw %s %s/%s %s", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
			if rev != "" {
				fmt.Fprintf(e.stdout, " rev %s", rev)
			}
			fmt.Fprintln(e.stdout)
			return nil
		},
	})
}
