//! A small JSON reader and writer: what the protocol and the page's
//! snapshots need, and no more.
//!
//! The protocol's messages are objects of strings, whole numbers and lists,
//! nested one or two levels. serde and serde_json brought the browser app
//! far more code than that needs (39 of its 169 KB of gzipped wasm, with
//! the float formatting of their error messages), so the protocol reads and
//! writes its messages with this module.
//!
//! - [`parse`] reads any JSON text (RFC 8259): nesting at most
//!   [`MAX_DEPTH`] levels deep, no trailing characters, every string's
//!   escapes checked (a lone surrogate is an error). A number is kept as the
//!   text it was written as, checked against the grammar; [`Value::as_u64`]
//!   reads a whole one.
//! - [`Object`] writes an object, key by key, in the order it is given. A
//!   string is escaped as `serde_json` does: `"`, `\` and control characters,
//!   nothing else.
//!
//! ```
//! use lwt_www_shared::json::{parse, Object, Value};
//! let text = Object::new().str("kind", "status").uint("attempt", 2).finish();
//! assert_eq!(text, r#"{"kind":"status","attempt":2}"#);
//! let v = parse(&text).unwrap();
//! assert_eq!(v.get("attempt").and_then(Value::as_u64), Some(2));
//! assert!(parse(r#"{"kind":"status",}"#).is_err());
//! ```

use std::time::Duration;

