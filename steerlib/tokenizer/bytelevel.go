package tokenizer

import "unicode/utf8"

// byteToRune is the GPT-2 byte-to-unicode table: printable Latin-1 bytes map to
// themselves, the other bytes to code points from U+0100 upwards.
var byteToRune [256]rune

// runeToByte inverts byteToRune; absent runes map to -1.
var runeToByte map[rune]int

// byteToString caches the UTF-8 string of each byteToRune entry.
var byteToString [256]string

func init() {
	n := 0
	runeToByte = make(map[rune]int, 256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = b
		byteToString[b] = string(byteToRune[b])
	}
}

// byteLevelEncode maps every byte of s to its byte-level character.
func byteLevelEncode(s string) string {
	// Most bytes map to 1- or 2-byte runes.
	buf := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		buf = utf8.AppendRune(buf, byteToRune[s[i]])
	}
	return string(buf)
}

// byteLevelDecodeToken appends the bytes a byte-level token stands for. A token
// holding a character outside the table is appended as its raw UTF-8 bytes,
// as the reference decoder does.
func byteLevelDecodeToken(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, byte(b))
	}
	return dst
}
