package migrate

import (
	"bytes"
	"hash/crc32"
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// Checksum returns Flyway's checksum of a migration file's content: CRC-32
// (IEEE) over the UTF-8 bytes of each line with its terminator removed (so
// LF, CRLF and CR endings give the same checksum), a leading byte order mark
// stripped, as a signed 32-bit integer.
func Checksum(content []byte) int32 {
	content = bytes.TrimPrefix(content, bom)
	h := crc32.NewIEEE()
	for len(content) > 0 {
		i := bytes.IndexAny(content, "\r\n")
		if i < 0 {
			h.Write(content)
			break
		}
		h.Write(content[:i])
		content = content[i+1:]
	}
	return int32(h.Sum32())
}
