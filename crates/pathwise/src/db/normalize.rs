//! Statement normalisation: the text that identifies a database statement once its values are
//! taken out, so that `… WHERE id = 42` and `… WHERE id = 43` are one statement with one set of
//! figures. Literals (strings, numbers, hex and blob literals, dollar-quoted strings) become
//! `?`, lists of values after `IN` become one `(?)`, repeated value tuples after `VALUES` are
//! kept once, comments go and whitespace runs become one space. Placeholders (`?`, `?1`, `$1`,
//! `:name`, `@name`, `$name`), identifiers (also quoted ones and ones with digits, `t1`) and
//! keywords are kept as written, so the result still reads as the statement the code sends.
//!
//! The lexer works on bytes: every delimiter it looks for is ASCII and every byte of a
//! multi-byte character counts as part of an identifier, so token boundaries always fall on
//! character boundaries.

/// What differs between SQL dialects in how literals and comments are written.
#[derive(Clone, Copy, Debug)]
struct Dialect {
    /// `'it\'s'`: a backslash escapes the next character inside quotes (MySQL).
    backslash_escapes: bool,
    /// `"text"` is a string, not a quoted identifier (MySQL without `ANSI_QUOTES`).
    double_quoted_strings: bool,
    /// `# comment` to the end of the line (MySQL).
    hash_comments: bool,
}

