package simwire

import "runtime"

var runtimeGosched = runtime.Gosched
