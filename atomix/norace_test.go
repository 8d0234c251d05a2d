//go:build !race

package atomix_test

// raceEnabled reports whether the race detector is on; it changes
// allocation counts.
const raceEnabled = false