/// How deep arrays and objects may nest in a text [`parse`] accepts (as
/// `serde_json`'s default recursion limit).
pub const MAX_DEPTH: usize = 128;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as the text it was written as (checked against JSON's
    /// grammar).
    Number(String),
    /// A string, its escapes decoded.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object's members, in the order they were written. A key may
    /// repeat: [`Value::get`] gives its first value (the protocol refuses a
    /// message that repeats a field).
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a whole number from 0 to `u64::MAX` written
    /// without a fraction or an exponent.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The value of the member `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parses one JSON text. The error says what is wrong and at which byte.
///
/// ```
/// use lwt_www_shared::json::{parse, Value};
/// assert_eq!(parse(r#" ["a\u00e9", 1.5e3, null] "#).unwrap(), Value::Array(vec![
///     Value::String("aé".into()),
///     Value::Number("1.5e3".into()),
///     Value::Null,
/// ]));
/// assert_eq!(parse("[1] 2").unwrap_err(), "trailing characters at byte 4");
/// ```
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser { text, at: 0 };
    let v = p.value(0)?;
    p.skip_space();
    if p.at != text.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.at += usize::from(hit);
        hit
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.skip_space();
        match self.peek() {
            None => Err(self.error("unexpected end of the text")),
            Some(b'{' | b'[') if depth == MAX_DEPTH => Err(self.error("nested too deeply")),
            Some(b'{') => {
                self.at += 1;
                self.object(depth + 1)
            }
            Some(b'[') => {
                self.at += 1;
                self.array(depth + 1)
            }
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn word(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(self.error("expected a value"))
        }
    }

    /// After the `{`.
    fn object(&mut self, depth: usize) -> Result<Value, String> {
        let mut members = Vec::new();
        self.skip_space();
        if self.eat(b'}') {
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.string()?;
            self.skip_space();
            if !self.eat(b':') {
                return Err(self.error("expected `:`"));
            }
            members.push((key, self.value(depth)?));
            self.skip_space();
            if self.eat(b'}') {
                return Ok(Value::Object(members));
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `}`"));
            }
        }
    }

    /// After the `[`.
    fn array(&mut self, depth: usize) -> Result<Value, String> {
        let mut items = Vec::new();
        self.skip_space();
        if self.eat(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_space();
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `]`"));
            }
        }
    }

    /// At the opening `"`.
    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            // `start` and `at` sit next to ASCII bytes (or at an end), so on
            // character boundaries.
            out.push_str(&self.text[start..self.at]);
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.error("control character in a string")),
            }
        }
    }

    /// After the `\`.
    fn escape(&mut self) -> Result<char, String> {
        let Some(b) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.at += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if !(self.eat(b'\\') && self.eat(b'u')) {
                        return Err(self.error("lone surrogate in a string"));
                    }
                    let second = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.error("lone surrogate in a string"));
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                char::from_u32(code).ok_or_else(|| self.error("lone surrogate in a string"))?
            }
            _ => {
                self.at -= 1;
                return Err(self.error("unknown escape"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            let Some(d) = digit else {
                return Err(self.error("expected four hex digits"));
            };
            code = code * 16 + d;
            self.at += 1;
        }
        Ok(code)
    }

    fn digits(&mut self) -> bool {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at > start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        self.eat(b'-');
        if !self.eat(b'0') && !self.digits() {
            return Err(self.error("expected a digit"));
        }
        if self.eat(b'.') && !self.digits() {
            return Err(self.error("expected a digit"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !self.digits() {
                return Err(self.error("expected a digit"));
            }
        }
        Ok(Value::Number(self.text[start..self.at].to_owned()))
    }
}

/// Appends `s` to `out` as a JSON string, quotes included.
///
/// ```
/// let mut out = String::new();
/// lwt_www_shared::json::write_str(&mut out, "say \"hi\"\n");
/// assert_eq!(out, r#""say \"hi\"\n""#);
/// ```
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends `v` in decimal: what `write!` does, without the formatting
/// machinery.
fn write_u64(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// An object being written: each call adds one member, in order.
///
/// ```
/// use lwt_www_shared::json::Object;
/// let text = Object::new()
///     .opt_str("joined", None)
///     .strs("users", ["ada", "bob"])
///     .object("last", |o| o.str("from", "ada").uint("seq", 7))
///     .finish();
/// assert_eq!(text, r#"{"joined":null,"users":["ada","bob"],"last":{"from":"ada","seq":7}}"#);
/// ```
#[derive(Debug)]
pub struct Object {
    out: String,
    empty: bool,
}

impl Default for Object {
    fn default() -> Self {
        Object::new()
    }
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Object::within(String::with_capacity(64))
    }

    /// An object written at the end of `out`.
    fn within(mut out: String) -> Self {
        out.push('{');
        Object { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !std::mem::take(&mut self.empty) {
            self.out.push(',');
        }
        write_str(&mut self.out, key);
        self.out.push(':');
        &mut self.out
    }

    /// Adds a string.
    pub fn str(mut self, key: &str, v: &str) -> Self {
        write_str(self.key(key), v);
        self
    }

    /// Adds a string, or `null` for `None`.
    pub fn opt_str(self, key: &str, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// Adds a whole number.
    pub fn uint(mut self, key: &str, v: u64) -> Self {
        write_u64(self.key(key), v);
        self
    }

    /// Adds a whole number, or `null` for `None`.
    pub fn opt_uint(self, key: &str, v: Option<u64>) -> Self {
        match v {
            Some(v) => self.uint(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// Adds a signed whole number.
    pub fn int(mut self, key: &str, v: i64) -> Self {
        let out = self.key(key);
        if v < 0 {
            out.push('-');
        }
        write_u64(out, v.unsigned_abs());
        self
    }

    /// Adds `true` or `false`.
    pub fn bool(self, key: &str, v: bool) -> Self {
        self.raw(key, if v { "true" } else { "false" })
    }

    /// Adds a duration as a number of milliseconds, to the microsecond
    /// (`1.5 ms` is `1.500`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let text = lwt_www_shared::json::Object::new()
    ///     .millis("ms", Duration::from_micros(12_345))
    ///     .finish();
    /// assert_eq!(text, r#"{"ms":12.345}"#);
    /// ```
    pub fn millis(mut self, key: &str, d: Duration) -> Self {
        let out = self.key(key);
        write_u64(
            out,
            d.as_secs().saturating_mul(1000) + u64::from(d.subsec_millis()),
        );
        out.push('.');
        let us = d.subsec_micros() % 1000;
        for digit in [us / 100, us / 10 % 10, us % 10] {
            out.push(char::from(b'0' + digit as u8));
        }
        self
    }

    /// Adds an object, written by `write` in place.
    pub fn object(mut self, key: &str, write: impl FnOnce(Object) -> Object) -> Self {
        let out = std::mem::take(self.key(key));
        self.out = write(Object::within(out)).finish();
        self
    }

    /// Adds an array of objects, each written by `write` in place.
    pub fn objects<I: IntoIterator>(
        self,
        key: &str,
        items: I,
        mut write: impl FnMut(Object, I::Item) -> Object,
    ) -> Self {
        self.array(key, items, |out, item| {
            *out = write(Object::within(std::mem::take(out)), item).finish();
        })
    }

    /// Adds an array of strings.
    pub fn strs<'s>(self, key: &str, items: impl IntoIterator<Item = &'s str>) -> Self {
        self.array(key, items, write_str)
    }

    /// Adds an array of values already written as JSON texts.
    pub fn raws<S: AsRef<str>>(self, key: &str, items: impl IntoIterator<Item = S>) -> Self {
        self.array(key, items, |out, s| out.push_str(s.as_ref()))
    }

    fn array<I: IntoIterator>(
        mut self,
        key: &str,
        items: I,
        mut write: impl FnMut(&mut String, I::Item),
    ) -> Self {
        let out = self.key(key);
        out.push('[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write(out, item);
        }
        out.push(']');
        self
    }

    /// Adds a value already written as a JSON text (an [`Object`]'s
    /// [`finish`](Object::finish), say). The text is not checked.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key).push_str(json);
        self
    }

    /// The object's text.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_grammar() {
        for ok in ["0", "-0", "12", "-3.25", "1e9", "1E+2", "2.5e-3"] {
            assert_eq!(parse(ok), Ok(Value::Number(ok.into())), "{ok}");
        }
        for bad in [
            "01", "+1", "1.", ".5", "1e", "-", "1e+", "0x10", "Infinity", "NaN",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("18446744073709551615").unwrap().as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(parse("18446744073709551616").unwrap().as_u64(), None);
        assert_eq!(parse("-1").unwrap().as_u64(), None);
        assert_eq!(parse("1.0").unwrap().as_u64(), None);
        assert_eq!(parse("1e2").unwrap().as_u64(), None);
    }

    #[test]
    fn strings_decode_every_escape_and_refuse_lone_surrogates() {
        let v = parse(r#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00 é""#).unwrap();
        assert_eq!(v, Value::String("\"\\/\u{8}\u{c}\n\r\tAé😀 é".into()));
        for bad in [
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
            r#""\x""#,
            r#""\u12""#,
            "\"a\nb\"",
            "\"abc",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn structure_errors_say_where() {
        assert_eq!(
            parse("").unwrap_err(),
            "unexpected end of the text at byte 0"
        );
        assert_eq!(parse("[1,]").unwrap_err(), "expected a value at byte 3");
        assert_eq!(parse(r#"{"a" 1}"#).unwrap_err(), "expected `:` at byte 5");
        assert_eq!(
            parse(r#"{"a":1 "b":2}"#).unwrap_err(),
            "expected `,` or `}` at byte 7"
        );
        assert_eq!(parse("[1 2]").unwrap_err(), "expected `,` or `]` at byte 3");
        assert_eq!(parse("{1:2}").unwrap_err(), "expected a key at byte 1");
        assert_eq!(parse("tru").unwrap_err(), "expected a value at byte 0");
        assert_eq!(parse(" {} x").unwrap_err(), "trailing characters at byte 4");
        assert_eq!(parse(r#"["\x"]"#).unwrap_err(), "unknown escape at byte 3");
        assert_eq!(
            parse(r#""\u12g4""#).unwrap_err(),
            "expected four hex digits at byte 5"
        );
        assert_eq!(
            parse(r#"{"a":[true,false,null,{}], "b" : "c"}"#).unwrap(),
            Value::Object(vec![
                (
                    "a".into(),
                    Value::Array(vec![
                        Value::Bool(true),
                        Value::Bool(false),
                        Value::Null,
                        Value::Object(vec![])
                    ])
                ),
                ("b".into(), Value::String("c".into())),
            ])
        );
    }

    #[test]
    fn the_writer_writes_each_kind_of_member() {
        let text = Object::new()
            .int("int", -42)
            .int("zero", 0)
            .uint("max", u64::MAX)
            .bool("yes", true)
            .bool("no", false)
            .opt_uint("some", Some(7))
            .opt_uint("none", None)
            .opt_str("named", Some("a\"b"))
            .raws("empty", Vec::<String>::new())
            .millis("ms", Duration::from_millis(61_005))
            .finish();
        assert_eq!(
            text,
            r#"{"int":-42,"zero":0,"max":18446744073709551615,"yes":true,"no":false,"some":7,"none":null,"named":"a\"b","empty":[],"ms":61005.000}"#
        );
        assert_eq!(Object::default().finish(), "{}");
        // Nested in place: each nested object starts its own member list.
        let nested = Object::new()
            .object("empty", |o| o)
            .objects("list", [1, 2], |o, i| {
                o.uint("i", i).object("in", |o| o.bool("b", i == 2))
            })
            .objects("none", Vec::<u64>::new(), |o, i| o.uint("i", i))
            .str("after", "x")
            .finish();
        assert_eq!(
            nested,
            r#"{"empty":{},"list":[{"i":1,"in":{"b":false}},{"i":2,"in":{"b":true}}],"none":[],"after":"x"}"#
        );
        assert_eq!(
            parse(&nested).unwrap().get("after").and_then(Value::as_str),
            Some("x")
        );
    }

    #[test]
    fn nesting_stops_at_the_limit() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(parse(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse(&deep(MAX_DEPTH + 1)).unwrap_err(),
            format!("nested too deeply at byte {MAX_DEPTH}")
        );
        let objects = |n: usize| "{\"a\":".repeat(n) + "1" + &"}".repeat(n);
        assert!(parse(&objects(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse(&objects(MAX_DEPTH + 1)).unwrap_err(),
            format!("nested too deeply at byte {}", 5 * MAX_DEPTH)
        );
        // Far past the limit, the parser stops at it rather than recursing.
        assert!(parse(&"[{\"a\":".repeat(100_000)).is_err());
    }

    #[test]
    fn strings_round_trip_through_the_writer() {
        let all: String = (0u32..0x300)
            .filter_map(char::from_u32)
            .chain(['😀', '\u{2028}', '\u{FEFF}'])
            .collect();
        let mut out = String::new();
        write_str(&mut out, &all);
        assert_eq!(parse(&out), Ok(Value::String(all)));
        let mut out = String::new();
        write_str(&mut out, "\u{1}\u{1f}\u{7f}");
        assert_eq!(out, "\"\\u0001\\u001f\u{7f}\"");
    }
}
