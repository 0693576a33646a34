package pkarr

import "strconv"

// bep44Signable returns what BEP 44 signs for a mutable item with byte-string
// value v: the bencoded salt (only when non-empty), seq and v entries of the
// put message in key order, without the enclosing "d" and "e":
//
//	4:salt<len>:<salt>3:seqi<seq>e1:v<len>:<v>
//
// pkarr never salts; the salt is here so the BEP's salted test vector checks
// the same code.
func bep44Signable(salt []byte, seq uint64, v []byte) []byte {
	b := make([]byte, 0, 48+len(salt)+len(v))
	if len(salt) > 0 {
		b = append(b, "4:salt"...)
		b = appendBencodedString(b, salt)
	}
	b = append(b, "3:seqi"...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, "e1:v"...)
	return appendBencodedString(b, v)
}

func appendBencodedString(b, s []byte) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}
