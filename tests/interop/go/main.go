// Command interop answers requests with Go's own implementation of C2SP signed
// notes (golang.org/x/mod/sumdb/note) and RFC 6962 Merkle proofs
// (golang.org/x/mod/sumdb/tlog), so that tests/interop/test_go_interop.py can
// check pactlog against an independent implementation in both directions.
//
// Protocol (specs/interop.md): every stdin line is one request "VERB ARG ...",
// fields separated by single spaces, and yields exactly one stdout line:
//
//	ok ...            the request succeeded (results follow)
//	fail KIND MSG     Go rejected the input: the expected answer for altered data
//	error MSG         the request itself is malformed: a bug in the test
//
// Hashes and record data travel as lowercase hex, note texts and notes as
// standard base64; "-" stands for an empty byte string or an empty hash list,
// and hash lists are comma-separated.
//
// Verbs:
//
//	keygen NAME [SEEDHEX]         note.GenerateKey            -> ok SKEY VKEY
//	vkey VKEY                     note.NewVerifier            -> ok NAME KEYHASH8
//	skey SKEY                     note.NewSigner              -> ok NAME KEYHASH8
//	sign TEXTB64 SKEY...          note.Sign                   -> ok NOTEB64
//	open NOTEB64 VKEY...          note.Open                   -> ok TEXTB64 NVERIFIED NUNVERIFIED
//	checkpoint NOTEB64 VKEY...    note.Open + body lines      -> ok SIZE ROOTHEX NVERIFIED NUNVERIFIED ORIGIN
//	recordhash DATAHEX            tlog.RecordHash             -> ok HASH
//	nodehash LEFT RIGHT           tlog.NodeHash               -> ok HASH
//	reset                         forget the in-memory log    -> ok
//	append DATAHEX                tlog.StoredHashes           -> ok LEAFHASH NEWSIZE
//	treehash SIZE                 tlog.TreeHash               -> ok HASH
//	proverecord SIZE INDEX        tlog.ProveRecord            -> ok HASHLIST
//	provetree NEWSIZE OLDSIZE     tlog.ProveTree              -> ok HASHLIST
//	checkrecord SIZE ROOT INDEX LEAFHASH HASHLIST             -> ok | fail
//	checktree NEWSIZE NEWROOT OLDSIZE OLDROOT HASHLIST        -> ok | fail
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memoryLog is a tlog.HashReader over the stored hashes of the records appended so far,
// laid out by tlog.StoredHashIndex exactly as tlog.StoredHashes produces them.
type memoryLog struct {
	hashes []tlog.Hash
	size   int64
}

func (l *memoryLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		if index < 0 || index >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("stored hash %d is not written yet (log has %d records)", index, l.size)
		}
		out[i] = l.hashes[index]
	}
	return out, nil
}

func (l *memoryLog) append(data []byte) (tlog.Hash, error) {
	hashes, err := tlog.StoredHashes(l.size, data, l)
	if err != nil {
		return tlog.Hash{}, err
	}
	if int64(len(l.hashes)) != tlog.StoredHashIndex(0, l.size) {
		return tlog.Hash{}, errors.New("stored hash layout out of step")
	}
	l.hashes = append(l.hashes, hashes...)
	l.size++
	return hashes[0], nil
}

// requestError marks a malformed request (answered with "error"), as opposed to
// Go rejecting well-formed input (answered with "fail").
type requestError struct{ msg string }

func (e requestError) Error() string { return e.msg }

func badRequest(format string, args ...interface{}) error {
	return requestError{fmt.Sprintf(format, args...)}
}

func decodeBytes(field string) ([]byte, error) {
	if field == "-" {
		return []byte{}, nil
	}
	data, err := hex.DecodeString(field)
	if err != nil {
		return nil, badRequest("bad hex %q", field)
	}
	return data, nil
}

func decodeBase64(field string) ([]byte, error) {
	if field == "-" {
		return []byte{}, nil
	}
	data, err := base64.StdEncoding.DecodeString(field)
	if err != nil {
		return nil, badRequest("bad base64 %q", field)
	}
	return data, nil
}

func decodeHash(field string) (tlog.Hash, error) {
	var h tlog.Hash
	data, err := hex.DecodeString(field)
	if err != nil || len(data) != tlog.HashSize {
		return h, badRequest("bad hash %q", field)
	}
	copy(h[:], data)
	return h, nil
}

