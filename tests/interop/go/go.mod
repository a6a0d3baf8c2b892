// Test helper for tests/interop/test_go_interop.py: drives Go's own
// golang.org/x/mod/sumdb/note and sumdb/tlog. Built offline against the Debian
// package golang-golang-x-mod-dev (see specs/interop.md); never committed as a binary.
module pactlog.invalid/interop

go 1.19

require golang.org/x/mod v0.7.0

replace golang.org/x/mod => /usr/share/gocode/src/golang.org/x/mod
