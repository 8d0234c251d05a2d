package driver

// Kind names a kind of primitive. Drivers use it in their key layouts, the
// portable layer in error messages; primitives of different kinds with the
// same ID never share state.
type Kind string

// The kinds of primitive.
const (
	KindCounter    Kind = "counter"
	KindLock       Kind = "lock"
	KindElection   Kind = "election"
	KindMap        Kind = "map"
	KindSet        Kind = "set"
	KindValue      Kind = "value"
	KindList       Kind = "list"
	KindIndexedMap Kind = "indexedmap"
	KindSemaphore  Kind = "semaphore"
)