func decodeHashList(field string) ([]tlog.Hash, error) {
	if field == "-" {
		return []tlog.Hash{}, nil
	}
	var list []tlog.Hash
	for _, item := range strings.Split(field, ",") {
		h, err := decodeHash(item)
		if err != nil {
			return nil, err
		}
		list = append(list, h)
	}
	return list, nil
}

func encodeHashList(list []tlog.Hash) string {
	if len(list) == 0 {
		return "-"
	}
	items := make([]string, len(list))
	for i, h := range list {
		items[i] = hex.EncodeToString(h[:])
	}
	return strings.Join(items, ",")
}

func decodeInt(field string) (int64, error) {
	n, err := strconv.ParseInt(field, 10, 64)
	if err != nil {
		return 0, badRequest("bad integer %q", field)
	}
	return n, nil
}

func verifierList(vkeys []string) (note.Verifiers, error) {
	var list []note.Verifier
	for _, vkey := range vkeys {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, badRequest("note.NewVerifier(%q): %v", vkey, err)
		}
		list = append(list, v)
	}
	return note.VerifierList(list...), nil
}

// noteFailure names the way note.Open rejected a note.
func noteFailure(err error) string {
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	kind := "other"
	switch {
	case errors.As(err, &unverified):
		kind = "unverified"
	case errors.As(err, &invalid):
		kind = "invalid_signature"
	case err.Error() == "malformed note":
		kind = "malformed"
	}
	return "fail " + kind + " " + err.Error()
}

// parseCheckpointBody reads the three lines every checkpoint starts with (origin,
// decimal size, base64 root). tlog.ParseTree cannot be used: it accepts only the
// "go.sum database tree" origin.
func parseCheckpointBody(text string) (origin string, size uint64, root []byte, err error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return "", 0, nil, errors.New("checkpoint body has fewer than 3 lines")
	}
	origin = lines[0]
	size, err = strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return "", 0, nil, fmt.Errorf("bad tree size %q", lines[1])
	}
	root, err = base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return "", 0, nil, fmt.Errorf("bad root hash %q", lines[2])
	}
	return origin, size, root, nil
}

func wantArgs(args []string, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		return badRequest("wrong number of arguments: %d", len(args))
	}
	return nil
}

