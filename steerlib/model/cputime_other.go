//go:build !unix

package model

// cpuSeconds is not measured outside Unix: Bench reports a CPU time of 0.
func cpuSeconds() float64 { return 0 }
