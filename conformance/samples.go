package conformance

// oddKeys are keys that a careless encoding confuses with each other or
// with the separators of its layout.
var oddKeys = []string{"a", "a/", "/a", "a/b", "a//b", "ab", "/", "//", "a b", "%2F", "\x00", "a\x00b", "\xff\xfe", "ключ", "😀", ".", "..", "*", "?", "[x]", "a\nb"}

// point is a struct stored through the default JSON codec.
type point struct {
	X, Y  int
	Label string
}
