// Package keyfile reads and writes the ed25519 key files hallgw uses for
// update signing and for the rating chain.
//
// A key file holds one base64 line (standard alphabet): the 32-byte public
// key in a public key file, the 32-byte seed in a private key file. Lines
// starting with '#' are comments; MarshalPublic and MarshalPrivate write
// one naming the key's ID. A key is named by its ID, the first 8 bytes of
// its SHA-256 in hex.
package keyfile
