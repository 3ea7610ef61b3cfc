package migrate

import (
	"strings"
)

// Statement is one SQL statement of a migration file.
type Statement struct {
	// SQL is the statement's text without its terminating semicolon.
	SQL string
	// Line is the 1-based line the statement's first token is on (comments
	// before it are not part of the statement).
	Line int
	// words holds the first bare words outside comments, quotes and
	// parentheses, upper-cased; enough to recognise a statement's kind.
	words []string
}

const maxWords = 12

// SplitStatements splits a migration file into statements at semicolons,
// ignoring those inside comments (-- and nested /* */), quoted strings
// ('...', E'...'), quoted identifiers ("..."), dollar-quoted bodies
// ($$...$$, $tag$...$tag$) and SQL-standard function bodies
// (BEGIN ATOMIC ... END). Statements holding only comments are dropped.
func SplitStatements(sql string) []Statement {
	var out []Statement
	var (
		codeStart int // offset of the current statement's first token
		words     []string
		hasCode   bool // the current statement has something besides comments
		atomic    int  // BEGIN ATOMIC nesting (CASE ... END counts inside)
		parens    int
		prevWord  string
		n         = len(sql)
		i         = 0
	)
	flush := func(end int) {
		if hasCode {
			text := strings.TrimSpace(sql[codeStart:end])
			out = append(out, Statement{SQL: text, Line: 1 + strings.Count(sql[:codeStart], "\n"), words: words})
		}
		words, hasCode, atomic, parens, prevWord = nil, false, 0, 0, ""
	}
	code := func(at int) {
		if !hasCode {
			hasCode, codeStart = true, at
		}
	}
	for i < n {
		c := sql[i]
		switch {
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < n && sql[i+1] == '*':
			depth := 0
			for i < n {
				if sql[i] == '/' && i+1 < n && sql[i+1] == '*' {
					depth++
					i += 2
					continue
				}
				if sql[i] == '*' && i+1 < n && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
			continue
		case c == '\'':
			code(i)
			escapes := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isIdentChar(sql[i-2]))
			i = skipQuoted(sql, i, '\'', escapes)
			continue
		case c == '"':
			code(i)
			i = skipQuoted(sql, i, '"', false)
			continue
		case c == '$' && (i == 0 || !isIdentChar(sql[i-1])):
			if tag, ok := dollarTag(sql[i:]); ok {
				code(i)
				end := strings.Index(sql[i+len(tag):], tag)
				if end < 0 {
					i = n
				} else {
					i += len(tag) + end + len(tag)
				}
				continue
			}
		case c == '(':
			parens++
		case c == ')':
			parens--
		case c == ';' && atomic == 0:
			flush(i)
			i++
			continue
		case isIdentStart(c) && (i == 0 || !isIdentChar(sql[i-1])):
			j := i
			for j < n && isIdentChar(sql[j]) {
				j++
			}
			w := strings.ToUpper(sql[i:j])
			switch {
			case w == "ATOMIC" && prevWord == "BEGIN":
				atomic++
			case w == "CASE" && atomic > 0:
				atomic++
			case w == "END" && atomic > 0:
				atomic--
			}
			if parens == 0 && len(words) < maxWords {
				words = append(words, w)
			}
			prevWord = w
			code(i)
			i = j
			continue
		}
		if c > ' ' {
			code(i)
		}
		i++
	}
	flush(n)
	return out
}

// skipQuoted returns the offset just past the quoted text starting at i.
// A doubled quote is an escaped quote; with backslashEscapes a backslash
// escapes the next byte too.
func skipQuoted(s string, i int, q byte, backslashEscapes bool) int {
	for i++; i < len(s); i++ {
		switch {
		case backslashEscapes && s[i] == '\\':
			i++
		case s[i] == q:
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(s)
}

// dollarTag returns the $tag$ that s starts with, if it is one.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case isIdentStart(c), j > 1 && c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// NonTransactional reports whether PostgreSQL refuses to run the statement
// inside a transaction block, and names the construct: CREATE/DROP INDEX
// CONCURRENTLY, REINDEX ... CONCURRENTLY, REINDEX SCHEMA/DATABASE/SYSTEM,
// VACUUM, CLUSTER without a table, CREATE/DROP DATABASE, CREATE/DROP
// TABLESPACE, ALTER SYSTEM, CREATE/DROP SUBSCRIPTION and ALTER TABLE ...
// DETACH PARTITION ... CONCURRENTLY.
func (s Statement) NonTransactional() (string, bool) {
	w := s.words
	at := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	has := func(word string) bool {
		for _, x := range w {
			if x == word {
				return true
			}
		}
		return false
	}
	switch at(0) {
	case "VACUUM":
		return "VACUUM", true
	case "CLUSTER":
		if len(w) == 1 || len(w) == 2 && at(1) == "VERBOSE" {
			return "CLUSTER without a table", true
		}
	case "ALTER":
		if at(1) == "SYSTEM" {
			return "ALTER SYSTEM", true
		}
		if at(1) == "TABLE" && has("DETACH") && has("CONCURRENTLY") {
			return "DETACH PARTITION CONCURRENTLY", true
		}
	case "REINDEX":
		if has("CONCURRENTLY") {
			return "REINDEX CONCURRENTLY", true
		}
		if has("SCHEMA") || has("DATABASE") || has("SYSTEM") {
			return "REINDEX " + firstOf(w, "SCHEMA", "DATABASE", "SYSTEM"), true
		}
	case "CREATE", "DROP":
		obj := at(1)
		if obj == "UNIQUE" {
			obj = at(2)
		}
		switch obj {
		case "INDEX":
			if has("CONCURRENTLY") {
				return at(0) + " INDEX CONCURRENTLY", true
			}
		case "DATABASE", "TABLESPACE", "SUBSCRIPTION":
			return at(0) + " " + obj, true
		}
	}
	return "", false
}

func firstOf(words []string, want ...string) string {
	for _, w := range words {
		for _, x := range want {
			if w == x {
				return w
			}
		}
	}
	return ""
}