impl Dialect {
    fn of(system: &str) -> Dialect {
        let mysql_like = ["mysql", "mariadb", "tidb"]
            .iter()
            .any(|name| system.eq_ignore_ascii_case(name));
        Dialect {
            backslash_escapes: mysql_like,
            double_quoted_strings: mysql_like,
            hash_comments: mysql_like,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A keyword or an identifier, quoted or not: kept.
    Word,
    /// A value written into the statement: replaced by `?`.
    Literal,
    /// A bind parameter: kept.
    Placeholder,
    /// Operators, parentheses, commas: kept.
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    /// Whitespace or a comment came before it in the statement.
    spaced: bool,
}

impl Token<'_> {
    fn is(&self, kind: Kind, text: &str) -> bool {
        self.kind == kind && self.text.eq_ignore_ascii_case(text)
    }

    /// A value or a bind parameter: what an `IN` list or a `VALUES` tuple is made of.
    fn is_value(&self) -> bool {
        matches!(self.kind, Kind::Literal | Kind::Placeholder)
    }
}

/// Keywords after which `-` or `+` before a number is a sign, not a subtraction (after an
/// identifier, a value or `)` it subtracts: `a - 1` keeps its `-`).
const SIGN_CONTEXT_KEYWORDS: &str = "and as between by case default else escape having in is like \
    limit not offset on or returning select set then values when where";

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
    tokens: Vec<Token<'a>>,
    spaced: bool,
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.tokens.push(Token {
            kind,
            text: &self.text[start..self.pos],
            spaced: self.spaced,
        });
        self.spaced = false;
    }

    fn run(mut self) -> Vec<Token<'a>> {
        while let Some(b) = self.peek(0) {
            let start = self.pos;
            match b {
                _ if b.is_ascii_whitespace() => {
                    self.pos += 1;
                    self.spaced = true;
                }
                b'-' if self.peek(1) == Some(b'-') => self.line_comment(),
                b'#' if self.dialect.hash_comments => self.line_comment(),
                b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
                b'\'' => {
                    self.quoted(b'\'', self.dialect.backslash_escapes);
                    self.push(Kind::Literal, start);
                }
                b'"' if self.dialect.double_quoted_strings => {
                    self.quoted(b'"', true);
                    self.push(Kind::Literal, start);
                }
                b'"' | b'`' => {
                    self.quoted(b, false);
                    self.push(Kind::Word, start);
                }
                b'x' | b'X' | b'b' | b'B' | b'n' | b'N' | b'e' | b'E'
                    if self.peek(1) == Some(b'\'') =>
                {
                    // X'1F' (blob), B'01' (bits), N'…' (national), E'…' (escapes).
                    let escapes = matches!(b, b'e' | b'E') || self.dialect.backslash_escapes;
                    self.pos += 1;
                    self.quoted(b'\'', escapes);
                    self.push(Kind::Literal, start);
                }
                b'0'..=b'9' => self.number_or_word(start),
                b'.' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                    self.number_or_word(start)
                }
                b'-' | b'+' if self.signs_a_number() => {
                    self.pos += 1;
                    let sign_end = self.pos;
                    self.skip_while(|c| c.is_ascii_whitespace());
                    let at = self.tokens.len();
                    let number = self.pos;
                    let spaced_number = number > sign_end;
                    self.number_or_word(number);
                    if self.tokens[at].kind == Kind::Literal {
                        // The sign is part of the value, with the spacing before the sign.
                        self.tokens[at].text = &self.text[start..self.pos];
                    } else {
                        // Digits running into letters (`-1st`): a word, so the sign stays.
                        let sign = Token {
                            kind: Kind::Punct,
                            text: &self.text[start..sign_end],
                            spaced: self.tokens[at].spaced,
                        };
                        self.tokens[at].spaced = spaced_number;
                        self.tokens.insert(at, sign);
                    }
                }
                b'?' => {
                    self.pos += 1;
                    self.skip_while(|c| c.is_ascii_digit());
                    self.push(Kind::Placeholder, start);
                }
                b'$' => self.dollar(start),
                b':' if self.peek(1) == Some(b':') => {
                    self.pos += 2;
                    self.push(Kind::Punct, start);
                }
                b':' | b'@' if self.peek(1).is_some_and(is_ident_start) => {
                    self.pos += 1;
                    self.skip_while(is_ident_byte);
                    self.push(Kind::Placeholder, start);
                }
                _ if is_ident_start(b) => {
                    self.skip_while(is_ident_byte);
                    self.push(Kind::Word, start);
                }
                _ => {
                    self.pos += 1;
                    self.push(Kind::Punct, start);
                }
            }
        }
        self.tokens
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        while self.peek(0).is_some_and(&keep) {
            self.pos += 1;
        }
    }

    fn line_comment(&mut self) {
        self.skip_while(|c| c != b'\n');
        self.spaced = true;
    }

    /// `/* … */`, nested as PostgreSQL nests them; an unclosed one runs to the end.
    fn block_comment(&mut self) {
        self.pos += 2;
        let mut depth = 1;
        while depth > 0 && self.pos < self.bytes.len() {
            match (self.peek(0), self.peek(1)) {
                (Some(b'*'), Some(b'/')) => {
                    depth -= 1;
                    self.pos += 2;
                }
                (Some(b'/'), Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        self.spaced = true;
    }

    /// From an opening `quote` past its closing one: a doubled quote stands for itself and,
    /// with `escapes`, a backslash escapes the next byte. An unclosed quote runs to the end,
    /// so that a cut statement never leaks the rest of a value.
    fn quoted(&mut self, quote: u8, escapes: bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if b == b'\\' && escapes {
                self.pos = (self.pos + 1).min(self.bytes.len());
            } else if b == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    /// `42`, `-1.5e3`, `.5`, `0x1F`, `0b101`; digits running into letters (`1st`) are a word.
    fn number_or_word(&mut self, start: usize) {
        let radix_prefix = self.peek(0) == Some(b'0')
            && matches!(self.peek(1), Some(b'x' | b'X' | b'b' | b'B'))
            && self.peek(2).is_some_and(|c| c.is_ascii_hexdigit());
        if radix_prefix {
            self.pos += 2;
            self.skip_while(|c| c.is_ascii_hexdigit());
        } else {
            self.skip_while(|c| c.is_ascii_digit());
            if self.peek(0) == Some(b'.') {
                self.pos += 1;
                self.skip_while(|c| c.is_ascii_digit());
            }
            let exponent = matches!(self.peek(0), Some(b'e' | b'E'))
                && match self.peek(1) {
                    Some(b'+' | b'-') => self.peek(2).is_some_and(|c| c.is_ascii_digit()),
                    other => other.is_some_and(|c| c.is_ascii_digit()),
                };
            if exponent {
                self.pos += 2;
                self.skip_while(|c| c.is_ascii_digit());
            }
        }
        if self.peek(0).is_some_and(is_ident_byte) {
            self.skip_while(is_ident_byte);
            self.push(Kind::Word, start);
        } else {
            self.push(Kind::Literal, start);
        }
    }

    /// Whether the `-` or `+` here is the sign of a number: a number follows and what came
    /// before cannot be the left side of a subtraction.
    fn signs_a_number(&self) -> bool {
        let mut next = self.pos + 1;
        while self
            .bytes
            .get(next)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            next += 1;
        }
        let number_follows = match self.bytes.get(next) {
            Some(c) if c.is_ascii_digit() => true,
            Some(b'.') => self.bytes.get(next + 1).is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        };
        number_follows
            && match self.tokens.last() {
                None => true,
                Some(t) if t.kind == Kind::Punct => !matches!(t.text, ")" | "]"),
                Some(t) if t.kind == Kind::Word => SIGN_CONTEXT_KEYWORDS
                    .split_ascii_whitespace()
                    .any(|k| t.text.eq_ignore_ascii_case(k)),
                Some(_) => false,
            }
    }

    /// `$1` and `$name` are placeholders; `$$…$$` and `$tag$…$tag$` are PostgreSQL's
    /// dollar-quoted strings.
    fn dollar(&mut self, start: usize) {
        let mut end = self.pos + 1;
        if self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.skip_while(|c| c.is_ascii_digit());
            self.push(Kind::Placeholder, start);
            return;
        }
        while self
            .bytes
            .get(end)
            .is_some_and(|&c| is_ident_byte(c) && c != b'$')
        {
            end += 1;
        }
        if self.bytes.get(end) == Some(&b'$') {
            let tag = &self.text[start..=end];
            let body = end + 1;
            self.pos = self.text[body..]
                .find(tag)
                .map_or(self.bytes.len(), |at| body + at + tag.len());
            self.push(Kind::Literal, start);
        } else {
            self.pos = end.max(self.pos + 1);
            self.push(Kind::Placeholder, start);
        }
    }
}

/// Collapses `IN (1, 2, 3)` (values or placeholders only) to one `?` between the parentheses.
fn collapse_in_lists(tokens: Vec<Token<'_>>) -> Vec<Token<'_>> {
    let mut out: Vec<Token<'_>> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        out.push(tokens[i]);
        let opens_list = tokens[i].is(Kind::Word, "in")
            && tokens.get(i + 1).is_some_and(|t| t.is(Kind::Punct, "("));
        if opens_list && let Some(close) = value_list_end(&tokens, i + 2) {
            out.push(tokens[i + 1]);
            out.push(Token {
                kind: Kind::Literal,
                text: "?",
                spaced: false,
            });
            out.push(Token {
                spaced: false,
                ..tokens[close]
            });
            i = close + 1;
            continue;
        }
        i += 1;
    }
    out
}

/// The index of the `)` closing a list of one or more values separated by commas that starts
/// at `from`; `None` when anything else is in it.
fn value_list_end(tokens: &[Token<'_>], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        if !tokens.get(i)?.is_value() {
            return None;
        }
        let next = tokens.get(i + 1)?;
        if next.is(Kind::Punct, ")") {
            return Some(i + 1);
        }
        if !next.is(Kind::Punct, ",") {
            return None;
        }
        i += 2;
    }
}

