package main

import (
	"fmt"
	"io"
)

// runValidate implements "assignd validate FILE...". Placeholder until the policy lands.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "validate: not yet implemented")
	return 2
}

// runExplain implements "assignd explain". Placeholder until the policy lands.
func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "explain: not yet implemented")
	return 2
}
