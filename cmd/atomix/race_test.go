//go:build race

package main

// raceEnabled: the test binary was built with -race, so the command is too.
const raceEnabled = true