/// The index just past the parenthesised group that starts at `from` (a `(`).
fn group_end(tokens: &[Token<'_>], from: usize) -> Option<usize> {
    if !tokens.get(from)?.is(Kind::Punct, "(") {
        return None;
    }
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(from) {
        if t.is(Kind::Punct, "(") {
            depth += 1;
        } else if t.is(Kind::Punct, ")") {
            depth -= 1;
            if depth == 0 {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Two tuples that differ only in their values (or in which placeholders they use).
fn same_shape(a: &[Token<'_>], b: &[Token<'_>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.is_value() && y.is_value()) || (x.kind == y.kind && x.text == y.text))
}

/// Keeps the first tuple after `VALUES` and drops the following ones of the same shape, so a
/// multi-row insert is one statement whatever its row count.
fn collapse_values_rows(tokens: Vec<Token<'_>>) -> Vec<Token<'_>> {
    let mut out: Vec<Token<'_>> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        out.push(tokens[i]);
        let first_row = if tokens[i].is(Kind::Word, "values") {
            group_end(&tokens, i + 1).map(|end| (i + 1, end))
        } else {
            None
        };
        i += 1;
        let Some((row_start, row_end)) = first_row else {
            continue;
        };
        out.extend_from_slice(&tokens[row_start..row_end]);
        i = row_end;
        while tokens.get(i).is_some_and(|t| t.is(Kind::Punct, ",")) {
            match group_end(&tokens, i + 1) {
                Some(end) if same_shape(&tokens[row_start..row_end], &tokens[i + 1..end]) => {
                    i = end;
                }
                _ => break,
            }
        }
    }
    out
}

/// The statement `statement` of database `system` with its values taken out (see the module
/// documentation); `system` picks the dialect's quoting (`mysql`, `mariadb`: backslash
/// escapes, double-quoted strings, `#` comments; any other: standard SQL).
///
/// ```
/// use pathwise::db::normalize_statement;
/// assert_eq!(
///     normalize_statement("sqlite", "SELECT * FROM users WHERE id = 42 AND name = 'O''Brien'"),
///     "SELECT * FROM users WHERE id = ? AND name = ?"
/// );
/// assert_eq!(
///     normalize_statement("postgresql", "select t1.a from t1 where t1.b in (1, 2, 3) -- hot\n"),
///     "select t1.a from t1 where t1.b in (?)"
/// );
/// ```
pub fn normalize_statement(system: &str, statement: &str) -> String {
    let tokens = Lexer {
        text: statement,
        bytes: statement.as_bytes(),
        pos: 0,
        dialect: Dialect::of(system),
        tokens: Vec::new(),
        spaced: false,
    }
    .run();
    let mut tokens = collapse_values_rows(collapse_in_lists(tokens));
    while tokens.last().is_some_and(|t| t.is(Kind::Punct, ";")) {
        tokens.pop();
    }
    let mut out = String::with_capacity(statement.len().min(4096));
    for (i, token) in tokens.iter().enumerate() {
        if token.spaced && i > 0 {
            out.push(' ');
        }
        out.push_str(if token.kind == Kind::Literal {
            "?"
        } else {
            token.text
        });
    }
    out
}
