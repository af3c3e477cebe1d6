// Package hxsentinel hands a HumanEval-X test program the sentinel it prints after its last test.
// The runner draws the sentinel at random per execution and writes it on the program's stdin;
// this package (initialised before the program's own package) reads it once, then stdin is
// /dev/null. The value is unexported: the program's code can print it only through Print.
package hxsentinel

import (
	"io"
	"os"
	"strings"
)

var value = read()

func read() string {
	b, _ := io.ReadAll(os.Stdin)
	if f, err := os.Open(os.DevNull); err == nil {
		os.Stdin = f
	}
	return strings.TrimSpace(string(b))
}

// Print writes the sentinel line; the harness calls it after the whole test suite passed.
func Print() {
	os.Stdout.WriteString("\n" + value + "\n")
}