func handle(log *memoryLog, verb string, args []string) (string, error) {
	switch verb {
	case "keygen":
		if err := wantArgs(args, 1, 2); err != nil {
			return "", err
		}
		var random io.Reader = rand.Reader
		if len(args) == 2 {
			seed, err := decodeBytes(args[1])
			if err != nil {
				return "", err
			}
			random = bytes.NewReader(seed) // ed25519.GenerateKey reads exactly the 32-byte seed
		}
		skey, vkey, err := note.GenerateKey(random, args[0])
		if err != nil {
			return "", badRequest("note.GenerateKey: %v", err)
		}
		return "ok " + skey + " " + vkey, nil

	case "vkey":
		if err := wantArgs(args, 1, 1); err != nil {
			return "", err
		}
		v, err := note.NewVerifier(args[0])
		if err != nil {
			return "fail key " + err.Error(), nil
		}
		return fmt.Sprintf("ok %s %08x", v.Name(), v.KeyHash()), nil

	case "skey":
		if err := wantArgs(args, 1, 1); err != nil {
			return "", err
		}
		s, err := note.NewSigner(args[0])
		if err != nil {
			return "fail key " + err.Error(), nil
		}
		return fmt.Sprintf("ok %s %08x", s.Name(), s.KeyHash()), nil

	case "sign":
		if err := wantArgs(args, 2, -1); err != nil {
			return "", err
		}
		text, err := decodeBase64(args[0])
		if err != nil {
			return "", err
		}
		var signers []note.Signer
		for _, skey := range args[1:] {
			s, err := note.NewSigner(skey)
			if err != nil {
				return "", badRequest("note.NewSigner: %v", err)
			}
			signers = append(signers, s)
		}
		msg, err := note.Sign(&note.Note{Text: string(text)}, signers...)
		if err != nil {
			return "fail sign " + err.Error(), nil
		}
		return "ok " + base64.StdEncoding.EncodeToString(msg), nil

	case "open", "checkpoint":
		if err := wantArgs(args, 1, -1); err != nil {
			return "", err
		}
		msg, err := decodeBase64(args[0])
		if err != nil {
			return "", err
		}
		known, err := verifierList(args[1:])
		if err != nil {
			return "", err
		}
		n, err := note.Open(msg, known)
		if err != nil {
			return noteFailure(err), nil
		}
		counts := fmt.Sprintf("%d %d", len(n.Sigs), len(n.UnverifiedSigs))
		if verb == "open" {
			return "ok " + base64.StdEncoding.EncodeToString([]byte(n.Text)) + " " + counts, nil
		}
		origin, size, root, err := parseCheckpointBody(n.Text)
		if err != nil {
			return "fail checkpoint " + err.Error(), nil
		}
		return fmt.Sprintf("ok %d %x %s %s", size, root, counts, origin), nil

	case "recordhash":
		if err := wantArgs(args, 1, 1); err != nil {
			return "", err
		}
		data, err := decodeBytes(args[0])
		if err != nil {
			return "", err
		}
		h := tlog.RecordHash(data)
		return "ok " + hex.EncodeToString(h[:]), nil

	case "nodehash":
		if err := wantArgs(args, 2, 2); err != nil {
			return "", err
		}
		left, err := decodeHash(args[0])
		if err != nil {
			return "", err
		}
		right, err := decodeHash(args[1])
		if err != nil {
			return "", err
		}
		h := tlog.NodeHash(left, right)
		return "ok " + hex.EncodeToString(h[:]), nil

	case "reset":
		if err := wantArgs(args, 0, 0); err != nil {
			return "", err
		}
		*log = memoryLog{}
		return "ok", nil

	case "append":
		if err := wantArgs(args, 1, 1); err != nil {
			return "", err
		}
		data, err := decodeBytes(args[0])
		if err != nil {
			return "", err
		}
		h, err := log.append(data)
		if err != nil {
			return "", badRequest("tlog.StoredHashes: %v", err)
		}
		return fmt.Sprintf("ok %x %d", h[:], log.size), nil

	case "treehash":
		if err := wantArgs(args, 1, 1); err != nil {
			return "", err
		}
		size, err := decodeInt(args[0])
		if err != nil {
			return "", err
		}
		h, err := tlog.TreeHash(size, log)
		if err != nil {
			return "", badRequest("tlog.TreeHash: %v", err)
		}
		return "ok " + hex.EncodeToString(h[:]), nil

	case "proverecord", "provetree":
		if err := wantArgs(args, 2, 2); err != nil {
			return "", err
		}
		a, err := decodeInt(args[0])
		if err != nil {
			return "", err
		}
		b, err := decodeInt(args[1])
		if err != nil {
			return "", err
		}
		var proof []tlog.Hash
		if verb == "proverecord" {
			proof, err = tlog.ProveRecord(a, b, log)
		} else {
			proof, err = tlog.ProveTree(a, b, log)
		}
		if err != nil {
			return "", badRequest("tlog: %v", err)
		}
		return "ok " + encodeHashList(proof), nil

	case "checkrecord", "checktree":
		if err := wantArgs(args, 5, 5); err != nil {
			return "", err
		}
		size, err := decodeInt(args[0])
		if err != nil {
			return "", err
		}
		root, err := decodeHash(args[1])
		if err != nil {
			return "", err
		}
		n, err := decodeInt(args[2])
		if err != nil {
			return "", err
		}
		h, err := decodeHash(args[3])
		if err != nil {
			return "", err
		}
		proof, err := decodeHashList(args[4])
		if err != nil {
			return "", err
		}
		if verb == "checkrecord" {
			err = tlog.CheckRecord(proof, size, root, n, h)
		} else {
			err = tlog.CheckTree(proof, size, root, n, h)
		}
		if err != nil {
			return "fail proof " + err.Error(), nil
		}
		return "ok", nil
	}
	return "", badRequest("unknown verb %q", verb)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	log := &memoryLog{}
	for in.Scan() {
		fields := strings.Split(in.Text(), " ")
		reply, err := handle(log, fields[0], fields[1:])
		if err != nil {
			reply = "error " + err.Error()
		}
		fmt.Fprintln(out, reply)
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(out, "error reading stdin:", err)
		out.Flush()
		os.Exit(1)
	}
}
