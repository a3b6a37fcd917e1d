// Package cli is assignd's commands other than serve: validate, explain
// (with -server, a running replica's outcome counts), test, schema and
// replay. Each is a function of its arguments and streams that returns the
// process's exit code; package main dispatches to them.
package cli
