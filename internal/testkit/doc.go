// Package testkit holds what the tests of several assignd packages share
// and would otherwise copy: signing a callback as Twilio does, a free
// loopback address, a generated policy of n rules, and golden files kept
// as txtar archives.
//
// It imports nothing of assignd's, so that the internal tests of any
// package, policy included, can use it without an import cycle.
package testkit
