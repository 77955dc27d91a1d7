package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"hallgw/firmware/ratings"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "verify the signed ratings of an exported journal (hallgw journal export)",
		run:     verifyRatings,
	})
}

// keyFiles is a repeatable --pubkey flag.
type keyFiles []string

func (k *keyFiles) String() string     { return strings.Join(*k, ",") }
func (k *keyFiles) Set(s string) error { *k = append(*k, s); return nil }

func verifyRatings(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify")
	var pubs keyFiles
	fs.Var(&pubs, "pubkey", "the gateway's rating public key `file` (rating.pub, or PEM); repeat for a replaced key")
	from := fs.Uint64("from", 0, "ignore journal records before this `seq`")
	head := fs.String("head", "", "the chain head the platform last saw, `chain_seq:hash`: catches a cut-off tail")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(pubs) == 0 || fs.NArg() != 1 {
		return fmt.Errorf("%w: want --pubkey FILE and one EXPORT.jsonl (- for stdin)", errUsage)
	}
	opts := ratings.VerifyOptions{From: *from}
	for _, p := range pubs {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		k, err := ratings.ParsePublicKey(data)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		opts.Keys = append(opts.Keys, k)
	}
	if *head != "" {
		h, err := parseHead(*head)
		if err != nil {
			return fmt.Errorf("%w: --head: %v", errUsage, err)
		}
		opts.Head = &h
	}
	var in io.Reader = e.stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	rep, err := ratings.Verify(in, opts)
	if err != nil {
		return err
	}
	printReport(e.stdout, rep, opts.Keys)
	if !rep.OK() {
		return fmt.Errorf("verification failed: %d problem(s)", len(rep.Problems))
	}
	return nil
}

func parseHead(s string) (ratings.Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || len(hash) != 64 {
		return ratings.Head{}, fmt.Errorf("%q: want <chain_seq>:<64 hex digits>", s)
	}
	return ratings.Head{ChainSeq: n, Hash: strings.ToLower(hash)}, nil
}

func printReport(w io.Writer, r *ratings.Report, keys []ed25519.PublicKey) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = ratings.KeyID(k)
	}
	fmt.Fprintf(w, "gateway %s, journal records %d–%d (%d checked)\n", r.Gateway, r.FirstSeq, r.LastSeq, r.Records)
	fmt.Fprintf(w, "rating outcomes %d, signed records verified %d", r.Outcomes, r.Signed)
	if r.LastChain > 0 {
		fmt.Fprintf(w, " (chain %d–%d)", r.FirstChain, r.LastChain)
	}
	fmt.Fprintf(w, ", key %s\n", strings.Join(ids, ", "))
	if r.Head.ChainSeq > 0 {
		fmt.Fprintf(w, "chain head %d:%s\n", r.Head.ChainSeq, r.Head.Hash)
	}
	if r.OK() {
		fmt.Fprintln(w, "OK")
		return
	}
	fmt.Fprintf(w, "FAILED: %d problem(s)\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}
