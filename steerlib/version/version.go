// Package version holds the gosteer release string, importable from notebooks
// and tools without running the CLI.
package version

// Version is the gosteer release this code belongs to.
const Version = "0.1.0-dev"
