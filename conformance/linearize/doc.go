// Package linearize checks that histories of operations on atomix
// primitives are linearizable, with porcupine
// (github.com/anishathalye/porcupine) as the checker.
//
// It has three parts:
//
//   - Sequential models of Map, Value, Counter and Set (MapModel,
//     ValueModel, CounterModel, SetModel), whose inputs and outputs are the
//     MapInput/MapOutput, ... types of this package.
//   - A Recorder that concurrent clients share: each operation is recorded
//     with Begin before it is sent and ended with Call.Return when its
//     outcome is known, or Call.Pending when it is not.
//   - Check, which runs porcupine with a timeout and, for a history that is
//     not linearizable, finds a short part of it that already is not
//     (Result.Witness) and can write porcupine's visualization.
//
// # Operations of unknown outcome
//
// A write that failed with atomix.ErrAmbiguous or atomix.ErrTimeout, or
// whose context ended while it was in flight, may or may not have been
// applied. Such an operation is recorded as pending: it never returns, so
// the checker may place it anywhere after its call, including after every
// other operation (which is the same as never applying it), and its output
// is not checked. A read whose outcome is unknown is simply left out: it
// changed nothing. Unknown reports which errors leave an outcome unknown.
//
// The package is used by the conformance suite's Linearizability tier and
// by the `atomix check` command.
package linearize
