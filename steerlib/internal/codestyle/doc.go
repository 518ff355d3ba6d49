// Package codestyle holds repository-wide checks of the project's code rules
// that a compiler does not make: its tests walk the module's Go sources.
//
// Rule checked: no function outside tests is longer than MaxFuncLines lines
// (from "func" to the closing brace), so that each function reads top to
// bottom as one step of the data flow.
package codestyle

// MaxFuncLines is the longest a function outside tests may be.
const MaxFuncLines = 80
